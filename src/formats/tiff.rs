//! TIFF files as microscopes and ImageJ write them: one or more pages (planes) of
//! grayscale pixels, 8/16-bit unsigned or 32/64-bit float (16-bit signed is read as
//! float, 32-bit integers as 64-bit float, exactly), uncompressed or with any
//! compression the `tiff` crate decodes (LZW, Deflate, PackBits, ...). A page whose
//! several samples are stored one plane after another (PlanarConfiguration 2, as
//! tifffile writes channel stacks) gives one plane per sample; interleaved colour
//! (RGB) pages are refused.
//!
//! What is kept from input to output: the ImageJ description (`ImageJ=...` with the
//! hyperstack's channels, slices and frames, and the calibration; its display range
//! `min=`/`max=` is dropped, since it belongs to the input's values) and the X/Y
//! resolution with its unit. Files are written to a temporary file beside the target
//! and renamed into place, so a failure never leaves a partial file; as BigTIFF when
//! the pixels exceed 4 GB.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use ::tiff::decoder::{ifd::Value, Decoder, DecodingResult, Limits};
use ::tiff::encoder::{
    DirectoryEncoder, Rational, TiffEncoder, TiffKind, TiffKindBig, TiffKindStandard,
};
use ::tiff::tags::Tag;
use ::tiff::ColorType;

use crate::error::{Error, Result};
use crate::image::{ImageStack, PixelType, Pixels};

/// What a TIFF file says about its pixels besides their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TiffMetadata {
    /// The ImageDescription of the first page, if any (ImageJ keeps its hyperstack
    /// layout and calibration there).
    pub description: Option<String>,
    /// The pixel size tags, if the file has them.
    pub resolution: Option<Resolution>,
}

/// TIFF's XResolution, YResolution and ResolutionUnit tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// Pixels per unit along X, as a fraction (numerator, denominator).
    pub x: (u32, u32),
    /// Pixels per unit along Y, as a fraction.
    pub y: (u32, u32),
    /// The unit: 1 none, 2 inch, 3 centimetre.
    pub unit: u16,
}

/// A TIFF file read into memory.
#[derive(Debug, Clone)]
pub struct TiffImage {
    /// The pages as a stack.
    pub stack: ImageStack,
    /// What else the file said.
    pub metadata: TiffMetadata,
}

fn problem(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::ImageFile {
        file: path.display().to_string(),
        problem: what.to_string(),
    }
}

fn tiff_error(path: &Path, e: ::tiff::TiffError) -> Error {
    match e {
        ::tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            problem(
                path,
                "not a readable TIFF file (it ends before the data it announces)",
            )
        }
        ::tiff::TiffError::IoError(io) => Error::io(path, io),
        other => problem(path, format!("not a readable TIFF file ({other})")),
    }
}

