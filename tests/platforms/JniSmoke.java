import io.github.mrbcr.fiji.DeconvolveOptions;
import io.github.mrbcr.fiji.MrbcrModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * The platform smoke test of the Fiji jar's JNI path (.ci/release-check): the Java twin
 * of smoke.c. Through the plugin's own classes and its native loader (the library is
 * taken from the jar's natives/ for the running JVM's platform), deconvolves smoke.c's
 * fixed 16-bit image with the bundled model and the same options (tiles of 128, overlap
 * 32, 2 threads) and writes the result as raw little-endian float32, to be compared byte
 * for byte with smoke.c's output on Linux x86-64.
 *
 * <pre>java -cp mrbcr_Fiji.jar:ij.jar:. JniSmoke OUTPUT.f32</pre>
 */
public final class JniSmoke {
    private static final int WIDTH = 160;
    private static final int HEIGHT = 144;

    private JniSmoke() {}

    /** smoke.c's image: bright blocks, lines and dots on a background, with LCG noise. */
    static short[] makeInput() {
        short[] pixels = new short[WIDTH * HEIGHT];
        int noise = 12345;
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int value = 300;
                if ((x / 20 + y / 24) % 3 == 0) value += 900;
                if (x == y || x == 2 * y || (x + y) % 37 == 0) value += 2500;
                if (x % 16 == 5 && y % 12 == 7) value += 8000;
                noise = noise * 1664525 + 1013904223;
                value += noise >>> 25;
                pixels[y * WIDTH + x] = (short) value;
            }
        }
        return pixels;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: JniSmoke OUTPUT.f32");
        }
        System.out.println("mrbcr " + MrbcrModel.libraryVersion() + " through JNI on "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                + ", Java " + System.getProperty("java.version"));
        DeconvolveOptions options = new DeconvolveOptions();
        options.tile = 128;
        options.overlap = 32;
        options.threads = 2;
        float[] output = new float[WIDTH * HEIGHT];
        try (MrbcrModel model = MrbcrModel.bundled()) {
            model.deconvolve(new Object[] {makeInput()}, 16, new Object[] {output}, 32, WIDTH, HEIGHT, options, null);
        }
        write(args[0], output);
        double sum = 0;
        for (float value : output) sum += value;
        System.out.printf(java.util.Locale.ROOT, "deconvolved %d x %d pixels, mean %.6f%n", WIDTH, HEIGHT, sum / output.length);
    }

    private static void write(String path, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        Files.write(Paths.get(path), bytes.array());
    }
}
