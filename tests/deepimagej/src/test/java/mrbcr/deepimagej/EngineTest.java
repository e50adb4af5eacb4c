package mrbcr.deepimagej;

import static mrbcr.deepimagej.ModelPackage.get;
import static mrbcr.deepimagej.ModelPackage.list;
import static mrbcr.deepimagej.ModelPackage.map;
import static mrbcr.deepimagej.ModelPackage.mapAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.process.FloatProcessor;

/**
 * The package's ONNX weights on its test input, run by ONNX Runtime's Java API as JDLL's
 * ONNX engine runs them (deepImageJ's path), after the rdf's scale_range as JDLL computes
 * it, compared with the package's test output (mrbcr's native engine).
 */
class EngineTest {
    /** deepImageJ's CI passes a model whose output's centre has mse / max at most this. */
    static final double DEEPIMAGEJ_CI_MSE_CENTRE = 9e-2;

    static ModelPackage pkg;
    static Npy testInput;
    static Npy testOutput;
    static Map<String, Object> scaleRange;
    static int rdfOutputs;
    static JdllOnnxEngine engine;

    @BeforeAll
    static void load() throws Exception {
        pkg = ModelPackage.install(new File(System.getProperty("mrbcr.package")),
                new File(System.getProperty("mrbcr.unpack.dir"), "engine"));
        Map<String, Object> input = mapAt(list(pkg.rdf, "inputs"), 0);
        Map<String, Object> output = mapAt(list(pkg.rdf, "outputs"), 0);
        testInput = Npy.read(pkg.file(get(map(input, "test_tensor"), "source", String.class)));
        testOutput = Npy.read(pkg.file(get(map(output, "test_tensor"), "source", String.class)));
        scaleRange = map(mapAt(list(input, "preprocessing"), 0), "kwargs");
        rdfOutputs = list(pkg.rdf, "outputs").size();
        String weights = get(map(map(pkg.rdf, "weights"), "onnx"), "source", String.class);
        engine = new JdllOnnxEngine(pkg.file(weights));
        System.out.println("ONNX Runtime (Java) " + System.getProperty("onnxruntime.version") + " on "
                + pkg.folder);
    }

    @AfterAll
    static void close() throws Exception {
        engine.close();
    }

    /** JDLL binds one input by position and needs as many graph outputs as rdf outputs. */
    @Test
    void graphHasOneInputAndTheRdfsOutputs() {
        assertEquals(1L, engine.inputCount());
        assertEquals((long) rdfOutputs, engine.outputCount());
    }

    /** The test input scaled as the rdf's scale_range says, percentiles under `rule`. */
    static float[] preprocessed(ScaleRange.Rule rule) {
        double low = get(scaleRange, "min_percentile", Number.class).doubleValue();
        double high = get(scaleRange, "max_percentile", Number.class).doubleValue();
        Object eps = scaleRange.get("eps");
        return ScaleRange.apply(testInput.data, testInput.shape, low, high,
                eps == null ? 1e-6 : ((Number) eps).doubleValue(), rule);
    }

    /**
     * The whole test image in one run, as bioimageio's test runs it: after scale_range
     * with bioimageio's percentiles (numpy's linear interpolation, as mrbcr computes
     * them) the output is the test output within the rdf's reproducibility tolerance,
     * checked as bioimageio.core checks it (|found - expected| <= absolute + relative *
     * |expected|), not one value beyond.
     */
    @Test
    void wholeImageReproducesTheTestOutput() throws Exception {
        float[] found = engine.run(preprocessed(ScaleRange.Rule.LINEAR), testInput.shape, rdfOutputs,
                testOutput.shape);
        int mismatched = mismatched(found, testOutput.data);
        System.out.printf("whole image, bioimageio's percentiles: max |difference| %.3g from the test output, "
                + "%d of %d values beyond the rdf's tolerance%n", maxDifference(found, testOutput.data), mismatched,
                found.length);
        assertEquals(0, mismatched, "values beyond the tolerance");
    }

    /**
     * The whole test image after scale_range with JDLL's percentiles (deepImageJ's): they
     * are sorted values, not interpolated ones, so the input is scaled slightly
     * differently from bioimageio's. On that same input, mrbcr's native engine (the
     * mrbcr tool, --norm none, the image written and read back by ImageJ) gives the
     * engine's output within the rdf's tolerance: the percentile rule is the only
     * difference.
     */
    @Test
    void wholeImageWithJdllPercentilesIsTheNativeResultOnTheSameInput() throws Exception {
        float[] jdll = preprocessed(ScaleRange.Rule.JDLL);
        float[] found = engine.run(jdll, testInput.shape, rdfOutputs, testOutput.shape);
        int height = (int) testInput.shape[2];
        int width = (int) testInput.shape[3];
        File folder = new File(System.getProperty("mrbcr.unpack.dir"), "native");
        folder.mkdirs();
        File input = new File(folder, "jdll-scaled.tif");
        File output = new File(folder, "native.tif");
        output.delete();
        assertTrue(new FileSaver(new ImagePlus("jdll-scaled", new FloatProcessor(width, height, jdll)))
                .saveAsTiff(input.getPath()));
        Process mrbcr = new ProcessBuilder(System.getProperty("mrbcr.cli"), "deconvolve", input.getPath(), "-o",
                output.getPath(), "--tile", "0", "--norm", "none", "--output-range", "normalized", "--quiet")
                .redirectErrorStream(true).start();
        String log = readAll(mrbcr.getInputStream());
        assertEquals(0, mrbcr.waitFor(), log);
        float[] native_ = (float[]) IJ.openImage(output.getPath()).getProcessor().getPixels();
        int mismatched = mismatched(found, native_);
        System.out.printf("whole image, JDLL's percentiles: the scaled input moves by up to %.3g and the output "
                + "by up to %.3g from bioimageio's; the native engine on the same input: max |difference| %.3g, "
                + "%d values beyond the tolerance%n", maxDifference(jdll, preprocessed(ScaleRange.Rule.LINEAR)),
                maxDifference(found, testOutput.data), maxDifference(found, native_), mismatched);
        assertEquals(0, mismatched, "values beyond the tolerance");
    }

