package mrbcr.deepimagej;

import static mrbcr.deepimagej.ModelPackage.get;
import static mrbcr.deepimagej.ModelPackage.list;
import static mrbcr.deepimagej.ModelPackage.map;
import static mrbcr.deepimagej.ModelPackage.mapAt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package's rdf.yaml against what deepImageJ 3 (through JDLL) and deepImageJ's
 * bioimage.io CI (deepimagej/CI-deepimagej-bioimage-io) need of a model, read as they
 * read it. Each test names the condition and where it comes from.
 */
class DescriptionTest {
    /** The preprocessing and postprocessing JDLL implements (its *Transformation classes). */
    static final Set<String> JDLL_TRANSFORMATIONS = new HashSet<>(Arrays.asList("binarize", "clip",
            "ensure_dtype", "fixed_zero_mean_unit_variance", "scale_linear", "scale_range", "sigmoid",
            "zero_mean_unit_variance"));
    /** The data types JDLL's tile calculator sizes (it fails on an output without one). */
    static final Set<String> JDLL_DATA_TYPES = new HashSet<>(Arrays.asList("float32", "int32", "uint32",
            "int16", "uint16", "int64", "float64"));
    /**
     * ONNX opset to the ONNX Runtime JDLL loads for it (JDLL's supportedVersions.json), for
     * the opsets it has an ONNX Runtime of for all five of its platforms (Linux x86-64 and
     * arm64, macOS x86-64 and arm64, Windows x86-64): 17 is its default "basic" engine.
     * For 13 to 16 it has ONNX Runtime 1.8 to 1.11 for x86-64 only.
     */
    static final Map<Integer, String> JDLL_ONNX_RUNTIME = new HashMap<>();

    static {
        JDLL_ONNX_RUNTIME.put(17, "1.12.1");
        JDLL_ONNX_RUNTIME.put(18, "1.13.1");
    }

    static ModelPackage pkg;
    static Map<String, Object> input;
    static Map<String, Object> output;

    @BeforeAll
    static void install() throws Exception {
        pkg = ModelPackage.install(new File(System.getProperty("mrbcr.package")),
                new File(System.getProperty("mrbcr.unpack.dir"), "description"));
        input = mapAt(list(pkg.rdf, "inputs"), 0);
        output = mapAt(list(pkg.rdf, "outputs"), 0);
    }

    /** JDLL reads format 0.4 and 0.5 descriptions, by the string's start. */
    @Test
    void formatVersionIsOneJdllReads() {
        String version = get(pkg.rdf, "format_version", String.class);
        assertTrue(version.startsWith("0.5."), version);
    }

    /** A model (the CI tests models only), with one input (deepImageJ Run takes one). */
    @Test
    void isAModelWithOneInputAndOneOutput() {
        assertEquals("model", get(pkg.rdf, "type", String.class));
        assertEquals(1, list(pkg.rdf, "inputs").size());
        assertEquals(1, list(pkg.rdf, "outputs").size());
        assertFalse(pkg.rdf.containsKey("run_mode"), "the CI skips models with a run_mode");
    }

    /**
     * JDLL keys a 0.5 model by its `id` or config.bioimageio.nickname and fails with a
     * NullPointerException on a description with neither (ModelDescriptorV05); an id with
     * two slashes is cut at the second.
     */
    @Test
    void hasAnIdJdllKeysItBy() {
        String id = get(pkg.rdf, "id", String.class);
        assertFalse(id.isEmpty());
        assertTrue(id.matches("[a-z0-9]+(-[a-z0-9]+)*"), id);
    }

    /** deepImageJ's CI reads rdf["config"] without a default. */
    @Test
    void hasAConfig() {
        map(pkg.rdf, "config");
    }

    /**
     * Axes as JDLL's AxesV05 reads them: batch is b, channel is c (its size the number of
     * channel_names), a space axis needs an id; the tensors' data type is given (JDLL's
     * tile calculator reads the output's without a default).
     */
    @Test
    void tensorsHaveAxesAndDataTypesJdllReads() {
        for (Map<String, Object> tensor : Arrays.asList(input, output)) {
            get(tensor, "id", String.class);
            StringBuilder order = new StringBuilder();
            for (Object axisObject : list(tensor, "axes")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> axis = (Map<String, Object>) axisObject;
                String type = get(axis, "type", String.class);
                if (type.equals("batch")) {
                    order.append('b');
                } else if (type.equals("channel")) {
                    assertEquals(1, list(axis, "channel_names").size());
                    order.append('c');
                } else {
                    assertEquals("space", type);
                    order.append(get(axis, "id", String.class));
                }
            }
            assertEquals("bcyx", order.toString());
            String dataType = get(map(tensor, "data"), "type", String.class);
            assertTrue(JDLL_DATA_TYPES.contains(dataType), dataType);
            assertEquals("float32", dataType);
        }
    }

