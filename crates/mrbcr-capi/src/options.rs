//! Deconvolution options across the C ABI: a handle with one setter per option, so
//! that options can be added without changing any existing function or struct.

use std::ffi::c_char;

use super::{guard, guard_value, non_null, non_null_mut, utf8_parameter, Failure, FfiResult};
use mrbcr::deconvolve::{DeconvolveOptions, Normalization, OutputRange};

/// Settings of a deconvolution run (opaque). Made by `mrbcr_options_new` with the
/// defaults, changed by the `mrbcr_options_set_*` functions, freed by
/// `mrbcr_options_free`.
///
/// Options may be shared by threads that only read them (pass them to
/// `mrbcr_deconvolve`), but must not be changed while another thread uses them.
#[allow(non_camel_case_types)]
pub struct mrbcr_options {
    _private: [u8; 0],
}

/// The intensity scale of the result (`mrbcr_options_set_output_range`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mrbcr_output_range {
    /// Mapped back to the input's intensities (the default): the inverse of the
    /// normalisation, so the result can be stored in the input's pixel type.
    Input = 0,
    /// The network's own output, normalised (about 0 to 1). Only with a
    /// floating-point output.
    Normalized = 1,
}

/// The options behind a handle, or [`super::mrbcr_status::NullParameter`].
///
/// # Safety
/// `options` is NULL or a handle from `mrbcr_options_new` not yet freed, not used by
/// another thread for the lifetime `'a`.
unsafe fn options_mut<'a>(options: *mut mrbcr_options) -> FfiResult<&'a mut DeconvolveOptions> {
    // SAFETY: a non-NULL handle points to DeconvolveOptions, by the caller's contract.
    unsafe { non_null_mut(options.cast::<DeconvolveOptions>(), "options") }
}

/// The options behind a handle; NULL gives the defaults.
///
/// # Safety
/// `options` is NULL or a handle from `mrbcr_options_new` not yet freed.
pub(crate) unsafe fn options_or_default(options: *const mrbcr_options) -> DeconvolveOptions {
    // SAFETY: a non-NULL handle points to DeconvolveOptions, by the caller's contract.
    unsafe { options.cast::<DeconvolveOptions>().as_ref() }
        .cloned()
        .unwrap_or_default()
}

/// The overlap of the options from its C value: `MRBCR_OVERLAP_OF_MODEL` (`SIZE_MAX`,
/// defined in cbindgen.toml's `after_includes`) stands for the model's own.
fn overlap_from_c(overlap: usize) -> Option<usize> {
    Some(overlap).filter(|&o| o != usize::MAX)
}

/// The C value of the options' overlap: the converse of [`overlap_from_c`].
fn overlap_to_c(overlap: Option<usize>) -> usize {
    overlap.unwrap_or(usize::MAX)
}

/// Makes options with the defaults: tiles of 1024 pixels overlapping by the model's
/// own overlap (`MRBCR_OVERLAP_OF_MODEL`: the one its file records, else 128),
/// normalisation `percentile:1:99.8`, output range `MRBCR_OUTPUT_RANGE_INPUT`, every
/// core (those of the Rust API and the `mrbcr` tool). The caller frees them with
/// `mrbcr_options_free`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options_out` is NULL.
///
/// # Safety
/// `options_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_new(
    options_out: *mut *mut mrbcr_options,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let options_out = unsafe { non_null_mut(options_out, "options_out") }?;
        *options_out = Box::into_raw(Box::new(DeconvolveOptions::default())).cast();
        Ok(())
    })
}

/// Frees options. NULL is accepted and does nothing.
///
/// # Safety
/// `options` is NULL or options from `mrbcr_options_new` that have not been freed and
/// that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_free(options: *mut mrbcr_options) {
    guard_value((), || {
        if !options.is_null() {
            // SAFETY: a handle made by Box::into_raw in mrbcr_options_new, freed once.
            drop(unsafe { Box::from_raw(options.cast::<DeconvolveOptions>()) });
        }
    })
}

