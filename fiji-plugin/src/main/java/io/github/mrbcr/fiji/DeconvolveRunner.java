package io.github.mrbcr.fiji;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.process.ImageProcessor;
import java.awt.Rectangle;

/**
 * The work of "Deconvolve (m-rBCR)", without any dialog: restores an image into a new
 * one. Every channel, slice and frame of a stack or hyperstack is restored (or only the
 * displayed plane, if asked); an area selection restricts the work to its bounding
 * rectangle. The result is titled {@code <title>-mrbcr} and keeps the input's
 * calibration, dimensions, hyperstack ordering, channel colours and slice labels; the
 * input is never modified.
 */
public final class DeconvolveRunner {
    private DeconvolveRunner() {}

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
