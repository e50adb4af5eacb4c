package io.github.mrbcr.fiji;

import ij.IJ;
import ij.Prefs;
import java.awt.GraphicsEnvironment;

/**
 * Whether anybody can answer a dialog. {@code ImageJ -batch} runs a macro without
 * ImageJ's window, and a plain ImageJ 1 needs a display for it, often a virtual one
 * ({@code xvfb-run}) that nobody looks at: a modal dialog opened there waits forever. So
 * the plugin opens none when headless or without ImageJ's window; messages go to the log
 * (standard output there) instead.
 */
final class Unattended {
    private Unattended() {}

    /**
     * True when no dialog may be opened: no display ({@code --headless}), or no ImageJ
     * window ({@code ImageJ -batch}, a JVM using ImageJ as a library).
     */
    static boolean noDialogs() {
        return GraphicsEnvironment.isHeadless() || IJ.getInstance() == null;
    }

    /**
     * True in a macro that ImageJ runs from its command line without its window
     * ({@code ImageJ -batch macro.ijm}), after which ImageJ exits with status 0 whatever
     * happened: a failure there must end the JVM with a non-zero status itself.
     */
    static boolean commandLineBatch() {
        return Prefs.commandLineMacro() && IJ.getInstance() == null;
    }

    /**
     * Ends a command-line batch run ({@link #commandLineBatch()}) with status 1, after
     * the failure has been logged.
     */
    static void exitFailed() {
        System.out.flush();
        System.err.flush();
        System.exit(1);
    }
}
