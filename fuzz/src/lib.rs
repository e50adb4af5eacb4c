//! The bodies of the fuzz targets. Each takes the fuzzer's bytes through one of
//! mrbcr's input paths and panics (a crash for libFuzzer, a failure for the replay
//! test) only when mrbcr misbehaves: a panic of its own, an error of the wrong kind,
//! a C status the header does not document for the case, or memory written outside
//! an output image.
//!
//! This file is compiled twice: as the library of the fuzz crate (fuzz/Cargo.toml),
//! called by fuzz_targets/*.rs under libFuzzer, and as a module of the main crate's
//! tests/fuzz_corpus.rs, which replays corpus/ and regressions/ on stable Rust. So it
//! uses nothing but std, mrbcr and serde_json (a dependency of both).
//!
//! Every target returns at once on an input longer than [`MAX_INPUT`].

use std::ffi::{c_int, c_void};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use mrbcr::formats::model_file::{model_to_bytes, read_model};
use mrbcr::formats::tf_bundle::TfBundle;
use mrbcr::formats::tf_import::import_from_bundle;
use mrbcr::formats::tiff::read_tiff;
use mrbcr::{Error, Model};
use mrbcr_capi::*;

/// The longest input a target reads; a longer one returns at once. Run libFuzzer with
/// `-max_len` at most this.
pub const MAX_INPUT: usize = 64 << 10;

/// The largest file [`model_file`] and [`tf_bundle`] make by zero-padding their input:
/// a model's weights take 0.95 MB, more than [`MAX_INPUT`].
pub const MAX_PADDED: usize = 2 << 20;

// ---------------------------------------------------------------------------------
// tiff_read

/// A file holding the fuzzer's bytes, removed when dropped (the TIFF reader reads
/// paths). Unique per process and call, so tests may run in parallel.
struct TempFile(PathBuf);

