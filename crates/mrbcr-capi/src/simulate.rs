//! The simulator and the scores across the C ABI: simulated widefield pairs (raw
//! camera counts and ground truth) from a parameters handle, and PSNR/SSIM of a
//! restoration against its ground truth. Thin layers over [`mrbcr::simulate`].

use ndarray::Array2;

use super::classical::{expect_dim, f32_planes, mrbcr_psf_params, write_planes};
use super::deconvolve::{mrbcr_image_in, mrbcr_image_out};
use super::{guard, guard_value, mrbcr_status, non_null, non_null_mut, Failure, FfiResult};
use mrbcr::classical::psf::PsfParams;
use mrbcr::simulate::{score, simulate_pair, SimulationParams};

/// The settings of the simulator (opaque). Made by `mrbcr_simulation_params_new` with
/// the defaults, changed by the `mrbcr_simulation_params_set_*` functions, read by
/// `mrbcr_simulate_pair`, freed by `mrbcr_simulation_params_free`. Ranges are
/// `(min, max)`: each image draws its own value in them.
///
/// Parameters may be shared by threads that only read them, but must not be changed
/// while another thread uses them.
#[allow(non_camel_case_types)]
pub struct mrbcr_simulation_params {
    _private: [u8; 0],
}

/// The simulation parameters behind a handle, or [`mrbcr_status::NullParameter`].
///
/// # Safety
/// `params` is NULL or a handle from `mrbcr_simulation_params_new` not yet freed, not
/// used by another thread for the lifetime `'a`.
unsafe fn params_mut<'a>(
    params: *mut mrbcr_simulation_params,
) -> FfiResult<&'a mut SimulationParams> {
    // SAFETY: a non-NULL handle points to SimulationParams, by the caller's contract.
    unsafe { non_null_mut(params.cast::<SimulationParams>(), "params") }
}

/// Makes simulation parameters with the defaults (those of the Rust API's
/// `SimulationParams` and of `mrbcr simulate`): 256 x 256 pixels of 65 nm, drawn on a
/// grid 4 times finer; NA 1.1 to 1.4, emission 500 to 620 nm, refractive index 1.515;
/// PSFs of 129 pixels; 20 to 2000 photons at the brightest pixel over 0 to 10
/// background photons; camera offset 100 counts, gain 1, read noise 1.5 counts; 2
/// out-of-focus layers 500 to 1500 nm away. The caller frees them with
/// `mrbcr_simulation_params_free`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params_out` is NULL.
///
/// # Safety
/// `params_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_new(
    params_out: *mut *mut mrbcr_simulation_params,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let params_out = unsafe { non_null_mut(params_out, "params_out") }?;
        *params_out = Box::into_raw(Box::new(SimulationParams::default())).cast();
        Ok(())
    })
}

/// Frees simulation parameters. NULL is accepted and does nothing.
///
/// # Safety
/// `params` is NULL or parameters from `mrbcr_simulation_params_new` that have not been
/// freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_free(params: *mut mrbcr_simulation_params) {
    guard_value((), || {
        if !params.is_null() {
            // SAFETY: a handle made by Box::into_raw in mrbcr_simulation_params_new,
            // freed once.
            drop(unsafe { Box::from_raw(params.cast::<SimulationParams>()) });
        }
    })
}

/// Sets the size of the simulated images, camera pixels (each side 1 to 4096). Like
/// every simulation parameter it is checked by `mrbcr_simulate_pair` (whose message
/// names the parameter and its value), so the setters can be called in any order.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_size(
    params: *mut mrbcr_simulation_params,
    width: usize,
    height: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let params = unsafe { params_mut(params) }?;
        params.width = width;
        params.height = height;
        Ok(())
    })
}

/// Sets the side of a camera pixel in the sample plane, nanometres. It must sample
/// the PSF at Nyquist or finer: below the smallest wavelength / (4 x the largest NA).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_pixel_size_nm(
    params: *mut mrbcr_simulation_params,
    pixel_size_nm: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.pixel_size_nm = pixel_size_nm;
        Ok(())
    })
}

/// Sets the number of fine grid points per camera pixel side on which structures are
/// drawn (1 to 8; the cost grows with its square).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_oversampling(
    params: *mut mrbcr_simulation_params,
    oversampling: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.oversampling = oversampling;
        Ok(())
    })
}

