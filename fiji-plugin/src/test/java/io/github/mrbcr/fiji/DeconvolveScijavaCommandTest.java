package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.process.ColorProcessor;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.app.event.StatusEvent;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.event.EventHandler;
import org.scijava.event.EventService;
import org.scijava.module.Module;
import org.scijava.module.ModuleService;
import org.scijava.module.event.ModuleExecutingEvent;
import org.scijava.plugin.Parameter;

/**
 * The ImageJ2 / SciJava command run through a real SciJava {@link Context} (its
 * CommandService, as Fiji's script editor, headless Fiji and PyImageJ run it), compared
 * bit for bit with the ImageJ 1 command on the same images.
 */
class DeconvolveScijavaCommandTest {
    private static Context context;
    private static CommandService commands;

    @BeforeAll
    static void setUp() throws Exception {
        TestSupport.installCommands();
        TestSupport.model();
        context = new Context();
        commands = context.service(CommandService.class);
    }

    @AfterAll
    static void tearDown() {
        context.dispose();
    }

    /** The ImageJ 1 command's result (IJ.run with a macro's options string). */
    private static ImagePlus imagej1Result(ImagePlus imp, String options) {
        WindowManager.setTempCurrentImage(imp);
        IJ.run("Deconvolve (m-rBCR)", options);
        ImagePlus current = WindowManager.getCurrentImage();
        WindowManager.setTempCurrentImage(null);
        assertTrue(current != imp, "the ImageJ 1 command made no result");
        return current;
    }

    /** Runs the SciJava command through the CommandService, with pre- and postprocessing. */
    private static CommandModule runCommand(Object... inputs) throws Exception {
        return commands.run(DeconvolveScijavaCommand.class, true, inputs).get();
    }

    private static void assertSamePixels(ImagePlus expected, ImagePlus actual) {
        assertEquals(expected.getTitle(), actual.getTitle());
        assertEquals(expected.getBitDepth(), actual.getBitDepth(), "bit depth");
        assertEquals(expected.getStackSize(), actual.getStackSize(), "planes");
        assertEquals(expected.getNChannels(), actual.getNChannels(), "channels");
        assertEquals(expected.getNSlices(), actual.getNSlices(), "slices");
        assertEquals(expected.getNFrames(), actual.getNFrames(), "frames");
        for (int p = 1; p <= expected.getStackSize(); p++) {
            Object e = expected.getStack().getPixels(p);
            Object a = actual.getStack().getPixels(p);
            if (e instanceof float[]) {
                assertArrayEquals((float[]) e, (float[]) a, "plane " + p);
            } else if (e instanceof short[]) {
                assertArrayEquals((short[]) e, (short[]) a, "plane " + p);
            } else {
                assertArrayEquals((byte[]) e, (byte[]) a, "plane " + p);
            }
        }
    }

    @Test
    void theCommandIsFoundByItsMenuPathAndRunsHeadless() {
        CommandInfo info = commands.getCommand(DeconvolveScijavaCommand.class);
        assertNotNull(info, "the SciJava index (META-INF/json) does not list the command");
        assertEquals("Plugins > Deconvolution > m-rBCR > Deconvolve (m-rBCR, ImageJ2)", info.getMenuPath().getMenuString());
        assertTrue(info.canRunHeadless());
    }

    @Test
    void aStackWithAModelFileGivesTheImagej1CommandsPixels() throws Exception {
        ImagePlus imp = TestSupport.image("stack.tif", 16, 150, 110, 3);
        ImagePlus expected = imagej1Result(imp, "model=[" + TestSupport.model()
                + "] normalization=percentile low=0.5 high=99.9 tile=64 overlap=16 threads=2 output=[32-bit float]");
        List<String> statusLines = Collections.synchronizedList(new ArrayList<>());
        Object statusWatcher = new Object() {
            @EventHandler
            public void onStatus(StatusEvent event) {
                if (event.getStatusMessage() != null && event.getStatusMessage().startsWith("m-rBCR")) {
                    statusLines.add(event.getStatusMessage() + " " + event.getProgressValue() + "/"
                            + event.getProgressMaximum());
                }
            }
        };
        context.service(EventService.class).subscribe(statusWatcher);
        CommandModule run = runCommand("input", imp, "model", TestSupport.model().toFile(),
                "normalization", "percentile", "lowPercentile", 0.5, "highPercentile", 99.9,
                "tile", 64, "overlap", 16, "threads", 2);
        assertTrue(!run.isCanceled(), run.getCancelReason());
        assertSamePixels(expected, (ImagePlus) run.getOutput("output"));
        // The StatusService delivers its events on other threads: wait for them (at most a minute).
        for (int i = 0; i < 600 && !(statusLines.contains("m-rBCR: done 1000/1000") && statusLines.size() > 1); i++) {
            Thread.sleep(100);
        }
        assertTrue(statusLines.contains("m-rBCR: done 1000/1000"), statusLines.toString());
        assertTrue(statusLines.stream().anyMatch(l -> l.matches("m-rBCR: \\d+% \\d+/1000")), statusLines.toString());
    }

