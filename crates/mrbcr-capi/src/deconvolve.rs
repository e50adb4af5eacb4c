//! Deconvolution across the C ABI: image descriptors, their validation, progress.

use std::ffi::{c_int, c_void};

use ndarray::{ArrayView3, ArrayViewMut3, ShapeBuilder};

use super::model::{mrbcr_model, LoadedModel};
use super::options::{mrbcr_options, options_or_default};
use super::{guard, non_null, non_null_mut, require_non_null, Failure, FfiResult};
use mrbcr::deconvolve::{deconvolve_into, DeconvolveOptions};
use mrbcr::{PixelType, StackView, StackViewMut};

/// The pixel types of images (the `pixel_type` field of `mrbcr_image_in` and
/// `mrbcr_image_out`). Values are native-endian and aligned to their size.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mrbcr_pixel_type {
    /// `uint8_t`.
    U8 = 0,
    /// `uint16_t` (most scientific cameras).
    U16 = 1,
    /// `float`.
    F32 = 2,
    /// `double`.
    F64 = 3,
}

impl From<PixelType> for mrbcr_pixel_type {
    fn from(pixel_type: PixelType) -> mrbcr_pixel_type {
        match pixel_type {
            PixelType::U8 => mrbcr_pixel_type::U8,
            PixelType::U16 => mrbcr_pixel_type::U16,
            PixelType::F32 => mrbcr_pixel_type::F32,
            PixelType::F64 => mrbcr_pixel_type::F64,
        }
    }
}

/// An image to deconvolve: `planes` planes (Z slices, time points, ...) of `width` x
/// `height` pixels, read in place (no copy), never written.
///
/// Pixel (plane p, row y, column x) is at byte `p * plane_stride + y * row_stride +
/// x * (size of a pixel)` from `data`. Strides are in bytes and must be multiples of
/// the pixel size; 0 means packed (`row_stride = width * pixel size`,
/// `plane_stride = height * row_stride`). Rows may be padded (`row_stride` >= width *
/// pixel size) and planes apart (`plane_stride` >= (height - 1) * row_stride + width *
/// pixel size), but never overlapping.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mrbcr_image_in {
    /// The first pixel (plane 0, row 0, column 0), aligned to the pixel type.
    pub data: *const c_void,
    /// An `mrbcr_pixel_type` value.
    pub pixel_type: u32,
    /// Pixels per row.
    pub width: usize,
    /// Rows per plane.
    pub height: usize,
    /// Number of planes (1 for a single image).
    pub planes: usize,
    /// Bytes from one row to the next; 0 for packed rows.
    pub row_stride: usize,
    /// Bytes from one plane to the next; 0 for packed planes.
    pub plane_stride: usize,
}

/// Where a result goes: as `mrbcr_image_in`, but written. Its dimensions must be the
/// input's; its pixel type is the caller's choice (integer results are rounded and
/// clamped to the type's range). It must not overlap the input's memory.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mrbcr_image_out {
    /// The first pixel (plane 0, row 0, column 0), aligned to the pixel type.
    pub data: *mut c_void,
    /// An `mrbcr_pixel_type` value.
    pub pixel_type: u32,
    /// Pixels per row.
    pub width: usize,
    /// Rows per plane.
    pub height: usize,
    /// Number of planes (1 for a single image).
    pub planes: usize,
    /// Bytes from one row to the next; 0 for packed rows.
    pub row_stride: usize,
    /// Bytes from one plane to the next; 0 for packed planes.
    pub plane_stride: usize,
}

/// A progress report: called on the thread that called `mrbcr_deconvolve` (after each
/// tile) or `mrbcr_richardson_lucy` (after each iteration of a plane), with the
/// fraction of the work done (0 to 1] and the caller's `user_data`. Return nonzero to
/// continue, 0 to cancel (the function then returns `MRBCR_STATUS_CANCELLED` soon
/// after and the output is zeroed). It must not call the function that called it.
#[allow(non_camel_case_types)]
pub type mrbcr_progress_callback =
    Option<unsafe extern "C" fn(fraction: f64, user_data: *mut c_void) -> c_int>;

