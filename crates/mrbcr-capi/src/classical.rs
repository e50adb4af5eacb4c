//! Classical deconvolution across the C ABI: PSF parameters and their computation,
//! Richardson-Lucy and Wiener deconvolution of images and stacks. Thin layers over
//! [`mrbcr::classical`]; the image helpers here (planes as f32, results into an
//! output descriptor) serve the simulator's functions too.

use std::ffi::c_void;

use ndarray::{Array2, ArrayView2, ArrayViewMut3};

use super::deconvolve::{mrbcr_image_in, mrbcr_image_out, mrbcr_progress_callback};
use super::{guard, guard_value, mrbcr_status, non_null, non_null_mut, Failure, FfiResult};
use mrbcr::classical::convolution::check_finite;
use mrbcr::classical::psf::{born_wolf_psf, gaussian_psf, normalize_psf, PsfParams};
use mrbcr::classical::{map_planes, richardson_lucy, wiener, PlaneProgress, RichardsonLucyParams};
use mrbcr::deconvolve::pixel::Pixel;
use mrbcr::Result;
use mrbcr::{PixelType, StackView, StackViewMut};

/// The optics and sampling of a computed PSF (opaque). Made by
/// `mrbcr_psf_params_new` with the defaults, changed by the `mrbcr_psf_params_set_*`
/// functions, read by `mrbcr_psf_compute`, freed by `mrbcr_psf_params_free`.
///
/// Parameters may be shared by threads that only read them, but must not be changed
/// while another thread uses them.
#[allow(non_camel_case_types)]
pub struct mrbcr_psf_params {
    _private: [u8; 0],
}

/// The PSF models of `mrbcr_psf_compute`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mrbcr_psf_model {
    /// The scalar Born-Wolf diffraction integral over a circular pupil, with the
    /// paraxial defocus phase (any defocus; in focus it is the Airy pattern).
    BornWolf = 0,
    /// The Gaussian approximation of the in-focus PSF, sigma = 0.21 wavelength / NA
    /// (the defocus must be 0).
    Gaussian = 1,
}

/// The PSF parameters behind a handle, or [`mrbcr_status::NullParameter`].
///
/// # Safety
/// `params` is NULL or a handle from `mrbcr_psf_params_new` not yet freed, not used by
/// another thread for the lifetime `'a`.
unsafe fn psf_params_mut<'a>(params: *mut mrbcr_psf_params) -> FfiResult<&'a mut PsfParams> {
    // SAFETY: a non-NULL handle points to PsfParams, by the caller's contract.
    unsafe { non_null_mut(params.cast::<PsfParams>(), "params") }
}

/// Makes PSF parameters with the defaults: NA 1.4, emission wavelength 520 nm,
/// refractive index 1.515 (oil), pixels of 65 nm, defocus 0 nm, 65 x 65 pixels,
/// oversampling 5 (those of the Rust API and of `mrbcr psf`). The caller frees them
/// with `mrbcr_psf_params_free`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params_out` is NULL.
///
/// # Safety
/// `params_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_new(
    params_out: *mut *mut mrbcr_psf_params,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let params_out = unsafe { non_null_mut(params_out, "params_out") }?;
        *params_out = Box::into_raw(Box::new(PsfParams::default())).cast();
        Ok(())
    })
}

/// Frees PSF parameters. NULL is accepted and does nothing.
///
/// # Safety
/// `params` is NULL or parameters from `mrbcr_psf_params_new` that have not been freed
/// and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_free(params: *mut mrbcr_psf_params) {
    guard_value((), || {
        if !params.is_null() {
            // SAFETY: a handle made by Box::into_raw in mrbcr_psf_params_new, freed once.
            drop(unsafe { Box::from_raw(params.cast::<PsfParams>()) });
        }
    })
}

/// Sets the numerical aperture of the objective: above 0 and at most the refractive
/// index. Like every PSF parameter it is checked by `mrbcr_psf_compute` (whose message
/// names the parameter and its value), so the setters can be called in any order.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_numerical_aperture(
    params: *mut mrbcr_psf_params,
    numerical_aperture: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.numerical_aperture = numerical_aperture;
        Ok(())
    })
}

/// Sets the emission wavelength in vacuum, nanometres (positive); checked by
/// `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_wavelength_nm(
    params: *mut mrbcr_psf_params,
    wavelength_nm: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.wavelength_nm = wavelength_nm;
        Ok(())
    })
}

/// Sets the refractive index of the immersion medium (at least 1: 1.0 air, 1.33
/// water, 1.515 oil); checked by `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_refractive_index(
    params: *mut mrbcr_psf_params,
    refractive_index: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.refractive_index = refractive_index;
        Ok(())
    })
}

