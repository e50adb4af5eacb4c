package io.github.mrbcr.fiji;

/**
 * The native methods of the mrbcr library ({@code crates/mrbcr-jni} in the Rust workspace). The
 * library is loaded from the jar at first use (see {@link NativeLibraryLoader}). Use
 * {@link MrbcrModel} rather than these methods.
 */
final class MrbcrNative {
    static {
        NativeLibraryLoader.load();
    }

    private MrbcrNative() {}

    /** Loads a model file; returns its handle (never 0). */
    static native long loadModel(String path) throws MrbcrException;

    /** The default model bundled in the library; returns a new handle (never 0). */
    static native long loadDefaultModel() throws MrbcrException;

    /** Releases a handle (0 does nothing); a run using it keeps the model until it ends. */
    static native void freeModel(long handle) throws MrbcrException;

    /** The model's metadata as key, value, key, value, ... */
    static native String[] modelMetadata(long handle) throws MrbcrException;

    /** The version of the native library. */
    static native String libraryVersion();

    /**
     * The core's deconvolution defaults as key, value, key, value, ...: {@code tile},
     * {@code overlap}, {@code normalization}, {@code low_percentile}, {@code high_percentile},
     * {@code threads}, {@code normalizations} (every name, comma-separated). Read through
     * {@link LibraryDefaults}.
     */
    static native String[] deconvolveDefaults();

    /**
     * Deconvolves planes of {@code width * height} pixels. Bit depths: 8 ({@code byte[]},
     * unsigned), 16 ({@code short[]}, unsigned), 32 ({@code float[]}). {@code progress}
     * may be null.
     */
    static native void deconvolve(
            long handle,
            Object[] inputPlanes,
            int inputBits,
            Object[] outputPlanes,
            int outputBits,
            int width,
            int height,
            int tile,
            int overlap,
            String normalization,
            String outputRange,
            int threads,
            ProgressListener progress)
            throws MrbcrException;
}
