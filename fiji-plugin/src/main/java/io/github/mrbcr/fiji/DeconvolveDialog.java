package io.github.mrbcr.fiji;

import ij.ImagePlus;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.plugin.frame.Recorder;
import ij.util.Tools;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The options dialog of "Deconvolve (m-rBCR)". With a display it is an ImageJ
 * {@link GenericDialog}, so the macro recorder records it and a macro's options string is
 * read as ImageJ always does. Where nobody can answer a dialog ({@link
 * Unattended#noDialogs()}: headless, or {@code ImageJ -batch} without ImageJ's window, even
 * on a virtual display), the same fields are read from the macro's options string
 * ({@link Macro#getOptions()}) the way GenericDialog reads them in a macro, and recorded
 * the same way if the recorder is on; a macro that gives no options string runs with the
 * defaults instead of waiting forever on a dialog.
 *
 * <p>The dialog also has a Help button ({@code help.html}), says that each plane is
 * restored on its own in 2-D and which sampling the model in the field suits ({@link
 * PixelSizeGuide}), and warns when the image's calibration is outside it.
 *
 * <p>The macro keys are the first word of each label: {@code model} (a model file; empty
 * or absent: the default model bundled in the library), {@code normalization}
 * ({@code percentile}, {@code minmax}, {@code per-tile-minmax}, {@code none}), {@code low},
 * {@code high} (percentiles), {@code tile}, {@code overlap}, {@code threads},
 * {@code output} ({@code [32-bit float]} or {@code [same as input]}) and {@code current}
 * (present: only the displayed plane).
 */
public final class DeconvolveDialog {
    /** The dialog's title, also the command's name. */
    public static final String TITLE = "Deconvolve (m-rBCR)";

    static final String MODEL = "Model file (optional)";
    /** Under the model field: what an empty one means. */
    static final String MODEL_HELP = "Empty: the default model bundled with mrbcr (trained on widefield images of real and simulated specimens).";
    static final String NORMALIZATION = "Normalization";
    static final String LOW = "Low percentile";
    static final String HIGH = "High percentile";
    /** The first line on what the network does with the image. */
    static final String PLANES_NOTE =
            "m-rBCR restores each plane on its own, in 2-D: a Z-stack is not deconvolved in 3-D.";
    static final String TILE = "Tile size";
    static final String TILE_UNITS = "pixels: a multiple of 4, at least 32 (0 = whole plane)";
    static final String OVERLAP = "Overlap";
    static final String OVERLAP_UNITS = "pixels, less than the tile size; -1: the model's own";
    static final String THREADS = "Threads (0 = all cores)";
    static final String OUTPUT = "Output type";
    static final String CURRENT = "Current plane only";

    private DeconvolveDialog() {}

    /**
     * Asks for the options, starting from the remembered ones, and remembers the answer
     * when the user was asked (not in a macro).
     *
     * @param imp the image to restore (the plane choice is offered for stacks only)
     * @return the options, or null if the user cancelled
     * @throws IllegalArgumentException for a value of a macro's options string that is not
     *     valid (an unknown choice, a number that is not a number)
     */
    public static DeconvolveOptions ask(ImagePlus imp) {
        boolean dialog = !Unattended.noDialogs();
        Form form = dialog ? new DialogForm() : new MacroForm(Macro.getOptions());
        DeconvolveOptions defaults = DeconvolveOptions.remembered();
        if (Macro.getOptions() != null) {
            // A macro without model= runs the bundled model, not a file remembered from the dialog.
            defaults.modelPath = "";
        }
        PixelSizeGuide guide = dialog && Macro.getOptions() == null ? guide(defaults.modelPath) : null;
        DeconvolveOptions options = read(form, defaults, imp.getStackSize() > 1,
                guide == null ? null : guide.expectation(), guide == null ? null : guide.warning(imp.getCalibration()));
        if (options != null && Macro.getOptions() == null) {
            options.remember();
        }
        return options;
    }

    /**
     * The pixel sizes the model in the field suits ({@link PixelSizeGuide}), or null if it
     * cannot be loaded or its metadata does not say.
     */
    private static PixelSizeGuide guide(String modelPath) {
        try (MrbcrModel model = MrbcrModel.open(modelPath)) {
            return PixelSizeGuide.fromMetadata(model.metadata());
        } catch (MrbcrException | LinkageError e) {
            return null; // the command reports the problem when it runs
        }
    }

    /**
     * Shows {@code defaults} in {@code form} and reads the answer.
     *
     * @param expectation what the model suits ({@link PixelSizeGuide#expectation()}), or null
     * @param warning what is wrong with the image's calibration for it, or null
     * @return the options, or null if cancelled
     */
    static DeconvolveOptions read(
            Form form, DeconvolveOptions defaults, boolean isStack, String expectation, String warning) {
        form.addHelp(helpPage());
        form.addFile(MODEL, defaults.modelPath);
        form.addMessage(MODEL_HELP);
        form.addMessage(expectation == null ? PLANES_NOTE : PLANES_NOTE + "\n" + expectation);
        if (warning != null) {
            form.addWarning(warning);
        }
        form.addChoice(NORMALIZATION, texts(DeconvolveOptions.Normalization.values()), defaults.normalization.text);
        form.addNumber(LOW, defaults.lowPercentile, "%");
        form.addNumber(HIGH, defaults.highPercentile, "%");
        form.addNumber(TILE, defaults.tile, TILE_UNITS);
        form.addNumber(OVERLAP, defaults.overlap, OVERLAP_UNITS);
        form.addNumber(THREADS, defaults.threads, "");
        form.addChoice(OUTPUT, texts(DeconvolveOptions.OutputType.values()), defaults.outputType.text);
        if (isStack) {
            form.addCheckbox(CURRENT, defaults.currentPlaneOnly);
        }
        if (!form.show()) {
            return null;
        }
        DeconvolveOptions o = new DeconvolveOptions();
        o.modelPath = form.nextString().trim();
        o.normalization = DeconvolveOptions.Normalization.fromText(form.nextChoice());
        o.lowPercentile = form.nextNumber(LOW);
        o.highPercentile = form.nextNumber(HIGH);
        o.tile = (int) form.nextNumber(TILE);
        o.overlap = (int) form.nextNumber(OVERLAP);
        o.threads = (int) form.nextNumber(THREADS);
        o.outputType = DeconvolveOptions.OutputType.fromText(form.nextChoice());
        o.currentPlaneOnly = isStack && form.nextBoolean();
        return o;
    }

    /**
     * The Help button's page: {@code help.html} beside this class in the jar (shown by
     * ImageJ's HTML viewer, also offline).
     */
    static String helpPage() {
        try (InputStream in = DeconvolveDialog.class.getResourceAsStream("help.html")) {
            if (in == null) {
                throw new IllegalStateException("help.html is missing from the jar");
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                bytes.write(buffer, 0, n);
            }
            return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read help.html from the jar: " + e.getMessage(), e);
        }
    }

    private static String[] texts(DeconvolveOptions.Normalization[] values) {
        return Arrays.stream(values).map(v -> v.text).toArray(String[]::new);
    }

    private static String[] texts(DeconvolveOptions.OutputType[] values) {
        return Arrays.stream(values).map(v -> v.text).toArray(String[]::new);
    }

    /** The fields of a dialog, added then read back in the same order. */
    interface Form {
        /** The Help button's page (HTML). */
        void addHelp(String html);

        void addFile(String label, String value);

        /** A line of explanation (not a field: nothing to read back). */
        void addMessage(String text);

        /** A warning, shown in red (not a field). */
        void addWarning(String text);

        void addChoice(String label, String[] items, String value);

        /** A number field; {@code units} is shown after it (its unit and limits). */
        void addNumber(String label, double value, String units);

        void addCheckbox(String label, boolean value);

        /** Shows the fields; false if the user cancelled. */
        boolean show();

        String nextString();

        String nextChoice();

        /** The next number; {@code label} names it if it is not a number. */
        double nextNumber(String label);

        boolean nextBoolean();
    }

    /** ImageJ's GenericDialog (with a display). */
    static final class DialogForm implements Form {
        private final GenericDialog dialog = new GenericDialog(TITLE);

        @Override
        public void addHelp(String html) {
            dialog.addHelp(html);
        }

        @Override
        public void addFile(String label, String value) {
            dialog.addFileField(label, value, 40);
        }

        @Override
        public void addMessage(String text) {
            dialog.addMessage(text);
        }

        @Override
        public void addWarning(String text) {
            dialog.addMessage(text, null, new Color(0xb0, 0, 0));
        }

        @Override
        public void addChoice(String label, String[] items, String value) {
            dialog.addChoice(label, items, value);
        }

        @Override
        public void addNumber(String label, double value, String units) {
            dialog.addNumericField(label, value, value == Math.rint(value) ? 0 : 1, 6, units);
        }

        @Override
        public void addCheckbox(String label, boolean value) {
            dialog.addCheckbox(label, value);
        }

        @Override
        public boolean show() {
            dialog.showDialog();
            return !dialog.wasCanceled();
        }

        @Override
        public String nextString() {
            return dialog.getNextString();
        }

        @Override
        public String nextChoice() {
            return dialog.getNextChoice();
        }

        @Override
        public double nextNumber(String label) {
            double value = dialog.getNextNumber();
            if (dialog.invalidNumber()) {
                throw new IllegalArgumentException("'" + label + "' is not a number");
            }
            return value;
        }

        @Override
        public boolean nextBoolean() {
            return dialog.getNextBoolean();
        }
    }

    /**
     * A macro's options string, read and recorded as GenericDialog does in a macro: for
     * headless runs, where no dialog can be made.
     */
    static final class MacroForm implements Form {
        private final String options;
        private final boolean given;
        private final List<String[]> fields = new ArrayList<>();
        private int next;

        /** @param options the macro's options string; null or empty keeps every default */
        MacroForm(String options) {
            this.options = options == null ? " " : options + " ";
            this.given = options != null;
        }

        @Override
        public void addHelp(String html) {
            // nothing to show in a macro
        }

        @Override
        public void addFile(String label, String value) {
            fields.add(new String[] {label, value});
        }

        @Override
        public void addMessage(String text) {
            // nothing to show or read in a macro
        }

        @Override
        public void addWarning(String text) {
            // nothing to show in a macro
        }

        @Override
        public void addChoice(String label, String[] items, String value) {
            String chosen = Macro.getValue(options, label, value);
            if (!Arrays.asList(items).contains(chosen)) {
                throw new IllegalArgumentException(
                        "\"" + chosen + "\" is not a valid choice for \"" + label + "\": expected one of "
                                + String.join(", ", items));
            }
            fields.add(new String[] {label, chosen});
        }

        @Override
        public void addNumber(String label, double value, String units) {
            fields.add(new String[] {label, DeconvolveOptions.number(value)});
        }

        @Override
        public void addCheckbox(String label, boolean value) {
            boolean present = (" " + options).contains(" " + Macro.trimKey(label) + " ");
            fields.add(new String[] {label, Boolean.toString(given ? present : value)});
        }

        @Override
        public boolean show() {
            return true;
        }

        private String[] field() {
            return fields.get(next++);
        }

        @Override
        public String nextString() {
            String[] f = field();
            String value = Macro.getValue(options, f[0], f[1]);
            record(f[0], value.isEmpty() ? "[]" : value);
            return value;
        }

        @Override
        public String nextChoice() {
            String[] f = field();
            record(f[0], f[1]);
            return f[1];
        }

        @Override
        public double nextNumber(String label) {
            String[] f = field();
            String text = Macro.getValue(options, f[0], f[1]);
            double value = Tools.parseDouble(text);
            if (Double.isNaN(value)) {
                throw new IllegalArgumentException("'" + label + "' is not a number: \"" + text + "\"");
            }
            record(f[0], DeconvolveOptions.number(value));
            return value;
        }

        @Override
        public boolean nextBoolean() {
            String[] f = field();
            boolean value = Boolean.parseBoolean(f[1]);
            if (Recorder.record) {
                if (value) {
                    Recorder.recordOption(f[0]);
                } else if (Recorder.getCommandOptions() == null) {
                    Recorder.recordOption(" ");
                }
            }
            return value;
        }

        private static void record(String label, String value) {
            if (Recorder.record) {
                Recorder.recordOption(label, value);
            }
        }
    }
}
