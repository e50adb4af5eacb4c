package io.github.mrbcr.fiji;

/**
 * A run stopped because its {@link ProgressListener} asked it to (for example the user
 * pressed Esc). No result was produced.
 */
public class MrbcrCancelledException extends MrbcrException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the library's message.
     *
     * @param message the library's message
     */
    public MrbcrCancelledException(String message) {
        super(message);
    }
}
