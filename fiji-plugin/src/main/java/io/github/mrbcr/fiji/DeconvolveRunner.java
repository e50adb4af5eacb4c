package io.github.mrbcr.fiji;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.process.ImageProcessor;
import ij.process.LUT;
import java.awt.Rectangle;

/**
 * The work of "Deconvolve (m-rBCR)", without any dialog, for both its commands (the
 * ImageJ 1 one, {@link DeconvolveCommand}, and the SciJava one, {@link
 * DeconvolveScijavaCommand}): restores an image into a new one. Every channel, slice and frame of a stack or hyperstack is restored (or only the
 * displayed plane, if asked); an area selection restricts the work to its bounding
 * rectangle. The result is titled {@code <title>-mrbcr} and keeps the input's
 * calibration, dimensions, hyperstack ordering, slice labels, colours (a composite's
 * channel colours; a single-channel image's LUT, inverted or not; the displayed channel's
 * colour when only the displayed plane is restored) and overlay (moved with the
 * selection's origin; only the displayed plane's, when only that plane is restored); the
 * input is never modified.
 */
public final class DeconvolveRunner {
    /** The message when there is no image to restore. */
    static final String NO_IMAGE = "there is no image to restore: open one first";

    private DeconvolveRunner() {}

    /**
     * Restores {@code imp} with the model {@code options} names ({@link
     * MrbcrModel#open(String)}: a file, or the bundled model): the one code path of both
     * commands.
     *
     * @param imp an 8-bit, 16-bit or 32-bit grayscale image, stack or hyperstack
     * @param options the options
     * @param progress told the progress after each tile, may cancel; may be null
     * @return the restored image, not shown
     * @throws MrbcrCancelledException if {@code progress} cancelled (no result is made)
     * @throws MrbcrException with a message for the user if anything else fails: no image
     *     (null or empty), an RGB image, a model file that cannot be read, options or an image the library refuses,
     *     a native library that cannot be loaded, Java running out of memory
     */
    public static ImagePlus restore(ImagePlus imp, DeconvolveOptions options, ProgressListener progress)
            throws MrbcrException {
        if (imp == null || imp.getStackSize() == 0 || imp.getWidth() == 0 || imp.getProcessor() == null) {
            throw new MrbcrException(NO_IMAGE);
        }
        try (MrbcrModel model = MrbcrModel.open(options.modelPath)) {
            return run(imp, model, options, progress);
        } catch (OutOfMemoryError e) {
            throw new MrbcrException(outOfMemoryMessage(imp, options));
        } catch (LinkageError e) {
            throw new MrbcrException(String.valueOf(e.getMessage()));
        }
    }

    /**
     * The message for Java running out of memory: what the result needs, and ImageJ's
     * limit.
     */
    static String outOfMemoryMessage(ImagePlus imp, DeconvolveOptions options) {
        long planes = options.currentPlaneOnly ? 1 : imp.getStackSize();
        int bits = options.outputType == DeconvolveOptions.OutputType.SAME ? imp.getBitDepth() : 32;
        long resultMb = (planes * imp.getWidth() * imp.getHeight() * (bits / 8) + (1 << 20) - 1) >> 20;
        long maxMb = Runtime.getRuntime().maxMemory() >> 20;
        return "Java ran out of memory restoring \"" + imp.getTitle() + "\" (its result alone needs "
                + resultMb + " MB; ImageJ may use at most " + maxMb
                + " MB: raise it in Edit > Options > Memory & Threads, or restore fewer planes at once). No result.";
    }

