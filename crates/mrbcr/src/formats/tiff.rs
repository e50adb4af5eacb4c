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
//! `min=`/`max=` is dropped, since it belongs to the input's values), an OME-XML
//! description (OME-TIFF; its `Pixels` elements then say the output's pixel type, see
//! `formats::ome`) or any other, and the X/Y resolution with its unit. Files are written
//! to a temporary file beside the target and renamed into place, so a failure never
//! leaves a partial file; as BigTIFF when the pixels exceed 4 GB.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use ::tiff::decoder::{ifd::Value, Decoder, DecodingResult, Limits};
use ::tiff::encoder::{
    DirectoryEncoder, Rational, TiffEncoder, TiffKind, TiffKindBig, TiffKindStandard, TiffValue,
};
use ::tiff::tags::{Tag, Type};
use ::tiff::{ColorType, TiffResult};

use crate::error::{Error, Result};
use crate::formats::atomic_write::write_atomically;
use crate::formats::ome;
use crate::image::{ImageStack, PixelType, Pixels, StackLayout};

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

/// A file whose structure cannot be a TIFF's: what it declares does not fit in it.
fn unreadable(path: &Path, what: impl std::fmt::Display) -> Error {
    problem(path, format!("not a readable TIFF file: {what}"))
}

fn tiff_error(path: &Path, e: ::tiff::TiffError) -> Error {
    match e {
        ::tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            problem(
                path,
                "not a readable TIFF file (it ends before the data it announces)",
            )
        }
        // The decoders report broken contents (a corrupt Deflate or LZW stream, an
        // unsupported LZW variant) as I/O errors of their own making, without an OS
        // error code: a problem of the file, not of reading it.
        ::tiff::TiffError::IoError(io) if io.raw_os_error().is_none() => {
            problem(path, format!("not a readable TIFF file ({io})"))
        }
        ::tiff::TiffError::IoError(io) => Error::io(path, io),
        other => problem(path, format!("not a readable TIFF file ({other})")),
    }
}

/// How much a compressed page may expand: Deflate reaches about 1032:1 and TIFF's LZW
/// about 1400:1 on a constant page, so a page declaring more than this many times the
/// whole file's size is not a plausible compressed image (and is refused before its
/// buffer is allocated).
const MAX_COMPRESSION_RATIO: u64 = 4096;

/// The most bytes the pixels read from one file may take: the machine's physical
/// memory (beyond it an allocation could only fail or thrash).
fn memory_budget() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && size > 0 {
            return (pages as u64).saturating_mul(size as u64);
        }
    }
    u64::MAX
}

/// Reads every page of a TIFF file.
///
/// Every size the file declares is checked before anything of that size is allocated:
/// tag values and strips or tiles must lie within the file, an uncompressed page
/// cannot hold more bytes than the file, a compressed one not more than
/// [`MAX_COMPRESSION_RATIO`] times the file, and all pages together not more than the
/// machine's physical memory. [`TiffReader`] reads the same files a few planes at a
/// time.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::ImageFile`] naming the file if
/// it is not a TIFF, declares sizes it cannot hold, its pages differ in size or type,
/// or it holds colour (RGB, palette) or another unsupported kind of pixel.
pub fn read_tiff(path: &Path) -> Result<TiffImage> {
    let mut reader = TiffReader::open(path)?;
    let stack = reader
        .read_planes(usize::MAX)?
        .ok_or_else(|| unreadable(path, "it has no page"))?;
    Ok(TiffImage {
        stack,
        metadata: reader.metadata,
    })
}

/// A TIFF file read page by page, so that a stack far larger than memory can be
/// processed a few planes at a time ([`crate::deconvolve::deconvolve_tiff_file`]
/// does so). It reads what [`read_tiff`] reads, with the same checks and messages:
/// the file's layout is checked against its length when it is opened, before any
/// page is decoded, and each page's size before its buffer is allocated (against the
/// file, and with the pages of the same [`TiffReader::read_planes`] call against the
/// machine's physical memory).
pub struct TiffReader {
    path: PathBuf,
    decoder: Decoder<BufReader<File>>,
    file_len: u64,
    budget: u64,
    width: u32,
    height: u32,
    /// The planes the file's directories announce.
    planes: usize,
    /// The planes read so far.
    planes_read: usize,
    /// The pixel type of page 1, once it is read.
    pixel_type: Option<PixelType>,
    /// False once the last page is read.
    more: bool,
    metadata: TiffMetadata,
}

