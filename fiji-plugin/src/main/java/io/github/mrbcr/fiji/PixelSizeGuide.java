package io.github.mrbcr.fiji;

import ij.measure.Calibration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which images a model suits, from what its metadata says it was trained on: the width of
 * a point of light (the PSF's FWHM) in pixels, and from it, with the objectives and
 * wavelengths of its training data, the pixel sizes in nanometres; and whether an image's
 * calibration is in that range. The bundled model's metadata gives all three ranges
 * ({@code data.real_generator}: "PSF FWHM (1.5, 6.0) px", "NA (0.75, 1.45)", "emission
 * (450.0, 650.0) nm"); a model whose metadata says nothing of the sort (the authors'
 * checkpoint) has no guide.
 */
final class PixelSizeGuide {
    /** The lateral FWHM of a widefield PSF is about this times wavelength / NA. */
    private static final double FWHM_PER_WAVELENGTH_OVER_NA = 0.51;

    private static final String NUMBER = "([0-9]+(?:\\.[0-9]+)?)";
    private static final Pattern FWHM = Pattern.compile("PSF FWHM \\(" + NUMBER + ", " + NUMBER + "\\) px");
    private static final Pattern NA = Pattern.compile("\\bNA \\(" + NUMBER + ", " + NUMBER + "\\)");
    private static final Pattern EMISSION = Pattern.compile("emission \\(" + NUMBER + ", " + NUMBER + "\\) nm");

    /** The PSF's FWHM in pixels the model was trained on. */
    final double fwhmMinPx;
    final double fwhmMaxPx;
    /** The pixel sizes (nm) that gives with the training objectives; NaN if not known. */
    final double minNm;
    final double maxNm;

    private PixelSizeGuide(double fwhmMinPx, double fwhmMaxPx, double minNm, double maxNm) {
        this.fwhmMinPx = fwhmMinPx;
        this.fwhmMaxPx = fwhmMaxPx;
        this.minNm = minNm;
        this.maxNm = maxNm;
    }

    /**
     * The guide a model's metadata gives: from the first {@code data.*} value naming a PSF
     * FWHM range in pixels (with the NA and emission ranges of the same value, for the
     * pixel sizes).
     *
     * @param metadata the model's metadata ({@link MrbcrModel#metadata()})
     * @return the guide, or null if the metadata names no FWHM range
     */
    static PixelSizeGuide fromMetadata(Map<String, String> metadata) {
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            if (!entry.getKey().startsWith("data.")) {
                continue;
            }
            Matcher fwhm = FWHM.matcher(entry.getValue());
            if (!fwhm.find()) {
                continue;
            }
            double fwhmMin = Double.parseDouble(fwhm.group(1));
            double fwhmMax = Double.parseDouble(fwhm.group(2));
            Matcher na = NA.matcher(entry.getValue());
            Matcher emission = EMISSION.matcher(entry.getValue());
            double minNm = Double.NaN;
            double maxNm = Double.NaN;
            if (na.find() && emission.find()) {
                double naMin = Double.parseDouble(na.group(1));
                double naMax = Double.parseDouble(na.group(2));
                double wavelengthMin = Double.parseDouble(emission.group(1));
                double wavelengthMax = Double.parseDouble(emission.group(2));
                minNm = roundTo5(FWHM_PER_WAVELENGTH_OVER_NA * wavelengthMin / naMax / fwhmMax);
                maxNm = roundTo5(FWHM_PER_WAVELENGTH_OVER_NA * wavelengthMax / naMin / fwhmMin);
            }
            return new PixelSizeGuide(fwhmMin, fwhmMax, minNm, maxNm);
        }
        return null;
    }

    private static double roundTo5(double nm) {
        return 5 * Math.round(nm / 5);
    }

    /**
     * What the model expects, for the dialog: each plane restored on its own, and the
     * sampling it suits.
     *
     * @return two lines of text
     */
    String expectation() {
        String pixels = Double.isNaN(minNm)
                ? ""
                : String.format(Locale.ROOT, " (pixels of about %.0f to %.0f nm)", minNm, maxNm);
        return "This model suits images in which a point of light is " + number(fwhmMinPx) + " to "
                + number(fwhmMaxPx) + " pixels wide (FWHM)" + pixels + ".";
    }

    /**
     * A warning when the image's pixel size (its calibration) is outside the range the
     * model suits, or when the image has no pixel size to check.
     *
     * @param calibration the image's calibration
     * @return the warning, or null if the pixel size is in the range (or the model gives no
     *     range in nanometres)
     */
    String warning(Calibration calibration) {
        if (Double.isNaN(minNm)) {
            return null;
        }
        double nm = pixelWidthNm(calibration);
        if (Double.isNaN(nm)) {
            return "This image has no pixel size (Image > Properties...): check that its pixels are about "
                    + number(minNm) + " to " + number(maxNm) + " nm.";
        }
        if (nm >= minNm && nm <= maxNm) {
            return null;
        }
        return String.format(Locale.ROOT, "Warning: this image's pixels are %s nm, %s than this model suits (%s to %s nm):%n"
                + "the result may be poor.%s", number(nm), nm < minNm ? "smaller" : "larger", number(minNm),
                number(maxNm), nm > maxNm ? " A point of light narrower than " + number(fwhmMinPx)
                        + " pixels is undersampled." : " Consider binning the image first.");
    }

    /** The calibration's pixel width in nanometres; NaN if it is not in a unit of length. */
    static double pixelWidthNm(Calibration calibration) {
        if (!calibration.scaled()) {
            return Double.NaN;
        }
        String unit = calibration.getUnit().trim().toLowerCase(Locale.ROOT);
        double perUnit;
        switch (unit) {
            case "nm":
            case "nanometer":
            case "nanometers":
            case "nanometre":
            case "nanometres":
                perUnit = 1;
                break;
            case "\u00b5m":
            case "\u03bcm":
            case "um":
            case "micron":
            case "microns":
            case "micrometer":
            case "micrometers":
            case "micrometre":
            case "micrometres":
                perUnit = 1e3;
                break;
            case "mm":
                perUnit = 1e6;
                break;
            default:
                return Double.NaN;
        }
        return calibration.pixelWidth * perUnit;
    }

    /** A number without a trailing {@code .0}, at most 3 significant decimals. */
    private static String number(double value) {
        if (value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%d", (long) value);
        }
        return String.format(Locale.ROOT, "%.3f", value).replaceAll("0+$", "");
    }
}