/// Sets the side of a camera pixel projected into the sample plane, nanometres
/// (positive); checked by `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_pixel_size_nm(
    params: *mut mrbcr_psf_params,
    pixel_size_nm: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.pixel_size_nm = pixel_size_nm;
        Ok(())
    })
}

/// Sets the distance of the emitter from the focal plane, nanometres (finite; the
/// Born-Wolf model is symmetric in its sign, the Gaussian model needs 0); checked by
/// `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_defocus_nm(
    params: *mut mrbcr_psf_params,
    defocus_nm: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.defocus_nm = defocus_nm;
        Ok(())
    })
}

/// Sets the size of the PSF image, pixels: each side from 1 to 1024 (odd sides put
/// the centre, pixel (height / 2, width / 2), symmetrically); checked by
/// `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_size(
    params: *mut mrbcr_psf_params,
    width: usize,
    height: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let params = unsafe { psf_params_mut(params) }?;
        params.width = width;
        params.height = height;
        Ok(())
    })
}

/// Sets the number of points per pixel side over which the intensity is averaged
/// (1 to 16; 1 takes the value at the pixel's centre); checked by
/// `mrbcr_psf_compute`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid PSF parameters not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_params_set_oversampling(
    params: *mut mrbcr_psf_params,
    oversampling: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { psf_params_mut(params) }?.oversampling = oversampling;
        Ok(())
    })
}

/// Deconvolves an image or every plane of a stack by Richardson-Lucy with the PSF
/// `psf`, RL-TV (total-variation regularised) when `tv_lambda` > 0: reads `input`,
/// writes `output` (same width, height and planes; any pixel type, integers rounded
/// and clamped). Each plane is bit-identical to the Rust API's `richardson_lucy` of
/// that plane converted to float (integers exactly, doubles rounded to floats).
///
/// `psf` is one plane of any size and pixel type, non-negative (it is scaled to sum
/// 1): a measured bead image or `mrbcr_psf_compute`'s result. `iterations` is at least
/// 1; `tv_lambda` is at least 0 and below 0.25 (about 0.002 is typical, 0 is plain
/// Richardson-Lucy). Negative input values count as 0: subtract the camera offset
/// first.
///
/// `progress` may be NULL; otherwise it is called on this thread after each
/// iteration of each plane (`iterations x planes` calls, the last with 1), with
/// `user_data`, and cancels the run by returning 0. Planes run in parallel on worker
/// threads that end before the call returns.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `input`, `psf`, `output` or a data pointer is NULL.
/// `MRBCR_STATUS_INVALID_INPUT` for a bad descriptor (as for `mrbcr_deconvolve`), a
/// `psf` of more than one plane, output dimensions that differ from the input's,
/// output memory that overlaps the input's or the PSF's, `iterations` or `tv_lambda`
/// out of range (the message gives the value), a PSF with a negative, NaN or infinite
/// value or summing to 0, or a NaN or infinite input value (the message names plane,
/// row and column). `MRBCR_STATUS_CANCELLED` if `progress` returned 0. The output never
/// holds a partial result: after an error it is untouched (a problem found before any
/// work) or set to zero.
///
/// # Safety
/// `input`, `psf` and `output` are NULL or valid descriptors whose memory is readable
/// (`input`, `psf`) and writable (`output`) as they describe, and not written by anyone
/// else during the call; `progress`, if not NULL, is safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_richardson_lucy(
    input: *const mrbcr_image_in,
    psf: *const mrbcr_image_in,
    iterations: usize,
    tv_lambda: f64,
    output: *const mrbcr_image_out,
    progress: mrbcr_progress_callback,
    user_data: *mut c_void,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let job = unsafe { PlaneJob::new(input, psf, output) }?;
        let params = RichardsonLucyParams {
            iterations,
            tv_lambda,
        };
        params.validate()?;
        job.check_psf_and_input()?;
        let mut report = progress.map(|callback| {
            // SAFETY: the callback is safe to call with user_data, by the caller's
            // contract.
            move |fraction: f64| unsafe { callback(fraction, user_data) } != 0
        });
        let progress = report.as_mut().map(|r| r as &mut dyn FnMut(f64) -> bool);
        job.run(iterations, progress, |plane, psf, step| {
            let mut on_iteration = |_: usize, _: ArrayView2<f32>| step();
            richardson_lucy(plane, psf, &params, Some(&mut on_iteration))
        })
    })
}