impl TiffReader {
    /// Opens a TIFF file: checks its layout and reads its first page's directory (its
    /// size and metadata); no pixels yet.
    ///
    /// # Errors
    /// As [`read_tiff`], for what the layout and the first directory show.
    pub fn open(path: &Path) -> Result<TiffReader> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let planes = check_layout(path, &mut file, file_len)?;
        file.rewind().map_err(|e| Error::io(path, e))?;
        let budget = memory_budget();
        let mut limits = Limits::default();
        let max_page = budget.min(file_len.saturating_mul(MAX_COMPRESSION_RATIO));
        limits.decoding_buffer_size = usize::try_from(max_page).unwrap_or(usize::MAX);
        limits.intermediate_buffer_size = usize::try_from(file_len).unwrap_or(usize::MAX);
        limits.ifd_value_size = limits.intermediate_buffer_size;
        let mut decoder = Decoder::new(BufReader::new(file))
            .map_err(|e| tiff_error(path, e))?
            .with_limits(limits);
        let metadata = TiffMetadata {
            description: decoder
                .get_tag_ascii_string(Tag::ImageDescription)
                .ok()
                .map(|s| s.trim_end_matches('\0').to_string()),
            resolution: read_resolution(&mut decoder),
        };
        let (width, height) = decoder.dimensions().map_err(|e| tiff_error(path, e))?;
        Ok(TiffReader {
            path: path.to_path_buf(),
            decoder,
            file_len,
            budget,
            width,
            height,
            planes,
            planes_read: 0,
            pixel_type: None,
            more: true,
            metadata,
        })
    }

    /// Width of every plane, in pixels.
    pub fn width(&self) -> usize {
        self.width as usize
    }

    /// Height of every plane, in pixels.
    pub fn height(&self) -> usize {
        self.height as usize
    }

    /// The number of planes the file's directories announce (pages, times the samples
    /// of pages that store them one plane after another); reading checks that the
    /// pages hold that many.
    pub fn planes(&self) -> usize {
        self.planes
    }

    /// The planes read so far.
    pub fn planes_read(&self) -> usize {
        self.planes_read
    }

    /// What the file says about its pixels besides their values (page 1's
    /// description and resolution).
    pub fn metadata(&self) -> &TiffMetadata {
        &self.metadata
    }

    /// Bytes per value of the pixels as they are held in memory (the pixel type page
    /// 1's tags announce: 16-bit signed and 32-bit integers are widened to floats);
    /// an estimate for planning, before page 1 is read.
    pub fn bytes_per_value(&mut self) -> u64 {
        match self.pixel_type {
            Some(t) => t.bytes() as u64,
            None => held_bytes_per_value(&mut self.decoder),
        }
    }

    /// Reads whole pages until at least `count` planes are read or the file ends (a
    /// page storing several samples one plane after another gives them all), as one
    /// stack; `None` once every page was read.
    ///
    /// # Errors
    /// As [`read_tiff`]; a page whose size or pixel type differs from page 1's, or
    /// pages holding more or fewer planes than the directories announce, are refused
    /// naming the page. The pixels of the pages of one call count against the memory
    /// budget together.
    pub fn read_planes(&mut self, count: usize) -> Result<Option<ImageStack>> {
        if !self.more {
            return Ok(None);
        }
        let path = self.path.as_path();
        let (width, height) = (self.width, self.height);
        let mut pixels: Option<Pixels> = None;
        let mut planes = 0;
        // Bytes of the pixels kept so far in this call, as they are held in memory.
        let mut held = 0u64;
        while planes < count.max(1) {
            let page = self.planes_read + 1;
            let decoder = &mut self.decoder;
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
            let samples = samples_per_pixel(decoder);
            let color = decoder.colortype().map_err(|e| tiff_error(path, e))?;
            match color {
                ColorType::Gray(_) => {}
                // Channels stored one after another (tifffile writes CYX stacks so):
                // each sample is read as a plane of its own.
                _ if samples > 1 && is_planar(decoder) => {}
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
            held = check_page_size(
                path,
                decoder,
                page,
                samples,
                self.file_len,
                held,
                self.budget,
            )?;
            let page_pixels = read_page(path, decoder, page)?;
            if page_pixels.len() != samples * width as usize * height as usize {
                return Err(problem(
                    path,
                    format!(
                        "page {page} holds {} values, not the {samples} x {width} x {height} it announces",
                        page_pixels.len()
                    ),
                ));
            }
            let first_type = *self.pixel_type.get_or_insert(page_pixels.pixel_type());
            if page_pixels.pixel_type() != first_type {
                return Err(problem(
                    path,
                    format!(
                        "page {page} is {}, page 1 is {}: all pages must have one pixel type",
                        page_pixels.pixel_type().name(),
                        first_type.name()
                    ),
                ));
            }
            pixels = Some(match pixels {
                None => {
                    // Room for the call's other planes at once, so that adding pages
                    // never holds the chunk twice while it grows; only as much as the
                    // file could plausibly hold, since the plane count comes from its
                    // directories (a duplicated SamplesPerPixel tag once announced 67
                    // million planes in an 830-byte file: a 4 GB request).
                    let planes = count.min(self.planes.saturating_sub(self.planes_read));
                    let values = planes.saturating_mul(width as usize * height as usize);
                    let bytes = (values as u64).saturating_mul(first_type.bytes() as u64);
                    let plausible = self.file_len.saturating_mul(MAX_COMPRESSION_RATIO);
                    let mut page_pixels = page_pixels;
                    if bytes <= self.budget.min(plausible) {
                        reserve_total(&mut page_pixels, values);
                    }
                    page_pixels
                }
                Some(kept) => joined(kept, page_pixels).map_err(|bytes| {
                    problem(
                        path,
                        format!("page {page}: not enough memory for its pixels ({bytes} bytes)"),
                    )
                })?,
            });
            planes += samples;
            self.planes_read += samples;
            if self.planes_read > self.planes {
                return Err(self.miscounted());
            }
            if !self.decoder.more_images() {
                self.more = false;
                if self.planes_read != self.planes {
                    return Err(self.miscounted());
                }
                break;
            }
            self.decoder
                .next_image()
                .map_err(|e| tiff_error(&self.path, e))?;
        }
        let pixels = pixels.expect("at least one page was read");
        let stack = ImageStack::new(width as usize, height as usize, planes, pixels)
            .map_err(|e| problem(&self.path, e))?;
        Ok(Some(stack))
    }

    /// The pages hold another number of planes than the directories announce (the
    /// layout scan and the decoder read a page's samples differently).
    fn miscounted(&self) -> Error {
        unreadable(
            &self.path,
            format!(
                "its directories announce {} planes, its pages hold {} or more",
                self.planes,
                self.planes_read.min(self.planes + 1)
            ),
        )
    }
}

