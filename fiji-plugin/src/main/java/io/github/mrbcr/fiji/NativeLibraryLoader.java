package io.github.mrbcr.fiji;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Loads the native mrbcr library bundled in the jar, under SciJava's layout
 * {@code natives/<platform>/<library>}: {@code natives/linux_64/libmrbcr.so},
 * {@code natives/linux_arm64/libmrbcr.so}, {@code natives/windows_64/mrbcr.dll},
 * {@code natives/osx_64/libmrbcr.dylib}, {@code natives/osx_arm64/libmrbcr.dylib}
 * ({@link #PLATFORMS}; a jar may hold only some of them: the developer's build holds the
 * one it was built on).
 *
 * <p>The library is extracted once into a cache folder named after the plugin's version
 * and the library's SHA-256, {@code ~/.cache/mrbcr/<version>-<sha256 prefix>/libmrbcr.so}
 * ({@code $XDG_CACHE_HOME/mrbcr} if set; {@code ~/Library/Caches/mrbcr} on macOS,
 * {@code %LOCALAPPDATA%\mrbcr} on Windows), and every later session loads that copy once
 * it has checked its size and SHA-256 against the jar's. A session writes a temporary file
 * in the same folder and renames it into place, so sessions starting together never see
 * a partial library, and nothing is left behind per session (a copy per session in
 * {@code /tmp}, 27 MB each, stayed there whenever ImageJ crashed). If the home folder is
 * not writable, the cache is {@code <java.io.tmpdir>/mrbcr-<user>}, a folder only its
 * owner may use.
 *
 * <p>System properties: {@code mrbcr.library} names a library file to load instead (for
 * developers); {@code mrbcr.cache.dir} names the cache folder.
 */
final class NativeLibraryLoader {
    /** The platforms a release jar carries a library for, in SciJava's names. */
    static final List<String> PLATFORMS =
            Collections.unmodifiableList(Arrays.asList("linux_64", "linux_arm64", "windows_64", "osx_64", "osx_arm64"));

    private NativeLibraryLoader() {}

    /**
     * Loads the library, once per class loader.
     *
     * @throws UnsatisfiedLinkError if the jar holds no library for this platform (naming
     *     the platform), no cache folder can be written, or the library cannot be loaded
     */
    static synchronized void load() {
        String override = System.getProperty("mrbcr.library");
        if (override != null && !override.isEmpty()) {
            System.load(Paths.get(override).toAbsolutePath().toString());
            return;
        }
        String platform = platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        String name = libraryName(platform);
        String resource = resource(platform);
        if (NativeLibraryLoader.class.getResource(resource) == null) {
            throw new UnsatisfiedLinkError(missingPlatformMessage(
                    platform, System.getProperty("os.name"), System.getProperty("os.arch"), platformsInJar()));
        }
        List<String> problems = new ArrayList<>();
        for (Path cache : cacheDirs()) {
            try {
                Path library = extract(
                        () -> NativeLibraryLoader.class.getResourceAsStream(resource), name, cache, version());
                System.load(library.toAbsolutePath().toString());
                return;
            } catch (IOException e) {
                problems.add(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
        throw new UnsatisfiedLinkError("m-rBCR: cannot extract the native library: " + String.join("; ", problems));
    }

    /** The jar's resource holding the library of {@code platform}, e.g. {@code /natives/linux_64/libmrbcr.so}. */
    static String resource(String platform) {
        return "/natives/" + platform + "/" + libraryName(platform);
    }

    /** Which of {@link #PLATFORMS} this jar holds a library for. */
    static List<String> platformsInJar() {
        List<String> present = new ArrayList<>();
        for (String platform : PLATFORMS) {
            if (NativeLibraryLoader.class.getResource(resource(platform)) != null) {
                present.add(platform);
            }
        }
        return present;
    }

    /**
     * What to tell the user when the jar holds no library for their platform: which
     * platform that is (its SciJava name, {@code os.name} and {@code os.arch}) and which
     * platforms the jar does hold.
     */
    static String missingPlatformMessage(String platform, String osName, String osArch, List<String> inJar) {
        return "m-rBCR: this plugin jar has no native library for your platform, " + platform + " (os.name="
                + osName + ", os.arch=" + osArch + "): expected " + resource(platform) + " in the jar. It holds "
                + (inJar.isEmpty() ? "none" : "libraries for " + String.join(", ", inJar))
                + ". The release jar covers " + String.join(", ", PLATFORMS) + ".";
    }

    /** Opens the library's bytes (the jar's resource), once per call. */
    interface Source {
        InputStream open() throws IOException;
    }

    /**
     * The library in {@code cache}, extracted there if it is not yet, or not whole:
     * {@code cache/<version>-<first 16 hex digits of its SHA-256>/<library name>}. A copy
     * already there is used only if its size and SHA-256 are the source's; otherwise (a
     * truncated or altered file) it is replaced. Extraction writes a temporary file in the
     * same folder, checks it, and renames it into place atomically, so concurrent callers
     * (other ImageJ sessions) each see a whole library or none.
     *
     * @param source the library's bytes
     * @param name the library's file name ({@link #libraryName(String)})
     * @param cache the cache folder (created if missing)
     * @param version the plugin's version, for the folder's name
     * @return the library file to load
     * @throws IOException if the folder cannot be made or written, or the source cannot be read
     */
    static Path extract(Source source, String name, Path cache, String version) throws IOException {
        long[] size = new long[1];
        byte[] sha256;
        try (InputStream in = source.open()) {
            if (in == null) {
                throw new IOException("the jar holds no " + name);
            }
            sha256 = digest(in, null, size);
        }
        String hex = hex(sha256);
        Path dir = cache.resolve(version.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + hex.substring(0, 16));
        Path library = dir.resolve(name);
        makeCacheDir(cache);
        Files.createDirectories(dir);
        if (isCopy(library, size[0], sha256)) {
            return library;
        }
        Path partial = Files.createTempFile(dir, "." + name + ".", ".partial");
        try {
            byte[] written;
            try (InputStream in = source.open();
                    OutputStream out = Files.newOutputStream(partial)) {
                written = digest(in, out, new long[1]);
            }
            if (!MessageDigest.isEqual(written, sha256) || Files.size(partial) != size[0]) {
                throw new IOException("the library changed while it was extracted to " + partial);
            }
            Files.move(partial, library, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        if (!isCopy(library, size[0], sha256)) {
            throw new IOException(library + " is not the library just extracted there");
        }
        return library;
    }

    /** Lower-case hexadecimal digits of {@code bytes}. */
    static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder(2 * bytes.length);
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return text.toString();
    }

    /** Whether {@code file} is a regular file of {@code size} bytes with this SHA-256. */
    private static boolean isCopy(Path file, long size, byte[] sha256) throws IOException {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != size) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            return MessageDigest.isEqual(digest(in, null, new long[1]), sha256);
        }
    }

    /** The SHA-256 of {@code in}, copying it to {@code out} if not null; counts bytes in {@code size[0]}. */
    private static byte[] digest(InputStream in, OutputStream out, long[] size) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException("no SHA-256 in this Java", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (DigestInputStream digesting = new DigestInputStream(in, sha256)) {
            int n;
            while ((n = digesting.read(buffer)) > 0) {
                size[0] += n;
                if (out != null) {
                    out.write(buffer, 0, n);
                }
            }
        }
        return sha256.digest();
    }

    /**
     * The cache folders to try, in order: {@code mrbcr.cache.dir} if set (only it), else
     * the user's cache folder, then a folder of this user's in {@code java.io.tmpdir}.
     */
    static List<Path> cacheDirs() {
        String configured = System.getProperty("mrbcr.cache.dir");
        if (configured != null && !configured.isEmpty()) {
            return Collections.singletonList(Paths.get(configured));
        }
        List<Path> dirs = new ArrayList<>();
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String home = System.getProperty("user.home", "");
        String xdg = System.getenv("XDG_CACHE_HOME");
        String localAppData = System.getenv("LOCALAPPDATA");
        if (os.startsWith("windows") && localAppData != null && !localAppData.isEmpty()) {
            dirs.add(Paths.get(localAppData, "mrbcr"));
        } else if (os.startsWith("mac") && !home.isEmpty()) {
            dirs.add(Paths.get(home, "Library", "Caches", "mrbcr"));
        } else if (xdg != null && !xdg.isEmpty() && Paths.get(xdg).isAbsolute()) {
            dirs.add(Paths.get(xdg, "mrbcr"));
        } else if (!home.isEmpty()) {
            dirs.add(Paths.get(home, ".cache", "mrbcr"));
        }
        dirs.add(Paths.get(System.getProperty("java.io.tmpdir"),
                "mrbcr-" + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_")));
        return dirs;
    }

    /**
     * Makes the cache folder if missing. One in the shared temporary folder is made
     * readable by its owner only, and refused if others may write in it (someone else's,
     * planted there first), so that nobody else can put a library there.
     */
    private static void makeCacheDir(Path dir) throws IOException {
        boolean shared = dir.getParent() != null
                && dir.getParent().equals(Paths.get(System.getProperty("java.io.tmpdir")));
        if (!shared) {
            Files.createDirectories(dir);
            return;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // checked below
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system: nothing to check
            return;
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                || permissions.contains(PosixFilePermission.GROUP_WRITE)
                || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new AccessDeniedException(dir.toString(), null,
                    "not a private folder (a link, or others may write in it): remove it, or set mrbcr.cache.dir");
        }
    }

    /** The plugin's version (Maven's pom.properties in the jar), or {@code dev} outside a jar. */
    static String version() {
        try (InputStream in = NativeLibraryLoader.class.getResourceAsStream(
                "/META-INF/maven/io.github.mrbcr/mrbcr-fiji/pom.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "dev");
            }
        } catch (IOException e) {
            // fall through
        }
        return "dev";
    }

    /**
     * A platform's folder name in SciJava's layout (as {@code org.scijava.util.PlatformUtils}
     * and pom-scijava name them): {@code linux_64}, {@code linux_arm64}, {@code windows_64},
     * {@code osx_64}, {@code osx_arm64}, ...; other systems and processors get a name made
     * from {@code os.name} and {@code os.arch}, for the message.
     *
     * @param osName the {@code os.name} system property
     * @param osArch the {@code os.arch} system property
     * @return the folder name
     */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String family;
        if (os.startsWith("linux")) {
            family = "linux";
        } else if (os.startsWith("windows")) {
            family = "windows";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            family = "osx";
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

    /**
     * The library's file name on {@code platform}: {@code mrbcr.dll} on Windows,
     * {@code libmrbcr.dylib} on macOS, {@code libmrbcr.so} elsewhere.
     *
     * @param platform a name from {@link #platform(String, String)}
     * @return the file name
     */
    static String libraryName(String platform) {
        if (platform.startsWith("windows_")) {
            return "mrbcr.dll";
        }
        if (platform.startsWith("osx_")) {
            return "libmrbcr.dylib";
        }
        return "libmrbcr.so";
    }
}
