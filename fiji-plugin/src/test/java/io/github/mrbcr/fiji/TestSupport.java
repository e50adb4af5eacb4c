package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.Menus;
import ij.io.FileSaver;
import ij.io.Opener;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What the tests share: the model (the authors' checkpoint, imported with the `mrbcr`
 * tool at test time), reference results from the `mrbcr deconvolve` tool (with that model
 * or the bundled default one), synthetic
 * microscopy-like images, and ImageJ's command table with this plugin's commands.
 */
final class TestSupport {
    private static Path workDir;
    private static Path model;

    private TestSupport() {}

    /** The `mrbcr` command-line tool of the same build as the library. */
    static Path cli() {
        Path cli = Path.of(System.getProperty("mrbcr.cli", "../target/release/mrbcr"));
        assertTrue(Files.isExecutable(cli), "the mrbcr tool is missing: " + cli + " (cargo build --release)");
        return cli;
    }

    /** A temporary folder for this test run, deleted at exit. */
    static synchronized Path workDir() throws IOException {
        if (workDir == null) {
            workDir = Files.createTempDirectory("mrbcr-fiji-test");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(workDir)));
        }
        return workDir;
    }

    /** The authors' m-rBCR weights, imported from the reference checkpoint once per run. */
    static synchronized Path model() throws IOException, InterruptedException {
        if (model == null) {
            Path reference = Path.of(System.getProperty("mrbcr.reference.dir", "../../shared/reference"));
            Path checkpoint = reference.resolve("official-m-rBCR/ckpt-24");
            Path file = workDir().resolve("official.safetensors");
            // The overlap import-tf measures for these weights (crates/mrbcr-cli/tests/it/cli.rs).
            run(List.of(cli().toString(), "import-tf", checkpoint.toString(), "-o", file.toString(),
                    "--tile-overlap", "192"));
            model = file;
        }
        return model;
    }

    /** Runs a program, failing the test with its output if it fails. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(300, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, process.exitValue(), () -> String.join(" ", command) + " failed:\n" + output);
        return output;
    }

    /**
     * The Rust API's result for {@code input} with the authors' model ({@link #model()}):
     * saved as TIFF by ImageJ, restored by {@code mrbcr deconvolve --model} with
     * {@code options}, read back by ImageJ.
     */
    static ImagePlus cliResult(ImagePlus input, String... options) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--model", model().toString()));
        all.addAll(List.of(options));
        return cliRun(input, all);
    }

    /**
     * The Rust API's result for {@code input} with the bundled default model: as
     * {@link #cliResult} but {@code mrbcr deconvolve} without {@code --model}.
     */
    static ImagePlus bundledCliResult(ImagePlus input, String... options) throws IOException, InterruptedException {
        return cliRun(input, List.of(options));
    }

    /** {@code mrbcr deconvolve input -o output options...}, through TIFF files. */
    private static ImagePlus cliRun(ImagePlus input, List<String> options) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(workDir(), "cli");
        Path in = dir.resolve("input.tif");
        Path out = dir.resolve("output.tif");
        FileSaver saver = new FileSaver(input);
        assertTrue(input.getStackSize() > 1 ? saver.saveAsTiffStack(in.toString()) : saver.saveAsTiff(in.toString()));
        List<String> command = new ArrayList<>(List.of(cli().toString(), "deconvolve", in.toString(), "-o", out.toString()));
        command.addAll(options);
        run(command);
        ImagePlus result = new Opener().openImage(out.toString());
        assertTrue(result != null, "ImageJ cannot read " + out);
        return result;
    }

    /**
     * A widefield-like plane: blurred spots and filaments over a background, with noise;
     * values up to about {@code peak}.
     */
    static FloatProcessor specimen(int width, int height, long seed, double peak) {
        Random random = new Random(seed);
        FloatProcessor fp = new FloatProcessor(width, height);
        for (int spot = 0; spot < 12; spot++) {
            double cx = random.nextDouble() * width;
            double cy = random.nextDouble() * height;
            double sigma = 1.5 + random.nextDouble() * 3;
            double amplitude = 0.3 + random.nextDouble() * 0.7;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                    fp.setf(x, y, (float) (fp.getf(x, y) + amplitude * Math.exp(-d2 / (2 * sigma * sigma))));
                }
            }
        }
        for (int i = 0; i < width * height; i++) {
            double value = 0.05 + fp.getf(i) + 0.02 * random.nextGaussian();
            fp.setf(i, (float) Math.max(0, value * peak));
        }
        return fp;
    }

    /** A plane of the given bit depth (8, 16, 32) from {@link #specimen}. */
    static ImageProcessor plane(int bits, int width, int height, long seed) {
        FloatProcessor fp = specimen(width, height, seed, bits == 8 ? 200 : bits == 16 ? 3000 : 1.5);
        switch (bits) {
            case 8:
                return fp.convertToByte(false);
            case 16:
                return fp.convertToShort(false);
            default:
                return fp;
        }
    }

    /** An image of {@code planes} planes of the given bit depth. */
    static ImagePlus image(String title, int bits, int width, int height, int planes) {
        ImageStack stack = new ImageStack(width, height);
        for (int p = 0; p < planes; p++) {
            stack.addSlice("plane " + (p + 1), plane(bits, width, height, 1000L * bits + p));
        }
        return new ImagePlus(title, stack);
    }

    /**
     * ImageJ's command table with the commands of this plugin's plugins.config, so that
     * {@code IJ.run("Deconvolve (m-rBCR)", ...)} finds them. Plain ImageJ 1 builds that
     * table together with its AWT menus, which a headless JVM cannot make (Fiji's headless
     * mode patches this); the test sets the table directly, with the entries ImageJ would
     * read from plugins.config.
     */
    @SuppressWarnings("unchecked")
    static synchronized void installCommands() throws Exception {
        Field field = Menus.class.getDeclaredField("pluginsTable");
        field.setAccessible(true);
        Hashtable<String, String> table = (Hashtable<String, String>) field.get(null);
        if (table == null) {
            table = new Hashtable<>();
            field.set(null, table);
        }
        try (InputStream in = TestSupport.class.getResourceAsStream("/plugins.config");
                BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",");
                assertEquals("Plugins>Deconvolution>m-rBCR", parts[0].trim(), line);
                table.put(parts[1].trim().replace("\"", ""), parts[2].trim());
            }
        }
        assertEquals("io.github.mrbcr.fiji.DeconvolveCommand", table.get("Deconvolve (m-rBCR)"));
        assertEquals("io.github.mrbcr.fiji.AboutModelsCommand", table.get("About m-rBCR models"));
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at exit
        }
    }
}
