package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Overlay;
import ij.gui.Roi;
import ij.process.LUT;
import java.awt.Color;
import java.awt.Rectangle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a result keeps of how its input is displayed, in "all planes" and in "current plane
 * only": single-channel LUTs, inverted LUTs, the displayed channel's colour and overlays
 * (issue 15: "current plane only" dropped them).
 */
class DisplayKeptTest {
    private static MrbcrModel model;

    @BeforeAll
    static void setUp() throws Exception {
        model = MrbcrModel.load(TestSupport.model());
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static ImagePlus restore(ImagePlus imp, boolean currentPlaneOnly) throws Exception {
        DeconvolveOptions options = new DeconvolveOptions();
        options.tile = 64;
        options.overlap = 16;
        options.currentPlaneOnly = currentPlaneOnly;
        return DeconvolveRunner.run(imp, model, options, null);
    }

    private static void assertSameColours(LUT expected, LUT actual) {
        assertEquals(expected.getMapSize(), actual.getMapSize());
        byte[][] e = new byte[3][expected.getMapSize()];
        byte[][] a = new byte[3][actual.getMapSize()];
        expected.getReds(e[0]);
        expected.getGreens(e[1]);
        expected.getBlues(e[2]);
        actual.getReds(a[0]);
        actual.getGreens(a[1]);
        actual.getBlues(a[2]);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(e[i], a[i], "colour component " + i);
        }
    }

    @Test
    void aSingleChannelLutIsKeptForAllPlanesAndForTheCurrentOne() throws Exception {
        ImagePlus imp = TestSupport.image("green.tif", 16, 80, 64, 3);
        LUT green = LUT.createLutFromColor(Color.GREEN);
        imp.setLut(green);
        imp.setSlice(2);
        for (boolean current : new boolean[] {false, true}) {
            ImagePlus result = restore(imp, current);
            assertEquals(current ? 1 : 3, result.getStackSize());
            assertSameColours(green, result.getProcessor().getLut());
            assertTrue(result.getDisplayRangeMax() > result.getDisplayRangeMin(), "display range from the result");
        }
    }

    @Test
    void anInvertedLutStaysInverted() throws Exception {
        ImagePlus imp = TestSupport.image("inverted.tif", 8, 80, 64, 2);
        imp.getProcessor().invertLut();
        imp.getStack().setColorModel(imp.getProcessor().getColorModel());
        assertTrue(imp.isInvertedLut());
        for (boolean current : new boolean[] {false, true}) {
            ImagePlus result = restore(imp, current);
            assertTrue(result.isInvertedLut(), current ? "current plane only" : "all planes");
            assertTrue(result.getProcessor().isInvertedLut());
        }
    }

    @Test
    void theCurrentPlaneOfACompositeKeepsItsChannelsColour() throws Exception {
        ImagePlus stack = TestSupport.image("channels.tif", 16, 64, 64, 3);
        stack.setDimensions(3, 1, 1);
        CompositeImage imp = new CompositeImage(stack, CompositeImage.COMPOSITE);
        imp.setChannelLut(LUT.createLutFromColor(Color.RED), 1);
        imp.setChannelLut(LUT.createLutFromColor(Color.GREEN), 2);
        imp.setChannelLut(LUT.createLutFromColor(Color.MAGENTA), 3);
        imp.setPosition(2, 1, 1);
        ImagePlus result = restore(imp, true);
        assertEquals(1, result.getStackSize());
        assertFalse(result.isComposite());
        assertSameColours(LUT.createLutFromColor(Color.GREEN), result.getProcessor().getLut());

        ImagePlus all = restore(imp, false);
        assertTrue(all.isComposite());
        assertSameColours(LUT.createLutFromColor(Color.MAGENTA), ((CompositeImage) all).getChannelLut(3));
    }

    @Test
    void theOverlayMovesWithTheSelectionAndKeepsTheCurrentPlanesShapes() throws Exception {
        ImagePlus imp = TestSupport.image("overlay.tif", 16, 120, 100, 3);
        Overlay overlay = new Overlay();
        Roi everywhere = new Roi(40, 30, 10, 12);
        overlay.add(everywhere);
        Roi onPlane2 = new OvalRoi(50, 40, 8, 8);
        onPlane2.setPosition(2);
        onPlane2.setStrokeColor(Color.YELLOW);
        overlay.add(onPlane2);
        Roi onPlane3 = new OvalRoi(60, 50, 8, 8);
        onPlane3.setPosition(3);
        overlay.add(onPlane3);
        imp.setOverlay(overlay);
        imp.setRoi(new Rectangle(30, 20, 80, 70));
        imp.setSlice(2);

        Overlay all = restore(imp, false).getOverlay();
        assertNotNull(all, "all planes: the overlay was dropped");
        assertEquals(3, all.size());
        assertEquals(new Rectangle(10, 10, 10, 12), all.get(0).getBounds());

        Overlay current = restore(imp, true).getOverlay();
        assertNotNull(current, "current plane only: the overlay was dropped");
        assertEquals(2, current.size(), "the shapes of every plane and of plane 2 only");
        assertEquals(new Rectangle(10, 10, 10, 12), current.get(0).getBounds());
        assertEquals(new Rectangle(20, 20, 8, 8), current.get(1).getBounds());
        assertEquals(Color.YELLOW, current.get(1).getStrokeColor());

        assertEquals(3, imp.getOverlay().size(), "the input's overlay was changed");
        assertEquals(new Rectangle(40, 30, 10, 12), imp.getOverlay().get(0).getBounds());
    }

    @Test
    void anImageWithoutOverlayGivesNone() throws Exception {
        assertNull(restore(TestSupport.image("plain.tif", 8, 64, 64, 1), false).getOverlay());
    }
}