/// Decodes the current page: every sample plane of a planar page (`read_image` reads
/// only the first), 16-bit signed values widened to f32 and 32-bit integers to f64.
fn read_page<R: std::io::Read + Seek>(
    path: &Path,
    decoder: &mut Decoder<R>,
    page: usize,
) -> Result<Pixels> {
    let mut data = DecodingResult::U8(Vec::new());
    decoder
        .read_image_to_buffer(&mut data)
        .map_err(|e| tiff_error(path, e))?;
    let out_of_memory = |bytes: usize| {
        problem(
            path,
            format!("page {page}: not enough memory for its pixels ({bytes} bytes)"),
        )
    };
    Ok(match data {
        DecodingResult::U8(v) => Pixels::U8(v),
        DecodingResult::U16(v) => Pixels::U16(v),
        DecodingResult::F32(v) => Pixels::F32(v),
        DecodingResult::F64(v) => Pixels::F64(v),
        DecodingResult::I16(v) => {
            Pixels::F32(converted(&v, f32::from).map_err(|_| out_of_memory(v.len() * 4))?)
        }
        DecodingResult::U32(v) => {
            Pixels::F64(converted(&v, f64::from).map_err(|_| out_of_memory(v.len() * 8))?)
        }
        DecodingResult::I32(v) => {
            Pixels::F64(converted(&v, f64::from).map_err(|_| out_of_memory(v.len() * 8))?)
        }
        _ => {
            return Err(problem(
                path,
                format!("page {page} has a pixel type mrbcr does not read (8/16-bit unsigned, 16-bit signed, 32-bit integer, 32/64-bit float are read)"),
            ))
        }
    })
}

/// Makes room for `values` values in all, if memory allows (else the buffer grows as
/// values are added, and fails then).
fn reserve_total(pixels: &mut Pixels, values: usize) {
    fn reserve<T>(v: &mut Vec<T>, values: usize) {
        let _ = v.try_reserve_exact(values.saturating_sub(v.len()));
    }
    match pixels {
        Pixels::U8(v) => reserve(v, values),
        Pixels::U16(v) => reserve(v, values),
        Pixels::F32(v) => reserve(v, values),
        Pixels::F64(v) => reserve(v, values),
    }
}