    @Test
    void theBundledModelSameTypeAndCurrentPlaneGiveTheImagej1CommandsPixels() throws Exception {
        ImagePlus imp = TestSupport.image("planes.tif", 8, 96, 80, 3);
        imp.setSlice(2);
        ImagePlus expected = imagej1Result(
                imp, "model=[] normalization=minmax tile=64 overlap=16 threads=1 output=[same as input] current");
        // No model: the bundled one. Threads left at 0 (all cores): the same pixels.
        CommandModule run = runCommand("input", imp, "normalization", "minmax", "tile", 64, "overlap", 16,
                "outputType", "same as input", "currentPlaneOnly", true);
        assertTrue(!run.isCanceled(), run.getCancelReason());
        ImagePlus result = (ImagePlus) run.getOutput("output");
        assertEquals(1, result.getStackSize());
        assertSamePixels(expected, result);
    }

    @Test
    void aRunCancelledAsItStartsStopsAtItsFirstTileWithNoOutput() throws Exception {
        ImagePlus imp = TestSupport.image("cancel.tif", 16, 200, 200, 2);
        ModuleService modules = context.service(ModuleService.class);
        Module module = modules.createModule(commands.getCommand(DeconvolveScijavaCommand.class));
        Map<String, Object> inputs = new HashMap<>();
        inputs.put("input", imp);
        inputs.put("tile", 64);
        inputs.put("overlap", 16);
        // The user cancels as the command starts (ModuleExecutingEvent is published on the
        // module's thread just before it runs): the run stops at its first tile.
        Object canceller = new Object() {
            @EventHandler
            public void onExecuting(ModuleExecutingEvent event) {
                if (event.getModule() == module) {
                    ((DeconvolveScijavaCommand) module.getDelegateObject()).cancel("the user cancelled");
                }
            }
        };
        context.service(EventService.class).subscribe(canceller);
        modules.run(module, true, inputs).get();
        assertTrue(((DeconvolveScijavaCommand) module.getDelegateObject()).isCanceled());
        assertEquals("the user cancelled", ((DeconvolveScijavaCommand) module.getDelegateObject()).getCancelReason());
        assertNull(module.getOutput("output"), "a cancelled run gave a result");
        assertNotNull(canceller);
    }

    @Test
    void withoutAnImageTheCommandSaysSo() throws Exception {
        // What a script gets that passes no image where no image is open: SciJava fills
        // the input with an empty ImagePlus.
        CommandModule run = runCommand("tile", 64);
        assertTrue(run.isCanceled());
        assertTrue(run.getCancelReason().contains("there is no image to restore"), run.getCancelReason());
        assertNull(run.getOutput("output"));
    }

    @Test
    void anRgbImageCancelsWithTheReasonAndNoOutput() throws Exception {
        ImagePlus rgb = new ImagePlus("colour.jpg", new ColorProcessor(64, 64));
        CommandModule run = runCommand("input", rgb);
        assertTrue(run.isCanceled());
        assertTrue(run.getCancelReason().contains("RGB"), run.getCancelReason());
        assertTrue(run.getCancelReason().contains("Split Channels"), run.getCancelReason());
        assertNull(run.getOutput("output"));
    }

    @Test
    void aMissingModelFileCancelsWithTheLibrarysMessage() throws Exception {
        ImagePlus imp = TestSupport.image("m.tif", 8, 64, 64, 1);
        CommandModule run = runCommand("input", imp, "model", new File("/no/such/model.safetensors"));
        assertTrue(run.isCanceled());
        assertTrue(run.getCancelReason().contains("/no/such/model.safetensors: No such file or directory"),
                run.getCancelReason());
        assertNull(run.getOutput("output"));
    }

    @Test
    void anUnknownChoiceFromAScriptIsNamed() throws Exception {
        ImagePlus imp = TestSupport.image("c.tif", 8, 64, 64, 1);
        CommandModule run = runCommand("input", imp, "normalization", "gauss");
        assertTrue(run.isCanceled());
        assertTrue(run.getCancelReason().contains("unknown normalization 'gauss'"), run.getCancelReason());
    }

    /** The choices offered are the names the options take, so the two cannot drift apart. */
    @Test
    void theChoicesAreTheOptionsNames() throws Exception {
        List<String> normalizations = new ArrayList<>();
        for (DeconvolveOptions.Normalization n : DeconvolveOptions.Normalization.values()) {
            normalizations.add(n.text);
        }
        List<String> outputTypes = new ArrayList<>();
        for (DeconvolveOptions.OutputType t : DeconvolveOptions.OutputType.values()) {
            outputTypes.add(t.text);
        }
        assertEquals(normalizations, choices("normalization"));
        assertEquals(outputTypes, choices("outputType"));
        DeconvolveOptions defaults = new DeconvolveOptions();
        CommandInfo info = commands.getCommand(DeconvolveScijavaCommand.class);
        DeconvolveScijavaCommand fresh = (DeconvolveScijavaCommand) info.createModule().getDelegateObject();
        assertEquals(defaults.normalization.text, field(fresh, "normalization"));
        assertEquals(defaults.lowPercentile, field(fresh, "lowPercentile"));
        assertEquals(defaults.highPercentile, field(fresh, "highPercentile"));
        assertEquals(defaults.tile, field(fresh, "tile"));
        assertEquals(defaults.overlap, field(fresh, "overlap"));
        assertEquals(defaults.threads, field(fresh, "threads"));
        assertEquals(defaults.outputType.text, field(fresh, "outputType"));
        assertEquals(defaults.currentPlaneOnly, field(fresh, "currentPlaneOnly"));
    }

    private static List<String> choices(String name) throws Exception {
        return Arrays.asList(DeconvolveScijavaCommand.class.getDeclaredField(name).getAnnotation(Parameter.class).choices());
    }

    private static Object field(Object command, String name) throws Exception {
        java.lang.reflect.Field field = DeconvolveScijavaCommand.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(command);
    }
}