/// Sets the range of the objective's numerical aperture (above 0, min <= max, the
/// max at most the refractive index).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_numerical_aperture(
    params: *mut mrbcr_simulation_params,
    min: f64,
    max: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.numerical_aperture = (min, max);
        Ok(())
    })
}

/// Sets the range of the emission wavelength, nanometres (above 0, min <= max).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_wavelength_nm(
    params: *mut mrbcr_simulation_params,
    min: f64,
    max: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.wavelength_nm = (min, max);
        Ok(())
    })
}

/// Sets the refractive index of the immersion medium (at least the largest NA).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_refractive_index(
    params: *mut mrbcr_simulation_params,
    refractive_index: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.refractive_index = refractive_index;
        Ok(())
    })
}

/// Sets the side of the PSF kernels, camera pixels (odd, at most 1024): light from up
/// to half of it outside the field of view enters the image. Smaller is faster.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_psf_size(
    params: *mut mrbcr_simulation_params,
    psf_size: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.psf_size = psf_size;
        Ok(())
    })
}

/// Sets the range of the expected photons at the brightest pixel of the noiseless
/// image, above the background (above 0, min <= max; drawn log-uniformly).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_peak_photons(
    params: *mut mrbcr_simulation_params,
    min: f64,
    max: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.peak_photons = (min, max);
        Ok(())
    })
}

/// Sets the range of the uniform background, photons per pixel (at least 0,
/// min <= max).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_background_photons(
    params: *mut mrbcr_simulation_params,
    min: f64,
    max: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.background_photons = (min, max);
        Ok(())
    })
}

/// Sets the camera: `counts = round(gain x Poisson(photons) + offset + read_noise x
/// N(0, 1))`, clipped to 0 to 65535. `offset` (counts) and `read_noise` (counts) are
/// at least 0, `gain` (counts per photon) above 0.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_camera(
    params: *mut mrbcr_simulation_params,
    offset: f64,
    gain: f64,
    read_noise: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let camera = &mut unsafe { params_mut(params) }?.camera;
        camera.offset = offset;
        camera.gain = gain;
        camera.read_noise = read_noise;
        Ok(())
    })
}

/// Sets the number of layers above or below the focal plane, imaged through defocused
/// PSFs (out-of-focus light, not in the ground truth): 0 to 16.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_out_of_focus_layers(
    params: *mut mrbcr_simulation_params,
    layers: usize,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.out_of_focus_layers = layers;
        Ok(())
    })
}

/// Sets the range of the distance of each out-of-focus layer from the focal plane,
/// nanometres (at least 0, min <= max; the side, above or below, is drawn too).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params` is NULL.
///
/// # Safety
/// `params` is NULL or valid simulation parameters not used by another thread
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulation_params_set_defocus_nm(
    params: *mut mrbcr_simulation_params,
    min: f64,
    max: f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        unsafe { params_mut(params) }?.defocus_nm = (min, max);
        Ok(())
    })
}