/// `more` appended to `kept` (both of one pixel type), or the bytes that could not be
/// had when memory runs out.
fn joined(kept: Pixels, more: Pixels) -> std::result::Result<Pixels, usize> {
    let bytes = more.len() * more.pixel_type().bytes();
    let fail = |_| bytes;
    Ok(match (kept, more) {
        (Pixels::U8(mut a), Pixels::U8(b)) => {
            appended(&mut a, &b).map_err(fail)?;
            Pixels::U8(a)
        }
        (Pixels::U16(mut a), Pixels::U16(b)) => {
            appended(&mut a, &b).map_err(fail)?;
            Pixels::U16(a)
        }
        (Pixels::F32(mut a), Pixels::F32(b)) => {
            appended(&mut a, &b).map_err(fail)?;
            Pixels::F32(a)
        }
        (Pixels::F64(mut a), Pixels::F64(b)) => {
            appended(&mut a, &b).map_err(fail)?;
            Pixels::F64(a)
        }
        (a, _) => unreachable!(
            "pages of one pixel type ({}) are joined",
            a.pixel_type().name()
        ),
    })
}

/// `values` converted one by one, in a buffer whose allocation may fail.
fn converted<T: Copy, U>(
    values: &[T],
    convert: impl Fn(T) -> U,
) -> Result<Vec<U>, std::collections::TryReserveError> {
    let mut out = Vec::new();
    out.try_reserve_exact(values.len())?;
    out.extend(values.iter().map(|&v| convert(v)));
    Ok(out)
}

/// Appends `more` to `all`, failing rather than aborting when memory runs out.
fn appended<T: Copy>(
    all: &mut Vec<T>,
    more: &[T],
) -> Result<(), std::collections::TryReserveError> {
    all.try_reserve(more.len())?;
    all.extend_from_slice(more);
    Ok(())
}

/// The current page's BitsPerSample (of its first sample; 1 when absent).
fn bits_per_sample<R: std::io::Read + Seek>(decoder: &mut Decoder<R>) -> u16 {
    decoder
        .get_tag_u16_vec(Tag::BitsPerSample)
        .ok()
        .and_then(|b| b.first().copied())
        .unwrap_or(1)
}

/// Bytes a value of the current page takes once read: one to eight (16-bit signed and
/// 32-bit integers are widened to floats).
fn held_bytes_per_value<R: std::io::Read + Seek>(decoder: &mut Decoder<R>) -> u64 {
    let bits = bits_per_sample(decoder);
    // 1 unsigned, 2 signed integer, 3 float.
    let format = decoder
        .get_tag_u16_vec(Tag::SampleFormat)
        .ok()
        .and_then(|f| f.first().copied())
        .unwrap_or(1);
    match (bits, format) {
        (16, 2) => 4,
        (32, 1 | 2) => 8,
        _ => u64::from(bits).div_ceil(8).max(1),
    }
}

/// Checks the size of the current page's pixels before they are decoded: an
/// uncompressed page cannot hold more bytes than the file, a compressed one not more
/// than [`MAX_COMPRESSION_RATIO`] times the file, and the pixels of all pages so far
/// (`held` bytes) plus this one must fit in the memory budget. Returns the bytes held
/// once this page is read.
fn check_page_size<R: std::io::Read + Seek>(
    path: &Path,
    decoder: &mut Decoder<R>,
    page: usize,
    samples: usize,
    file_len: u64,
    held: u64,
    budget: u64,
) -> Result<u64> {
    let (width, height) = decoder.dimensions().map_err(|e| tiff_error(path, e))?;
    let bits = bits_per_sample(decoder);
    // The decoded page holds its rows packed to whole bytes.
    let held_bytes = held_bytes_per_value(decoder);
    let pixels = u64::from(width)
        .checked_mul(u64::from(height))
        .and_then(|n| n.checked_mul(samples as u64));
    let declared = (u64::from(width) * u64::from(bits))
        .div_ceil(8)
        .checked_mul(u64::from(height))
        .and_then(|n| n.checked_mul(samples as u64));
    let what = match declared {
        Some(bytes) => format!("page {page} declares {width} x {height} pixels ({bytes} bytes)"),
        None => format!("page {page} declares {width} x {height} pixels (more than 2^64 bytes)"),
    };
    let compression = decoder.get_tag_u32(Tag::Compression).unwrap_or(1);
    let declared = declared.unwrap_or(u64::MAX);
    if compression == 1 && declared > file_len {
        return Err(unreadable(
            path,
            format!("{what}, more than the {file_len}-byte file holds uncompressed"),
        ));
    }
    if declared > file_len.saturating_mul(MAX_COMPRESSION_RATIO) {
        return Err(unreadable(
            path,
            format!(
                "{what}, more than {MAX_COMPRESSION_RATIO} times the {file_len}-byte file: \
                 not a plausible compressed image"
            ),
        ));
    }
    let total = pixels
        .and_then(|n| n.checked_mul(held_bytes))
        .and_then(|n| n.checked_add(held))
        .unwrap_or(u64::MAX);
    // The page's decoded buffer is held besides the pixels while it is converted.
    if total.saturating_add(declared) > budget {
        return Err(problem(
            path,
            format!(
                "{what}: its pixels and those of the pages before need more than the \
                 {budget} bytes of this machine's memory"
            ),
        ));
    }
    Ok(total)
}