/// Reads every page of a TIFF file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::ImageFile`] naming the file if
/// it is not a TIFF, its pages differ in size or type, or it holds colour (RGB,
/// palette) or another unsupported kind of pixel.
pub fn read_tiff(path: &Path) -> Result<TiffImage> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut decoder = Decoder::new(BufReader::new(file))
        .map_err(|e| tiff_error(path, e))?
        .with_limits(Limits::unlimited());
    let metadata = TiffMetadata {
        description: decoder
            .get_tag_ascii_string(Tag::ImageDescription)
            .ok()
            .map(|s| s.trim_end_matches('\0').to_string()),
        resolution: read_resolution(&mut decoder),
    };
    let (width, height) = decoder.dimensions().map_err(|e| tiff_error(path, e))?;
    let mut pixels: Option<Pixels> = None;
    let mut planes = 0;
    loop {
        let page = planes + 1;
        let dims = decoder.dimensions().map_err(|e| tiff_error(path, e))?;
        if dims != (width, height) {
            return Err(problem(
                path,
                format!(
                    "page {page} is {} x {}, page 1 is {width} x {height}: all pages must have one size",
                    dims.0, dims.1
                ),
            ));
        }
        let samples = samples_per_pixel(&mut decoder);
        match decoder.colortype().map_err(|e| tiff_error(path, e))? {
            ColorType::Gray(_) => {}
            // Channels stored one after another (tifffile writes CYX stacks so): each
            // sample is read as a plane of its own.
            _ if samples > 1 && is_planar(&mut decoder) => {}
            ColorType::RGB(_)
            | ColorType::RGBA(_)
            | ColorType::Palette(_)
            | ColorType::YCbCr(_) => {
                return Err(problem(
                    path,
                    format!(
                        "page {page} is a colour image: m-rBCR restores grayscale fluorescence \
                         images; split the channels first (Image > Color > Split Channels in Fiji)"
                    ),
                ))
            }
            other => {
                return Err(problem(
                    path,
                    format!("page {page} has unsupported pixels ({other:?})"),
                ))
            }
        }
        // Every sample plane of a planar page (`read_image` reads only the first).
        let mut data = DecodingResult::U8(Vec::new());
        decoder
            .read_image_to_buffer(&mut data)
            .map_err(|e| tiff_error(path, e))?;
        let page_pixels = match data {
            DecodingResult::U8(v) => Pixels::U8(v),
            DecodingResult::U16(v) => Pixels::U16(v),
            DecodingResult::F32(v) => Pixels::F32(v),
            DecodingResult::F64(v) => Pixels::F64(v),
            DecodingResult::I16(v) => Pixels::F32(v.into_iter().map(f32::from).collect()),
            DecodingResult::U32(v) => Pixels::F64(v.into_iter().map(f64::from).collect()),
            DecodingResult::I32(v) => Pixels::F64(v.into_iter().map(f64::from).collect()),
            _ => {
                return Err(problem(
                    path,
                    format!("page {page} has a pixel type mrbcr does not read (8/16-bit unsigned, 16-bit signed, 32-bit integer, 32/64-bit float are read)"),
                ))
            }
        };
        if page_pixels.len() != samples * width as usize * height as usize {
            return Err(problem(
                path,
                format!(
                    "page {page} holds {} values, not the {samples} x {width} x {height} it announces",
                    page_pixels.len()
                ),
            ));
        }
        pixels = Some(match (pixels, page_pixels) {
            (None, p) => p,
            (Some(Pixels::U8(mut a)), Pixels::U8(b)) => {
                a.extend_from_slice(&b);
                Pixels::U8(a)
            }
            (Some(Pixels::U16(mut a)), Pixels::U16(b)) => {
                a.extend_from_slice(&b);
                Pixels::U16(a)
            }
            (Some(Pixels::F32(mut a)), Pixels::F32(b)) => {
                a.extend_from_slice(&b);
                Pixels::F32(a)
            }
            (Some(Pixels::F64(mut a)), Pixels::F64(b)) => {
                a.extend_from_slice(&b);
                Pixels::F64(a)
            }
            (Some(a), b) => {
                return Err(problem(
                    path,
                    format!(
                        "page {page} is {}, page 1 is {}: all pages must have one pixel type",
                        b.pixel_type().name(),
                        a.pixel_type().name()
                    ),
                ))
            }
        });
        planes += samples;
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(|e| tiff_error(path, e))?;
    }
    let pixels = pixels.expect("at least one page was read");
    let stack = ImageStack::new(width as usize, height as usize, planes, pixels)
        .map_err(|e| problem(path, e))?;
    Ok(TiffImage { stack, metadata })
}

/// The page's SamplesPerPixel (1 when absent or unreadable).
fn samples_per_pixel<R: std::io::Read + Seek>(decoder: &mut Decoder<R>) -> usize {
    decoder
        .get_tag_u32(Tag::SamplesPerPixel)
        .map_or(1, |n| n.max(1) as usize)
}

/// Whether the page stores its samples one plane after another (PlanarConfiguration
/// 2) rather than interleaved.
fn is_planar<R: std::io::Read + Seek>(decoder: &mut Decoder<R>) -> bool {
    decoder
        .get_tag_u32(Tag::PlanarConfiguration)
        .is_ok_and(|p| p == 2)
}

fn read_resolution<R: std::io::Read + Seek>(decoder: &mut Decoder<R>) -> Option<Resolution> {
    let rational = |v: Value| match v {
        Value::Rational(n, d) if d != 0 => Some((n, d)),
        _ => None,
    };
    Some(Resolution {
        x: rational(decoder.get_tag(Tag::XResolution).ok()?)?,
        y: rational(decoder.get_tag(Tag::YResolution).ok()?)?,
        unit: decoder
            .get_tag_u32(Tag::ResolutionUnit)
            .map_or(2, |u| u as u16),
    })
}

/// The description to write for an output: ImageJ's, without the display range of the
/// input's values; any other description as it was.
fn output_description(description: &str) -> String {
    if description.starts_with("ImageJ=") {
        description
            .lines()
            .filter(|l| !l.starts_with("min=") && !l.starts_with("max="))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        description.to_string()
    }
}

