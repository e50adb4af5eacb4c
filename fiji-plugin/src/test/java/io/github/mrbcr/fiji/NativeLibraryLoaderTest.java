package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's extraction into a versioned cache (issue 12, finding 9: a 27 MB copy in
 * /tmp per session, left there by every crash), with the real library of the jar.
 */
class NativeLibraryLoaderTest {
    private static final String RESOURCE = "/natives/linux_64/libmrbcr.so";

    private static NativeLibraryLoader.Source jar() {
        return () -> NativeLibraryLoader.class.getResourceAsStream(RESOURCE);
    }

    private static byte[] library() throws IOException {
        try (InputStream in = jar().open()) {
            return in.readAllBytes();
        }
    }

    private static String sha256Prefix(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
    }

    private static List<String> names(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void platformsHaveSciJavasNamesAndTheirLibrarysFileName() {
        String[][] cases = {
            {"Linux", "amd64", "linux_64", "libmrbcr.so"},
            {"Linux", "aarch64", "linux_arm64", "libmrbcr.so"},
            {"Windows 11", "amd64", "windows_64", "mrbcr.dll"},
            {"Windows Server 2019", "x86_64", "windows_64", "mrbcr.dll"},
            {"Mac OS X", "x86_64", "osx_64", "libmrbcr.dylib"},
            {"Mac OS X", "aarch64", "osx_arm64", "libmrbcr.dylib"},
            {"Linux", "ppc64le", "linux_ppc64le", "libmrbcr.so"},
        };
        for (String[] c : cases) {
            String platform = NativeLibraryLoader.platform(c[0], c[1]);
            assertEquals(c[2], platform, c[0] + " " + c[1]);
            assertEquals(c[3], NativeLibraryLoader.libraryName(platform), platform);
            assertTrue(platform.equals("linux_ppc64le") || NativeLibraryLoader.PLATFORMS.contains(platform), platform);
        }
        assertEquals("/natives/windows_64/mrbcr.dll", NativeLibraryLoader.resource("windows_64"));
        assertEquals("/natives/osx_arm64/libmrbcr.dylib", NativeLibraryLoader.resource("osx_arm64"));
    }

    @Test
    void aPlatformWithoutALibraryIsNamedWithTheOnesTheJarHolds() {
        // The test classpath holds this build's library: the Linux x86-64 one.
        assertEquals(List.of("linux_64"), NativeLibraryLoader.platformsInJar());
        String message = NativeLibraryLoader.missingPlatformMessage(
                "linux_ppc64le", "Linux", "ppc64le", NativeLibraryLoader.platformsInJar());
        assertEquals("m-rBCR: this plugin jar has no native library for your platform, linux_ppc64le "
                + "(os.name=Linux, os.arch=ppc64le): expected /natives/linux_ppc64le/libmrbcr.so in the jar. "
                + "It holds libraries for linux_64. The release jar covers linux_64, linux_arm64, windows_64, "
                + "osx_64, osx_arm64.", message);
    }

    @Test
    void hexDigitsAreJavasOwn() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[] {0, 1, (byte) 0xff});
        assertEquals(HexFormat.of().formatHex(digest), NativeLibraryLoader.hex(digest));
    }

    @Test
    void theLibraryIsExtractedOnceAndReused(@TempDir Path cache) throws Exception {
        byte[] bytes = library();
        Path first = NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1.2.3");
        assertEquals(cache.resolve("1.2.3-" + sha256Prefix(bytes)).resolve("libmrbcr.so"), first);
        assertArrayEquals(bytes, Files.readAllBytes(first));
        Object inode = Files.getAttribute(first, "unix:ino");

        Path second = NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1.2.3");
        assertEquals(first, second);
        assertEquals(inode, Files.getAttribute(second, "unix:ino"), "extracted again");
        assertEquals(List.of("libmrbcr.so"), names(first.getParent()), "a partial copy is left");
        assertEquals(List.of(first.getParent().getFileName().toString()), names(cache));
    }

    @Test
    void aTruncatedOrAlteredCopyIsReplacedBeforeUse(@TempDir Path cache) throws Exception {
        byte[] bytes = library();
        Path library = NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1");
        try (FileChannel file = FileChannel.open(library, StandardOpenOption.WRITE)) {
            file.truncate(bytes.length / 2); // as a session killed while copying would leave it
        }
        assertEquals(library, NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1"));
        assertArrayEquals(bytes, Files.readAllBytes(library));

        byte[] altered = bytes.clone();
        altered[altered.length / 3] ^= 1; // same size, one bit changed
        Files.write(library, altered);
        assertEquals(library, NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1"));
        assertArrayEquals(bytes, Files.readAllBytes(library));
        assertEquals(List.of("libmrbcr.so"), names(library.getParent()));
    }

    @Test
    void sessionsStartingTogetherEachGetTheWholeLibrary(@TempDir Path cache) throws Exception {
        byte[] bytes = library();
        int sessions = 6;
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Path>> extracted = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                extracted.add(pool.submit(() -> {
                    go.await();
                    Path library = NativeLibraryLoader.extract(jar(), "libmrbcr.so", cache, "1");
                    assertArrayEquals(bytes, Files.readAllBytes(library), "a partial library was seen");
                    return library;
                }));
            }
            go.countDown();
            Path library = extracted.get(0).get();
            for (Future<Path> f : extracted) {
                assertEquals(library, f.get());
            }
            assertArrayEquals(bytes, Files.readAllBytes(library));
            assertEquals(List.of("libmrbcr.so"), names(library.getParent()), "partial copies are left");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFolderInTheSharedTemporaryFolderMustBePrivate(@TempDir Path tmp) throws Exception {
        String before = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try {
            // Planted by someone else, writable by all: refused.
            Path planted = Files.createDirectory(tmp.resolve("mrbcr-planted"));
            Files.setPosixFilePermissions(planted, PosixFilePermissions.fromString("rwxrwxrwx"));
            AccessDeniedException refused = assertThrows(AccessDeniedException.class,
                    () -> NativeLibraryLoader.extract(jar(), "libmrbcr.so", planted, "1"));
            assertTrue(refused.getMessage().contains("others may write in it"), refused.getMessage());
            assertEquals(List.of(), names(planted));

            // Made by the loader: its owner's only.
            Path made = tmp.resolve("mrbcr-me");
            NativeLibraryLoader.extract(jar(), "libmrbcr.so", made, "1");
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made)));
        } finally {
            System.setProperty("java.io.tmpdir", before);
        }
    }

    @Test
    void theCacheIsTheConfiguredFolderOrTheUsersCache() {
        String configured = System.getProperty("mrbcr.cache.dir");
        assertTrue(configured != null && !configured.isEmpty(), "the build sets mrbcr.cache.dir for the tests");
        assertEquals(List.of(Path.of(configured)), NativeLibraryLoader.cacheDirs());
        System.clearProperty("mrbcr.cache.dir");
        try {
            List<Path> dirs = NativeLibraryLoader.cacheDirs();
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path users = xdg != null && !xdg.isEmpty()
                    ? Path.of(xdg, "mrbcr")
                    : Path.of(System.getProperty("user.home"), ".cache", "mrbcr");
            assertEquals(users, dirs.get(0));
            assertEquals(Path.of(System.getProperty("java.io.tmpdir")), dirs.get(1).getParent());
            assertTrue(dirs.get(1).getFileName().toString().startsWith("mrbcr-"));
        } finally {
            System.setProperty("mrbcr.cache.dir", configured);
        }
    }
}