    /**
     * The input's y and x: a minimum and a step (JDLL's tile sizes are multiples of the
     * step); the output's: the input's size and a halo, which JDLL carries over to the
     * input as (halo + offset) / scale and crops from each tile.
     */
    @Test
    void sizesAndHaloAreOnesJdllTiles() {
        String inputId = get(input, "id", String.class);
        List<Object> inputAxes = list(input, "axes");
        List<Object> outputAxes = list(output, "axes");
        for (int i = 2; i < 4; i++) {
            Map<String, Object> in = mapAt(inputAxes, i);
            Map<String, Object> out = mapAt(outputAxes, i);
            Map<String, Object> inSize = map(in, "size");
            assertTrue(get(inSize, "min", Integer.class) > 0);
            assertTrue(get(inSize, "step", Integer.class) > 0);
            Map<String, Object> outSize = map(out, "size");
            assertEquals(inputId, get(outSize, "tensor_id", String.class));
            assertEquals(get(in, "id", String.class), get(outSize, "axis_id", String.class));
            int halo = get(out, "halo", Integer.class);
            assertTrue(halo > 0 && 2 * halo < get(inSize, "min", Integer.class));
            assertFalse(out.containsKey("scale") || outSize.containsKey("offset"),
                    "the output has the input's pixels: no scale or offset");
        }
    }

    /**
     * The preprocessing is one JDLL implements, its kwargs ones its setters take
     * (scale_range: axes, min_percentile, max_percentile, eps; reference_tensor it does
     * not support), scaling each (batch, channel) plane; no postprocessing.
     */
    @Test
    void preprocessingIsOneJdllImplements() {
        List<Object> steps = list(input, "preprocessing");
        assertEquals(1, steps.size());
        Map<String, Object> step = mapAt(steps, 0);
        String id = get(step, "id", String.class);
        assertTrue(JDLL_TRANSFORMATIONS.contains(id), id);
        assertEquals("scale_range", id);
        Map<String, Object> kwargs = map(step, "kwargs");
        Set<String> accepted = new HashSet<>(Arrays.asList("axes", "min_percentile", "max_percentile", "eps"));
        assertTrue(accepted.containsAll(kwargs.keySet()), kwargs.toString());
        assertEquals(Arrays.asList("y", "x"), list(kwargs, "axes"));
        double low = get(kwargs, "min_percentile", Number.class).doubleValue();
        double high = get(kwargs, "max_percentile", Number.class).doubleValue();
        assertTrue(0 <= low && low < high && high <= 100, low + " " + high);
        assertFalse(output.containsKey("postprocessing"));
    }

    /**
     * ONNX weights (a format JDLL runs and the CI accepts), the file in the package, of an
     * opset JDLL has an ONNX Runtime for on every platform; these tests run that one.
     */
    @Test
    void onnxWeightsHaveAJdllEngineOnEveryPlatform() {
        Map<String, Object> weights = map(pkg.rdf, "weights");
        assertEquals(1, weights.size(), weights.keySet().toString());
        Map<String, Object> onnx = map(weights, "onnx");
        assertTrue(pkg.file(get(onnx, "source", String.class)).isFile());
        int opset = get(onnx, "opset_version", Integer.class);
        assertTrue(JDLL_ONNX_RUNTIME.containsKey(opset), "opset " + opset);
        assertEquals(JDLL_ONNX_RUNTIME.get(opset), System.getProperty("onnxruntime.version"),
                "run these tests with the ONNX Runtime JDLL loads for opset " + opset);
    }

    /**
     * The test tensors (deepImageJ's "Test" runs them; its CI turns the input into its
     * sample image) are .npy files DecodeNumpy reads; the input's size is a valid one.
     */
    @Test
    void testTensorsAreNpyFilesOfAValidSize() throws Exception {
        Npy in = Npy.read(pkg.file(get(map(input, "test_tensor"), "source", String.class)));
        Npy out = Npy.read(pkg.file(get(map(output, "test_tensor"), "source", String.class)));
        assertEquals(4, in.shape.length);
        assertEquals(1, in.shape[0]);
        assertEquals(1, in.shape[1]);
        List<Object> axes = list(input, "axes");
        for (int i = 2; i < 4; i++) {
            Map<String, Object> size = map(mapAt(axes, i), "size");
            long min = get(size, "min", Integer.class);
            long step = get(size, "step", Integer.class);
            assertTrue(in.shape[i] >= min && (in.shape[i] - min) % step == 0, Arrays.toString(in.shape));
        }
        assertArrayEquals(in.shape, out.shape);
        assertNotEquals(0, in.data.length);
    }
}