/// Deconvolves an image or every plane of a stack by Wiener filtering with the PSF
/// `psf` and the noise-to-signal power ratio `noise_to_signal` (at least 0; typically
/// 1e-4 to 1e-1, larger for noisier images; 0 is the plain inverse filter). Images,
/// PSF and output are as for `mrbcr_richardson_lucy`; the result is linear in the
/// input and may be negative (clamped to 0 in an integer output). Each plane is
/// bit-identical to the Rust API's `wiener`.
///
/// # Errors
/// As `mrbcr_richardson_lucy` (without cancellation), and
/// `MRBCR_STATUS_INVALID_INPUT` if `noise_to_signal` is negative or not finite (the
/// output is then zeroed).
///
/// # Safety
/// As `mrbcr_richardson_lucy`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_wiener(
    input: *const mrbcr_image_in,
    psf: *const mrbcr_image_in,
    noise_to_signal: f64,
    output: *const mrbcr_image_out,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let job = unsafe { PlaneJob::new(input, psf, output) }?;
        job.check_psf_and_input()?;
        job.run(1, None, |plane, psf, _| wiener(plane, psf, noise_to_signal))
    })
}

/// Computes a PSF, normalised to sum 1, into `psf_out`: one plane of the parameters'
/// width and height, `MRBCR_PIXEL_TYPE_F32` or `MRBCR_PIXEL_TYPE_F64` (any strides).
/// `model` is an `mrbcr_psf_model` value. The values are bit-identical to the Rust
/// API's (`born_wolf_psf`, `gaussian_psf`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params`, `psf_out` or its data is NULL.
/// `MRBCR_STATUS_INVALID_INPUT` for an unknown model, a parameter out of range (the
/// message names it and its value), a defocus with the Gaussian model, an integer
/// pixel type, a size that is not the parameters' (one plane of width x height), or
/// a bad descriptor (see `mrbcr_image_out`). `psf_out` is written only on success.
///
/// # Safety
/// `params` is NULL or valid PSF parameters no thread changes during the call;
/// `psf_out` is NULL or a valid descriptor of memory writable as it describes and not
/// accessed by anyone else during the call.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_psf_compute(
    params: *const mrbcr_psf_params,
    model: u32,
    psf_out: *const mrbcr_image_out,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: each pointer is NULL or valid, by the caller's contract.
        let (params, psf_out) = unsafe {
            (
                non_null(params.cast::<PsfParams>(), "params")?,
                non_null(psf_out, "psf_out")?,
            )
        };
        let compute = match model {
            x if x == mrbcr_psf_model::BornWolf as u32 => born_wolf_psf,
            x if x == mrbcr_psf_model::Gaussian as u32 => gaussian_psf,
            other => {
                return Err(Failure::invalid(format!(
                    "unknown PSF model {other}: expected MRBCR_PSF_MODEL_BORN_WOLF (0) or \
                     MRBCR_PSF_MODEL_GAUSSIAN (1)"
                )))
            }
        };
        params.validate()?;
        // SAFETY: writable and unshared, by the caller's contract.
        let (_, view) = unsafe { psf_out.checked_view("psf_out") }?;
        if !matches!(view.pixel_type(), PixelType::F32 | PixelType::F64) {
            return Err(Failure::invalid(format!(
                "the psf_out must be 32-bit or 64-bit float (a PSF sums to 1), got {}",
                view.pixel_type().name()
            )));
        }
        expect_dim(
            "psf_out",
            view.dim(),
            "the PSF parameters",
            (1, params.height, params.width),
        )?;
        let psf = compute(params)?;
        write_planes(view, Some(std::slice::from_ref(&psf)));
        Ok(())
    })
}

/// The checked images of a per-plane deconvolution, as f32 planes, and where the
/// result goes.
struct PlaneJob<'a> {
    planes: Vec<Array2<f32>>,
    psf: Array2<f32>,
    output: StackViewMut<'a>,
}

