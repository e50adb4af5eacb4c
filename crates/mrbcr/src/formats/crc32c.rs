//! CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`), the checksum of LevelDB
//! tables and TensorFlow tensor bundles, computed slicing-by-8 with tables built at
//! compile time.
//!
//! LevelDB and TensorFlow do not store a CRC as is but "masked" ([`mask`]), because
//! computing the CRC of a string that contains embedded CRCs is problematic.

/// The reflected CRC-32C polynomial.
const POLY: u32 = 0x82F6_3B78;

/// Constant added by [`mask`] (LevelDB's `kMaskDelta`).
const MASK_DELTA: u32 = 0xa282_ead8;

/// `TABLES[0]` is the classic byte-at-a-time table; `TABLES[k][b]` is the CRC of byte
/// `b` followed by `k` zero bytes, which lets eight bytes be folded in at once.
static TABLES: [[u32; 256]; 8] = build_tables();

const fn build_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
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
        t[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
}

/// The CRC-32C of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    extend(0, data)
}

/// The CRC-32C of the concatenation of the bytes whose CRC is `crc` and `data`, so that
/// `extend(crc32c(a), b) == crc32c(a ++ b)`.
pub fn extend(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    let mut chunks = data.chunks_exact(8);
    for w in &mut chunks {
        let lo = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) ^ c;
        let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
        c = TABLES[7][(lo & 0xff) as usize]
            ^ TABLES[6][((lo >> 8) & 0xff) as usize]
            ^ TABLES[5][((lo >> 16) & 0xff) as usize]
            ^ TABLES[4][(lo >> 24) as usize]
            ^ TABLES[3][(hi & 0xff) as usize]
            ^ TABLES[2][((hi >> 8) & 0xff) as usize]
            ^ TABLES[1][((hi >> 16) & 0xff) as usize]
            ^ TABLES[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = (c >> 8) ^ TABLES[0][((c ^ u32::from(b)) & 0xff) as usize];
    }
    !c
}

/// The masked form of a CRC, as LevelDB and TensorFlow store it:
/// `((crc >> 15) | (crc << 17)) + 0xa282ead8` (wrapping).
pub fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// The inverse of [`mask`].
pub fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference implementation.
    fn slow(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn known_vectors() {
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
        let descending: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc32c(&descending), 0x113F_DB5C);
        assert_eq!(crc32c(b"a"), 0xC1D0_4330);
        assert_eq!(crc32c(b"foo"), 0xCFC4_AE1D);
    }

    #[test]
    fn matches_bitwise_reference_and_extends() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000] {
            assert_eq!(crc32c(&data[..len]), slow(&data[..len]), "len {len}");
            for split in [0, len / 3, len] {
                let (a, b) = data[..len].split_at(split);
                assert_eq!(extend(crc32c(a), b), crc32c(&data[..len]));
            }
        }
    }

    #[test]
    fn mask_round_trips_and_differs() {
        for crc in [0u32, 1, 0xE306_9283, u32::MAX, 0x8000_0000] {
            assert_eq!(unmask(mask(crc)), crc);
            assert_ne!(mask(crc), crc);
            assert_ne!(mask(mask(crc)), mask(crc));
        }
        // LevelDB's own test: masking is not the identity and unmask inverts it.
        let c = crc32c(b"foo");
        assert_eq!(mask(c), c.rotate_right(15).wrapping_add(0xa282_ead8));
    }
}
