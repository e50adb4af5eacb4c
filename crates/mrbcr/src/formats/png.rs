//! A minimal PNG encoder for 8-bit grayscale images (the cover image of a BioImage
//! Model Zoo package): the zlib stream holds *stored* deflate blocks, so no compressor
//! is needed, only CRC-32 ([`super::crc32`]) for the chunks and Adler-32 for zlib.

use super::crc32::{crc32, extend};
use crate::error::{Error, Result};

/// The most bytes a stored deflate block holds.
const STORED_BLOCK: usize = 65_535;

/// Adler-32 of `data` (the zlib stream's checksum).
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5_552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// `data` as a zlib stream of stored deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(STORED_BLOCK).max(1);
    let mut out = Vec::with_capacity(data.len() + 5 * blocks + 6);
    out.extend_from_slice(&[0x78, 0x01]); // deflate, 32 KiB window, no dictionary
    let mut chunks = data.chunks(STORED_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16;
        out.push(u8::from(last)); // BFINAL, BTYPE = 00 (stored)
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&extend(crc32(kind), data).to_be_bytes());
}

/// The PNG file of an 8-bit grayscale image, `pixels` row by row.
///
/// # Errors
/// [`Error::InvalidInput`] if the image is empty, `pixels` does not hold `width *
/// height` values, or a side is past PNG's 2^31 - 1.
pub fn grayscale_png(width: usize, height: usize, pixels: &[u8]) -> Result<Vec<u8>> {
    if width == 0 || height == 0 || width.checked_mul(height) != Some(pixels.len()) {
        return Err(Error::InvalidInput(format!(
            "a {width} x {height} PNG image needs {} pixels, not {}",
            width.saturating_mul(height),
            pixels.len()
        )));
    }
    let side = |v: usize| {
        u32::try_from(v)
            .ok()
            .filter(|&v| v <= i32::MAX as u32)
            .ok_or_else(|| Error::InvalidInput(format!("a PNG side of {v} pixels is too large")))
    };
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side(width)?.to_be_bytes());
    header.extend_from_slice(&side(height)?.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bits, grayscale, deflate, filter 0, no interlace
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0); // filter type None
        raw.extend_from_slice(row);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn stored_blocks_split_at_65535() {
        let data = vec![7u8; 70_000];
        let z = zlib_stored(&data);
        assert_eq!(z.len(), 2 + 5 + 65_535 + 5 + (70_000 - 65_535) + 4);
        assert_eq!(z[2], 0);
        assert_eq!(z[2 + 5 + 65_535], 1);
    }

    #[test]
    fn png_structure() {
        let png = grayscale_png(3, 2, &[0, 1, 2, 3, 4, 5]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        // The IHDR chunk's CRC as zlib computes it for these bytes.
        assert_eq!(&png[png.len() - 12..], b"\0\0\0\0IEND\xaeB`\x82");
        assert!(grayscale_png(3, 2, &[0; 5]).is_err());
        assert!(grayscale_png(0, 0, &[]).is_err());
    }
}
