package io.github.mrbcr.fiji;

import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.io.OpenDialog;
import java.awt.GraphicsEnvironment;
import java.nio.file.Path;
import java.util.Map;
import ij.plugin.PlugIn;

/**
 * Plugins &gt; Deconvolution &gt; m-rBCR &gt; About m-rBCR models: asks for a model file
 * and shows what it says about its weights (name, provenance, licence, how inputs must be
 * normalised, ...) and the native library's version. In a macro: {@code
 * run("About m-rBCR models", "model=/path/to/model.safetensors")}; the text then goes to
 * the Log window (or standard output when headless).
 */
public final class AboutModelsCommand implements PlugIn {
    private static final String TITLE = "About m-rBCR models";

    @Override
    public void run(String arg) {
        String path = chooseModel();
        if (path == null) {
            return;
        }
        try (MrbcrModel model = MrbcrModel.load(Path.of(path))) {
            String text = describe(model);
            if (Macro.getOptions() != null || GraphicsEnvironment.isHeadless()) {
                IJ.log(text);
            } else {
                IJ.showMessage(TITLE, text);
            }
        } catch (MrbcrException | UnsatisfiedLinkError e) {
            DeconvolveCommand.fail(e.getMessage());
        }
    }

    /** The model file: the macro's {@code model=} value, or the user's choice. */
    private static String chooseModel() {
        String options = Macro.getOptions();
        if (options != null) {
            String path = Macro.getValue(options, "model", "");
            if (path.isEmpty()) {
                DeconvolveCommand.fail("Give the model file: model=/path/to/model.safetensors");
                return null;
            }
            return path;
        }
        if (GraphicsEnvironment.isHeadless()) {
            DeconvolveCommand.fail("Give the model file: run(\"" + TITLE + "\", \"model=/path/to/model.safetensors\")");
            return null;
        }
        OpenDialog dialog = new OpenDialog("Choose an m-rBCR model (.safetensors)", DeconvolveOptions.remembered().modelPath);
        return dialog.getPath();
    }

    /**
     * The model's metadata as text, one {@code key: value} line each, then the library's
     * version.
     *
     * @param model the model
     * @return the description
     * @throws MrbcrException if the model was closed
     */
    static String describe(MrbcrModel model) throws MrbcrException {
        StringBuilder text = new StringBuilder("m-rBCR model " + model.path() + "\n");
        for (Map.Entry<String, String> entry : model.metadata().entrySet()) {
            String value = entry.getValue().isEmpty() ? "(not given)" : entry.getValue();
            text.append(entry.getKey()).append(": ").append(value).append('\n');
        }
        text.append("mrbcr library: ").append(MrbcrModel.libraryVersion());
        return text.toString();
    }
}
