package io.github.mrbcr.fiji;

import ij.IJ;

/**
 * Progress on ImageJ's progress bar and status line; the Esc key ({@link
 * IJ#escapePressed()}) cancels.
 */
public final class ImageJProgress implements ProgressListener {
    @Override
    public boolean progress(double fraction) {
        IJ.showProgress(fraction);
        IJ.showStatus(String.format("m-rBCR: %d%% (Esc to cancel)", Math.round(fraction * 100)));
        return !IJ.escapePressed();
    }
}