impl TempFile {
    fn new(bytes: &[u8], extension: &str) -> TempFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mrbcr-fuzz-{}-{n}.{extension}", std::process::id()));
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `tiff_read`: the bytes as a TIFF file, read by `mrbcr::formats::tiff::read_tiff`
/// (what `mrbcr deconvolve`, `rl`, `train` and `mrbcr_train_tiff_pairs` read).
/// It must give a stack whose pixels fill its dimensions, `Error::ImageFile` or
/// `Error::OutOfMemory`.
pub fn tiff_read(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let file = TempFile::new(data, "tif");
    match read_tiff(&file.0) {
        Ok(image) => {
            let s = &image.stack;
            assert!(s.width() > 0 && s.height() > 0 && s.planes() > 0);
            assert_eq!(s.pixels().len(), s.width() * s.height() * s.planes());
        }
        Err(Error::ImageFile { .. } | Error::OutOfMemory { .. }) => {}
        Err(other) => panic!("a TIFF file gave an error that is not Error::ImageFile: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// model_file

/// The length a safetensors file declares: 8 + header length + the end of its last
/// tensor's data, if its header parses.
fn declared_safetensors_len(file: &[u8]) -> Option<usize> {
    let n = usize::try_from(u64::from_le_bytes(file.get(..8)?.try_into().ok()?)).ok()?;
    let header = file.get(8..8usize.checked_add(n)?)?;
    let header: serde_json::Value = serde_json::from_slice(header).ok()?;
    let mut end = 0u64;
    for (key, tensor) in header.as_object()? {
        if key != "__metadata__" {
            end = end.max(tensor.get("data_offsets")?.get(1)?.as_u64()?);
        }
    }
    (8 + n).checked_add(usize::try_from(end).ok()?)
}

/// `model_file`: a model file read by `mrbcr::formats::model_file::read_model` (what
/// `Model::load`, `Model::from_bytes`, `mrbcr_model_load` and `mrbcr_model_from_bytes`
/// run), then made into a model. The first byte is a switch, the rest the file: if its
/// lowest bit is set, the file is extended with zero bytes to the length its
/// safetensors header declares (at most [`MAX_PADDED`]), so that inputs within
/// [`MAX_INPUT`] reach the checks of whole files (tensor by tensor, metadata) and
/// loading; otherwise the file is read as it is.
///
/// It must give `Error::ModelFile`, or weights that are written back and read again
/// identically.
pub fn model_file(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Some((&switch, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    if switch & 1 == 1 {
        if let Some(len) = declared_safetensors_len(&file) {
            if len > file.len() && len <= MAX_PADDED {
                file.resize(len, 0);
            }
        }
    }
    match read_model(&file, "fuzz.safetensors") {
        Ok((weights, metadata)) => {
            let again = model_to_bytes(&weights, &metadata).expect("a model read is written");
            let (weights2, metadata2) = read_model(&again, "rewritten").expect("and read again");
            assert_eq!(metadata, metadata2);
            assert!(
                weights == weights2,
                "the weights change when written and read"
            );
            let _ = Model::from_weights(&weights, metadata);
        }
        Err(Error::ModelFile { .. } | Error::OutOfMemory { .. }) => {}
        Err(other) => panic!("a model file gave an error that is not Error::ModelFile: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// tf_bundle

/// `tf_bundle`: a TensorFlow tensor bundle imported as `mrbcr import-tf` does
/// (`TfBundle::from_bytes`, then `import_from_bundle`). The input is a 4-byte
/// little-endian index length, the index file, then the data file; if the index
/// decodes and its entries reach beyond the data, the data is extended with zero
/// bytes to their end (at most [`MAX_PADDED`]), so that small inputs reach the
/// tensor checks and the import of a whole model.
///
/// It must give `Error::Checkpoint`, or weights that a model file keeps exactly.
pub fn tf_bundle(data: &[u8]) {
    if data.len() < 4 || data.len() > MAX_INPUT {
        return;
    }
    let (length, rest) = data.split_at(4);
    let length = (u32::from_le_bytes(length.try_into().unwrap()) as usize).min(rest.len());
    let (index, data) = rest.split_at(length);
    let open = |data: Vec<u8>| TfBundle::from_bytes(index, data, "fuzz.index", "fuzz.data");
    let mut bundle = match open(data.to_vec()) {
        Ok(b) => b,
        Err(Error::Checkpoint { .. } | Error::OutOfMemory { .. }) => return,
        Err(other) => panic!("an index gave an error that is not Error::Checkpoint: {other:?}"),
    };
    let end = bundle
        .keys()
        .filter_map(|k| bundle.entry(k))
        .map(|e| e.offset.saturating_add(e.size))
        .max()
        .unwrap_or(0);
    if end > data.len() as u64 && end <= MAX_PADDED as u64 {
        let mut padded = data.to_vec();
        padded.resize(end as usize, 0);
        bundle = open(padded).expect("the index decoded once");
    }
    match import_from_bundle(&bundle) {
        Ok(weights) => {
            let meta = mrbcr::ModelMetadata::new("fuzz");
            let bytes = model_to_bytes(&weights, &meta).expect("imported weights are written");
            let (again, _) = read_model(&bytes, "imported").expect("and read again");
            assert!(
                weights == again,
                "the imported weights change in a model file"
            );
        }
        Err(Error::Checkpoint { .. } | Error::OutOfMemory { .. }) => {}
        Err(other) => panic!("a bundle gave an error that is not Error::Checkpoint: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------
// ffi_descriptor

/// The bytes the images of [`ffi_descriptor`] live in (aligned to 8).
const ARENA_BYTES: usize = 16 << 10;

/// The fuzzer's bytes as numbers; zeros once they run out.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }
    fn f64(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }
    fn flag(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A size: mostly small, sometimes any 16, 32 or 64-bit value or an edge case.
    fn size(&mut self) -> usize {
        const EDGES: [usize; 8] = [
            0,
            1,
            usize::MAX,
            isize::MAX as usize,
            isize::MAX as usize + 1,
            1 << 31,
            1 << 32,
            usize::MAX / 8 + 1,
        ];
        match self.u8() % 8 {
            0..=3 => self.u8() as usize,
            4 => self.u16() as usize,
            5 => self.u32() as usize,
            6 => self.u64() as usize,
            _ => EDGES[self.u8() as usize % EDGES.len()],
        }
    }

    /// A stride: 0 (packed) half the time, otherwise a [`Reader::size`].
    fn stride(&mut self) -> usize {
        if self.flag() {
            0
        } else {
            self.size()
        }
    }
}

/// An image descriptor as a C caller fills it, placed in the arena.
#[derive(Debug, Clone, Copy)]
struct Desc {
    /// The descriptor pointer itself is NULL.
    missing: bool,
    /// Its data pointer is NULL.
    null_data: bool,
    /// Byte offset of the data in the arena (any alignment).
    offset: usize,
    pixel_type: u32,
    width: usize,
    height: usize,
    planes: usize,
    row_stride: usize,
    plane_stride: usize,
}

impl Desc {
    fn read(r: &mut Reader) -> Desc {
        let flags = r.u8();
        let pixel_type = match r.u8() {
            t @ 0..=0xef => u32::from(t % 4),
            _ => r.u32(),
        };
        Desc {
            missing: flags & 0x1f == 0x1f,
            null_data: flags & 0x1f == 0x1e,
            offset: r.u16() as usize % ARENA_BYTES,
            pixel_type,
            width: r.size(),
            height: r.size(),
            planes: if flags & 0x20 == 0 { 1 } else { r.size() },
            row_stride: r.stride(),
            plane_stride: r.stride(),
        }
    }
}

/// What the header's rules (`mrbcr_image_in`) say of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// NULL where a pointer is needed.
    Null,
    /// Not a valid descriptor: the call must fail with `MRBCR_STATUS_INVALID_INPUT`.
    Invalid,
    /// Valid, spanning arena bytes `start..end` (which may lie beyond the arena).
    Valid { start: usize, end: usize },
}

/// The verdict of the header's rules on `d` whose data is at address `base + offset`:
/// a known pixel type, no empty dimension, strides (0 for packed) multiples of the
/// pixel size and large enough that rows and planes never overlap, an extent within
/// the address space, data aligned to the pixel size.
fn verdict(d: &Desc, base: usize) -> Verdict {
    if d.missing || d.null_data {
        return Verdict::Null;
    }
    let invalid = Verdict::Invalid;
    let size = match d.pixel_type {
        0 => 1,
        1 => 2,
        2 => 4,
        3 => 8,
        _ => return invalid,
    };
    if d.width == 0 || d.height == 0 || d.planes == 0 {
        return invalid;
    }
    let Some(row_bytes) = d.width.checked_mul(size) else {
        return invalid;
    };
    let row_stride = if d.row_stride == 0 {
        row_bytes
    } else {
        d.row_stride
    };
    if !row_stride.is_multiple_of(size) || row_stride < row_bytes {
        return invalid;
    }
    let Some(plane_bytes) = (d.height - 1)
        .checked_mul(row_stride)
        .and_then(|n| n.checked_add(row_bytes))
    else {
        return invalid;
    };
    let plane_stride = if d.plane_stride != 0 {
        d.plane_stride
    } else if let Some(s) = d.height.checked_mul(row_stride) {
        s
    } else {
        return invalid;
    };
    if !plane_stride.is_multiple_of(size) || plane_stride < plane_bytes {
        return invalid;
    }
    let address = base + d.offset;
    let Some(extent) = (d.planes - 1)
        .checked_mul(plane_stride)
        .and_then(|n| n.checked_add(plane_bytes))
        .filter(|&n| n <= isize::MAX as usize)
        .filter(|&n| address.checked_add(n).is_some())
    else {
        return invalid;
    };
    if !address.is_multiple_of(size) {
        return invalid;
    }
    Verdict::Valid {
        start: d.offset,
        end: d.offset + extent,
    }
}

/// Marks the bytes of the pixels of `d` (valid, within the arena) in `mask`.
fn mark_pixels(d: &Desc, mask: &mut [bool]) {
    let size = [1, 2, 4, 8][d.pixel_type as usize];
    let row_stride = if d.row_stride == 0 {
        d.width * size
    } else {
        d.row_stride
    };
    let plane_stride = if d.plane_stride == 0 {
        d.height * row_stride
    } else {
        d.plane_stride
    };
    for p in 0..d.planes {
        for y in 0..d.height {
            let row = d.offset + p * plane_stride + y * row_stride;
            mask[row..row + d.width * size].fill(true);
        }
    }
}

/// The bundled model, made once per process (a C caller's `mrbcr_model *`).
fn default_model() -> *const mrbcr_model {
    static MODEL: OnceLock<usize> = OnceLock::new();
    *MODEL.get_or_init(|| {
        let mut model = std::ptr::null_mut();
        // SAFETY: a valid out-parameter.
        let status = unsafe { mrbcr_model_new_default(&mut model) };
        assert_eq!(status, mrbcr_status::Ok);
        model as usize
    }) as *const mrbcr_model
}

/// A progress callback that cancels once the `u32` behind `user_data` counts down to
/// zero.
unsafe extern "C" fn countdown(_fraction: f64, user_data: *mut c_void) -> c_int {
    // SAFETY: `user_data` is the `u32` ffi_descriptor passes, alive during the call.
    let left = unsafe { &mut *user_data.cast::<u32>() };
    if *left == 0 {
        return 0;
    }
    *left -= 1;
    1
}

/// `ffi_descriptor`: the C ABI's image descriptors. Decodes from the bytes one of
/// `mrbcr_wiener`, `mrbcr_richardson_lucy`, `mrbcr_score`, `mrbcr_psf_compute`,
/// `mrbcr_deconvolve` (the bundled model) or `mrbcr_simulate_pair`, with descriptors
/// of fuzzed pointers (NULL or into a 16 KiB arena, any alignment), pixel types,
/// sizes and strides, small numeric parameters and a progress callback that may
/// cancel. The arena's bytes repeat a fuzzed 4-byte pattern.
///
/// The harness is a caller that keeps the header's contract: it judges each
/// descriptor by the header's rules and never passes a *valid* one that reaches past
/// the arena (that input is skipped), but passes every invalid one. Then:
/// - a NULL or invalid descriptor must give `MRBCR_STATUS_NULL_PARAMETER` or
///   `MRBCR_STATUS_INVALID_INPUT` (an invalid descriptor that the library used
///   instead would read or write outside the arena: AddressSanitizer catches it);
/// - otherwise the status is one the function documents (never `MRBCR_STATUS_PANIC`);
///   overlapping output memory must be refused;
/// - no byte of the arena changes except the pixels of the outputs.
pub fn ffi_descriptor(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let mut r = Reader(data);
    let function = r.u8() % 6;
    let pattern: [u8; 4] = r.bytes();
    let descs = [Desc::read(&mut r), Desc::read(&mut r), Desc::read(&mut r)];
    let mut arena = vec![0u64; ARENA_BYTES / 8];
    let arena_ptr = arena.as_mut_ptr().cast::<u8>();
    // The arena's bytes (a fresh slice each time: the library writes through raw
    // pointers in between).
    // SAFETY: the u64 buffer viewed as its bytes, not otherwise accessed meanwhile.
    let arena_bytes = || unsafe { std::slice::from_raw_parts_mut(arena_ptr, ARENA_BYTES) };
    for (i, b) in arena_bytes().iter_mut().enumerate() {
        *b = pattern[i % 4];
    }
    let base = arena_ptr as usize;
    // Which descriptors the function takes, and which of them it writes.
    let (used, written): (usize, &[usize]) = match function {
        0 | 1 => (3, &[2]), // input, psf, output
        2 => (2, &[]),      // restored, truth
        3 => (1, &[0]),     // psf_out
        4 => (2, &[1]),     // input, output
        _ => (2, &[0, 1]),  // raw_out, truth_out
    };
    let verdicts: Vec<Verdict> = descs[..used].iter().map(|d| verdict(d, base)).collect();
    if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Valid { end, .. } if *end > ARENA_BYTES))
    {
        // Valid, but more memory than the arena: no honest caller passes it.
        return;
    }
    let span = |i: usize| match verdicts[i] {
        Verdict::Valid { start, end } => Some((start, end)),
        _ => None,
    };
    let all_valid = verdicts.iter().all(|v| matches!(v, Verdict::Valid { .. }));
    // An output sharing bytes with another image of the call.
    let overlap = written.iter().any(|&w| {
        (0..used).any(|o| {
            o != w && matches!((span(w), span(o)), (Some((a, b)), Some((c, d))) if a < d && c < b)
        })
    });
    let mut writable = vec![false; ARENA_BYTES];
    if all_valid {
        for &w in written {
            mark_pixels(&descs[w], &mut writable);
        }
    }
    let before = arena_bytes().to_vec();

    let data_at = |d: &Desc| {
        if d.null_data {
            std::ptr::null_mut()
        } else {
            arena_ptr.wrapping_add(d.offset).cast::<c_void>()
        }
    };
    let image_in = |d: &Desc| mrbcr_image_in {
        data: data_at(d),
        pixel_type: d.pixel_type,
        width: d.width,
        height: d.height,
        planes: d.planes,
        row_stride: d.row_stride,
        plane_stride: d.plane_stride,
    };
    let image_out = |d: &Desc| mrbcr_image_out {
        data: data_at(d),
        pixel_type: d.pixel_type,
        width: d.width,
        height: d.height,
        planes: d.planes,
        row_stride: d.row_stride,
        plane_stride: d.plane_stride,
    };
    let (ins, outs) = (descs.map(|d| image_in(&d)), descs.map(|d| image_out(&d)));
    let in_ptr = |i: usize| {
        if descs[i].missing {
            std::ptr::null()
        } else {
            &ins[i] as *const mrbcr_image_in
        }
    };
    let out_ptr = |i: usize| {
        if descs[i].missing {
            std::ptr::null()
        } else {
            &outs[i] as *const mrbcr_image_out
        }
    };
    let mut left = u32::from(r.u8());
    let (progress, user_data): (mrbcr_progress_callback, *mut c_void) = if r.flag() {
        (Some(countdown), (&mut left as *mut u32).cast())
    } else {
        (None, std::ptr::null_mut())
    };

    // SAFETY: every pointer is NULL or valid: descriptors of arena memory (or invalid
    // ones, which the library must refuse before touching memory), handles made by
    // the library, writable doubles, a callback safe with its user data.
    let status = unsafe {
        match function {
            0 => mrbcr_wiener(in_ptr(0), in_ptr(1), r.f64(), out_ptr(2)),
            1 => mrbcr_richardson_lucy(
                in_ptr(0),
                in_ptr(1),
                (r.u8() % 4) as usize,
                r.f64(),
                out_ptr(2),
                progress,
                user_data,
            ),
            2 => {
                let (mut psnr, mut ssim) = (0.0, 0.0);
                mrbcr_score(in_ptr(0), in_ptr(1), &mut psnr, &mut ssim)
            }
            3 => {
                let mut params = std::ptr::null_mut();
                assert_eq!(mrbcr_psf_params_new(&mut params), mrbcr_status::Ok);
                // Sizes the caller chooses: small, or the descriptor's own.
                let (w, h) = if r.flag() {
                    (descs[0].width, descs[0].height)
                } else {
                    (r.u8() as usize, r.u8() as usize)
                };
                let _ = mrbcr_psf_params_set_size(params, w, h);
                let status = mrbcr_psf_compute(params, u32::from(r.u8() % 3), out_ptr(0));
                mrbcr_psf_params_free(params);
                status
            }
            4 => {
                let mut options = std::ptr::null_mut();
                assert_eq!(mrbcr_options_new(&mut options), mrbcr_status::Ok);
                let _ = mrbcr_options_set_threads(options, 1);
                if r.flag() {
                    let _ = mrbcr_options_set_tile(options, r.u8() as usize);
                    let _ = mrbcr_options_set_overlap(options, (r.u8() % 64) as usize);
                }
                if r.flag() {
                    let _ = mrbcr_options_set_output_range(options, u32::from(r.u8() % 3));
                }
                let status = mrbcr_deconvolve(
                    default_model(),
                    options,
                    in_ptr(0),
                    out_ptr(1),
                    progress,
                    user_data,
                );
                mrbcr_options_free(options);
                status
            }
            _ => {
                let mut params = std::ptr::null_mut();
                assert_eq!(mrbcr_simulation_params_new(&mut params), mrbcr_status::Ok);
                let (w, h) = if r.flag() {
                    (descs[0].width, descs[0].height)
                } else {
                    (r.u8() as usize, r.u8() as usize)
                };
                let _ = mrbcr_simulation_params_set_size(params, w, h);
                // A small PSF, sampled once per pixel: a simulation in milliseconds.
                let _ = mrbcr_simulation_params_set_psf_size(params, 9);
                let _ = mrbcr_simulation_params_set_oversampling(params, 1);
                let status = mrbcr_simulate_pair(
                    params,
                    r.u64(),
                    r.u64(),
                    out_ptr(0),
                    out_ptr(1),
                    std::ptr::null_mut(),
                );
                mrbcr_simulation_params_free(params);
                status
            }
        }
    };

    use mrbcr_status as S;
    let last_error = || {
        // SAFETY: the library's NUL-terminated message, valid until its next call.
        unsafe { std::ffi::CStr::from_ptr(mrbcr_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    };
    assert_ne!(status, S::Panic, "function {function}: {}", last_error());
    if verdicts.contains(&Verdict::Null) || verdicts.contains(&Verdict::Invalid) {
        assert!(
            matches!(status, S::NullParameter | S::InvalidInput),
            "function {function} took {descs:?} ({verdicts:?}) with status {status:?}"
        );
    } else {
        let cancellable = matches!(function, 1 | 4);
        assert!(
            matches!(status, S::Ok | S::InvalidInput | S::OutOfMemory)
                || (cancellable && status == S::Cancelled && progress.is_some()),
            "function {function}: status {status:?}: {}",
            last_error()
        );
        assert!(
            !(overlap && status == S::Ok),
            "function {function} wrote an output over another image of the call: {descs:?}"
        );
    }
    let after = arena_bytes();
    if let Some(i) = (0..ARENA_BYTES).find(|&i| after[i] != before[i] && !writable[i]) {
        panic!(
            "function {function} (status {status:?}) changed arena byte {i}, outside the \
             pixels of its outputs: {descs:?}"
        );
    }
}
