package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.measure.Calibration;
import org.junit.jupiter.api.Test;

/**
 * What the dialog says about the pixel sizes a model suits, read from the real models'
 * metadata, and its warning from an image's calibration.
 */
class PixelSizeGuideTest {
    private static PixelSizeGuide bundled() throws Exception {
        try (MrbcrModel model = MrbcrModel.bundled()) {
            PixelSizeGuide guide = PixelSizeGuide.fromMetadata(model.metadata());
            assertNotNull(guide, "the bundled model's metadata names no PSF FWHM range");
            return guide;
        }
    }

    private static Calibration calibration(double pixelWidth, String unit) {
        Calibration calibration = new Calibration();
        calibration.pixelWidth = pixelWidth;
        calibration.pixelHeight = pixelWidth;
        calibration.setUnit(unit);
        return calibration;
    }

    @Test
    void theBundledModelSuitsPointsOf1Point5To6PixelsThatIs25To295Nm() throws Exception {
        PixelSizeGuide guide = bundled();
        assertEquals(1.5, guide.fwhmMinPx);
        assertEquals(6.0, guide.fwhmMaxPx);
        // 0.51 x 450 nm / NA 1.45 / 6 px = 26.4 nm; 0.51 x 650 nm / NA 0.75 / 1.5 px = 294.7 nm
        assertEquals(25, guide.minNm);
        assertEquals(295, guide.maxNm);
        assertEquals("This model suits images in which a point of light is 1.5 to 6 pixels wide (FWHM) "
                + "(pixels of about 25 to 295 nm).", guide.expectation());
    }

    @Test
    void theHelpPageGivesTheBundledModelsRange() throws Exception {
        PixelSizeGuide guide = bundled();
        String help = DeconvolveDialog.helpPage();
        assertTrue(help.contains("is 1.5 to 6 pixels wide"), "help.html and the model's metadata differ");
        assertTrue(help.contains("pixels of about " + (int) guide.minNm + " to " + (int) guide.maxNm + " nm"),
                "help.html and the model's metadata differ");
        assertTrue(help.contains("Each plane is restored on its own, in 2-D."));
    }

    @Test
    void theAuthorsCheckpointSaysNothingOfPixelSizes() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            assertNull(PixelSizeGuide.fromMetadata(model.metadata()));
        }
    }

    @Test
    void calibrationsInsideTheRangeGiveNoWarning() throws Exception {
        PixelSizeGuide guide = bundled();
        assertNull(guide.warning(calibration(0.065, "\u00b5m")));
        assertNull(guide.warning(calibration(0.13, "micron")));
        assertNull(guide.warning(calibration(100, "nm")));
        assertNull(guide.warning(calibration(0.000065, "mm")));
    }

    @Test
    void calibrationsOutsideTheRangeAreWarnedAbout() throws Exception {
        PixelSizeGuide guide = bundled();
        String coarse = guide.warning(calibration(0.65, "um"));
        assertNotNull(coarse);
        assertTrue(coarse.startsWith("Warning: this image's pixels are 650 nm, larger than this model suits (25 to 295 nm)"),
                coarse);
        String fine = guide.warning(calibration(10, "nm"));
        assertNotNull(fine);
        assertTrue(fine.startsWith("Warning: this image's pixels are 10 nm, smaller than this model suits"), fine);
    }

    @Test
    void anImageWithoutAPixelSizeIsToldToCheckIt() throws Exception {
        PixelSizeGuide guide = bundled();
        String uncalibrated = guide.warning(new Calibration());
        assertEquals("This image has no pixel size (Image > Properties...): check that its pixels are about 25 to 295 nm.",
                uncalibrated);
        assertEquals(uncalibrated, guide.warning(calibration(2, "inch")));
    }
}
