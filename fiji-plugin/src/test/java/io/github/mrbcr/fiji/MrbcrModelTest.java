package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JNI surface itself: handles, metadata, argument checks, progress and errors. */
class MrbcrModelTest {
    private static final int SIDE = 64;

    private static DeconvolveOptions smallTiles() {
        DeconvolveOptions options = new DeconvolveOptions();
        options.tile = 32;
        options.overlap = 8;
        return options;
    }

    private static Object[] planes(int count) {
        Object[] planes = new Object[count];
        for (int i = 0; i < count; i++) {
            planes[i] = TestSupport.plane(32, SIDE, SIDE, i).getPixels();
        }
        return planes;
    }

    private static Object[] floatOutputs(int count) {
        Object[] planes = new Object[count];
        for (int i = 0; i < count; i++) {
            planes[i] = new float[SIDE * SIDE];
        }
        return planes;
    }

    /** .ci/fiji-java21 runs these tests on Java 21 (Fiji-Latest's) and says so here. */
    @Test
    void theTestsRunOnTheJavaTheyAreMeantFor() {
        String expected = System.getProperty("mrbcr.java.feature", "");
        if (!expected.isEmpty()) {
            assertEquals(Integer.parseInt(expected), Runtime.version().feature(), System.getProperty("java.home"));
        }
    }

    @Test
    void theBundledLibraryIsForThisPlatform() {
        assertEquals("linux_64", NativeLibraryLoader.platform(System.getProperty("os.name"), System.getProperty("os.arch")));
        assertEquals("0.1.0", MrbcrModel.libraryVersion());
    }