    /** How many of `found` differ from `expected` by more than the rdf's reproducibility tolerance. */
    static int mismatched(float[] found, float[] expected) {
        Map<String, Object> tolerance = mapAt(list(map(map(pkg.rdf, "config"), "bioimageio"),
                "reproducibility_tolerance"), 0);
        double absolute = get(tolerance, "absolute_tolerance", Number.class).doubleValue();
        double relative = get(tolerance, "relative_tolerance", Number.class).doubleValue();
        assertEquals(expected.length, found.length);
        int count = 0;
        for (int i = 0; i < found.length; i++) {
            if (Math.abs(found[i] - expected[i]) > absolute + relative * Math.abs(expected[i])) {
                count++;
            }
        }
        return count;
    }

    /** Everything `in` gives, as text. */
    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) != -1) {
            bytes.write(buffer, 0, n);
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    /** The largest |a[i] - b[i]|. */
    static double maxDifference(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double largest = 0;
        for (int i = 0; i < a.length; i++) {
            largest = Math.max(largest, Math.abs((double) a[i] - b[i]));
        }
        return largest;
    }

    /**
     * The test image as deepImageJ tiles it: JDLL's tile is the image and the halo on
     * each side rounded down to the step, (192 + 2 * 64) / 4 * 4 = 320, the border
     * mirrored (ImgLib2's extendMirrorDouble: the edge pixel repeated), the halo cropped.
     * The mirrored border changes what the network sees, so this is compared as
     * deepImageJ's CI compares (mean squared difference over the centre, over the
     * expected maximum), with the largest differences reported.
     */
    @Test
    void tiledAsDeepImageJMeetsItsCiCriterion() throws Exception {
        int height = (int) testInput.shape[2];
        int width = (int) testInput.shape[3];
        Map<String, Object> outputAxis = mapAt(list(mapAt(list(pkg.rdf, "outputs"), 0), "axes"), 2);
        Map<String, Object> inputSize = map(mapAt(list(mapAt(list(pkg.rdf, "inputs"), 0), "axes"), 2), "size");
        int halo = get(outputAxis, "halo", Integer.class);
        int step = get(inputSize, "step", Integer.class);
        int tileHeight = (height + 2 * halo) / step * step;
        int tileWidth = (width + 2 * halo) / step * step;
        assertEquals(height + 2 * halo, tileHeight);
        assertEquals(width + 2 * halo, tileWidth);
        float[] scaled = preprocessed(ScaleRange.Rule.JDLL);
        float[] tile = new float[tileHeight * tileWidth];
        for (int y = 0; y < tileHeight; y++) {
            for (int x = 0; x < tileWidth; x++) {
                tile[y * tileWidth + x] = scaled[mirror(y - halo, height) * width + mirror(x - halo, width)];
            }
        }
        float[] out = engine.run(tile, new long[] {1, 1, tileHeight, tileWidth}, rdfOutputs,
                new long[] {1, 1, tileHeight, tileWidth});
        double max = Double.NEGATIVE_INFINITY;
        double squares = 0;
        double centreSquares = 0;
        int centrePixels = 0;
        double largest = 0;
        double largestInside = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double expected = testOutput.data[y * width + x];
                double difference = out[(y + halo) * tileWidth + x + halo] - expected;
                max = Math.max(max, expected);
                squares += difference * difference;
                largest = Math.max(largest, Math.abs(difference));
                if (y >= halo && y < height - halo && x >= halo && x < width - halo) {
                    largestInside = Math.max(largestInside, Math.abs(difference));
                }
                if (y >= height / 4 && y < height / 2 + 1 && x >= width / 4 && x < width / 2 + 1) {
                    centreSquares += difference * difference;
                    centrePixels++;
                }
            }
        }
        double mse = squares / (height * width) / max;
        double mseCentre = centreSquares / centrePixels / max;
        System.out.printf("tiled as deepImageJ (%d x %d tile, mirrored %d-pixel border): max |difference| "
                + "%.3g (%.3g farther than %d pixels from the border); mse / max %.3g, centre %.3g "
                + "(deepImageJ's CI: at most %.0e)%n", tileHeight, tileWidth, halo, largest, largestInside, halo,
                mse, mseCentre, DEEPIMAGEJ_CI_MSE_CENTRE);
        assertTrue(mseCentre <= DEEPIMAGEJ_CI_MSE_CENTRE, "mse / max over the centre: " + mseCentre);
        assertTrue(max > 0.5, "the expected output's maximum, " + max + ", is that of a normalised image");
    }

    /** `index` (maybe outside 0 to `size` - 1) mirrored with the edge repeated: -1 is 0. */
    static int mirror(int index, int size) {
        int period = 2 * size;
        int i = ((index % period) + period) % period;
        return i < size ? i : period - 1 - i;
    }
}