/// Sets the side of the largest square tiles images are cut into: a multiple of 4 of at
/// least 32, or 0 to run the network on each whole plane at once (memory grows with the
/// image, about 1.3 KiB per pixel). A run takes smaller tiles (halved, down to 512) when
/// its memory budget cannot hold one. See `mrbcr_options_new` for the default.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL; `MRBCR_STATUS_INVALID_INPUT` if
/// `tile` is not 0 or a multiple of 4 of at least 32 (the options are then unchanged).
/// Whether the overlap is below the tile is checked by `mrbcr_deconvolve`, so the two
/// can be set in any order.
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_tile(
    options: *mut mrbcr_options,
    tile: usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let options = unsafe { options_mut(options) }?;
        // The tile's own rule, without the overlap (checked when the run starts).
        DeconvolveOptions {
            tile,
            overlap: None,
            ..DeconvolveOptions::default()
        }
        .validate()?;
        options.tile = tile;
        Ok(())
    })
}

/// Sets how many pixels neighbouring tiles share (blended smoothly); it must be below
/// the tile size when the run starts. `MRBCR_OVERLAP_OF_MODEL` goes back to the
/// model's own overlap, the default (see `mrbcr_options_new`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_overlap(
    options: *mut mrbcr_options,
    overlap: usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { options_mut(options) }?.overlap = overlap_from_c(overlap);
        Ok(())
    })
}

/// Sets how pixel values are scaled for the network, by its text form:
/// `percentile:LOW:HIGH` (the LOW and HIGH percentiles of each plane map to 0 and 1),
/// `percentile` (= `percentile:1:99.8`, the default), `minmax` (each plane's minimum
/// and maximum), `per-tile-minmax` (each tile's own, as the authors trained) or `none`
/// (the input is already normalised).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL; `MRBCR_STATUS_INVALID_INPUT`
/// (the message quotes the text) for any other text or bad percentiles (the options
/// are then unchanged).
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile;
/// `normalization` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_normalization(
    options: *mut mrbcr_options,
    normalization: *const c_char,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let options = unsafe { options_mut(options) }?;
        // SAFETY: NULL or NUL-terminated, by the caller's contract.
        let text = unsafe { utf8_parameter(normalization, "normalization") }?;
        options.normalization = text.parse::<Normalization>()?;
        Ok(())
    })
}

/// Sets percentile normalisation with the given percentiles: the same as
/// `mrbcr_options_set_normalization` with `percentile:LOW:HIGH`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL; `MRBCR_STATUS_INVALID_INPUT`
/// unless 0 <= low < high <= 100 (the options are then unchanged).
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_percentiles(
    options: *mut mrbcr_options,
    low: f64,
    high: f64,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let options = unsafe { options_mut(options) }?;
        let normalization = Normalization::Percentile { low, high };
        normalization.validate()?;
        options.normalization = normalization;
        Ok(())
    })
}

/// Sets the intensity scale of the result: an `mrbcr_output_range` value. Default
/// `MRBCR_OUTPUT_RANGE_INPUT`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL; `MRBCR_STATUS_INVALID_INPUT` if
/// `output_range` is not an `mrbcr_output_range` value.
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_output_range(
    options: *mut mrbcr_options,
    output_range: u32,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let options = unsafe { options_mut(options) }?;
        options.output_range = match output_range {
            x if x == mrbcr_output_range::Input as u32 => OutputRange::Input,
            x if x == mrbcr_output_range::Normalized as u32 => OutputRange::Normalized,
            other => {
                return Err(Failure::invalid(format!(
                    "unknown output range {other}: expected MRBCR_OUTPUT_RANGE_INPUT (0) or \
                     MRBCR_OUTPUT_RANGE_NORMALIZED (1)"
                )))
            }
        };
        Ok(())
    })
}

/// Sets the most working memory a run's tiles may take, bytes; 0 (the default) is
/// what the system has available. A low limit runs fewer tiles at once (the result is
/// the same); a run whose single tile needs more (a whole plane, tile 0, of a large
/// image) fails with `MRBCR_STATUS_OUT_OF_MEMORY` and the estimate in its message,
/// before anything is allocated.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_memory_limit(
    options: *mut mrbcr_options,
    bytes: u64,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { options_mut(options) }?.memory_limit = bytes;
        Ok(())
    })
}