impl<'a> PlaneJob<'a> {
    /// Checks the descriptors (pointers, layouts, sizes, overlaps) and converts the
    /// input and the PSF to f32.
    ///
    /// # Safety
    /// As `mrbcr_richardson_lucy`.
    unsafe fn new(
        input: *const mrbcr_image_in,
        psf: *const mrbcr_image_in,
        output: *const mrbcr_image_out,
    ) -> FfiResult<PlaneJob<'a>> {
        // SAFETY: each pointer is NULL or valid, by the caller's contract.
        let (input, psf, output) = unsafe {
            (
                non_null(input, "input")?,
                non_null(psf, "psf")?,
                non_null(output, "output")?,
            )
        };
        // SAFETY: readable and writable as described, by the caller's
        // contract; the output is checked below not to overlap the inputs.
        let (input_layout, input_view) = unsafe { input.checked_view("input") }?;
        // SAFETY: as above.
        let (psf_layout, psf_view) = unsafe { psf.checked_view("psf") }?;
        // SAFETY: as above.
        let (output_layout, output_view) = unsafe { output.checked_view("output") }?;
        let (psf_planes, psf_height, psf_width) = psf_view.dim();
        if psf_planes != 1 {
            return Err(Failure::invalid(format!(
                "the psf has {psf_planes} planes of {psf_width} x {psf_height}: give one plane"
            )));
        }
        expect_dim("output", output_view.dim(), "the input", input_view.dim())?;
        for (layout, name) in [(&input_layout, "input"), (&psf_layout, "psf")] {
            if output_layout.overlaps(layout) {
                return Err(Failure::invalid(format!(
                    "the output's memory overlaps the {name}'s: deconvolution cannot run in place"
                )));
            }
        }
        Ok(PlaneJob {
            planes: f32_planes(&input_view),
            psf: f32_planes(&psf_view).swap_remove(0),
            output: output_view,
        })
    }

    /// Checks the PSF and that every input value is finite, so that the run fails
    /// before any work, the same way whatever the order in which planes finish.
    fn check_psf_and_input(&self) -> Result<()> {
        normalize_psf(self.psf.view())?;
        for (p, plane) in self.planes.iter().enumerate() {
            check_finite(plane.view(), &format!("plane {} of the input", p + 1))?;
        }
        Ok(())
    }

    /// Runs `method` on every plane with the PSF (see [`map_planes`]) and writes the
    /// results, or zeroes the output if the run failed or was cancelled.
    ///
    /// # Errors
    /// As [`map_planes`].
    fn run<M>(self, steps_per_plane: usize, progress: Option<PlaneProgress>, method: M) -> FfiResult
    where
        M: Fn(ArrayView2<f32>, ArrayView2<f32>, &mut dyn FnMut() -> bool) -> Result<Array2<f32>>
            + Sync,
    {
        let psf = self.psf.view();
        let method =
            |plane: ArrayView2<f32>, step: &mut dyn FnMut() -> bool| method(plane, psf, step);
        match map_planes(&self.planes, 0, steps_per_plane, progress, method) {
            Ok(results) => {
                write_planes(self.output, Some(&results));
                Ok(())
            }
            Err(error) => {
                write_planes(self.output, None);
                Err(error.into())
            }
        }
    }
}

/// Fails unless the image passed as `what` has the dimensions `(planes, height,
/// width)` of `of_what`.
pub(super) fn expect_dim(
    what: &str,
    found: (usize, usize, usize),
    of_what: &str,
    expected: (usize, usize, usize),
) -> FfiResult {
    if found == expected {
        return Ok(());
    }
    Err(Failure::invalid(format!(
        "the {what} ({} planes of {} x {}) must have the dimensions of {of_what} ({} planes \
         of {} x {})",
        found.0, found.2, found.1, expected.0, expected.2, expected.1
    )))
}

/// The planes of an image as f32, as the Rust API's `stack_planes` converts them
/// (integers exactly, doubles rounded to the nearest float).
pub(super) fn f32_planes(view: &StackView) -> Vec<Array2<f32>> {
    match view {
        StackView::U8(a) => a.outer_iter().map(|p| p.mapv(f32::from)).collect(),
        StackView::U16(a) => a.outer_iter().map(|p| p.mapv(f32::from)).collect(),
        StackView::F32(a) => a.outer_iter().map(|p| p.to_owned()).collect(),
        StackView::F64(a) => a.outer_iter().map(|p| p.mapv(|v| v as f32)).collect(),
    }
}

/// Writes `planes` (as many as the output has, of its size) into the output, rounded
/// and clamped for integer types; `None` zeroes the output.
pub(super) fn write_planes(output: StackViewMut, planes: Option<&[Array2<f32>]>) {
    fn write<U: Pixel>(mut output: ArrayViewMut3<U>, planes: Option<&[Array2<f32>]>) {
        match planes {
            Some(planes) => {
                for (mut out, plane) in output.outer_iter_mut().zip(planes) {
                    out.zip_mut_with(plane, |o, &v| *o = U::from_f32(v));
                }
            }
            None => output.fill(U::from_f32(0.0)),
        }
    }
    match output {
        StackViewMut::U8(o) => write(o, planes),
        StackViewMut::U16(o) => write(o, planes),
        StackViewMut::F32(o) => write(o, planes),
        StackViewMut::F64(o) => write(o, planes),
    }
}
