package io.github.mrbcr.fiji;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the native mrbcr library bundled in the jar, under SciJava's layout
 * {@code natives/<platform>/<library>} (for example {@code natives/linux_64/libmrbcr.so}):
 * it is copied to a temporary file, deleted when the JVM exits, and loaded with
 * {@link System#load}. The system property {@code mrbcr.library} names a library file to
 * load instead (for developers).
 */
final class NativeLibraryLoader {
    private NativeLibraryLoader() {}

    /**
     * Loads the library, once per class loader.
     *
     * @throws UnsatisfiedLinkError if the jar holds no library for this platform (naming
     *     the platform) or it cannot be loaded
     */
    static synchronized void load() {
        String override = System.getProperty("mrbcr.library");
        if (override != null && !override.isEmpty()) {
            System.load(Path.of(override).toAbsolutePath().toString());
            return;
        }
        String resource = "/natives/" + platform() + "/" + System.mapLibraryName("mrbcr");
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(
                        "m-rBCR: this plugin has no native library for your platform (os.name="
                                + System.getProperty("os.name")
                                + ", os.arch="
                                + System.getProperty("os.arch")
                                + "): expected "
                                + resource
                                + " in the jar. It is built for Linux x86-64 only so far.");
            }
            Path file = Files.createTempFile("mrbcr-", "-" + System.mapLibraryName("mrbcr"));
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            UnsatisfiedLinkError error =
                    new UnsatisfiedLinkError("m-rBCR: cannot extract the native library: " + e.getMessage());
            error.initCause(e);
            throw error;
        }
    }

    /**
     * This platform's folder name in SciJava's layout: {@code linux_64}, {@code linux_arm64},
     * {@code windows_64}, {@code macosx_arm64}, ...
     */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String family;
        if (os.startsWith("linux")) {
            family = "linux";
        } else if (os.startsWith("windows")) {
            family = "windows";
        } else if (os.startsWith("mac")) {
            family = "macosx";
        } else {
            family = os.replaceAll("[^a-z0-9]", "");
        }
        String bits;
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            bits = "64";
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            bits = "arm64";
        } else if (arch.equals("x86") || arch.equals("i386") || arch.equals("i686")) {
            bits = "32";
        } else {
            bits = arch.replaceAll("[^a-z0-9]", "");
        }
        return family + "_" + bits;
    }
}