/// Checks the structure of a TIFF file against its length before the decoder reads it:
/// every directory, every tag's values and every strip or tile must lie within the
/// file, and the chain of directories must not loop. Files that are not TIFFs are left
/// to the decoder, which names the problem. Returns the planes the directories
/// announce: the sum of their SamplesPerPixel (1 when absent), as the reader counts
/// them (0 for a file left to the decoder).
fn check_layout(path: &Path, file: &mut File, file_len: u64) -> Result<usize> {
    let mut scan = Scan {
        reader: BufReader::new(file),
        little_endian: true,
        path,
        file_len,
    };
    let mut head = [0u8; 4];
    if scan.reader.read_exact(&mut head).is_err() {
        return Ok(0);
    }
    scan.little_endian = match &head[..2] {
        b"II" => true,
        b"MM" => false,
        _ => return Ok(0),
    };
    let big = match scan.uint(&head[2..4]) {
        42 => false,
        43 => true,
        _ => return Ok(0),
    };
    let mut offset = if big {
        let mut rest = [0u8; 12];
        if scan.reader.read_exact(&mut rest).is_err() {
            return Ok(0);
        }
        scan.uint(&rest[4..12])
    } else {
        let mut rest = [0u8; 4];
        if scan.reader.read_exact(&mut rest).is_err() {
            return Ok(0);
        }
        scan.uint(&rest)
    };
    // Brent's cycle detection: constant memory whatever the number of pages.
    let (mut saved, mut power, mut steps) = (offset, 1u64, 0u64);
    let mut page = 0u64;
    let mut planes = 0u64;
    while offset != 0 {
        page += 1;
        let samples;
        (offset, samples) = scan.directory(page, offset, big)?;
        planes = planes.saturating_add(samples);
        if offset == saved {
            return Err(unreadable(
                path,
                format!("the directory of page {page} links back to a page already read (the chain of pages loops)"),
            ));
        }
        steps += 1;
        if steps == power {
            (saved, power, steps) = (offset, power * 2, 0);
        }
    }
    Ok(usize::try_from(planes).unwrap_or(usize::MAX))
}

/// The state of [`check_layout`]'s walk through a file.
struct Scan<'a> {
    reader: BufReader<&'a mut File>,
    little_endian: bool,
    path: &'a Path,
    file_len: u64,
}

/// The values of a tag with an array of offsets or byte counts, as the directory gives
/// them: (type, count, value field).
type ArrayEntry = (u16, u64, [u8; 8]);