    @Test
    void metadataOfTheAuthorsModel() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            Map<String, String> metadata = model.metadata();
            assertEquals("MIT", metadata.get("license").substring(0, 3));
            assertEquals("128", metadata.get("train_patch_size"));
            assertEquals("per-tile-minmax", metadata.get("input_normalization"));
            assertEquals(
                    List.of("name", "description", "input_normalization", "train_patch_size", "provenance", "license",
                            "created_by"),
                    new ArrayList<>(metadata.keySet()).subList(0, 7));
            String about = AboutModelsCommand.describe(model);
            assertTrue(about.contains("license: MIT"), about);
        }
    }

    @Test
    void theBundledModelLoadsWithoutAFileAndSaysHowItWasTrained() throws Exception {
        MrbcrModel model = MrbcrModel.bundled();
        try (model) {
            assertTrue(model.path().isEmpty());
            assertEquals("<bundled default model>", model.source());
            Map<String, String> metadata = model.metadata();
            assertEquals(
                    List.of("name", "description", "input_normalization", "train_patch_size", "provenance", "license",
                            "created_by"),
                    new ArrayList<>(metadata.keySet()).subList(0, 7));
            assertTrue(metadata.get("provenance").startsWith("trained by mrbcr train"), metadata.get("provenance"));
            String about = AboutModelsCommand.describe(model);
            assertTrue(about.startsWith("m-rBCR model <bundled default model>\n"), about);
            assertTrue(about.contains("provenance: trained by mrbcr train"), about);
            // a second handle is independent of the first
            try (MrbcrModel other = MrbcrModel.bundled()) {
                assertEquals(metadata, other.metadata());
            }
            assertEquals(metadata, model.metadata());
        }
        MrbcrException closed = assertThrows(MrbcrException.class, model::metadata);
        assertTrue(closed.getMessage().contains("<bundled default model> was closed"), closed.getMessage());
    }

    @Test
    void aModelFileKeepsItsPath() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            assertEquals(TestSupport.model(), model.path().orElseThrow());
            assertEquals(TestSupport.model().toString(), model.source());
        }
    }

    @Test
    void missingAndInvalidModelFilesAreExceptions() throws Exception {
        MrbcrException missing = assertThrows(MrbcrException.class, () -> MrbcrModel.load(Path.of("/no/model.safetensors")));
        assertTrue(missing.getMessage().startsWith("/no/model.safetensors: No such file"), missing.getMessage());
        Path garbage = Files.writeString(TestSupport.workDir().resolve("garbage.safetensors"), "not a model");
        MrbcrException invalid = assertThrows(MrbcrException.class, () -> MrbcrModel.load(garbage));
        assertTrue(invalid.getMessage().contains("not a valid safetensors file"), invalid.getMessage());
    }

    @Test
    void nullUnknownAndFreedHandlesAreExceptionsNotCrashes() throws Exception {
        MrbcrException zero = assertThrows(MrbcrException.class, () -> MrbcrNative.modelMetadata(0));
        assertTrue(zero.getMessage().contains("null"), zero.getMessage());
        assertThrows(MrbcrException.class, () -> MrbcrNative.modelMetadata(0x1234));
        long handle = MrbcrNative.loadModel(TestSupport.model().toString());
        MrbcrNative.freeModel(handle);
        MrbcrException freed = assertThrows(MrbcrException.class, () -> MrbcrNative.freeModel(handle));
        assertTrue(freed.getMessage().contains("freed already"), freed.getMessage());
        assertThrows(MrbcrException.class, () -> MrbcrNative.deconvolve(
                handle, planes(1), 32, floatOutputs(1), 32, SIDE, SIDE, 32, 8, "minmax", "input", 1, null));
        MrbcrModel model = MrbcrModel.load(TestSupport.model());
        model.close();
        model.close();
        assertThrows(MrbcrException.class, model::metadata);
    }

    @Test
    void badSizesAndTypesAreNamed() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            DeconvolveOptions options = smallTiles();
            String wrongLength = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(1), 32, new Object[] {new float[10]}, 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(wrongLength.contains("output plane 0 has 10 pixels"), wrongLength);
            String wrongType = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(1), 16, floatOutputs(1), 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(wrongType.contains("input plane 0 is not a short[]"), wrongType);
            String counts = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(2), 32, floatOutputs(1), 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(counts.contains("2 input planes and 1 output planes"), counts);
            String size = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(1), 32, floatOutputs(1), 32, -1, SIDE, options, null)).getMessage();
            assertTrue(size.contains("not positive"), size);
            String bits = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(1), 24, floatOutputs(1), 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(bits.contains("bit depth 24"), bits);
            assertThrows(MrbcrException.class, () -> model.deconvolve(
                    new Object[] {null}, 32, floatOutputs(1), 32, SIDE, SIDE, options, null));
            float[] nan = new float[SIDE * SIDE];
            nan[5] = Float.NaN;
            String nanMessage = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    new Object[] {nan}, 32, floatOutputs(1), 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(nanMessage.contains("NaN"), nanMessage);
            options.normalization = DeconvolveOptions.Normalization.PERCENTILE;
            options.lowPercentile = 50;
            options.highPercentile = 10;
            String percentiles = assertThrows(MrbcrException.class, () -> model.deconvolve(
                    planes(1), 32, floatOutputs(1), 32, SIDE, SIDE, options, null)).getMessage();
            assertTrue(percentiles.contains("0 <= low < high <= 100"), percentiles);
        }
    }

    @Test
    void progressRisesToOneAndCancellingThrowsTheCancelledException() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            List<Double> fractions = new ArrayList<>();
            Thread caller = Thread.currentThread();
            model.deconvolve(planes(2), 32, floatOutputs(2), 32, SIDE, SIDE, smallTiles(), f -> {
                assertEquals(caller, Thread.currentThread(), "progress on another thread");
                fractions.add(f);
                return true;
            });
            assertTrue(fractions.size() >= 2 * 4, "one report per tile: " + fractions);
            for (int i = 1; i < fractions.size(); i++) {
                assertTrue(fractions.get(i) >= fractions.get(i - 1));
            }
            assertEquals(1.0, fractions.get(fractions.size() - 1), 1e-12);

            int[] calls = {0};
            MrbcrException cancelled = assertThrows(MrbcrCancelledException.class, () -> model.deconvolve(
                    planes(2), 32, floatOutputs(2), 32, SIDE, SIDE, smallTiles(), f -> ++calls[0] < 3));
            assertEquals(3, calls[0]);
            assertTrue(cancelled.getMessage().contains("cancelled"), cancelled.getMessage());
        }
    }

    @Test
    void anExceptionFromTheListenerPropagatesUnchanged() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> model.deconvolve(
                    planes(1), 32, floatOutputs(1), 32, SIDE, SIDE, smallTiles(), f -> {
                        throw new IllegalStateException("listener broke");
                    }));
            assertEquals("listener broke", thrown.getMessage());
            // the model is still usable afterwards
            Object[] out = floatOutputs(1);
            model.deconvolve(planes(1), 32, out, 32, SIDE, SIDE, smallTiles(), null);
            float[] pixels = (float[]) out[0];
            boolean nonZero = false;
            for (float v : pixels) {
                nonZero |= v != 0;
            }
            assertTrue(nonZero);
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() throws Exception {
        try (MrbcrModel model = MrbcrModel.load(TestSupport.model())) {
            DeconvolveOptions one = smallTiles();
            one.threads = 1;
            DeconvolveOptions two = smallTiles();
            two.threads = 2;
            Object[] a = floatOutputs(1);
            Object[] b = floatOutputs(1);
            model.deconvolve(planes(1), 32, a, 32, SIDE, SIDE, one, null);
            model.deconvolve(planes(1), 32, b, 32, SIDE, SIDE, two, null);
            assertTrue(java.util.Arrays.equals((float[]) a[0], (float[]) b[0]));
            assertFalse(java.util.Arrays.equals((float[]) a[0], (float[]) planes(1)[0]));
        }
    }
}
