package mrbcr.deepimagej;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A float32 .npy file, read under the header rules of JDLL's DecodeNumpy (which
 * deepImageJ uses for a package's test tensors): format version 1 or 2, a header
 * dictionary of descr, fortran_order and shape in that order, little-endian data.
 */
final class Npy {
    /** The header dictionary as DecodeNumpy matches it. */
    private static final Pattern HEADER = Pattern.compile(
            "\\{'descr': '(.+)', 'fortran_order': (True|False), 'shape': \\((.+?)\\)(?:\\s*,\\s*|\\s*)\\}");

    /** The array's shape, C order. */
    final long[] shape;
    /** The values, C order. */
    final float[] data;

    private Npy(long[] shape, float[] data) {
        this.shape = shape;
        this.data = data;
    }

    /** Reads `file`, which must hold a little-endian float32 array in C order. */
    static Npy read(File file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file.toPath())).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        bytes.get(magic);
        if (!new String(magic, StandardCharsets.ISO_8859_1).equals("\u0093NUMPY")) {
            throw new IOException(file + ": not a .npy file");
        }
        int major = bytes.get();
        bytes.get();
        int headerLength;
        if (major == 1) {
            headerLength = bytes.getShort() & 0xffff;
        } else if (major == 2) {
            headerLength = bytes.getInt();
        } else {
            throw new IOException(file + ": .npy format version " + major + ", DecodeNumpy reads 1 and 2");
        }
        byte[] headerBytes = new byte[headerLength];
        bytes.get(headerBytes);
        String header = new String(headerBytes, StandardCharsets.ISO_8859_1);
        Matcher m = HEADER.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": header not in DecodeNumpy's form: " + header.trim());
        }
        if (!m.group(1).equals("<f4") || !m.group(2).equals("False")) {
            throw new IOException(file + ": expected little-endian float32 in C order, found descr "
                    + m.group(1) + ", fortran_order " + m.group(2));
        }
        String[] dims = m.group(3).split(", ?");
        long[] shape = new long[dims.length];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            shape[i] = Long.parseLong(dims[i].trim());
            count *= shape[i];
        }
        if (bytes.remaining() != count * 4) {
            throw new IOException(file + ": " + bytes.remaining() + " data bytes for " + count + " float32 values");
        }
        float[] data = new float[(int) count];
        bytes.asFloatBuffer().get(data);
        return new Npy(shape, data);
    }
}
