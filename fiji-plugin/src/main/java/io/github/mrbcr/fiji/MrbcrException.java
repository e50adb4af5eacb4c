package io.github.mrbcr.fiji;

/**
 * A failure of the m-rBCR library: a missing or invalid model file, bad options, an image
 * it cannot restore. The message is the library's, meant for the user as it is.
 */
public class MrbcrException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the library's message.
     *
     * @param message what went wrong, for the user
     */
    public MrbcrException(String message) {
        super(message);
    }
}
