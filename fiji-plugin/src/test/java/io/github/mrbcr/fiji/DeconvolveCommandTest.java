package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.CompositeImage;
import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.Prefs;
import ij.WindowManager;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.plugin.frame.Recorder;
import ij.process.ColorProcessor;
import java.awt.event.KeyEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * "Deconvolve (m-rBCR)" as ImageJ runs it (IJ.run with a macro's options string,
 * headless), compared with the Rust API's result through the `mrbcr deconvolve` tool.
 */
class DeconvolveCommandTest {
    private static final String COMMAND = "Deconvolve (m-rBCR)";
    /** Small tiles, so that every image is several tiles with blended overlaps. */
    private static final String TILING = " tile=64 overlap=16 threads=2";

    @BeforeAll
    static void setUp() throws Exception {
        TestSupport.installCommands();
        TestSupport.model();
    }

    private static String options(String more) throws Exception {
        return "model=[" + TestSupport.model() + "] normalization=percentile low=1 high=99.8" + TILING + " " + more;
    }

    /** Runs the command on {@code imp}; returns the image that is current afterwards. */
    private static ImagePlus runCommand(ImagePlus imp, String options) {
        WindowManager.setTempCurrentImage(imp);
        IJ.run(COMMAND, options);
        ImagePlus current = WindowManager.getCurrentImage();
        WindowManager.setTempCurrentImage(null);
        return current;
    }

    /** What the command prints (IJ.error writes to standard output when headless). */
    private static String printedBy(Runnable action) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static void assertSamePixels(ImagePlus expected, ImagePlus actual) {
        assertEquals(expected.getBitDepth(), actual.getBitDepth(), "bit depth");
        assertEquals(expected.getStackSize(), actual.getStackSize(), "planes");
        assertEquals(expected.getWidth(), actual.getWidth(), "width");
        assertEquals(expected.getHeight(), actual.getHeight(), "height");
        for (int p = 1; p <= expected.getStackSize(); p++) {
            Object e = expected.getStack().getPixels(p);
            Object a = actual.getStack().getPixels(p);
            if (e instanceof float[]) {
                assertArrayEquals((float[]) e, (float[]) a, "plane " + p + " differs from the Rust API's");
            } else if (e instanceof short[]) {
                assertArrayEquals((short[]) e, (short[]) a, "plane " + p + " differs from the Rust API's");
            } else {
                assertArrayEquals((byte[]) e, (byte[]) a, "plane " + p + " differs from the Rust API's");
            }
        }
    }

    private static int pixelHash(ImagePlus imp) {
        int hash = 1;
        for (int p = 1; p <= imp.getStackSize(); p++) {
            Object pixels = imp.getStack().getPixels(p);
            hash = 31 * hash + (pixels instanceof float[] ? Arrays.hashCode((float[]) pixels)
                    : pixels instanceof short[] ? Arrays.hashCode((short[]) pixels) : Arrays.hashCode((byte[]) pixels));
        }
        return hash;
    }

    @Test
    void eightBitImageGivesTheRustResultIn32Bit() throws Exception {
        ImagePlus imp = TestSupport.image("cells.tif", 8, 150, 110, 1);
        int before = pixelHash(imp);
        ImagePlus result = runCommand(imp, options("output=[32-bit float]"));
        assertNotSame(imp, result);
        assertEquals("cells-mrbcr", result.getTitle());
        assertEquals(32, result.getBitDepth());
        assertSamePixels(TestSupport.cliResult(imp, "--tile", "64", "--overlap", "16"), result);
        assertEquals(before, pixelHash(imp), "the input was modified");
    }

    @Test
    void sixteenBitImageKeepsItsTypeWhenAsked() throws Exception {
        ImagePlus imp = TestSupport.image("raw 16-bit", 16, 120, 100, 1);
        ImagePlus result = runCommand(imp, options("output=[same as input]"));
        assertEquals(16, result.getBitDepth());
        assertEquals("raw 16-bit-mrbcr", result.getTitle());
        assertSamePixels(
                TestSupport.cliResult(imp, "--tile", "64", "--overlap", "16", "--output-type", "same"), result);
    }

