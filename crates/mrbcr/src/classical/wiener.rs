//! Wiener deconvolution: the linear filter that minimises the expected squared error
//! for a constant noise-to-signal power ratio `K`,
//!
//! ```text
//! X(f) = conj(H(f)) Y(f) / (|H(f)|^2 + K)
//! ```
//!
//! with `H` the optical transfer function of the PSF (normalised to sum 1, so
//! `H(0) = 1`) and `Y` the image's spectrum. `K = 0` is the plain inverse filter
//! (frequencies where `H` vanishes are set to 0). Edges are handled by mirror padding
//! (see [`super::padding`]). The result is linear in the image and may be negative.

use ndarray::{Array2, ArrayView2};
use rustfft::num_complex::Complex64;

use super::convolution::{check_finite, kernel_spectrum};
use super::fft::Fft2d;
use super::padding::MirrorPadding;
use super::psf::normalize_psf;
use crate::error::{Error, Result};

/// The noise-to-signal ratio the front ends use when none is given.
pub const DEFAULT_NOISE_TO_SIGNAL: f64 = 0.01;

/// Deconvolves `image` with `psf` (any size; scaled to sum 1 here) by Wiener
/// filtering with noise-to-signal ratio `noise_to_signal` (`K` above, at least 0;
/// typical values 1e-4 to 1e-1, larger for noisier images).
///
/// # Errors
/// [`Error::InvalidInput`] if the image is empty or holds NaN or infinite values, if
/// the PSF is not a valid PSF (see [`normalize_psf`]), or if `noise_to_signal` is
/// negative or not finite.
pub fn wiener(
    image: ArrayView2<f32>,
    psf: ArrayView2<f32>,
    noise_to_signal: f64,
) -> Result<Array2<f32>> {
    if !(noise_to_signal.is_finite() && noise_to_signal >= 0.0) {
        return Err(Error::InvalidInput(format!(
            "the Wiener noise-to-signal ratio must be a number at least 0, got {noise_to_signal}"
        )));
    }
    if image.is_empty() {
        return Err(Error::InvalidInput(
            "cannot deconvolve an empty image".into(),
        ));
    }
    check_finite(image, "the image")?;
    let psf = normalize_psf(psf)?;
    let padding = MirrorPadding::for_kernel(image.nrows(), image.ncols(), psf.nrows(), psf.ncols());
    let mut fft = Fft2d::new(padding.padded_height(), padding.padded_width())?;
    let otf = kernel_spectrum(psf.view(), &mut fft);
    let mut spectrum: Vec<Complex64> = padding
        .pad(image, f64::from)
        .into_iter()
        .map(|v| Complex64::new(v, 0.0))
        .collect();
    fft.forward(&mut spectrum);
    for (s, h) in spectrum.iter_mut().zip(&otf) {
        let denominator = h.norm_sqr() + noise_to_signal;
        *s = if denominator > 0.0 {
            *s * h.conj() / denominator
        } else {
            Complex64::new(0.0, 0.0)
        };
    }
    fft.inverse(&mut spectrum);
    let real: Vec<f64> = spectrum.iter().map(|c| c.re).collect();
    Ok(padding.crop(&real))
}
