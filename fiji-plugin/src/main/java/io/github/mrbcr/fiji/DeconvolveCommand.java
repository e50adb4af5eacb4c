package io.github.mrbcr.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.macro.Interpreter;
import ij.plugin.PlugIn;
import java.nio.file.Path;

/**
 * Plugins &gt; Deconvolution &gt; m-rBCR &gt; Deconvolve (m-rBCR): asks for the options
 * ({@link DeconvolveDialog}), restores the current image ({@link DeconvolveRunner}) with the
 * chosen model file, or the model bundled in the library when none is given, and shows
 * the result. Esc cancels; errors, running out of memory included, are reported with
 * their reason and stop a running macro ({@link #fail(String)}).
 */
public final class DeconvolveCommand implements PlugIn {
    @Override
    public void run(String arg) {
        // Not IJ.getImage(): in a macro without any image it raises a macro error, whose
        // dialog nobody can close in ImageJ -batch.
        ImagePlus imp = WindowManager.getCurrentImage();
        if (imp == null) {
            fail("there is no image to restore: open one first");
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
        try (MrbcrModel model = openModel(options.modelPath)) {
            ImagePlus result = DeconvolveRunner.run(imp, model, options, new ImageJProgress());
            result.show();
            IJ.showStatus(String.format("m-rBCR: done in %.1f s", (System.nanoTime() - start) / 1e9));
        } catch (MrbcrCancelledException e) {
            IJ.showStatus("m-rBCR: cancelled, no result");
        } catch (MrbcrException | LinkageError e) {
            fail(e.getMessage());
        } catch (OutOfMemoryError e) {
            fail(outOfMemoryMessage(imp, options));
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
     * The message for Java running out of memory: what the result needs, and ImageJ's
     * limit.
     */
    static String outOfMemoryMessage(ImagePlus imp, DeconvolveOptions options) {
        long planes = options.currentPlaneOnly ? 1 : imp.getStackSize();
        int bits = options.outputType == DeconvolveOptions.OutputType.SAME ? imp.getBitDepth() : 32;
        long resultMb = (planes * imp.getWidth() * imp.getHeight() * (bits / 8) + (1 << 20) - 1) >> 20;
        long maxMb = Runtime.getRuntime().maxMemory() >> 20;
        return "Java ran out of memory restoring \"" + imp.getTitle() + "\" (its result alone needs "
                + resultMb + " MB; ImageJ may use at most " + maxMb
                + " MB: raise it in Edit > Options > Memory & Threads, or restore fewer planes at once). No result.";
    }

    /**
     * The model a "Model file" field names: that file, or the bundled default model when
     * the field is empty (or only blanks).
     *
     * @param modelPath the field's value ({@code model=} in a macro)
     * @return the model, to close
     * @throws MrbcrException if the file cannot be read or is not a model file
     */
    static MrbcrModel openModel(String modelPath) throws MrbcrException {
        String path = modelPath == null ? "" : modelPath.trim();
        return path.isEmpty() ? MrbcrModel.bundled() : MrbcrModel.load(Path.of(path));
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