    @Test
    void thirtyTwoBitImageWithMinMaxNormalizationIsBitIdentical() throws Exception {
        ImagePlus imp = TestSupport.image("float.tif", 32, 96, 96, 1);
        String opts = "model=[" + TestSupport.model() + "] normalization=minmax" + TILING + " output=[32-bit float]";
        ImagePlus result = runCommand(imp, opts);
        assertSamePixels(TestSupport.cliResult(imp, "--tile", "64", "--overlap", "16", "--norm", "minmax"), result);
    }

    @Test
    void rectangularSelectionRestrictsTheWorkToItsBounds() throws Exception {
        ImagePlus imp = TestSupport.image("roi.tif", 32, 160, 120, 1);
        Calibration calibration = imp.getCalibration();
        calibration.pixelWidth = 0.065;
        calibration.pixelHeight = 0.065;
        calibration.setUnit("nm");
        imp.setRoi(new Roi(30, 20, 80, 70));
        ImagePlus result = runCommand(imp, options("output=[32-bit float]"));
        assertEquals(80, result.getWidth());
        assertEquals(70, result.getHeight());
        assertEquals(0.065, result.getCalibration().pixelWidth);
        assertEquals("nm", result.getCalibration().getUnit());
        assertEquals(-30, result.getCalibration().xOrigin);
        assertEquals(-20, result.getCalibration().yOrigin);
        ImagePlus crop = imp.crop();
        assertSamePixels(TestSupport.cliResult(crop, "--tile", "64", "--overlap", "16"), result);
    }

    @Test
    void everySliceOfAStackIsRestored() throws Exception {
        ImagePlus imp = TestSupport.image("zstack.tif", 16, 96, 80, 3);
        imp.getCalibration().pixelDepth = 0.2;
        imp.setSlice(2);
        ImagePlus result = runCommand(imp, options("output=[32-bit float]"));
        assertEquals(3, result.getNSlices());
        assertEquals(0.2, result.getCalibration().pixelDepth);
        assertEquals("plane 3", result.getStack().getSliceLabel(3));
        assertSamePixels(TestSupport.cliResult(imp, "--tile", "64", "--overlap", "16"), result);
    }

    @Test
    void everyChannelSliceAndFrameOfAHyperstackIsRestoredInOrder() throws Exception {
        ImagePlus imp = TestSupport.image("hyper.tif", 16, 80, 72, 2 * 2 * 2);
        imp.setDimensions(2, 2, 2);
        imp = new CompositeImage(imp, IJ.COMPOSITE);
        imp.setOpenAsHyperStack(true);
        ImagePlus result = runCommand(imp, options("output=[32-bit float]"));
        assertEquals(2, result.getNChannels());
        assertEquals(2, result.getNSlices());
        assertEquals(2, result.getNFrames());
        assertTrue(result.isHyperStack());
        assertTrue(result.isComposite());
        assertEquals(IJ.COMPOSITE, result.getCompositeMode());
        assertSamePixels(TestSupport.cliResult(imp, "--tile", "64", "--overlap", "16"), result);
    }

    @Test
    void currentPlaneOnlyRestoresTheDisplayedPlane() throws Exception {
        ImagePlus imp = TestSupport.image("hyper2.tif", 8, 80, 72, 4);
        imp.setDimensions(2, 2, 1);
        imp.setOpenAsHyperStack(true);
        imp.setPosition(2, 2, 1); // stack index 4
        ImagePlus result = runCommand(imp, options("output=[32-bit float] current"));
        assertEquals(1, result.getStackSize());
        ImagePlus plane = new ImagePlus("plane", imp.getStack().getProcessor(4));
        assertSamePixels(TestSupport.cliResult(plane, "--tile", "64", "--overlap", "16"), result);
    }