/// Sets the number of worker threads of a run; 0 (the default) uses every core. The
/// result does not depend on it. A run asked for more than 4 threads per core fails
/// with `MRBCR_STATUS_INVALID_INPUT` (a message naming the limit).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_set_threads(
    options: *mut mrbcr_options,
    threads: usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { options_mut(options) }?.threads = threads;
        Ok(())
    })
}

/// The options behind a handle, for reading.
///
/// # Safety
/// `options` is NULL or a handle from `mrbcr_options_new` not yet freed, not changed
/// by another thread for the lifetime `'a`.
unsafe fn options_ref<'a>(options: *const mrbcr_options) -> FfiResult<&'a DeconvolveOptions> {
    // SAFETY: a non-NULL handle points to DeconvolveOptions, by the caller's contract.
    unsafe { non_null(options.cast::<DeconvolveOptions>(), "options") }
}

/// Reads the options' tile side, overlap, output range (an `mrbcr_output_range`
/// value), thread count and memory limit: on options fresh from `mrbcr_options_new`,
/// the defaults, so that front ends show them without repeating them. Each out-pointer
/// may be NULL (that value is not wanted).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid options not changed by another thread meanwhile; each
/// out-pointer is NULL or writable for its type.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_get(
    options: *const mrbcr_options,
    tile_out: *mut usize,
    overlap_out: *mut usize,
    output_range_out: *mut u32,
    threads_out: *mut usize,
    memory_limit_out: *mut u64,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and not changed meanwhile, by the caller's contract.
        let options = unsafe { options_ref(options) }?;
        let output_range = match options.output_range {
            OutputRange::Input => mrbcr_output_range::Input,
            OutputRange::Normalized => mrbcr_output_range::Normalized,
        };
        // SAFETY: each out-pointer is NULL or writable for its type (this function's
        // contract), which is all `write_if_wanted` needs.
        unsafe {
            write_if_wanted(tile_out, options.tile);
            write_if_wanted(overlap_out, overlap_to_c(options.overlap));
            write_if_wanted(output_range_out, output_range as u32);
            write_if_wanted(threads_out, options.threads);
            write_if_wanted(memory_limit_out, options.memory_limit);
        }
        Ok(())
    })
}

/// Writes `value` through `pointer` unless it is NULL.
///
/// # Safety
/// `pointer` is NULL or writable for a `T`.
unsafe fn write_if_wanted<T>(pointer: *mut T, value: T) {
    if !pointer.is_null() {
        // SAFETY: not NULL, and writable by the caller's contract.
        unsafe { pointer.write(value) };
    }
}

/// Writes the options' normalisation in its text form (as
/// `mrbcr_options_set_normalization` takes it, e.g. `percentile:1:99.8`), NUL
/// terminated, into `buffer` of `capacity` bytes, and its length without the NUL into
/// `*length_out`. `buffer` may be NULL with `capacity` 0 to ask for the length.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` or `length_out` is NULL, or `buffer` is
/// NULL with a non-zero `capacity`; `MRBCR_STATUS_INVALID_INPUT` if the text and its
/// NUL do not fit in `capacity` bytes (`*length_out` is set all the same, nothing is
/// written into `buffer`).
///
/// # Safety
/// `options` is NULL or valid options not changed by another thread meanwhile;
/// `buffer` is NULL or writable for `capacity` bytes; `length_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_options_get_normalization(
    options: *const mrbcr_options,
    buffer: *mut c_char,
    capacity: usize,
    length_out: *mut usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and not changed meanwhile, by the caller's contract.
        let options = unsafe { options_ref(options) }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let length_out = unsafe { non_null_mut(length_out, "length_out") }?;
        let text = options.normalization.to_string();
        *length_out = text.len();
        if capacity == 0 {
            return Ok(());
        }
        // SAFETY: NULL or writable, by the caller's contract.
        let buffer: *mut c_char = unsafe { non_null_mut(buffer, "buffer") }?;
        if text.len() >= capacity {
            return Err(Failure::invalid(format!(
                "the normalisation '{text}' needs {} bytes, the buffer has {capacity}",
                text.len() + 1
            )));
        }
        // SAFETY: buffer is writable for capacity > text.len() bytes, by the caller's
        // contract, and does not overlap the new String.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
            buffer.add(text.len()).write(0);
        }
        Ok(())
    })
}
