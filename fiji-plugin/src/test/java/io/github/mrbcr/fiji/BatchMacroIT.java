package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.io.FileSaver;
import ij.io.Opener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar as a user has it: dropped into the plugins folder of an ImageJ, whose
 * {@code -batch} mode runs the example macros of {@code examples/fiji/}. Plain ImageJ 1
 * builds its command table with AWT menus, so it runs under a virtual display
 * ({@code xvfb-run}) when there is no display.
 */
class BatchMacroIT {
    private static final Path PLUGIN_JAR = Path.of(System.getProperty("mrbcr.plugin.jar"));
    private static final Path IJ_JAR = Path.of(System.getProperty("mrbcr.ij.jar"));
    private static final Path EXAMPLES = Path.of(System.getProperty("mrbcr.examples.dir"));

    /** An ImageJ folder with the plugin in plugins/. */
    private static Path imagejWithPlugin() throws Exception {
        Path imagej = Files.createTempDirectory(TestSupport.workDir(), "ImageJ.app");
        Files.createDirectories(imagej.resolve("plugins"));
        Files.copy(PLUGIN_JAR, imagej.resolve("plugins").resolve(PLUGIN_JAR.getFileName()));
        return imagej;
    }

    /** Runs {@code ImageJ -batch macro argument}; returns what it printed. */
    private static String runBatch(Path imagej, Path macro, String argument) throws Exception {
        List<String> command = new ArrayList<>();
        if (System.getenv("DISPLAY") == null) {
            command.addAll(List.of("xvfb-run", "-a"));
        }
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.awt.headless=false",
                "-jar", IJ_JAR.toString(),
                "-ijpath", imagej.toString(),
                "-batch", macro.toString(), argument));
        return TestSupport.run(command);
    }

    @Test
    void theJarHoldsTheLibraryAndTheMenuEntries() throws Exception {
        assertTrue(PLUGIN_JAR.getFileName().toString().contains("_"), "ImageJ needs an underscore in the jar's name");
        try (JarFile jar = new JarFile(PLUGIN_JAR.toFile())) {
            assertNotNull(jar.getEntry("natives/linux_64/libmrbcr.so"));
            assertNotNull(jar.getEntry("plugins.config"));
            assertNotNull(jar.getEntry("io/github/mrbcr/fiji/DeconvolveCommand.class"));
        }
    }

    @Test
    void batchFolderMacroRestoresEveryImageAsTheRustApiDoes() throws Exception {
        Path imagej = imagejWithPlugin();
        Path input = Files.createDirectories(imagej.resolve("raw"));
        Path output = Files.createDirectories(imagej.resolve("restored"));
        ImagePlus cells = TestSupport.image("cells.tif", 16, 140, 120, 1);
        ImagePlus stack = TestSupport.image("stack.tif", 8, 90, 80, 2);
        assertTrue(new FileSaver(cells).saveAsTiff(input.resolve("cells.tif").toString()));
        assertTrue(new FileSaver(stack).saveAsTiffStack(input.resolve("stack.tif").toString()));
        Files.writeString(input.resolve("notes.txt"), "not an image");

        String printed = runBatch(imagej, EXAMPLES.resolve("batch_folder.ijm"),
                input + "," + output + "," + TestSupport.model());
        assertTrue(printed.contains("m-rBCR: restored 2 images"), printed);

        for (ImagePlus original : List.of(cells, stack)) {
            String name = original.getTitle().replace(".tif", "-mrbcr.tif");
            ImagePlus result = new Opener().openImage(output.resolve(name).toString());
            assertNotNull(result, name + " was not written:\n" + printed);
            ImagePlus expected = TestSupport.cliResult(original);
            assertEquals(expected.getStackSize(), result.getStackSize());
            for (int p = 1; p <= expected.getStackSize(); p++) {
                assertArrayEquals((float[]) expected.getStack().getPixels(p), (float[]) result.getStack().getPixels(p),
                        name + " plane " + p);
            }
        }
    }

    @Test
    void deconvolveMacroWithoutAModelFileRunsTheBundledModelAsTheCliDoes() throws Exception {
        Path imagej = imagejWithPlugin();
        ImagePlus original = TestSupport.image("plain.tif", 16, 130, 110, 1);
        Path image = imagej.resolve("plain.tif");
        assertTrue(new FileSaver(original).saveAsTiff(image.toString()));
        Path output = imagej.resolve("plain-mrbcr.tif");
        String printed = runBatch(imagej, EXAMPLES.resolve("deconvolve.ijm"), image + "," + output);
        assertTrue(printed.contains("m-rBCR: " + image + " -> " + output), printed);
        ImagePlus result = new Opener().openImage(output.toString());
        assertNotNull(result, "no result:\n" + printed);
        ImagePlus expected = TestSupport.bundledCliResult(original);
        assertArrayEquals((float[]) expected.getStack().getPixels(1), (float[]) result.getStack().getPixels(1));
    }

    @Test
    void aMissingModelStopsTheMacroWithTheLibraryMessage() throws Exception {
        Path imagej = imagejWithPlugin();
        Path image = imagej.resolve("one.tif");
        assertTrue(new FileSaver(TestSupport.image("one.tif", 8, 64, 64, 1)).saveAsTiff(image.toString()));
        Path result = imagej.resolve("one-mrbcr.tif");
        String printed = runBatch(imagej, EXAMPLES.resolve("deconvolve.ijm"),
                image + "," + result + "," + imagej.resolve("missing.safetensors"));
        assertTrue(printed.contains("missing.safetensors: No such file or directory"), printed);
        assertTrue(!printed.contains("m-rBCR: " + image), "the macro went on after the error:\n" + printed);
        assertTrue(Files.notExists(result));
    }
}
