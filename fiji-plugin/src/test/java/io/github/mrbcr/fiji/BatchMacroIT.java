package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.io.Opener;
import ij.process.ColorProcessor;
import ij.process.ShortProcessor;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
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

    /** How long a run may take before it counts as hung (a modal dialog nobody can close). */
    private static final Duration HUNG = Duration.ofSeconds(150);

    /** An ImageJ folder with the plugin in plugins/, and a home and a temporary folder of its own. */
    private static Path imagejWithPlugin() throws Exception {
        Path imagej = Files.createTempDirectory(TestSupport.workDir(), "ImageJ.app");
        Files.createDirectories(imagej.resolve("plugins"));
        Files.createDirectories(imagej.resolve("home"));
        Files.createDirectories(imagej.resolve("tmp"));
        Files.copy(PLUGIN_JAR, imagej.resolve("plugins").resolve(PLUGIN_JAR.getFileName()));
        return imagej;
    }

    /** What a run printed, and the JVM's exit status. */
    record Run(int status, String printed) {}

    /**
     * The command line of {@code ImageJ -batch macro argument}, in a JVM with {@code jvm}
     * options, whose home ({@code user.home}, where the library's cache is) and temporary
     * folder are the ImageJ folder's own.
     */
    private static List<String> batchCommand(Path imagej, List<String> jvm, Path macro, String argument) {
        List<String> command = new ArrayList<>();
        if (System.getenv("DISPLAY") == null) {
            command.addAll(List.of("xvfb-run", "-a"));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(
                "-Djava.awt.headless=false",
                "-Duser.home=" + imagej.resolve("home"),
                "-Djava.io.tmpdir=" + imagej.resolve("tmp")));
        command.addAll(jvm);
        command.addAll(List.of("-jar", IJ_JAR.toString(), "-ijpath", imagej.toString(), "-batch", macro.toString()));
        if (argument != null) {
            command.add(argument);
        }
        return command;
    }

    private static Process start(List<String> command, Path log) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("XDG_CACHE_HOME");
        return builder.start();
    }

    /** Ends a process and everything it started (xvfb-run starts the JVM and Xvfb). */
    private static void kill(Process process) throws Exception {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * Runs {@code ImageJ -batch macro argument}; a run that has not ended after {@link
     * #HUNG} is killed and fails the test.
     */
    private static Run runBatch(Path imagej, List<String> jvm, Path macro, String argument) throws Exception {
        Path log = Files.createTempFile(imagej, "run", ".log");
        Process process = start(batchCommand(imagej, jvm, macro, argument), log);
        boolean ended = process.waitFor(HUNG.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            kill(process);
        }
        String printed = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(ended, "ImageJ -batch " + macro.getFileName() + " hung for " + HUNG.toSeconds()
                + " s (a modal dialog nobody can close?); it printed:\n" + printed);
        return new Run(process.exitValue(), printed);
    }

    /** {@link #runBatch(Path, List, Path, String)}, which must succeed; returns what it printed. */
    private static String runBatch(Path imagej, Path macro, String argument) throws Exception {
        Run run = runBatch(imagej, List.of(), macro, argument);
        assertEquals(0, run.status(), "ImageJ -batch " + macro.getFileName() + " failed:\n" + run.printed());
        return run.printed();
    }

    /** A macro file with this text, in the ImageJ folder. */
    private static Path macro(Path imagej, String name, String text) throws Exception {
        return Files.writeString(imagej.resolve(name), text);
    }

    /** Asserts that {@code result} has the pixels of the tool's result for {@code original}. */
    private static void assertCliResult(ImagePlus original, Path result, String printed) throws Exception {
        ImagePlus restored = new Opener().openImage(result.toString());
        assertNotNull(restored, result.getFileName() + " was not written:\n" + printed);
        ImagePlus expected = TestSupport.cliResult(original);
        assertEquals(expected.getStackSize(), restored.getStackSize());
        for (int p = 1; p <= expected.getStackSize(); p++) {
            assertArrayEquals((float[]) expected.getStack().getPixels(p), (float[]) restored.getStack().getPixels(p),
                    result.getFileName() + " plane " + p);
        }
    }

    /** The files of a folder, by name. */
    private static List<String> names(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theJarHoldsTheLibraryAndTheMenuEntries() throws Exception {
        assertTrue(PLUGIN_JAR.getFileName().toString().contains("_"), "ImageJ needs an underscore in the jar's name");
        try (JarFile jar = new JarFile(PLUGIN_JAR.toFile())) {
            assertNotNull(jar.getEntry("natives/linux_64/libmrbcr.so"));
            assertNotNull(jar.getEntry("plugins.config"));
            assertNotNull(jar.getEntry("io/github/mrbcr/fiji/DeconvolveCommand.class"));
            // Every native is a platform's library under SciJava's name for it.
            List<String> allowed = List.of("natives/linux_64/libmrbcr.so", "natives/linux_arm64/libmrbcr.so",
                    "natives/windows_64/mrbcr.dll", "natives/osx_64/libmrbcr.dylib", "natives/osx_arm64/libmrbcr.dylib");
            List<String> natives = jar.stream().map(JarEntry::getName)
                    .filter(n -> n.startsWith("natives/") && !n.endsWith("/")).toList();
            assertTrue(allowed.containsAll(natives), "unexpected natives: " + natives);
        }
    }

    /**
     * Fiji-Stable runs Java 8: every class of the jar must be Java 8 bytecode, class-file
     * major version 52 (bytes 6-7 of the class file, after the magic number CAFEBABE).
     */
    @Test
    void everyClassOfTheJarIsJava8Bytecode() throws Exception {
        int classes = 0;
        try (JarFile jar = new JarFile(PLUGIN_JAR.toFile())) {
            for (JarEntry entry : jar.stream().filter(e -> e.getName().endsWith(".class")).toList()) {
                try (DataInputStream in = new DataInputStream(jar.getInputStream(entry))) {
                    assertEquals(0xCAFEBABE, in.readInt(), entry.getName());
                    in.readUnsignedShort(); // minor version
                    assertEquals(52, in.readUnsignedShort(), entry.getName() + " is not Java 8 bytecode");
                }
                classes++;
            }
        }
        assertTrue(classes >= 10, "only " + classes + " classes in the jar");
    }

    /** The update site's tree that mvn package lays out: the jar, byte for byte, in plugins/. */
    @Test
    void theUpdateSiteHoldsTheJarInPlugins() throws Exception {
        Path site = PLUGIN_JAR.getParent().resolve("update-site");
        assertEquals(List.of("plugins"), names(site));
        assertEquals(List.of(PLUGIN_JAR.getFileName().toString()), names(site.resolve("plugins")));
        assertArrayEquals(Files.readAllBytes(PLUGIN_JAR),
                Files.readAllBytes(site.resolve("plugins").resolve(PLUGIN_JAR.getFileName())));
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
    void aMissingModelStopsTheMacroWithTheLibraryMessageAndStatus1() throws Exception {
        Path imagej = imagejWithPlugin();
        Path image = imagej.resolve("one.tif");
        assertTrue(new FileSaver(TestSupport.image("one.tif", 8, 64, 64, 1)).saveAsTiff(image.toString()));
        Path result = imagej.resolve("one-mrbcr.tif");
        Run run = runBatch(imagej, List.of(), EXAMPLES.resolve("deconvolve.ijm"),
                image + "," + result + "," + imagej.resolve("missing.safetensors"));
        String printed = run.printed();
        assertTrue(printed.contains("missing.safetensors: No such file or directory"), printed);
        assertTrue(!printed.contains("m-rBCR: " + image + " ->"), "the macro went on after the error:\n" + printed);
        assertTrue(Files.notExists(result));
        assertEquals(1, run.status(), "a failed run must not exit with status 0:\n" + printed);
    }

    // Issue 12, finding 9: Fiji batch use.

    @Test
    void javaOutOfMemoryInABatchSavesNothingForThatImageAndEndsWithStatus1() throws Exception {
        Path imagej = imagejWithPlugin();
        Path input = Files.createDirectories(imagej.resolve("raw"));
        Path output = Files.createDirectories(imagej.resolve("restored"));
        // 48 MB of 16-bit planes: they open within the JVM's 128 MB, their 96 MB float
        // result does not fit beside them.
        ImageStack planes = new ImageStack(1024, 1024);
        Random random = new Random(7);
        for (int p = 0; p < 24; p++) {
            short[] pixels = new short[1024 * 1024];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (short) (100 + random.nextInt(3000));
            }
            planes.addSlice(new ShortProcessor(1024, 1024, pixels, null));
        }
        assertTrue(new FileSaver(new ImagePlus("big.tif", planes)).saveAsTiffStack(input.resolve("big.tif").toString()));
        ImagePlus small = TestSupport.image("small.tif", 16, 120, 100, 1);
        assertTrue(new FileSaver(small).saveAsTiff(input.resolve("small.tif").toString()));

        Run run = runBatch(imagej, List.of("-Xmx128m"), EXAMPLES.resolve("batch_folder.ijm"),
                input + "," + output + "," + TestSupport.model());
        String printed = run.printed();
        assertTrue(printed.contains("Java ran out of memory restoring \"big.tif\""), printed);
        assertTrue(printed.contains("FAILED big.tif"), printed);
        assertEquals(List.of("small-mrbcr.tif"), names(output), "the raw stack was saved as a result:\n" + printed);
        assertCliResult(small, output.resolve("small-mrbcr.tif"), printed);
        assertTrue(printed.contains("m-rBCR: restored 1 images into " + output + "; 0 skipped, 1 failed"), printed);
        assertEquals(1, run.status(), printed);
    }

    @Test
    void anRgbFileIsSkippedWithItsReasonAndTheOthersAreRestored() throws Exception {
        Path imagej = imagejWithPlugin();
        Path input = Files.createDirectories(imagej.resolve("raw"));
        Path output = Files.createDirectories(imagej.resolve("restored"));
        ColorProcessor colour = new ColorProcessor(64, 64);
        colour.setColor(java.awt.Color.ORANGE);
        colour.fill();
        assertTrue(new FileSaver(new ImagePlus("a-colour.tif", colour)).saveAsTiff(input.resolve("a-colour.tif").toString()));
        ImagePlus gray = TestSupport.image("b-gray.tif", 8, 100, 90, 1);
        assertTrue(new FileSaver(gray).saveAsTiff(input.resolve("b-gray.tif").toString()));

        Run run = runBatch(imagej, List.of(), EXAMPLES.resolve("batch_folder.ijm"),
                input + "," + output + "," + TestSupport.model());
        String printed = run.printed();
        assertTrue(printed.contains("m-rBCR: skipped a-colour.tif: an RGB colour image"), printed);
        assertEquals(List.of("b-gray-mrbcr.tif"), names(output), printed);
        assertCliResult(gray, output.resolve("b-gray-mrbcr.tif"), printed);
        assertTrue(printed.contains("m-rBCR: restored 1 images into " + output + "; 1 skipped, 0 failed"), printed);
        assertEquals(0, run.status(), printed);
    }

    @Test
    void aModelTheLibraryRefusesFailsEachImageSavesNothingAndEndsWithStatus1() throws Exception {
        Path imagej = imagejWithPlugin();
        Path input = Files.createDirectories(imagej.resolve("raw"));
        Path output = Files.createDirectories(imagej.resolve("restored"));
        assertTrue(new FileSaver(TestSupport.image("c1.tif", 8, 64, 64, 1)).saveAsTiff(input.resolve("c1.tif").toString()));
        assertTrue(new FileSaver(TestSupport.image("c2.tif", 16, 64, 64, 1)).saveAsTiff(input.resolve("c2.tif").toString()));
        Path bad = Files.writeString(imagej.resolve("bad.safetensors"), "not a model file");

        Run run = runBatch(imagej, List.of(), EXAMPLES.resolve("batch_folder.ijm"), input + "," + output + "," + bad);
        String printed = run.printed();
        assertTrue(printed.contains("Deconvolve (m-rBCR): model file " + bad + ": not a valid safetensors file"),
                "the library's message is logged:\n" + printed);
        assertTrue(printed.contains("FAILED c1.tif") && printed.contains("FAILED c2.tif"), printed);
        assertTrue(printed.contains("2 of the images failed"), printed);
        assertEquals(List.of(), names(output), printed);
        assertEquals(1, run.status(), printed);
    }

    @Test
    void aFailingCommandInAnyMacroRunByBatchEndsItWithStatus1() throws Exception {
        // A user's own macro, which checks nothing: the command's failure ends the run.
        Path imagej = imagejWithPlugin();
        Path image = imagej.resolve("u.tif");
        assertTrue(new FileSaver(TestSupport.image("u.tif", 8, 64, 64, 1)).saveAsTiff(image.toString()));
        Path macro = macro(imagej, "user.ijm", "open(\"" + image + "\");\n"
                + "run(\"Deconvolve (m-rBCR)\", \"model=[" + imagej.resolve("missing.safetensors") + "]\");\n"
                + "print(\"the macro went on\");\n");
        Run run = runBatch(imagej, List.of(), macro, null);
        assertTrue(run.printed().contains("missing.safetensors: No such file or directory"), run.printed());
        assertTrue(!run.printed().contains("the macro went on"), run.printed());
        assertEquals(1, run.status(), run.printed());
    }

    @Test
    void withoutAnImageTheCommandFailsWithAMessageNotAModalDialog() throws Exception {
        // IJ.getImage() raised a macro error whose dialog waited forever under xvfb.
        Path imagej = imagejWithPlugin();
        Path macro = macro(imagej, "noimage.ijm", "run(\"Deconvolve (m-rBCR)\", \"model=[]\");\nprint(\"the macro went on\");\n");
        Run run = runBatch(imagej, List.of(), macro, null);
        assertTrue(run.printed().contains("Deconvolve (m-rBCR): there is no image to restore"), run.printed());
        assertTrue(!run.printed().contains("the macro went on"), run.printed());
        assertEquals(1, run.status(), run.printed());
    }

    @Test
    void withoutOptionsTheCommandsUseTheDefaultsNotAModalDialog() throws Exception {
        // run(...) without an options string opened the plugin's dialogs, which nobody
        // could close under xvfb.
        Path imagej = imagejWithPlugin();
        ImagePlus original = TestSupport.image("d.tif", 16, 110, 90, 1);
        Path image = imagej.resolve("d.tif");
        assertTrue(new FileSaver(original).saveAsTiff(image.toString()));
        Path result = imagej.resolve("d-mrbcr.tif");
        Path macro = macro(imagej, "nooptions.ijm", "open(\"" + image + "\");\n"
                + "run(\"Deconvolve (m-rBCR)\");\n"
                + "saveAs(\"Tiff\", \"" + result + "\");\n"
                + "run(\"About m-rBCR models\");\n");
        String printed = runBatch(imagej, macro, null);
        assertTrue(printed.contains("m-rBCR model " + MrbcrModel.BUNDLED_NAME), printed);
        ImagePlus restored = new Opener().openImage(result.toString());
        assertNotNull(restored, printed);
        assertArrayEquals((float[]) TestSupport.bundledCliResult(original).getStack().getPixels(1),
                (float[]) restored.getStack().getPixels(1));
    }

    /** The libraries (and partial copies) of mrbcr under a folder. */
    private static List<Path> libraryCopies(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().contains("libmrbcr")).sorted().toList();
        }
    }

    @Test
    void theLibraryIsExtractedOnceIntoAVersionedCacheAndReused() throws Exception {
        Path imagej = imagejWithPlugin();
        Path about = macro(imagej, "about.ijm", "run(\"About m-rBCR models\", \"model=[]\");\n");
        String printed = runBatch(imagej, about, null);
        assertTrue(printed.contains("mrbcr library: 0.1.0"), printed);
        Path cache = imagej.resolve("home/.cache/mrbcr");
        List<Path> copies = libraryCopies(cache);
        assertEquals(1, copies.size(), copies.toString());
        Path library = copies.get(0);
        assertEquals("libmrbcr.so", library.getFileName().toString());
        assertTrue(library.getParent().getFileName().toString().matches("0\\.1\\.0-[0-9a-f]{16}"), library.toString());
        try (JarFile jar = new JarFile(PLUGIN_JAR.toFile())) {
            assertEquals(jar.getEntry("natives/linux_64/libmrbcr.so").getSize(), Files.size(library));
        }
        Object inode = Files.getAttribute(library, "unix:ino");
        FileTime written = Files.getLastModifiedTime(library);

        runBatch(imagej, about, null);
        assertEquals(List.of(library), libraryCopies(cache), "one library, no partial copies");
        assertEquals(inode, Files.getAttribute(library, "unix:ino"), "the second session extracted it again");
        assertEquals(written, Files.getLastModifiedTime(library));
        assertEquals(List.of(), libraryCopies(imagej.resolve("tmp")), "copies in the temporary folder");
    }

    @Test
    void aKilledSessionLeavesNoCopyOfTheLibraryBehind() throws Exception {
        Path imagej = imagejWithPlugin();
        Path macro = macro(imagej, "stays.ijm", "run(\"About m-rBCR models\", \"model=[]\");\nwait(300000);\n");
        Path log = imagej.resolve("stays.log");
        Process process = start(batchCommand(imagej, List.of(), macro, null), log);
        try {
            long deadline = System.nanoTime() + HUNG.toNanos();
            while (!Files.readString(log).contains("mrbcr library:")) {
                assertTrue(process.isAlive(), "ImageJ ended early:\n" + Files.readString(log));
                assertTrue(System.nanoTime() < deadline, "the library was not loaded:\n" + Files.readString(log));
                Thread.sleep(200);
            }
        } finally {
            kill(process); // as a crash would
        }
        assertEquals(List.of(), libraryCopies(imagej.resolve("tmp")), "a crashed session left its copy");
        assertEquals(1, libraryCopies(imagej.resolve("home/.cache/mrbcr")).size());
    }
}
