package mrbcr.deepimagej;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.yaml.snakeyaml.Yaml;

/**
 * A BioImage Model Zoo package as deepImageJ has it once installed: the zip unpacked
 * into a folder of its own (deepImageJ's "Install model manually" unpacks with
 * java.util.zip.ZipFile into Fiji.app/models/NAME_DATE/), and its rdf.yaml read as JDLL
 * reads it (SnakeYAML's default loader: a map of strings to maps, lists, strings,
 * Integers and Doubles).
 */
final class ModelPackage {
    /** The folder the package was unpacked into. */
    final File folder;
    /** The parsed rdf.yaml. */
    final Map<String, Object> rdf;

    private ModelPackage(File folder, Map<String, Object> rdf) {
        this.folder = folder;
        this.rdf = rdf;
    }

    /** Unpacks the zip `zip` into a new folder `folder` and reads its rdf.yaml. */
    static ModelPackage install(File zip, File folder) throws IOException {
        if (!zip.isFile()) {
            throw new IOException("the package is missing: " + zip
                    + " (run `mrbcr export-bioimageio` first, or pass -Dmrbcr.package=PATH)");
        }
        deleteTree(folder);
        if (!folder.mkdirs()) {
            throw new IOException("cannot create " + folder);
        }
        try (ZipFile archive = new ZipFile(zip)) {
            Enumeration<? extends ZipEntry> entries = archive.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                File target = new File(folder, entry.getName());
                if (!target.getCanonicalPath().startsWith(folder.getCanonicalPath() + File.separator)) {
                    throw new IOException("a zip entry leaves the package folder: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    continue;
                }
                target.getParentFile().mkdirs();
                try (InputStream in = archive.getInputStream(entry);
                        OutputStream out = new FileOutputStream(target)) {
                    byte[] buffer = new byte[8192];
                    int n;
                    while ((n = in.read(buffer)) != -1) {
                        out.write(buffer, 0, n);
                    }
                }
            }
        }
        File rdfFile = new File(folder, "rdf.yaml");
        if (!rdfFile.isFile()) {
            throw new IOException("no rdf.yaml at the top of the package: JDLL finds models by "
                    + "MODELS_FOLDER/<model>/rdf.yaml");
        }
        try (InputStream in = new FileInputStream(rdfFile)) {
            Map<String, Object> rdf = new Yaml().load(in);
            return new ModelPackage(folder, rdf);
        }
    }

    /** The file `name` of the package. */
    File file(String name) {
        return new File(folder, name);
    }

    /** The value at `key` of `map`, which must be of type `type` (a message names it if not). */
    static <T> T get(Map<String, Object> map, String key, Class<T> type) {
        Object value = map.get(key);
        if (!type.isInstance(value)) {
            throw new AssertionError("'" + key + "' should be a " + type.getSimpleName() + " as JDLL "
                    + "reads it, found " + (value == null ? "nothing" : value.getClass().getSimpleName()
                    + " " + value));
        }
        return type.cast(value);
    }

    /** The map at `key` of `map`. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> map, String key) {
        return get(map, key, Map.class);
    }

    /** The list at `key` of `map`. */
    @SuppressWarnings("unchecked")
    static List<Object> list(Map<String, Object> map, String key) {
        return get(map, key, List.class);
    }

    /** The `index`th element of `list`, a map. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> mapAt(List<Object> list, int index) {
        Object value = list.get(index);
        if (!(value instanceof Map)) {
            throw new AssertionError("element " + index + " should be a map, found " + value);
        }
        return (Map<String, Object>) value;
    }

    private static void deleteTree(File file) throws IOException {
        File[] children = file.listFiles();
        if (children != null) {
            for (File child : children) {
                deleteTree(child);
            }
        }
        if (file.exists() && !file.delete()) {
            throw new IOException("cannot delete " + file);
        }
    }
}