impl Scan<'_> {
    /// An unsigned integer of 1 to 8 bytes in the file's byte order.
    fn uint(&self, bytes: &[u8]) -> u64 {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if self.little_endian {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    }

    fn read(&mut self, at: u64, buf: &mut [u8]) -> Result<()> {
        self.reader
            .seek(std::io::SeekFrom::Start(at))
            .and_then(|_| self.reader.read_exact(buf))
            .map_err(|e| Error::io(self.path, e))
    }

    fn past_end(&self, what: String) -> Error {
        unreadable(
            self.path,
            format!(
                "{what} lies past the end of the file ({} bytes)",
                self.file_len
            ),
        )
    }

    /// Checks the directory at `offset` and returns the offset of the next one (0 at
    /// the end of the chain) and the directory's SamplesPerPixel (read as the decoder
    /// reads it: a single unsigned value, 0 and anything else count as 1).
    fn directory(&mut self, page: u64, offset: u64, big: bool) -> Result<(u64, u64)> {
        let (count_bytes, entry_bytes, inline) = if big { (8, 20, 8) } else { (2, 12, 4) };
        let mut count = [0u8; 8];
        if offset.saturating_add(count_bytes) > self.file_len {
            return Err(self.past_end(format!("the directory of page {page} (offset {offset})")));
        }
        self.read(offset, &mut count[..count_bytes as usize])?;
        let entries = self.uint(&count[..count_bytes as usize]);
        let size = entries
            .checked_mul(entry_bytes)
            .and_then(|n| n.checked_add(count_bytes + inline))
            .unwrap_or(u64::MAX);
        if offset.saturating_add(size) > self.file_len {
            return Err(self.past_end(format!(
                "the directory of page {page} ({entries} entries at offset {offset})"
            )));
        }
        let mut arrays: [Option<ArrayEntry>; 4] = [None; 4];
        let mut samples = 1;
        let mut entry = [0u8; 20];
        for i in 0..entries {
            let at = offset + count_bytes + i * entry_bytes;
            self.read(at, &mut entry[..entry_bytes as usize])?;
            let tag = self.uint(&entry[..2]) as u16;
            let kind = self.uint(&entry[2..4]) as u16;
            let (n, value) = if big {
                (self.uint(&entry[4..12]), &entry[12..20])
            } else {
                (self.uint(&entry[4..8]), &entry[8..12])
            };
            let Some(size) = type_size(kind) else {
                // Entries of unknown types are skipped by the decoder.
                continue;
            };
            let bytes = n.checked_mul(size);
            if bytes.is_none_or(|b| b > inline) {
                let at = self.uint(value);
                if bytes
                    .and_then(|b| at.checked_add(b))
                    .is_none_or(|end| end > self.file_len)
                {
                    return Err(self.past_end(format!(
                        "tag {} of page {page}, {n} values of {size} bytes at offset {at},",
                        tag_name(tag)
                    )));
                }
            }
            if Tag::from_u16_exhaustive(tag) == Tag::SamplesPerPixel
                && n == 1
                && matches!(kind, 1 | 3 | 4 | 16)
                && size <= inline
            {
                samples = self.uint(&value[..size as usize]).max(1);
            }
            let mut field = [0u8; 8];
            field[..value.len()].copy_from_slice(value);
            let slot = match Tag::from_u16_exhaustive(tag) {
                Tag::StripOffsets => 0,
                Tag::StripByteCounts => 1,
                Tag::TileOffsets => 2,
                Tag::TileByteCounts => 3,
                _ => continue,
            };
            arrays[slot] = Some((kind, n, field));
        }
        if let [Some(offsets), Some(counts), ..] = arrays {
            self.chunks(page, "strip", offsets, counts, inline)?;
        }
        if let [_, _, Some(offsets), Some(counts)] = arrays {
            self.chunks(page, "tile", offsets, counts, inline)?;
        }
        let mut next = [0u8; 8];
        let next_at = offset + count_bytes + entries * entry_bytes;
        self.read(next_at, &mut next[..inline as usize])?;
        Ok((self.uint(&next[..inline as usize]), samples))
    }

    /// Checks that every strip or tile (offset and byte count) lies within the file.
    /// The arrays themselves were checked to lie within it.
    fn chunks(
        &mut self,
        page: u64,
        what: &str,
        offsets: ArrayEntry,
        counts: ArrayEntry,
        inline: u64,
    ) -> Result<()> {
        let n = offsets.1.min(counts.1);
        // Read in batches of both arrays, so memory stays small whatever the count.
        const BATCH: u64 = 1024;
        let mut start = 0;
        while start < n {
            let len = BATCH.min(n - start);
            let first = self.values(offsets, start, len, inline)?;
            let sizes = self.values(counts, start, len, inline)?;
            for (i, (&at, &bytes)) in first.iter().zip(&sizes).enumerate() {
                if at.checked_add(bytes).is_none_or(|end| end > self.file_len) {
                    let index = start + i as u64 + 1;
                    return Err(self.past_end(format!(
                        "page {page}: {what} {index} of {} (offset {at}, {bytes} bytes)",
                        offsets.1
                    )));
                }
            }
            start += len;
        }
        Ok(())
    }

    /// `len` values of an array entry from value `start` on (SHORT, LONG or LONG8;
    /// other types give no values, the decoder refuses them).
    fn values(&mut self, entry: ArrayEntry, start: u64, len: u64, inline: u64) -> Result<Vec<u64>> {
        let (kind, count, field) = entry;
        let size = match kind {
            3 => 2,
            4 | 13 => 4,
            16 | 18 => 8,
            _ => return Ok(Vec::new()),
        };
        let mut raw = vec![0u8; (len * size) as usize];
        if count * size <= inline {
            let from = (start * size) as usize;
            let to = from + raw.len();
            raw.copy_from_slice(&field[from..to]);
        } else {
            let base = self.uint(&field[..inline as usize]);
            self.read(base + start * size, &mut raw)?;
        }
        Ok(raw.chunks(size as usize).map(|v| self.uint(v)).collect())
    }
}

/// The size in bytes of one value of a TIFF field type; `None` for types the decoder
/// does not know (and skips).
fn type_size(kind: u16) -> Option<u64> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 | 16 | 17 | 18 => Some(8),
        _ => None,
    }
}