    @Test
    void withoutAModelFileTheBundledModelGivesTheCliResultWithoutModel() throws Exception {
        ImagePlus imp = TestSupport.image("bundled.tif", 16, 120, 100, 2);
        String opts = "normalization=percentile low=1 high=99.8" + TILING + " output=[32-bit float]";
        ImagePlus expected = TestSupport.bundledCliResult(imp, "--tile", "64", "--overlap", "16");
        String[] printed = new String[1];
        ImagePlus[] results = new ImagePlus[2];
        printed[0] = printedBy(() -> {
            results[0] = runCommand(imp, opts); // no model= at all
            results[1] = runCommand(imp, "model=[] " + opts); // as the recorder writes an empty field
        });
        for (ImagePlus result : results) {
            assertNotSame(imp, result, "no result:\n" + printed[0]);
            assertEquals("bundled-mrbcr", result.getTitle());
            assertSamePixels(expected, result);
        }
    }

    @Test
    void aMacroWithoutModelIgnoresTheFileRememberedFromTheDialog() throws Exception {
        ImagePlus imp = TestSupport.image("remembered.tif", 8, 80, 64, 1);
        String key = "mrbcr.model";
        String before = Prefs.get(key, "");
        Prefs.set(key, "/no/such/remembered.safetensors");
        String[] printed = new String[1];
        ImagePlus[] result = new ImagePlus[1];
        try {
            assertEquals("/no/such/remembered.safetensors", DeconvolveOptions.remembered().modelPath);
            printed[0] = printedBy(() -> result[0] = runCommand(imp, "normalization=minmax" + TILING));
        } finally {
            Prefs.set(key, before);
        }
        assertNotSame(imp, result[0], "the remembered file was used:\n" + printed[0]);
        assertSamePixels(
                TestSupport.bundledCliResult(imp, "--tile", "64", "--overlap", "16", "--norm", "minmax"), result[0]);
    }

    @Test
    void rgbImageIsRefusedWithAClearMessage() {
        ImagePlus rgb = new ImagePlus("colour.jpg", new ColorProcessor(64, 64));
        String printed = printedBy(() -> assertSame(rgb, runCommand(rgb, "model=whatever.safetensors")));
        assertTrue(printed.contains("RGB"), printed);
        assertTrue(printed.contains("Split Channels"), printed);
    }

    @Test
    void withoutAnImageTheCommandSaysSoAndImageJGoesOn() {
        // IJ.getImage() ended the JVM (System.exit(0)) without ImageJ's window, and raised
        // a macro error, whose dialog nobody can close, in ImageJ -batch.
        WindowManager.setTempCurrentImage(null);
        assertNull(WindowManager.getCurrentImage());
        String printed = printedBy(() -> IJ.run(COMMAND, "model=[]"));
        assertTrue(printed.contains("Deconvolve (m-rBCR): there is no image to restore"), printed);
    }

    @Test
    void missingModelFileGivesTheLibraryMessageAndNoResult() {
        ImagePlus imp = TestSupport.image("m.tif", 8, 64, 64, 1);
        String printed = printedBy(() -> assertSame(imp, runCommand(imp, "model=/no/such/model.safetensors")));
        assertTrue(printed.contains("/no/such/model.safetensors: No such file or directory"), printed);
    }

    @Test
    void badTileSizeGivesTheLibraryMessage() throws Exception {
        ImagePlus imp = TestSupport.image("t.tif", 8, 64, 64, 1);
        String opts = "model=[" + TestSupport.model() + "] tile=30";
        String printed = printedBy(() -> assertSame(imp, runCommand(imp, opts)));
        assertTrue(printed.contains("tile size 30 must be 0 (whole image) or a multiple of 4 of at least 32"), printed);
    }

    @Test
    void unknownChoiceInAMacroIsNamed() {
        ImagePlus imp = TestSupport.image("c.tif", 8, 64, 64, 1);
        String printed = printedBy(() -> assertSame(imp, runCommand(imp, "model=m.safetensors normalization=gauss")));
        assertTrue(printed.contains("\"gauss\" is not a valid choice for \"Normalization\""), printed);
    }

