package io.github.mrbcr.fiji;

/**
 * Told the progress of a deconvolution after each tile, on the thread that started it.
 */
@FunctionalInterface
public interface ProgressListener {
    /**
     * Reports progress.
     *
     * @param fraction the fraction of the whole stack done, in (0, 1]
     * @return {@code true} to go on, {@code false} to cancel the run (it then throws
     *     {@link MrbcrCancelledException} within a tile's time)
     */
    boolean progress(double fraction);
}