/// A tag's name as the `tiff` crate knows it, else its number.
fn tag_name(tag: u16) -> String {
    match Tag::from_u16_exhaustive(tag) {
        Tag::Unknown(n) => format!("{n}"),
        known => format!("{known:?} ({tag})"),
    }
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

/// The description to write for an output of `pixel_type`: ImageJ's, without the display
/// range of the input's values; OME-XML with its `Pixels` elements saying the written
/// type (`Type="float"` over float32 pages, not the input's `uint16`); any other
/// description as it was.
fn output_description(description: &str, pixel_type: PixelType) -> String {
    if description.starts_with("ImageJ=") {
        description
            .lines()
            .filter(|l| !l.starts_with("min=") && !l.starts_with("max="))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        ome::with_pixel_type(description, pixel_type)
    }
}

/// A description as an ASCII-typed tag holding UTF-8, as OME-XML is written (`µm` is
/// its default unit) and as the reader reads it back; the `tiff` crate's `str` refuses
/// any byte above 127, which made writing such a description fail after all the work.
struct Text<'a>(&'a str);

impl TiffValue for Text<'_> {
    const BYTE_LEN: u8 = 1;
    const FIELD_TYPE: Type = Type::ASCII;

    fn count(&self) -> usize {
        self.0.len() + 1
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let mut bytes = Vec::with_capacity(self.0.len() + 1);
        bytes.extend_from_slice(self.0.as_bytes());
        bytes.push(0);
        Cow::Owned(bytes)
    }
}

/// Writes a stack as a multi-page TIFF (one page per plane, uncompressed), with the
/// given metadata. The file appears complete or not at all. The same file as
/// [`write_tiff_planes`] writes when given the stack's planes.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::ImageFile`] if the encoder
/// refuses the image.
pub fn write_tiff(path: &Path, stack: &ImageStack, metadata: &TiffMetadata) -> Result<()> {
    write_tiff_planes(path, stack.layout(), metadata, |writer| {
        writer.write_planes(stack)
    })
}

/// Writes a multi-page TIFF of `layout` a few planes at a time: `fill` hands the
/// planes, in order, to [`TiffPlaneWriter::write_planes`]; they go straight to the
/// temporary file, which becomes `path` once all `layout.planes` planes are written
/// (the file appears complete or not at all: after an error from `fill`, or too few
/// planes, nothing is left). The file is byte for byte what [`write_tiff`] writes for
/// the whole stack: ImageJ's layout (the pixels of all planes first, then one
/// directory per plane), classic TIFF or BigTIFF when the pixels exceed 4 GB.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::ImageFile`] if the encoder
/// refuses the image; [`Error::InvalidInput`] if the planes written are not
/// `layout.planes` planes of its size and type; any error `fill` returns.
pub fn write_tiff_planes(
    path: &Path,
    layout: StackLayout,
    metadata: &TiffMetadata,
    fill: impl FnOnce(&mut TiffPlaneWriter<'_>) -> Result<()>,
) -> Result<()> {
    if layout.width == 0 || layout.height == 0 || layout.planes == 0 {
        return Err(Error::InvalidInput(format!(
            "a TIFF file needs at least one pixel and one plane, got {} x {} x {}",
            layout.width, layout.height, layout.planes
        )));
    }
    write_atomically(path, |file| {
        let mut out = BufWriter::new(file);
        // Leave room for the directories within the 4 GB of a classic TIFF.
        if layout.bytes() < (1 << 32) - (64 << 20) {
            let mut encoder = TiffEncoder::new(&mut out).map_err(|e| tiff_error(path, e))?;
            write_pages::<_, TiffKindStandard>(&mut encoder, layout, metadata, path, fill)?;
        } else {
            let mut encoder = TiffEncoder::new_big(&mut out).map_err(|e| tiff_error(path, e))?;
            write_pages::<_, TiffKindBig>(&mut encoder, layout, metadata, path, fill)?;
        }
        out.flush().map_err(|e| Error::io(path, e))
    })
}

/// Where [`write_tiff_planes`]'s caller puts the planes, in order.
pub struct TiffPlaneWriter<'a> {
    sink: &'a mut dyn PixelSink,
    layout: StackLayout,
    path: &'a Path,
    /// Where each plane written so far starts in the file.
    offsets: Vec<u64>,
}

