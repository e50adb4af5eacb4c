package io.github.mrbcr.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.macro.Interpreter;
import ij.plugin.PlugIn;

/**
 * Plugins &gt; Deconvolution &gt; m-rBCR &gt; Deconvolve (m-rBCR), the ImageJ 1 command:
 * asks for the options ({@link DeconvolveDialog}; in a macro, reads them from its options
 * string), restores the current image with {@link DeconvolveRunner#restore} (the code path
 * the SciJava command {@link DeconvolveScijavaCommand} runs too) and shows the result. Esc
 * cancels; errors, running out of memory included, are reported with their reason and
 * stop a running macro ({@link #fail(String)}).
 */
public final class DeconvolveCommand implements PlugIn {
    @Override
    public void run(String arg) {
        // Not IJ.getImage(): in a macro without any image it raises a macro error, whose
        // dialog nobody can close in ImageJ -batch.
        ImagePlus imp = WindowManager.getCurrentImage();
        if (imp == null) {
            fail(DeconvolveRunner.NO_IMAGE);
            return;
        }
        if (imp.getBitDepth() == 24) {
            fail(DeconvolveRunner.rgbMessage(imp));
            return;
        }
        DeconvolveOptions options;
        try {
            options = DeconvolveDialog.ask(imp);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        if (options == null) {
            return;
        }
        IJ.resetEscape();
        long start = System.nanoTime();
        try {
            ImagePlus result = DeconvolveRunner.restore(imp, options, new ImageJProgress());
            result.show();
            IJ.showStatus(String.format("m-rBCR: done in %.1f s", (System.nanoTime() - start) / 1e9));
        } catch (MrbcrCancelledException e) {
            IJ.showStatus("m-rBCR: cancelled, no result");
        } catch (MrbcrException e) {
            fail(e.getMessage());
        } catch (RuntimeException e) {
            if (Macro.MACRO_CANCELED.equals(e.getMessage())) {
                throw e; // ImageJ stopping the macro
            }
            fail("unexpected error: " + e);
        } finally {
            IJ.showProgress(1.0);
        }
    }

    /**
     * Reports an error and stops the macro that ran the command, if any, without ever
     * opening a dialog when nobody can answer it ({@link Unattended#noDialogs()}):
     *
     * <ul>
     *   <li>A macro that called {@code IJ.redirectErrorMessages()} before the command
     *       handles failures itself: the message goes to the log and the macro goes on,
     *       with no result (as ImageJ's File &gt; Open does).
     *   <li>With ImageJ's window and a display: {@link IJ#error(String, String)}, a dialog
     *       that also stops the macro.
     *   <li>Otherwise the message goes to the log (standard output without ImageJ's
     *       window) and the macro stops quietly (ImageJ's own macro-error dialog would
     *       wait forever for a click). In a macro run by {@code ImageJ -batch}, the JVM
     *       then exits with status 1, where ImageJ would exit with 0.
     * </ul>
     */
    static void fail(String message) {
        String line = DeconvolveDialog.TITLE + ": " + message;
        if (IJ.redirectingErrorMessages()) {
            IJ.log(line);
            IJ.redirectErrorMessages(false);
            return;
        }
        if (!Unattended.noDialogs()) {
            IJ.error(DeconvolveDialog.TITLE, message);
            return;
        }
        IJ.log(line);
        Interpreter macro = Interpreter.getInstance();
        if (macro != null) {
            if (Unattended.commandLineBatch()) {
                Unattended.exitFailed();
            }
            macro.setIgnoreErrors(true);
            macro.abort(message);
        }
    }
}