/// A checked image layout, strides in elements, with the bytes it spans.
pub(crate) struct Layout {
    pixel_type: PixelType,
    planes: usize,
    height: usize,
    width: usize,
    row_stride: usize,
    plane_stride: usize,
    /// First byte of the image.
    start: usize,
    /// One past its last byte.
    end: usize,
}

/// The fields common to `mrbcr_image_in` and `mrbcr_image_out`.
struct Descriptor {
    data: usize,
    pixel_type: u32,
    width: usize,
    height: usize,
    planes: usize,
    row_stride: usize,
    plane_stride: usize,
}

impl Descriptor {
    /// Checks the descriptor of the image called `what` (`input` or `output`).
    fn layout(&self, what: &str) -> FfiResult<Layout> {
        let (pixel_type, size) = match self.pixel_type {
            x if x == mrbcr_pixel_type::U8 as u32 => (PixelType::U8, 1),
            x if x == mrbcr_pixel_type::U16 as u32 => (PixelType::U16, 2),
            x if x == mrbcr_pixel_type::F32 as u32 => (PixelType::F32, 4),
            x if x == mrbcr_pixel_type::F64 as u32 => (PixelType::F64, 8),
            other => {
                return Err(Failure::invalid(format!(
                    "the {what}'s pixel type {other} is not an mrbcr_pixel_type (0 to 3)"
                )))
            }
        };
        let (width, height, planes) = (self.width, self.height, self.planes);
        if width == 0 || height == 0 || planes == 0 {
            return Err(Failure::invalid(format!(
                "the {what} is empty ({planes} planes of {width} x {height})"
            )));
        }
        let too_large = || {
            Failure::invalid(format!(
                "the {what} ({planes} planes of {width} x {height} {}, row stride {}, plane \
                 stride {}) is larger than the address space",
                pixel_type.name(),
                self.row_stride,
                self.plane_stride
            ))
        };
        let row_bytes = width.checked_mul(size).ok_or_else(too_large)?;
        let row_stride = if self.row_stride == 0 {
            row_bytes
        } else {
            self.row_stride
        };
        if !row_stride.is_multiple_of(size) || row_stride < row_bytes {
            return Err(Failure::invalid(format!(
                "the {what}'s row stride {row_stride} bytes must be a multiple of {size} (the \
                 size of a {} pixel) of at least {row_bytes} (a row of {width} pixels)",
                pixel_type.name()
            )));
        }
        let plane_bytes = (height - 1)
            .checked_mul(row_stride)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or_else(too_large)?;
        let plane_stride = if self.plane_stride == 0 {
            height.checked_mul(row_stride).ok_or_else(too_large)?
        } else {
            self.plane_stride
        };
        if !plane_stride.is_multiple_of(size) || plane_stride < plane_bytes {
            return Err(Failure::invalid(format!(
                "the {what}'s plane stride {plane_stride} bytes must be a multiple of {size} \
                 (the size of a {} pixel) of at least {plane_bytes} (a plane of {height} rows \
                 {row_stride} bytes apart)",
                pixel_type.name()
            )));
        }
        let extent = (planes - 1)
            .checked_mul(plane_stride)
            .and_then(|n| n.checked_add(plane_bytes))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(too_large)?;
        let end = self.data.checked_add(extent).ok_or_else(too_large)?;
        if !self.data.is_multiple_of(size) {
            return Err(Failure::invalid(format!(
                "the {what}'s data pointer {:#x} is not aligned to {size} bytes (a {} pixel)",
                self.data,
                pixel_type.name()
            )));
        }
        Ok(Layout {
            pixel_type,
            planes,
            height,
            width,
            // The stride of an axis of one row or one plane is never used, and may be
            // anything the checks above allow, up to usize::MAX; a view needs strides
            // that fit in isize, so such a stride is replaced by the row's or plane's extent.
            row_stride: if height == 1 {
                width
            } else {
                row_stride / size
            },
            plane_stride: if planes == 1 {
                plane_bytes / size
            } else {
                plane_stride / size
            },
            start: self.data,
            end,
        })
    }
}

