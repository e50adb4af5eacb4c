package io.github.mrbcr.fiji;

import ij.Prefs;
import java.util.Locale;

/**
 * What the "Deconvolve (m-rBCR)" command is asked to do: a plain value class, filled by
 * {@link DeconvolveDialog} (or by a program) and read by {@link DeconvolveRunner}. The
 * defaults are the library's, asked from the native library ({@link LibraryDefaults}), so
 * creating options loads it.
 */
public final class DeconvolveOptions {
    /**
     * How pixel values are scaled for the network; the names are the library's (its
     * {@code Normalization::name}s: a test checks them against {@link
     * LibraryDefaults#NORMALIZATIONS}, so a name changed in the core fails the build here).
     */
    public enum Normalization {
        /** The low and high percentiles of each plane map to 0 and 1. */
        PERCENTILE("percentile"),
        /** Each plane's minimum and maximum map to 0 and 1. */
        MINMAX("minmax"),
        /** Each tile by its own minimum and maximum (the authors' scheme). */
        PER_TILE_MINMAX("per-tile-minmax"),
        /** The values as they are (already normalised). */
        NONE("none");

        /** The library's name, also the dialog's choice and the macro's value. */
        public final String text;

        Normalization(String text) {
            this.text = text;
        }

        /**
         * The normalisation with this name.
         *
         * @param text a name as {@link #text} gives it
         * @return the normalisation
         * @throws IllegalArgumentException for an unknown name
         */
        public static Normalization fromText(String text) {
            for (Normalization n : values()) {
                if (n.text.equals(text)) {
                    return n;
                }
            }
            throw new IllegalArgumentException(
                    "unknown normalization '" + text + "': expected " + choices(values()));
        }

        /** The names as a message lists them: {@code percentile, minmax, ... or none}. */
        private static String choices(Normalization[] all) {
            StringBuilder list = new StringBuilder();
            for (int i = 0; i < all.length; i++) {
                list.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].text);
            }
            return list.toString();
        }
    }

    /**
     * The pixel type of the result. {@link #FLOAT32}'s text is the library's name of that
     * pixel type ({@code PixelType::name}), the form in which the library gives its default
     * ({@link LibraryDefaults#OUTPUT_TYPE}).
     */
    public enum OutputType {
        /** 32-bit float, in the input's intensity units: nothing rounded or clipped. */
        FLOAT32("32-bit float"),
        /** The input's type (8 or 16-bit values rounded and clipped). */
        SAME("same as input");

        /** The dialog's choice and the macro's value. */
        public final String text;

        OutputType(String text) {
            this.text = text;
        }

        /**
         * The output type with this name.
         *
         * @param text a name as {@link #text} gives it
         * @return the output type
         * @throws IllegalArgumentException for an unknown name
         */
        public static OutputType fromText(String text) {
            for (OutputType t : values()) {
                if (t.text.equals(text)) {
                    return t;
                }
            }
            throw new IllegalArgumentException(
                    "unknown output type '" + text + "': expected '32-bit float' or 'same as input'");
        }
    }

    /** The model file ({@code .safetensors}); empty for the model bundled in the library. */
    public String modelPath = "";
    /** The normalisation. */
    public Normalization normalization = Normalization.fromText(LibraryDefaults.NORMALIZATION);
    /** Lower percentile, with {@link Normalization#PERCENTILE}. */
    public double lowPercentile = LibraryDefaults.LOW_PERCENTILE;
    /** Upper percentile, with {@link Normalization#PERCENTILE}. */
    public double highPercentile = LibraryDefaults.HIGH_PERCENTILE;
    /** Tile side (a multiple of 4, at least 32), or 0 for each whole plane at once. */
    public int tile = LibraryDefaults.TILE;
    /** Pixels shared by neighbouring tiles, or -1 for the model's own (what its file records). */
    public int overlap = LibraryDefaults.OVERLAP;
    /** Worker threads, 0 for all cores. */
    public int threads = LibraryDefaults.THREADS;
    /** The result's pixel type. */
    public OutputType outputType = OutputType.fromText(LibraryDefaults.OUTPUT_TYPE);
    /** Only the displayed plane of a stack, rather than every channel, slice and frame. */
    public boolean currentPlaneOnly = false;

    private static final String PREFS = "mrbcr.";

    /**
     * The normalisation as the library reads it, e.g. {@code percentile:1:99.8}.
     *
     * @return the library's textual form
     */
    public String normalizationText() {
        if (normalization == Normalization.PERCENTILE) {
            return "percentile:" + number(lowPercentile) + ":" + number(highPercentile);
        }
        return normalization.text;
    }

    /**
     * A number as ImageJ writes it in macros: no trailing {@code .0}.
     *
     * @param value the number
     * @return its text
     */
    static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return String.format(Locale.ROOT, "%d", (long) value);
        }
        return Double.toString(value);
    }

    /**
     * The options the user chose last time (ImageJ's preferences), or the defaults.
     *
     * @return the remembered options
     */
    public static DeconvolveOptions remembered() {
        DeconvolveOptions o = new DeconvolveOptions();
        o.modelPath = Prefs.get(PREFS + "model", o.modelPath);
        try {
            o.normalization = Normalization.fromText(Prefs.get(PREFS + "normalization", o.normalization.text));
            o.outputType = OutputType.fromText(Prefs.get(PREFS + "output", o.outputType.text));
        } catch (IllegalArgumentException e) {
            // preferences of another version: keep the defaults
        }
        o.lowPercentile = Prefs.get(PREFS + "low", o.lowPercentile);
        o.highPercentile = Prefs.get(PREFS + "high", o.highPercentile);
        o.tile = (int) Prefs.get(PREFS + "tile", o.tile);
        o.overlap = (int) Prefs.get(PREFS + "overlap", o.overlap);
        o.threads = (int) Prefs.get(PREFS + "threads", o.threads);
        o.currentPlaneOnly = Prefs.get(PREFS + "current", o.currentPlaneOnly);
        return o;
    }

    /** Remembers these options for next time (ImageJ saves them on exit). */
    public void remember() {
        Prefs.set(PREFS + "model", modelPath);
        Prefs.set(PREFS + "normalization", normalization.text);
        Prefs.set(PREFS + "low", lowPercentile);
        Prefs.set(PREFS + "high", highPercentile);
        Prefs.set(PREFS + "tile", tile);
        Prefs.set(PREFS + "overlap", overlap);
        Prefs.set(PREFS + "threads", threads);
        Prefs.set(PREFS + "output", outputType.text);
        Prefs.set(PREFS + "current", currentPlaneOnly);
    }
}
