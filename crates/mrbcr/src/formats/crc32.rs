//! CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`), the checksum of zip
//! archives and PNG chunks. Not [`super::crc32c`] (Castagnoli), which TensorFlow uses.

/// The reflected IEEE polynomial.
const POLY: u32 = 0xEDB8_8320;

/// The byte-at-a-time table, built at compile time.
static TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[b] = crc;
        b += 1;
    }
    t
}

/// The CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    extend(0, data)
}

/// The CRC-32 of the concatenation of the bytes whose CRC is `crc` and `data`, so that
/// `extend(crc32(a), b) == crc32(a ++ b)`.
pub fn extend(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &byte in data {
        c = (c >> 8) ^ TABLE[((c ^ u32::from(byte)) & 0xff) as usize];
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // The standard check value of CRC-32/ISO-HDLC, and zlib's crc32() of these.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(extend(crc32(b"12345"), b"6789"), 0xCBF4_3926);
    }
}