    @Test
    void escapeCancelsWithinATileAndLeavesNoResult() throws Exception {
        ImagePlus imp = TestSupport.image("esc.tif", 16, 200, 200, 2);
        DeconvolveOptions options = new DeconvolveOptions();
        options.tile = 64;
        options.overlap = 16;
        int[] tilesSeen = {0};
        ImageJProgress imagej = new ImageJProgress();
        ProgressListener userPressesEsc = fraction -> {
            tilesSeen[0]++;
            IJ.setKeyDown(KeyEvent.VK_ESCAPE);
            return imagej.progress(fraction);
        };
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            assertThrows(MrbcrCancelledException.class, () -> DeconvolveRunner.run(imp, model, options, userPressesEsc));
        } finally {
            IJ.resetEscape();
        }
        assertEquals(1, tilesSeen[0], "the run went on after Esc");
    }

    @Test
    void theRecordedMacroOptionsReadBackToTheSameOptions() throws Exception {
        String given = "model=[/data/my models/m.safetensors] normalization=percentile low=0.5 high=99.9 "
                + "tile=256 overlap=64 threads=2 output=[same as input] current";
        boolean wasRecording = Recorder.record;
        Recorder.record = true;
        Recorder.resetCommandOptions();
        DeconvolveOptions read;
        try {
            read = DeconvolveDialog.read(new DeconvolveDialog.MacroForm(given), new DeconvolveOptions(), true, null, null);
        } finally {
            Recorder.record = wasRecording;
        }
        String recorded = Recorder.getCommandOptions();
        Recorder.resetCommandOptions();
        assertEquals(given, recorded);
        assertEquals("/data/my models/m.safetensors", read.modelPath);
        assertEquals("percentile:0.5:99.9", read.normalizationText());
        assertEquals(256, read.tile);
        assertEquals(64, read.overlap);
        assertEquals(2, read.threads);
        assertEquals(DeconvolveOptions.OutputType.SAME, read.outputType);
        assertTrue(read.currentPlaneOnly);
    }

    @Test
    void anEmptyModelFieldIsTheDefaultAndIsRecordedAsEmpty() {
        assertEquals("", new DeconvolveOptions().modelPath);
        boolean wasRecording = Recorder.record;
        Recorder.record = true;
        Recorder.resetCommandOptions();
        DeconvolveOptions read;
        try {
            read = DeconvolveDialog.read(new DeconvolveDialog.MacroForm("tile=256"), new DeconvolveOptions(), false, null, null);
        } finally {
            Recorder.record = wasRecording;
        }
        String recorded = Recorder.getCommandOptions();
        Recorder.resetCommandOptions();
        assertEquals("", read.modelPath);
        assertTrue(recorded.startsWith("model=[] normalization=percentile"), recorded);
        DeconvolveOptions again = DeconvolveDialog.read(new DeconvolveDialog.MacroForm(recorded), new DeconvolveOptions(), false, null, null);
        assertEquals("", again.modelPath);
        assertEquals(256, again.tile);
        assertEquals("model", ij.Macro.trimKey(DeconvolveDialog.MODEL), "old macros' key");
    }

    @Test
    void emptyMacroOptionsKeepTheDefaults() {
        DeconvolveOptions defaults = new DeconvolveOptions();
        defaults.modelPath = "/m.safetensors";
        DeconvolveOptions read = DeconvolveDialog.read(new DeconvolveDialog.MacroForm(""), defaults, false, null, null);
        assertEquals("/m.safetensors", read.modelPath);
        assertEquals("percentile:1:99.8", read.normalizationText());
        assertEquals(1024, read.tile);
        assertEquals(-1, read.overlap); // the model's own
        assertEquals(DeconvolveOptions.OutputType.FLOAT32, read.outputType);
    }

    @Test
    void resultTitlesDropTheExtensionOnly() {
        assertEquals("cells-mrbcr", DeconvolveRunner.resultTitle("cells.tif"));
        assertEquals("my cells 2-mrbcr", DeconvolveRunner.resultTitle("my cells 2.tiff"));
        assertEquals("Untitled-mrbcr", DeconvolveRunner.resultTitle("Untitled"));
    }

    @Test
    void aStackOfFortyPlanesIsRestored() throws Exception {
        ImageStack stack = new ImageStack(40, 36);
        for (int p = 0; p < 40; p++) {
            stack.addSlice(TestSupport.plane(8, 40, 36, p));
        }
        ImagePlus imp = new ImagePlus("many", stack);
        ImagePlus result = runCommand(imp, options("output=[32-bit float]"));
        assertEquals(40, result.getStackSize());
    }
}