impl Layout {
    /// True if the two images share memory.
    pub(crate) fn overlaps(&self, other: &Layout) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// A read-only view of the pixels.
    ///
    /// # Safety
    /// `data` points to pixels of this layout, readable and not written for `'a`.
    unsafe fn view<'a, T>(&self, data: *const c_void) -> ArrayView3<'a, T> {
        let shape =
            (self.planes, self.height, self.width).strides((self.plane_stride, self.row_stride, 1));
        // SAFETY: the layout was checked (aligned, non-overlapping strides, extent
        // within isize); the memory is valid by the caller's contract.
        unsafe { ArrayView3::from_shape_ptr(shape, data.cast::<T>()) }
    }

    /// A writable view of the pixels.
    ///
    /// # Safety
    /// `data` points to pixels of this layout, writable and not otherwise accessed for
    /// `'a`.
    unsafe fn view_mut<'a, T>(&self, data: *mut c_void) -> ArrayViewMut3<'a, T> {
        let shape =
            (self.planes, self.height, self.width).strides((self.plane_stride, self.row_stride, 1));
        // SAFETY: as in `view`; the checked strides never reach one pixel twice.
        unsafe { ArrayViewMut3::from_shape_ptr(shape, data.cast::<T>()) }
    }
}

/// The [`Descriptor`] of an `mrbcr_image_in` or `mrbcr_image_out` (same fields).
macro_rules! descriptor {
    ($image:expr) => {
        Descriptor {
            data: $image.data as usize,
            pixel_type: $image.pixel_type,
            width: $image.width,
            height: $image.height,
            planes: $image.planes,
            row_stride: $image.row_stride,
            plane_stride: $image.plane_stride,
        }
    };
}

impl mrbcr_image_in {
    /// Checks the descriptor of the image passed as the parameter `what` (`input`,
    /// `psf`, ...): its layout and a view of its pixels.
    ///
    /// # Safety
    /// The memory is readable as the descriptor says and not written during `'a`.
    pub(crate) unsafe fn checked_view<'a>(&self, what: &str) -> FfiResult<(Layout, StackView<'a>)> {
        require_non_null(self.data, &format!("{what}->data"))?;
        let layout = descriptor!(self).layout(what)?;
        // SAFETY: the layout was checked; the memory is valid by the caller's contract.
        let view = unsafe {
            match layout.pixel_type {
                PixelType::U8 => StackView::U8(layout.view(self.data)),
                PixelType::U16 => StackView::U16(layout.view(self.data)),
                PixelType::F32 => StackView::F32(layout.view(self.data)),
                PixelType::F64 => StackView::F64(layout.view(self.data)),
            }
        };
        Ok((layout, view))
    }
}

impl mrbcr_image_out {
    /// Checks the descriptor of the image passed as the parameter `what` (`output`,
    /// `psf_out`, ...): its layout and a writable view of its pixels.
    ///
    /// # Safety
    /// The memory is writable as the descriptor says and not otherwise accessed during
    /// `'a` (the caller checks that it does not overlap the other images of the call).
    pub(crate) unsafe fn checked_view<'a>(
        &self,
        what: &str,
    ) -> FfiResult<(Layout, StackViewMut<'a>)> {
        require_non_null(self.data, &format!("{what}->data"))?;
        let layout = descriptor!(self).layout(what)?;
        // SAFETY: the layout was checked; the memory is valid by the caller's contract.
        let view = unsafe {
            match layout.pixel_type {
                PixelType::U8 => StackViewMut::U8(layout.view_mut(self.data)),
                PixelType::U16 => StackViewMut::U16(layout.view_mut(self.data)),
                PixelType::F32 => StackViewMut::F32(layout.view_mut(self.data)),
                PixelType::F64 => StackViewMut::F64(layout.view_mut(self.data)),
            }
        };
        Ok((layout, view))
    }
}