    /**
     * Restores {@code imp} with {@code model}.
     *
     * @param imp an 8-bit, 16-bit or 32-bit grayscale image, stack or hyperstack
     * @param model the model
     * @param options the options (the model path is not read)
     * @param progress told the progress after each tile, may cancel; may be null
     * @return the restored image, not shown
     * @throws MrbcrCancelledException if {@code progress} cancelled (no result is made)
     * @throws MrbcrException if the image is RGB, or the library refuses the options or
     *     the image (its message says why)
     */
    public static ImagePlus run(ImagePlus imp, MrbcrModel model, DeconvolveOptions options, ProgressListener progress)
            throws MrbcrException {
        int bits = imp.getBitDepth();
        if (bits != 8 && bits != 16 && bits != 32) {
            throw new MrbcrException(rgbMessage(imp));
        }
        Rectangle area = area(imp);
        ImageStack stack = imp.getStack();
        int[] planes = options.currentPlaneOnly
                ? new int[] {imp.getCurrentSlice()}
                : java.util.stream.IntStream.rangeClosed(1, stack.getSize()).toArray();
        int outputBits = options.outputType == DeconvolveOptions.OutputType.SAME ? bits : 32;
        Object[] input = new Object[planes.length];
        Object[] output = new Object[planes.length];
        for (int i = 0; i < planes.length; i++) {
            ImageProcessor ip = stack.getProcessor(planes[i]);
            if (area.width != ip.getWidth() || area.height != ip.getHeight()) {
                ip.setRoi(area);
                ip = ip.crop();
            }
            input[i] = ip.getPixels();
            output[i] = newPlane(outputBits, area.width * area.height);
        }
        model.deconvolve(input, bits, output, outputBits, area.width, area.height, options, progress);

        ImageStack result = new ImageStack(area.width, area.height);
        for (int i = 0; i < planes.length; i++) {
            result.addSlice(stack.getSliceLabel(planes[i]), output[i]);
        }
        ImagePlus restored = new ImagePlus(resultTitle(imp.getTitle()), result);
        if (!options.currentPlaneOnly) {
            restored.setDimensions(imp.getNChannels(), imp.getNSlices(), imp.getNFrames());
            restored.setOpenAsHyperStack(imp.isHyperStack());
            if (imp.isComposite()) {
                CompositeImage composite = new CompositeImage(restored, imp.getCompositeMode());
                composite.setLuts(imp.getLuts());
                restored = composite;
            }
        }
        if (!(restored instanceof CompositeImage)) {
            restored.setLut(displayedLut(imp));
        }
        Overlay overlay = overlay(imp, area, options.currentPlaneOnly);
        if (overlay != null) {
            restored.setOverlay(overlay);
        }
        Calibration calibration = imp.getCalibration().copy();
        calibration.xOrigin -= area.x;
        calibration.yOrigin -= area.y;
        restored.setCalibration(calibration);
        Object info = imp.getProperty("Info");
        if (info != null) {
            restored.setProperty("Info", info);
        }
        resetDisplayRanges(restored);
        return restored;
    }

    /**
     * The colours of the displayed plane: the displayed channel's of a composite image, the
     * image's own LUT (inverted or not) otherwise; without a display range, which the
     * result sets from its own values.
     */
    private static LUT displayedLut(ImagePlus imp) {
        LUT lut = imp instanceof CompositeImage
                ? ((CompositeImage) imp).getChannelLut(imp.getChannel())
                : imp.getProcessor().getLut();
        return new LUT(lut, 0, 0);
    }

    /**
     * The input's overlay for the result: its shapes moved as the selection's bounds
     * ({@code area}) move the origin; with {@code currentPlaneOnly}, only the shapes shown
     * on every plane or on the displayed one. Null if the input has none.
     */
    private static Overlay overlay(ImagePlus imp, Rectangle area, boolean currentPlaneOnly) {
        Overlay overlay = imp.getOverlay();
        if (overlay == null || overlay.size() == 0) {
            return null;
        }
        Overlay kept = overlay.duplicate();
        if (currentPlaneOnly && imp.getStackSize() > 1) {
            if (imp.isHyperStack()) {
                int c = imp.getChannel();
                int z = imp.getSlice();
                int t = imp.getFrame();
                kept.crop(c, c, z, z, t, t);
            } else {
                kept.crop(imp.getCurrentSlice(), imp.getCurrentSlice());
            }
        }
        kept.translate(-area.x, -area.y);
        return kept;
    }

    /** The message for an image that is not 8-, 16- or 32-bit grayscale. */
    static String rgbMessage(ImagePlus imp) {
        return "\"" + imp.getTitle() + "\" is an RGB colour image; m-rBCR restores 8-, 16- and 32-bit "
                + "grayscale images. Split the channels (Image > Color > Split Channels) or convert it "
                + "(Image > Type) first.";
    }

    /** The part of the image to restore: an area selection's bounds, or everything. */
    static Rectangle area(ImagePlus imp) {
        Rectangle all = new Rectangle(0, 0, imp.getWidth(), imp.getHeight());
        Roi roi = imp.getRoi();
        if (roi == null || !roi.isArea()) {
            return all;
        }
        Rectangle bounds = roi.getBounds().intersection(all);
        return bounds.isEmpty() ? all : bounds;
    }

    /** {@code cells.tif} gives {@code cells-mrbcr}; a title without an extension is kept whole. */
    static String resultTitle(String title) {
        String base = title.replaceFirst("\\.[A-Za-z0-9]{1,5}$", "");
        return (base.isEmpty() ? title : base) + "-mrbcr";
    }

    private static Object newPlane(int bits, int pixels) {
        switch (bits) {
            case 8:
                return new byte[pixels];
            case 16:
                return new short[pixels];
            default:
                return new float[pixels];
        }
    }

    /** Display ranges from the restored values (the input's would clip them). */
    private static void resetDisplayRanges(ImagePlus imp) {
        if (imp.getBitDepth() == 8) {
            return; // 0-255, as the input's
        }
        if (imp instanceof CompositeImage) {
            CompositeImage composite = (CompositeImage) imp;
            for (int c = 1; c <= composite.getNChannels(); c++) {
                composite.setPositionWithoutUpdate(c, 1, 1);
                composite.resetDisplayRange();
            }
            composite.setPositionWithoutUpdate(1, 1, 1);
        } else {
            imp.resetDisplayRange();
        }
    }
}
