//! Hostile TIFF files: small files whose headers declare huge images, strips beyond the
//! end of the file or tag values larger than the file are refused with their problem
//! named, before anything of the declared size is allocated, by the library and by the
//! CLI (which exits with an error status, never dies of a signal).

use std::path::{Path, PathBuf};
use std::process::Command;

use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::*;

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mrbcr-hostile-{}-{name}", std::process::id()))
}

/// A valid little-endian classic TIFF of one small float64 plane, as our writer
/// writes it (one uncompressed strip).
fn tiny_f64_tiff() -> Vec<u8> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = temp(&format!("tiny-source-{n}.tif"));
    let stack = ImageStack::new(5, 4, 1, Pixels::F64(vec![1.5; 20])).unwrap();
    write_tiff(&path, &stack, &TiffMetadata::default()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// A valid classic TIFF of one Deflate-compressed 8-bit plane.
fn tiny_deflate_tiff() -> Vec<u8> {
    use tiff::encoder::{colortype, Compression, DeflateLevel, TiffEncoder};
    let mut out = std::io::Cursor::new(Vec::new());
    let mut enc = TiffEncoder::new(&mut out)
        .unwrap()
        .with_compression(Compression::Deflate(DeflateLevel::Balanced));
    enc.write_image::<colortype::Gray8>(8, 8, &[7u8; 64])
        .unwrap();
    out.into_inner()
}

/// The byte position of the 12-byte entry of `tag` in the first IFD of a
/// little-endian classic TIFF.
fn entry(bytes: &[u8], tag: u16) -> usize {
    assert_eq!(&bytes[..4], b"II*\0", "a little-endian classic TIFF");
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(bytes[ifd..ifd + 2].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| ifd + 2 + 12 * i)
        .find(|&e| u16::from_le_bytes(bytes[e..e + 2].try_into().unwrap()) == tag)
        .unwrap_or_else(|| panic!("tag {tag} in the first IFD"))
}

/// Overwrites the inline value of a one-value SHORT or LONG entry.
fn set_value(bytes: &mut [u8], tag: u16, value: u32) {
    let e = entry(bytes, tag);
    let kind = u16::from_le_bytes(bytes[e + 2..e + 4].try_into().unwrap());
    match kind {
        3 => {
            assert!(value <= u16::MAX as u32);
            bytes[e + 8..e + 10].copy_from_slice(&(value as u16).to_le_bytes());
        }
        4 => bytes[e + 8..e + 12].copy_from_slice(&value.to_le_bytes()),
        _ => panic!("tag {tag} has type {kind}, not SHORT or LONG"),
    }
}

/// Overwrites the value count of an entry (and its type, when given).
fn set_count(bytes: &mut [u8], tag: u16, kind: Option<u16>, count: u32) {
    let e = entry(bytes, tag);
    if let Some(k) = kind {
        bytes[e + 2..e + 4].copy_from_slice(&k.to_le_bytes());
    }
    bytes[e + 4..e + 8].copy_from_slice(&count.to_le_bytes());
}

const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const STRIP_OFFSETS: u16 = 273;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = temp(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `read_tiff` refuses the file; the message names the file and contains `what`.
fn refused(path: &Path, what: &[&str]) -> String {
    let e = read_tiff(path).expect_err("a hostile file must be refused");
    let msg = e.to_string();
    assert!(matches!(e, Error::ImageFile { .. }), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    for w in what {
        assert!(msg.contains(w), "'{w}' in: {msg}");
    }
    msg
}

#[test]
fn the_unpatched_files_are_read() {
    let path = write("ok.tif", &tiny_f64_tiff());
    assert_eq!(read_tiff(&path).unwrap().stack.width(), 5);
    let path2 = write("ok-deflate.tif", &tiny_deflate_tiff());
    assert_eq!(read_tiff(&path2).unwrap().stack.height(), 8);
    std::fs::remove_file(path).unwrap();
    std::fs::remove_file(path2).unwrap();
}

#[test]
fn huge_dimensions_in_a_small_uncompressed_file_are_refused() {
    // 100000 x 100000 float64 pixels: 80 GB declared in a file of a few hundred bytes.
    let mut bytes = tiny_f64_tiff();
    set_value(&mut bytes, IMAGE_WIDTH, 100_000);
    set_value(&mut bytes, IMAGE_LENGTH, 100_000);
    set_value(&mut bytes, ROWS_PER_STRIP, 100_000);
    let path = write("huge-dims.tif", &bytes);
    refused(&path, &["100000 x 100000", "80000000000 bytes"]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn huge_dimensions_in_a_small_compressed_file_are_refused() {
    // Compressed data can expand, but not to 10 GB from a few hundred bytes.
    let mut bytes = tiny_deflate_tiff();
    set_value(&mut bytes, IMAGE_WIDTH, 100_000);
    set_value(&mut bytes, IMAGE_LENGTH, 100_000);
    set_value(&mut bytes, ROWS_PER_STRIP, 100_000);
    let path = write("huge-dims-deflate.tif", &bytes);
    refused(&path, &["100000 x 100000", "compressed"]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_strip_beyond_the_end_of_the_file_is_refused() {
    let mut bytes = tiny_f64_tiff();
    set_value(&mut bytes, STRIP_BYTE_COUNTS, 0xFFFF_FF00);
    let path = write("huge-strip.tif", &bytes);
    refused(&path, &["strip 1", "past the end of the file"]);
    let mut bytes = tiny_f64_tiff();
    set_value(&mut bytes, STRIP_OFFSETS, 0xFFFF_FF00);
    std::fs::write(&path, &bytes).unwrap();
    refused(&path, &["strip 1", "past the end of the file"]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn tag_counts_larger_than_the_file_are_refused() {
    // The strip offsets as a list of a billion LONGs.
    let mut bytes = tiny_f64_tiff();
    set_count(&mut bytes, STRIP_OFFSETS, None, 1 << 30);
    let path = write("huge-count.tif", &bytes);
    refused(&path, &["StripOffsets", "past the end of the file"]);
    // The strip byte counts as an ASCII string of 2 GB.
    let mut bytes = tiny_f64_tiff();
    set_count(&mut bytes, STRIP_BYTE_COUNTS, Some(2), 0x7FFF_FFFF);
    std::fs::write(&path, &bytes).unwrap();
    refused(&path, &["StripByteCounts", "past the end of the file"]);
    // An unknown tag with an absurd count is refused as well: its values would be read
    // when it is looked up.
    let mut bytes = tiny_f64_tiff();
    let e = entry(&bytes, ROWS_PER_STRIP);
    bytes[e + 4..e + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    refused(&path, &["RowsPerStrip", "past the end of the file"]);
    std::fs::remove_file(path).unwrap();
}

/// A little-endian BigTIFF of one IFD whose entries are given as (tag, type, count,
/// value), the value stored inline.
fn bigtiff(entries: &[(u16, u16, u64, u64)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"II");
    b.extend_from_slice(&43u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&16u64.to_le_bytes());
    b.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for &(tag, kind, count, value) in entries {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&value.to_le_bytes());
    }
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&[0u8; 64]);
    b
}

#[test]
fn bigtiff_counts_and_sizes_from_the_file_are_checked() {
    let data = 16 + 8 + 8 * 20 + 8;
    let base = [
        (IMAGE_WIDTH, 4, 1, 4),
        (IMAGE_LENGTH, 4, 1, 4),
        (258, 3, 1, 8), // BitsPerSample
        (259, 3, 1, 1), // Compression: none
        (262, 3, 1, 1), // BlackIsZero
        (STRIP_OFFSETS, 16, 1, data),
        (ROWS_PER_STRIP, 4, 1, 4),
        (STRIP_BYTE_COUNTS, 16, 1, 16),
    ];
    let path = write("big-ok.tif", &bigtiff(&base));
    assert_eq!(read_tiff(&path).unwrap().stack.width(), 4);
    // A 64-bit count of 2^40 strip offsets.
    let mut hostile = base;
    hostile[5] = (STRIP_OFFSETS, 16, 1 << 40, data);
    std::fs::write(&path, bigtiff(&hostile)).unwrap();
    refused(&path, &["StripOffsets", "past the end of the file"]);
    // A count whose size in bytes overflows 64 bits.
    hostile[5] = (STRIP_OFFSETS, 16, u64::MAX / 4, data);
    std::fs::write(&path, bigtiff(&hostile)).unwrap();
    refused(&path, &["StripOffsets", "past the end of the file"]);
    // 4 billion squared pixels.
    let mut hostile = base;
    hostile[0] = (IMAGE_WIDTH, 4, 1, u32::MAX as u64);
    hostile[1] = (IMAGE_LENGTH, 4, 1, u32::MAX as u64);
    hostile[6] = (ROWS_PER_STRIP, 4, 1, u32::MAX as u64);
    std::fs::write(&path, bigtiff(&hostile)).unwrap();
    refused(&path, &["4294967295 x 4294967295"]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn the_cli_exits_with_an_error_not_a_signal() {
    let mut bytes = tiny_f64_tiff();
    set_value(&mut bytes, IMAGE_WIDTH, 100_000);
    set_value(&mut bytes, IMAGE_LENGTH, 100_000);
    set_value(&mut bytes, ROWS_PER_STRIP, 100_000);
    let input = write("cli-hostile.tif", &bytes);
    let output = temp("cli-hostile-out.tif");
    let o = Command::new(env!("CARGO_BIN_EXE_mrbcr"))
        .arg("deconvolve")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code().is_some(),
        "killed by a signal: {:?}\n{stderr}",
        o.status
    );
    assert!(!o.status.success(), "{stderr}");
    assert!(stderr.contains("cli-hostile.tif"), "{stderr}");
    assert!(stderr.contains("100000 x 100000"), "{stderr}");
    assert!(!output.exists());
    std::fs::remove_file(input).unwrap();
}