impl TiffPlaneWriter<'_> {
    /// Appends the planes of `planes` (of the file's width, height and pixel type).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the planes have another size or type than the file,
    /// or would be more than it holds; [`Error::Io`] or [`Error::ImageFile`] if
    /// writing fails.
    pub fn write_planes(&mut self, planes: &ImageStack) -> Result<()> {
        let layout = self.layout;
        if (planes.width(), planes.height(), planes.pixel_type())
            != (layout.width, layout.height, layout.pixel_type)
        {
            return Err(Error::InvalidInput(format!(
                "planes of {} x {} {} cannot go into a TIFF file of {} x {} {} planes",
                planes.width(),
                planes.height(),
                planes.pixel_type().name(),
                layout.width,
                layout.height,
                layout.pixel_type.name()
            )));
        }
        if self.offsets.len() + planes.planes() > layout.planes {
            return Err(Error::InvalidInput(format!(
                "{} more planes cannot go into a TIFF file of {} planes that has {}",
                planes.planes(),
                layout.planes,
                self.offsets.len()
            )));
        }
        let n = layout.width * layout.height;
        for plane in 0..planes.planes() {
            let offset = self
                .sink
                .write_pixels(planes.pixels(), plane * n..(plane + 1) * n)
                .map_err(|e| tiff_error(self.path, e))?;
            self.offsets.push(offset);
        }
        Ok(())
    }

    /// The planes written so far.
    pub fn planes_written(&self) -> usize {
        self.offsets.len()
    }
}

/// Writes pixel data at the file's current end, returning its offset: the first
/// directory of [`write_pages`], behind a type that does not name the file's kind.
trait PixelSink {
    fn write_pixels(&mut self, pixels: &Pixels, range: Range<usize>) -> TiffResult<u64>;
}

impl<W: Write + Seek, K: TiffKind> PixelSink for DirectoryEncoder<'_, W, K> {
    fn write_pixels(&mut self, pixels: &Pixels, range: Range<usize>) -> TiffResult<u64> {
        match pixels {
            Pixels::U8(v) => self.write_data(&v[range]),
            Pixels::U16(v) => self.write_data(&v[range]),
            Pixels::F32(v) => self.write_data(&v[range]),
            Pixels::F64(v) => self.write_data(&v[range]),
        }
    }
}

/// Writes the pages in ImageJ's own layout: the pixels of all planes first, one
/// contiguous block (handed over by `fill`), then one IFD per plane (each a single
/// uncompressed strip). ImageJ reads a stack whose description says `images=N` as one
/// block from the first strip on, so any other layout opens as garbage there; every
/// other TIFF reader follows the IFDs and is indifferent.
fn write_pages<W: Write + Seek, K: TiffKind>(
    encoder: &mut TiffEncoder<W, K>,
    layout: StackLayout,
    metadata: &TiffMetadata,
    path: &Path,
    fill: impl FnOnce(&mut TiffPlaneWriter<'_>) -> Result<()>,
) -> Result<()> {
    let fail = |e| tiff_error(path, e);
    let (bits, sample_format): (u16, u16) = match layout.pixel_type {
        PixelType::U8 => (8, 1),
        PixelType::U16 => (16, 1),
        PixelType::F32 => (32, 3),
        PixelType::F64 => (64, 3),
    };
    let description = metadata
        .description
        .as_deref()
        // A NUL would end the text early for every reader: keep what is before it.
        .map(|d| d.split('\0').next().unwrap_or_default())
        .map(|d| output_description(d, layout.pixel_type));
    let plane_bytes = (layout.width * layout.height * layout.pixel_type.bytes()) as u64;
    let tags = |dir: &mut DirectoryEncoder<'_, W, K>, plane: usize, offset: u64| {
        dir.write_tag(Tag::NewSubfileType, 0u32)?;
        dir.write_tag(Tag::ImageWidth, layout.width as u32)?;
        dir.write_tag(Tag::ImageLength, layout.height as u32)?;
        dir.write_tag(Tag::BitsPerSample, bits)?;
        dir.write_tag(Tag::Compression, 1u16)?;
        dir.write_tag(Tag::PhotometricInterpretation, 1u16)?;
        if plane == 0 {
            if let Some(d) = &description {
                dir.write_tag(Tag::ImageDescription, Text(d))?;
            }
        }
        dir.write_tag(Tag::StripOffsets, K::convert_offset(offset)?)?;
        dir.write_tag(Tag::SamplesPerPixel, 1u16)?;
        dir.write_tag(Tag::RowsPerStrip, layout.height as u32)?;
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
    let mut writer = TiffPlaneWriter {
        sink: &mut first,
        layout,
        path,
        offsets: Vec::new(),
    };
    fill(&mut writer)?;
    let offsets = writer.offsets;
    if offsets.len() != layout.planes {
        return Err(Error::InvalidInput(format!(
            "a TIFF file of {} planes was given {}",
            layout.planes,
            offsets.len()
        )));
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
