package io.github.mrbcr.fiji;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A loaded m-rBCR model: the Java face of the native library. A model is immutable and
 * may be used by several threads at once; {@link #close()} releases it (a run in progress
 * keeps it until the run ends).
 */
public final class MrbcrModel implements AutoCloseable {
    /**
     * What {@link #source()} says for the bundled default model: the name the library and
     * the {@code mrbcr} tool give it.
     */
    public static final String BUNDLED_NAME = "<bundled default model>";

    private final Path path; // null for the bundled model
    private long handle; // guarded by this; 0 once closed

    private MrbcrModel(Path path, long handle) {
        this.path = path;
        this.handle = handle;
    }

    /**
     * Loads a model file (the project's {@code .safetensors} format).
     *
     * @param path the model file
     * @return the model
     * @throws MrbcrException if the file cannot be read or is not a valid model file (the
     *     message names the file and the tensor)
     */
    public static MrbcrModel load(Path path) throws MrbcrException {
        return new MrbcrModel(path, MrbcrNative.loadModel(path.toString()));
    }

    /**
     * The model a "Model file" field names: that file, or the bundled default model when
     * the field is empty (or only blanks) or null.
     *
     * @param modelPath the field's value ({@code model=} in a macro)
     * @return the model, to close
     * @throws MrbcrException if the file cannot be read or is not a model file
     */
    public static MrbcrModel open(String modelPath) throws MrbcrException {
        String path = modelPath == null ? "" : modelPath.trim();
        return path.isEmpty() ? bundled() : load(Paths.get(path));
    }

    /**
     * The default model bundled in the native library: fine-tuned by {@code mrbcr train}
     * on widefield images of real specimens and simulated ones, no file needed. Its {@link #metadata()} tells how it was
     * trained ({@code provenance} and the {@code train.*} keys); {@link #path()} is empty
     * and {@link #source()} is {@value #BUNDLED_NAME}.
     *
     * @return a new handle on the bundled model, to close like any other
     * @throws MrbcrException only if the library cannot read its own model (a bug)
     */
    public static MrbcrModel bundled() throws MrbcrException {
        return new MrbcrModel(null, MrbcrNative.loadDefaultModel());
    }

    /**
     * The version of the native library.
     *
     * @return its version, e.g. {@code 0.1.0}
     */
    public static String libraryVersion() {
        return MrbcrNative.libraryVersion();
    }

    /**
     * The file the model was loaded from.
     *
     * @return the model file, or empty for the {@linkplain #bundled() bundled model}
     */
    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }

    /**
     * Where the model came from, for messages: its file, or {@value #BUNDLED_NAME}.
     *
     * @return the file's path, or {@value #BUNDLED_NAME}
     */
    public String source() {
        return path == null ? BUNDLED_NAME : path.toString();
    }

    /**
     * What the model file says about the weights: {@code name}, {@code description},
     * {@code input_normalization}, {@code train_patch_size}, {@code provenance},
     * {@code license}, {@code created_by}, {@code tile_overlap}, then any other keys, in
     * that order.
     *
     * @return the metadata, in order
     * @throws MrbcrException if the model was closed
     */
    public Map<String, String> metadata() throws MrbcrException {
        String[] pairs = MrbcrNative.modelMetadata(handle());
        Map<String, String> metadata = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            metadata.put(pairs[i], pairs[i + 1]);
        }
        return Collections.unmodifiableMap(metadata);
    }

    /**
     * Deconvolves a stack of planes of {@code width x height} pixels, each a Java array in
     * ImageJ's layout ({@code byte[]} for 8-bit, {@code short[]} for 16-bit, both unsigned;
     * {@code float[]} for 32-bit), into output planes the caller allocated. The result
     * is the Rust library's, bit for bit. After an exception the output planes' contents
     * are unspecified.
     *
     * @param input the input planes
     * @param inputBits 8, 16 or 32
     * @param output the output planes, as many as the input's
     * @param outputBits 8, 16 or 32
     * @param width plane width
     * @param height plane height
     * @param options tiling, normalisation and threads (the model path is not used)
     * @param progress told the fraction done after each tile, may cancel; may be null
     * @throws MrbcrCancelledException if {@code progress} returned false
     * @throws MrbcrException for bad options, planes of the wrong type or size, NaN or
     *     infinite input, or a closed model
     */
    public void deconvolve(
            Object[] input,
            int inputBits,
            Object[] output,
            int outputBits,
            int width,
            int height,
            DeconvolveOptions options,
            ProgressListener progress)
            throws MrbcrException {
        MrbcrNative.deconvolve(
                handle(),
                input,
                inputBits,
                output,
                outputBits,
                width,
                height,
                options.tile,
                options.overlap,
                options.normalizationText(),
                "input",
                options.threads,
                progress);
    }

    private synchronized long handle() throws MrbcrException {
        if (handle == 0) {
            throw new MrbcrException("the model " + source() + " was closed");
        }
        return handle;
    }

    /** Releases the model; closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (handle != 0) {
            long released = handle;
            handle = 0;
            try {
                MrbcrNative.freeModel(released);
            } catch (MrbcrException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }
}