/// Deconvolves an image or a stack of planes with a model: reads `input`, writes the
/// result into `output` (same width, height and planes; any pixel type). Each plane is
/// processed on its own (its own normalisation); the result is bit-identical to the
/// Rust API's for the same input and options, whatever the number of threads.
///
/// `options` may be NULL for the defaults (`mrbcr_options_new`). `progress` may be
/// NULL; otherwise it is called on this thread after each tile, with `user_data`, and
/// cancels the run by returning 0. The call blocks until the result is complete, the
/// run is cancelled, or it fails; it uses the number of worker threads set in the
/// options.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `model`, `input`, `output` or a data pointer is
/// NULL. `MRBCR_STATUS_INVALID_INPUT` for an unknown pixel type, an empty image, strides
/// that are not multiples of the pixel size or too small, sizes beyond the address
/// space, a misaligned data pointer, output dimensions that differ from the input's,
/// input and output memory that overlap, options that do not fit together (overlap not
/// below the tile), a NaN or infinite input value (the message names plane, row and
/// column), or an integer output with `MRBCR_OUTPUT_RANGE_NORMALIZED`.
/// `MRBCR_STATUS_CANCELLED` if `progress` returned 0. The output never holds a partial
/// result: after an error it is either untouched (a problem found before any work) or
/// set to zero.
///
/// # Safety
/// `model` is NULL or a valid model; `options` is NULL or valid options that no thread
/// changes during the call; `input` and `output` are NULL or valid descriptors whose
/// memory is readable (input) and writable (output) as they describe, and not written
/// by anyone else during the call; `progress`, if not NULL, is safe to call with
/// `user_data`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_deconvolve(
    model: *const mrbcr_model,
    options: *const mrbcr_options,
    input: *const mrbcr_image_in,
    output: *const mrbcr_image_out,
    progress: mrbcr_progress_callback,
    user_data: *mut c_void,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: each pointer is NULL or valid, by the caller's contract.
        let (loaded, input, output) = unsafe {
            (
                LoadedModel::from_handle(model)?,
                non_null(input, "input")?,
                non_null(output, "output")?,
            )
        };
        // SAFETY: the memory is valid by the caller's contract; input and
        // output are checked not to overlap before any work.
        let (input_layout, input_view) = unsafe { input.checked_view("input") }?;
        // SAFETY: as above.
        let (output_layout, output_view) = unsafe { output.checked_view("output") }?;
        if input_layout.overlaps(&output_layout) {
            return Err(Failure::invalid(
                "the output's memory overlaps the input's: deconvolution cannot run in place",
            ));
        }
        // SAFETY: NULL or valid and unchanged during the call, by the caller's contract.
        let options = unsafe { options_or_default(options) };
        let mut report = progress.map(|callback| {
            // SAFETY: the callback is safe to call with user_data, by the caller's
            // contract.
            move |fraction: f64| unsafe { callback(fraction, user_data) } != 0
        });
        let progress = report.as_mut().map(|r| r as &mut dyn FnMut(f64) -> bool);
        deconvolve_into(&loaded.model, input_view, output_view, &options, progress)?;
        Ok(())
    })
}

/// Writes the pixel type the front ends give a result when their caller chooses none
/// (`mrbcr deconvolve --output-type`'s default, Python's `DEFAULT_DTYPE`):
/// `MRBCR_PIXEL_TYPE_F32`, in the input's intensity units, nothing rounded or clipped.
/// `mrbcr_deconvolve` itself writes the pixel type its `output` has.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `output_pixel_type_out` is NULL.
///
/// # Safety
/// `output_pixel_type_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_deconvolve_defaults(
    output_pixel_type_out: *mut u32,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let out = unsafe { non_null_mut(output_pixel_type_out, "output_pixel_type_out") }?;
        *out = mrbcr_pixel_type::from(DeconvolveOptions::DEFAULT_OUTPUT_TYPE) as u32;
        Ok(())
    })
}
