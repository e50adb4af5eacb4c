package io.github.mrbcr.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.macro.Interpreter;
import ij.plugin.PlugIn;
import java.nio.file.Path;

/**
 * Plugins &gt; Deconvolution &gt; m-rBCR &gt; Deconvolve (m-rBCR): asks for the options
 * ({@link DeconvolveDialog}), restores the current image ({@link DeconvolveRunner}) with the
 * chosen model file, or the model bundled in the library when none is given, and shows
 * the result. Esc cancels; errors are reported with the library's message (and stop
 * a running macro).
 */
public final class DeconvolveCommand implements PlugIn {
    @Override
    public void run(String arg) {
        ImagePlus imp = IJ.getImage();
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
        } catch (MrbcrException e) {
            fail(e.getMessage());
        } catch (UnsatisfiedLinkError e) {
            fail(e.getMessage());
        } finally {
            IJ.showProgress(1.0);
        }
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
     * Reports an error to the user and stops the macro that ran the command, if any. With
     * ImageJ's window, or without any macro, that is {@link IJ#error(String, String)}. In a
     * macro run without ImageJ's window ({@code ImageJ -batch}), the message goes to the
     * log (standard output) and the macro stops quietly: ImageJ's own macro-error dialog
     * would wait forever for a click there.
     */
    static void fail(String message) {
        Interpreter macro = Interpreter.getInstance();
        if (IJ.getInstance() == null && macro != null) {
            IJ.log(DeconvolveDialog.TITLE + ": " + message);
            macro.setIgnoreErrors(true);
            macro.abort(message);
        } else {
            IJ.error(DeconvolveDialog.TITLE, message);
        }
    }
}