/// Simulates image `index` of the set seeded with `seed`: the raw camera counts into
/// `raw_out` and the ground truth (the in-focus structures on the camera grid,
/// expected photons per pixel, before blurring) into `truth_out`. Each is one plane of
/// the parameters' width and height, of any pixel type (`MRBCR_PIXEL_TYPE_U16` holds
/// the counts exactly, `MRBCR_PIXEL_TYPE_F32` the truth; integers are rounded and
/// clamped). The same arguments give the same images, bit-identical to the Rust API's
/// `simulate_pair`.
///
/// `psf_params_out` may be NULL; otherwise it is an existing handle (from
/// `mrbcr_psf_params_new`) whose every value is replaced by the image's in-focus PSF
/// (the NA and wavelength drawn for it, the refractive index, pixel size and PSF size
/// of `params`, in focus): `mrbcr_psf_compute` with `MRBCR_PSF_MODEL_BORN_WOLF` then
/// gives the true PSF, for a deconvolution that knows it.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `params`, `raw_out`, `truth_out` or a data pointer
/// is NULL. `MRBCR_STATUS_INVALID_INPUT` if a parameter is out of range (the message
/// names it and its value), for a bad descriptor, an image that is not one plane of
/// the parameters' size, or `raw_out` and `truth_out` that overlap. The images and
/// `psf_params_out` are written only on success.
///
/// # Safety
/// `params` is NULL or valid simulation parameters no thread changes during the call;
/// `raw_out` and `truth_out` are NULL or valid descriptors of memory writable as they
/// describe and not accessed by anyone else during the call; `psf_params_out` is NULL
/// or valid PSF parameters no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_simulate_pair(
    params: *const mrbcr_simulation_params,
    seed: u64,
    index: u64,
    raw_out: *const mrbcr_image_out,
    truth_out: *const mrbcr_image_out,
    psf_params_out: *mut mrbcr_psf_params,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: each pointer is NULL or valid, by the caller's contract.
        let (params, raw_out, truth_out) = unsafe {
            (
                non_null(params.cast::<SimulationParams>(), "params")?,
                non_null(raw_out, "raw_out")?,
                non_null(truth_out, "truth_out")?,
            )
        };
        params.validate()?;
        // SAFETY: writable and unshared, by the caller's contract; checked
        // below not to overlap each other.
        let (raw_layout, raw_view) = unsafe { raw_out.checked_view("raw_out") }?;
        // SAFETY: as above.
        let (truth_layout, truth_view) = unsafe { truth_out.checked_view("truth_out") }?;
        let size = (1, params.height, params.width);
        expect_dim("raw_out", raw_view.dim(), "the simulation", size)?;
        expect_dim("truth_out", truth_view.dim(), "the simulation", size)?;
        if raw_layout.overlaps(&truth_layout) {
            return Err(Failure::invalid(
                "the raw_out's memory overlaps the truth_out's",
            ));
        }
        let pair = simulate_pair(params, seed, index)?;
        let raw: Array2<f32> = pair.raw.mapv(f32::from);
        write_planes(raw_view, Some(std::slice::from_ref(&raw)));
        write_planes(truth_view, Some(std::slice::from_ref(&pair.ground_truth)));
        // SAFETY: NULL or a valid, unshared handle to PsfParams, by the caller's contract.
        if let Some(psf_params_out) = unsafe { psf_params_out.cast::<PsfParams>().as_mut() } {
            *psf_params_out = pair.conditions.psf;
        }
        Ok(())
    })
}

/// Scores a restoration against its ground truth, as the Rust API's `score` (and
/// `mrbcr eval`): PSNR (dB) and SSIM (Gaussian window of sigma 1.5, 11 x 11), both
/// after the least-squares affine fit of `restored` to `truth`, so that intensity
/// scale and offset do not count; the dynamic range is the truth's max - min.
/// `restored` and `truth` are one plane each, of one size (at least 11 x 11), any pixel
/// types.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a pointer parameter or a data pointer is NULL.
/// `MRBCR_STATUS_INVALID_INPUT` for a bad descriptor, an image of more than one plane,
/// sizes that differ or are below 11 x 11, a NaN or infinite value, or a constant
/// ground truth. `psnr_out` and `ssim_out` are written only on success.
///
/// # Safety
/// `restored` and `truth` are NULL or valid descriptors of readable memory;
/// `psnr_out` and `ssim_out` are NULL or point to writable doubles.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_score(
    restored: *const mrbcr_image_in,
    truth: *const mrbcr_image_in,
    psnr_out: *mut f64,
    ssim_out: *mut f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: each pointer is NULL or valid, by the caller's contract.
        let (restored, truth, psnr_out, ssim_out) = unsafe {
            (
                non_null(restored, "restored")?,
                non_null(truth, "truth")?,
                non_null_mut(psnr_out, "psnr_out")?,
                non_null_mut(ssim_out, "ssim_out")?,
            )
        };
        let mut planes = Vec::with_capacity(2);
        for (image, name) in [(restored, "restored"), (truth, "truth")] {
            // SAFETY: readable as described, by the caller's contract.
            let (_, view) = unsafe { image.checked_view(name) }?;
            let (count, height, width) = view.dim();
            if count != 1 {
                return Err(Failure::invalid(format!(
                    "the {name} image has {count} planes of {width} x {height}: scores are \
                     of one plane (call mrbcr_score once per plane)"
                )));
            }
            planes.push(f32_planes(&view).swap_remove(0));
        }
        let scores = score(planes[0].view(), planes[1].view())?;
        *psnr_out = scores.psnr;
        *ssim_out = scores.ssim;
        Ok(())
    })
}