/// Writes a stack as a multi-page TIFF (one page per plane, uncompressed), with the
/// given metadata. The file appears complete or not at all.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::ImageFile`] if the encoder
/// refuses the image.
pub fn write_tiff(path: &Path, stack: &ImageStack, metadata: &TiffMetadata) -> Result<()> {
    let tmp = temp_path(path);
    let bytes = stack.width() * stack.height() * stack.planes() * stack.pixel_type().bytes();
    let written = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::new(file);
        // Leave room for the directories within the 4 GB of a classic TIFF.
        if bytes < (1 << 32) - (64 << 20) {
            let mut encoder = TiffEncoder::new(&mut out).map_err(|e| tiff_error(path, e))?;
            write_pages::<_, TiffKindStandard>(&mut encoder, stack, metadata, path)?;
        } else {
            let mut encoder = TiffEncoder::new_big(&mut out).map_err(|e| tiff_error(path, e))?;
            write_pages::<_, TiffKindBig>(&mut encoder, stack, metadata, path)?;
        }
        out.flush().map_err(|e| Error::io(path, e))?;
        out.get_ref().sync_all().map_err(|e| Error::io(path, e))
    })();
    match written.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes the pages in ImageJ's own layout: the pixels of all planes first, one
/// contiguous block, then one IFD per plane (each a single uncompressed strip). ImageJ
/// reads a stack whose description says `images=N` as one block from the first strip
/// on, so any other layout opens as garbage there; every other TIFF reader follows the
/// IFDs and is indifferent.
fn write_pages<W: Write + Seek, K: TiffKind>(
    encoder: &mut TiffEncoder<W, K>,
    stack: &ImageStack,
    metadata: &TiffMetadata,
    path: &Path,
) -> Result<()> {
    let fail = |e| tiff_error(path, e);
    let n = stack.width() * stack.height();
    let (bits, sample_format): (u16, u16) = match stack.pixel_type() {
        PixelType::U8 => (8, 1),
        PixelType::U16 => (16, 1),
        PixelType::F32 => (32, 3),
        PixelType::F64 => (64, 3),
    };
    let description = metadata.description.as_deref().map(output_description);
    let plane_bytes = (n * stack.pixel_type().bytes()) as u64;
    let tags = |dir: &mut DirectoryEncoder<'_, W, K>, plane: usize, offset: u64| {
        dir.write_tag(Tag::NewSubfileType, 0u32)?;
        dir.write_tag(Tag::ImageWidth, stack.width() as u32)?;
        dir.write_tag(Tag::ImageLength, stack.height() as u32)?;
        dir.write_tag(Tag::BitsPerSample, bits)?;
        dir.write_tag(Tag::Compression, 1u16)?;
        dir.write_tag(Tag::PhotometricInterpretation, 1u16)?;
        if plane == 0 {
            if let Some(d) = &description {
                dir.write_tag(Tag::ImageDescription, d.as_str())?;
            }
        }
        dir.write_tag(Tag::StripOffsets, K::convert_offset(offset)?)?;
        dir.write_tag(Tag::SamplesPerPixel, 1u16)?;
        dir.write_tag(Tag::RowsPerStrip, stack.height() as u32)?;
        dir.write_tag(Tag::StripByteCounts, K::convert_offset(plane_bytes)?)?;
        if let Some(r) = &metadata.resolution {
            dir.write_tag(Tag::XResolution, Rational { n: r.x.0, d: r.x.1 })?;
            dir.write_tag(Tag::YResolution, Rational { n: r.y.0, d: r.y.1 })?;
            dir.write_tag(Tag::ResolutionUnit, r.unit)?;
        }
        dir.write_tag(Tag::SampleFormat, sample_format)
    };
    // The first directory writes every plane's pixels, then its own tags.
    let mut first = encoder.image_directory().map_err(fail)?;
    let mut offsets = Vec::with_capacity(stack.planes());
    for plane in 0..stack.planes() {
        let range = plane * n..(plane + 1) * n;
        let offset = match stack.pixels() {
            Pixels::U8(v) => first.write_data(&v[range]),
            Pixels::U16(v) => first.write_data(&v[range]),
            Pixels::F32(v) => first.write_data(&v[range]),
            Pixels::F64(v) => first.write_data(&v[range]),
        };
        offsets.push(offset.map_err(fail)?);
    }
    tags(&mut first, 0, offsets[0]).map_err(fail)?;
    first.finish().map_err(fail)?;
    for (plane, &offset) in offsets.iter().enumerate().skip(1) {
        let mut dir = encoder.image_directory().map_err(fail)?;
        tags(&mut dir, plane, offset).map_err(fail)?;
        dir.finish().map_err(fail)?;
    }
    Ok(())
}

/// A temporary name beside `path` (same directory, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = format!(".{name}.{}.partial", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp),
        _ => PathBuf::from(tmp),
    }
}
