package io.github.mrbcr.fiji;

import ij.IJ;
import ij.ImagePlus;
import java.io.File;
import org.scijava.ItemIO;
import org.scijava.app.StatusService;
import org.scijava.command.Command;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * "Deconvolve (m-rBCR)" as an ImageJ2 / SciJava command, for Fiji's script editor (Groovy,
 * Jython, ...), headless Fiji ({@code --headless --console}), PyImageJ and napari-imagej.
 * It runs the same dialog-free code as the ImageJ 1 menu command ({@link
 * DeconvolveRunner#restore}), so the two give the same pixels bit for bit.
 *
 * <p>Every option is a parameter named as below; one left out takes the library's
 * default (these parameters are not remembered between runs, so a script always gets
 * what it asks for). From Groovy in Fiji:
 *
 * <pre>
 * #&#64; CommandService command
 * #&#64; ImagePlus imp
 * def run = command.run(io.github.mrbcr.fiji.DeconvolveScijavaCommand, true,
 *         "input", imp, "tile", 256).get()
 * // run.getOutput("output") is the restored ImagePlus (Fiji shows it), null on failure
 * </pre>
 *
 * <p>The input is an {@link ImagePlus}: in Fiji, ImageJ2's image types (a {@code Dataset},
 * as PyImageJ and napari-imagej pass) are converted to it by imagej-legacy. Progress goes
 * to the {@link StatusService}; the run stops within a tile's time when the command is
 * cancelled ({@link #cancel(String)}), its thread is interrupted (a {@code Future}
 * cancelled), or Esc is pressed in ImageJ. A failure cancels the command with the
 * reason ({@link #getCancelReason()}), which is also logged, and leaves no output.
 */
@Plugin(type = Command.class, headless = true,
        menuPath = "Plugins>Deconvolution>m-rBCR>Deconvolve (m-rBCR, ImageJ2)")
public final class DeconvolveScijavaCommand extends ContextCommand {
    @Parameter(required = false)
    private StatusService status;

    @Parameter(required = false)
    private LogService log;

    /** The image to restore: 8-, 16- or 32-bit grayscale, one plane, a stack or a hyperstack. */
    @Parameter(label = "Image")
    private ImagePlus input;

    /** A model file ({@code .safetensors}); none (null) for the model bundled in the library. */
    @Parameter(label = "Model file (optional)", required = false, persist = false, style = FileWidget.OPEN_STYLE,
            description = "Empty: the default model bundled with mrbcr")
    private File model;

    // The defaults below are the library's (LibraryDefaults, asked from the native library
    // when the command is created), not copies. The choices of an annotation must be
    // compile-time constants, so the normalisation names are written out there; a test
    // (LibraryDefaultsTest) checks them against the library's names.

    /** How each plane is scaled for the network: {@link DeconvolveOptions.Normalization}'s names. */
    @Parameter(label = "Normalization", choices = {"percentile", "minmax", "per-tile-minmax", "none"},
            persist = false)
    private String normalization = LibraryDefaults.NORMALIZATION;

    /** Lower percentile, with percentile normalisation. */
    @Parameter(label = "Low percentile", min = "0", max = "100", persist = false)
    private double lowPercentile = LibraryDefaults.LOW_PERCENTILE;

    /** Upper percentile, with percentile normalisation. */
    @Parameter(label = "High percentile", min = "0", max = "100", persist = false)
    private double highPercentile = LibraryDefaults.HIGH_PERCENTILE;

    /** Tile side in pixels (a multiple of 4, at least 32), or 0 for each whole plane. */
    @Parameter(label = "Tile size (pixels; 0 = whole plane)", min = "0", persist = false)
    private int tile = LibraryDefaults.TILE;

    /** Pixels shared by neighbouring tiles, or -1 for the model's own (what its file records). */
    @Parameter(label = "Overlap (pixels; -1 = the model's own)", min = "-1", persist = false)
    private int overlap = LibraryDefaults.OVERLAP;

    /** Worker threads, 0 for all cores. */
    @Parameter(label = "Threads (0 = all cores)", min = "0", persist = false)
    private int threads = LibraryDefaults.THREADS;

    /** The result's pixel type: {@link DeconvolveOptions.OutputType}'s names. */
    @Parameter(label = "Output type", choices = {"32-bit float", "same as input"}, persist = false)
    private String outputType = LibraryDefaults.OUTPUT_TYPE;

    /** Only the displayed plane of a stack. */
    @Parameter(label = "Current plane only", persist = false)
    private boolean currentPlaneOnly = false;

    /** The restored image, {@code <title>-mrbcr}; null if the run failed or was cancelled. */
    @Parameter(type = ItemIO.OUTPUT, label = "Restored")
    private ImagePlus output;

    @Override
    public void run() {
        DeconvolveOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        IJ.resetEscape();
        try {
            output = DeconvolveRunner.restore(input, options, this::progress);
            showStatus(1, "m-rBCR: done");
        } catch (MrbcrCancelledException e) {
            showStatus(1, "m-rBCR: cancelled, no result");
            if (!isCanceled()) {
                cancel("m-rBCR: cancelled, no result");
            }
        } catch (MrbcrException e) {
            fail(e.getMessage());
        }
    }

    /** The parameters as the options both commands take. */
    private DeconvolveOptions options() {
        DeconvolveOptions o = new DeconvolveOptions();
        o.modelPath = model == null ? "" : model.getPath();
        o.normalization = DeconvolveOptions.Normalization.fromText(normalization);
        o.lowPercentile = lowPercentile;
        o.highPercentile = highPercentile;
        o.tile = tile;
        o.overlap = overlap;
        o.threads = threads;
        o.outputType = DeconvolveOptions.OutputType.fromText(outputType);
        o.currentPlaneOnly = currentPlaneOnly;
        return o;
    }

    /** Shows the progress; false (stop) once cancelled, interrupted or Esc was pressed. */
    private boolean progress(double fraction) {
        showStatus(fraction, String.format("m-rBCR: %d%%", Math.round(fraction * 100)));
        return !isCanceled() && !Thread.currentThread().isInterrupted() && !IJ.escapePressed();
    }

    private void showStatus(double fraction, String message) {
        if (status != null) {
            status.showStatus((int) Math.round(fraction * 1000), 1000, message);
        }
    }

    /** Logs the failure and cancels the command with it as the reason; no output. */
    private void fail(String message) {
        String line = DeconvolveDialog.TITLE + ": " + message;
        if (log != null) {
            log.error(line);
        }
        cancel(line);
    }
}
