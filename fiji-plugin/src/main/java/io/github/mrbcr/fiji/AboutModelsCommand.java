package io.github.mrbcr.fiji;

import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import java.util.Map;

/**
 * Plugins &gt; Deconvolution &gt; m-rBCR &gt; About m-rBCR models: shows what a model says
 * about its weights (name, provenance, licence, how inputs must be normalised, how it was
 * trained, ...) and the native library's version. The model is a file the user chooses,
 * or, if the field is left empty, the default model bundled in the library. In a macro:
 * {@code run("About m-rBCR models", "model=/path/to/model.safetensors")}, or
 * {@code run("About m-rBCR models", "model=[]")} for the bundled model (as without
 * {@code model=}); the text then goes to the Log window (or standard output without
 * ImageJ's window). Without a display or ImageJ's window it never opens a dialog.
 */
public final class AboutModelsCommand implements PlugIn {
    private static final String TITLE = "About m-rBCR models";

    @Override
    public void run(String arg) {
        String path = chooseModel();
        if (path == null) {
            return;
        }
        try (MrbcrModel model = MrbcrModel.open(path)) {
            String text = describe(model);
            if (Macro.getOptions() != null || Unattended.noDialogs()) {
                IJ.log(text);
            } else {
                IJ.showMessage(TITLE, text);
            }
        } catch (MrbcrException | LinkageError e) {
            DeconvolveCommand.fail(e.getMessage());
        }
    }

    /**
     * The model file: the macro's {@code model=} value, or the user's choice; empty for the
     * bundled model (also where nobody can answer a dialog, {@link
     * Unattended#noDialogs()}); null if the user cancelled.
     */
    private static String chooseModel() {
        String options = Macro.getOptions();
        if (options != null) {
            return Macro.getValue(options, "model", "");
        }
        if (Unattended.noDialogs()) {
            return "";
        }
        GenericDialog dialog = new GenericDialog(TITLE);
        dialog.addFileField(DeconvolveDialog.MODEL, DeconvolveOptions.remembered().modelPath, 40);
        dialog.addMessage(DeconvolveDialog.MODEL_HELP);
        dialog.showDialog();
        return dialog.wasCanceled() ? null : dialog.getNextString().trim();
    }

    /**
     * The model's metadata as text: where it came from (its file, or
     * {@value MrbcrModel#BUNDLED_NAME}), one {@code key: value} line each, then the
     * library's version.
     *
     * @param model the model
     * @return the description
     * @throws MrbcrException if the model was closed
     */
    static String describe(MrbcrModel model) throws MrbcrException {
        StringBuilder text = new StringBuilder("m-rBCR model " + model.source() + "\n");
        for (Map.Entry<String, String> entry : model.metadata().entrySet()) {
            String value = entry.getValue().isEmpty() ? "(not given)" : entry.getValue();
            text.append(entry.getKey()).append(": ").append(value).append('\n');
        }
        text.append("mrbcr library: ").append(MrbcrModel.libraryVersion());
        return text.toString();
    }
}
