//! Richardson-Lucy deconvolution, optionally with total-variation regularisation
//! (RL-TV, Dey et al., Microsc. Res. Tech. 2006).
//!
//! With `H` the convolution with the PSF (normalised to sum 1, so `H^T 1 = 1`), `y`
//! the image and `x_k` the estimate, each iteration is
//!
//! ```text
//! x_{k+1} = x_k * H^T( y / H x_k ) / (1 - lambda * div( grad x_k / |grad x_k| ))
//! ```
//!
//! (`lambda = 0`: plain Richardson-Lucy, the maximum-likelihood estimate under
//! Poisson noise). The estimate starts flat at the image's mean. It stays
//! non-negative: the image's negative values (camera offset subtracted too far) are
//! taken as 0, products are clipped at 0, and the TV denominator is kept positive by
//! requiring `lambda < 0.25` (the discrete divergence of a unit field is at most 4 in
//! magnitude). Edges are handled by mirror padding (see [`super::padding`]).

use ndarray::{Array2, ArrayView2};

use super::convolution::{check_finite, ConvolutionMode, Convolver};
use super::padding::MirrorPadding;
use super::psf::normalize_psf;
use crate::error::{Error, Result};

/// Upper bound (exclusive) of the TV weight: it keeps the RL-TV denominator positive.
pub const MAX_TV_LAMBDA: f64 = 0.25;

/// Settings of [`richardson_lucy`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RichardsonLucyParams {
    /// Number of iterations, at least 1. More sharpens more and amplifies noise more.
    pub iterations: usize,
    /// Weight of the total-variation term, `0 <= lambda < 0.25`; 0 turns it off.
    /// Dey et al. use about 0.002; larger values smooth noise more and flatten
    /// texture.
    pub tv_lambda: f64,
}

impl Default for RichardsonLucyParams {
    /// 30 iterations, no regularisation.
    fn default() -> RichardsonLucyParams {
        RichardsonLucyParams {
            iterations: 30,
            tv_lambda: 0.0,
        }
    }
}

impl RichardsonLucyParams {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the setting out of range and its value.
    pub fn validate(&self) -> Result<()> {
        if self.iterations == 0 {
            return Err(Error::InvalidInput(
                "Richardson-Lucy needs at least 1 iteration, got 0".into(),
            ));
        }
        if !(self.tv_lambda.is_finite() && (0.0..MAX_TV_LAMBDA).contains(&self.tv_lambda)) {
            return Err(Error::InvalidInput(format!(
                "the total-variation weight lambda must be at least 0 and below {MAX_TV_LAMBDA}, got {}",
                self.tv_lambda
            )));
        }
        Ok(())
    }
}

/// Called after each iteration with its number (from 1) and the current estimate;
/// returns `true` to go on, `false` to stop there (the estimate shown is then the
/// result). Lets a caller follow convergence, pick the best iteration, or cancel.
pub type IterationCallback<'a> = &'a mut dyn FnMut(usize, ArrayView2<f32>) -> bool;

/// Deconvolves `image` with `psf` (any size; scaled to sum 1 here) by
/// Richardson-Lucy, RL-TV when `params.tv_lambda > 0`. See the module documentation.
///
/// # Errors
/// [`Error::InvalidInput`] if the image is empty or holds NaN or infinite values, if
/// the PSF is not a valid PSF (see [`normalize_psf`]), or if a setting is out of range.
pub fn richardson_lucy(
    image: ArrayView2<f32>,
    psf: ArrayView2<f32>,
    params: &RichardsonLucyParams,
    mut callback: Option<IterationCallback>,
) -> Result<Array2<f32>> {
    params.validate()?;
    if image.is_empty() {
        return Err(Error::InvalidInput(
            "cannot deconvolve an empty image".into(),
        ));
    }
    check_finite(image, "the image")?;
    let psf = normalize_psf(psf)?;
    let padding = MirrorPadding::for_kernel(image.nrows(), image.ncols(), psf.nrows(), psf.ncols());
    let (height, width) = (padding.padded_height(), padding.padded_width());
    let mut convolver = Convolver::new(psf.view(), height, width, ConvolutionMode::Circular)?;
    let data = padding.pad(image, |v| f64::from(v.max(0.0)));
    let n = data.len();
    let mean = data.iter().sum::<f64>() / n as f64;
    let largest = data.iter().fold(0.0f64, |m, &v| m.max(v));
    // Smallest denominator of the ratio: keeps y / Hx finite where the estimate is 0.
    let floor = (largest * 1e-12).max(f64::MIN_POSITIVE);
    // Smoothing of |grad x| in the TV term, relative to the image's level.
    let tv_epsilon = (mean * 1e-4).max(f64::MIN_POSITIVE);

    let mut estimate = vec![mean; n];
    let mut blurred = vec![0.0; n];
    let mut ratio = vec![0.0; n];
    let mut correction = vec![0.0; n];
    let mut tv_denominator = vec![1.0; n];
    for iteration in 1..=params.iterations {
        convolver.apply(&estimate, &mut blurred, false);
        for ((r, &y), &b) in ratio.iter_mut().zip(&data).zip(&blurred) {
            *r = y / b.max(floor);
        }
        convolver.apply(&ratio, &mut correction, true);
        if params.tv_lambda > 0.0 {
            tv_denominators(
                &estimate,
                width,
                params.tv_lambda,
                tv_epsilon,
                &mut tv_denominator,
            );
        }
        for ((x, &c), &d) in estimate.iter_mut().zip(&correction).zip(&tv_denominator) {
            *x = (*x * c).max(0.0) / d;
        }
        if let Some(callback) = callback.as_mut() {
            if !callback(iteration, padding.crop(&estimate).view()) {
                break;
            }
        }
    }
    Ok(padding.crop(&estimate))
}

/// `1 - lambda * div(grad x / |grad x|)` at every pixel of the row-major plane `x` of
/// `width` columns: forward differences for the gradient, backward differences for
/// the divergence, zero flux across the plane's border, `|g| = sqrt(|g|^2 + eps^2)`.
fn tv_denominators(x: &[f64], width: usize, lambda: f64, epsilon: f64, out: &mut [f64]) {
    let height = x.len() / width;
    let mut unit_x = vec![0.0; x.len()];
    let mut unit_y = vec![0.0; x.len()];
    for r in 0..height {
        for c in 0..width {
            let i = r * width + c;
            let gx = if c + 1 < width { x[i + 1] - x[i] } else { 0.0 };
            let gy = if r + 1 < height {
                x[i + width] - x[i]
            } else {
                0.0
            };
            let norm = (gx * gx + gy * gy + epsilon * epsilon).sqrt();
            unit_x[i] = gx / norm;
            unit_y[i] = gy / norm;
        }
    }
    for r in 0..height {
        for c in 0..width {
            let i = r * width + c;
            let left = if c > 0 { unit_x[i - 1] } else { 0.0 };
            let up = if r > 0 { unit_y[i - width] } else { 0.0 };
            let divergence = unit_x[i] - left + unit_y[i] - up;
            out[i] = 1.0 - lambda * divergence;
        }
    }
}
