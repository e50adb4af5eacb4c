package io.github.mrbcr.fiji;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The library's deconvolution defaults and normalisation names, asked once from the
 * native library ({@code MrbcrNative.deconvolveDefaults()}, the Rust core's
 * {@code DeconvolveOptions::default()}): the plugin keeps no copy of them, so a default
 * changed in the core is the dialog's, the macros' and the SciJava command's default.
 * Reading this class loads the native library.
 */
final class LibraryDefaults {
    /** Tile side in pixels. */
    static final int TILE;
    /** Pixels shared by neighbouring tiles: -1, the model's own (what its file records). */
    static final int OVERLAP;
    /** The name of the default normalisation, e.g. {@code percentile}. */
    static final String NORMALIZATION;
    /** Lower percentile of the default percentile normalisation. */
    static final double LOW_PERCENTILE;
    /** Upper percentile of the default percentile normalisation. */
    static final double HIGH_PERCENTILE;
    /** Worker threads (0: every core). */
    static final int THREADS;
    /** The result's pixel type when none is chosen, by its name, e.g. {@code 32-bit float}. */
    static final String OUTPUT_TYPE;
    /** Every normalisation's name, in the order to offer them. */
    static final List<String> NORMALIZATIONS;

    static {
        String[] pairs = MrbcrNative.deconvolveDefaults();
        Map<String, String> entries = new HashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            entries.put(pairs[i], pairs[i + 1]);
        }
        TILE = Integer.parseInt(entry(entries, "tile"));
        OVERLAP = Integer.parseInt(entry(entries, "overlap"));
        NORMALIZATION = entry(entries, "normalization");
        LOW_PERCENTILE = Double.parseDouble(entry(entries, "low_percentile"));
        HIGH_PERCENTILE = Double.parseDouble(entry(entries, "high_percentile"));
        THREADS = Integer.parseInt(entry(entries, "threads"));
        OUTPUT_TYPE = entry(entries, "output_type");
        NORMALIZATIONS = Collections.unmodifiableList(Arrays.asList(entry(entries, "normalizations").split(",")));
    }

    private LibraryDefaults() {}

    /** The value of {@code key}; a library without it does not belong to these classes. */
    private static String entry(Map<String, String> entries, String key) {
        String value = entries.get(key);
        if (value == null) {
            throw new IllegalStateException("the mrbcr native library (version " + MrbcrNative.libraryVersion()
                    + ") gives no default '" + key + "': the jar's classes and library do not belong together");
        }
        return value;
    }
}
