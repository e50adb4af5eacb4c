//! Scores of a restoration against its ground truth: PSNR and SSIM, both computed
//! after the least-squares affine fit `a * output + b` of the output to the ground
//! truth, so that a method's intensity scale and offset do not decide its score
//! (deconvolution methods, networks and raw camera counts all have their own).
//!
//! SSIM is that of Wang, Bovik, Sheikh and Simoncelli (IEEE TIP 2004): Gaussian
//! window of sigma 1.5 (11 x 11), `K1 = 0.01`, `K2 = 0.03`, dynamic range `L` the
//! ground truth's `max - min`, averaged over the positions where the window lies
//! inside the image. PSNR is `10 log10(L^2 / MSE)` with the same `L`.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

/// Standard deviation of the SSIM window, pixels.
pub const SSIM_SIGMA: f64 = 1.5;
/// Side of the SSIM window, pixels.
pub const SSIM_WINDOW: usize = 11;
/// SSIM's `K1`.
pub const SSIM_K1: f64 = 0.01;
/// SSIM's `K2`.
pub const SSIM_K2: f64 = 0.03;

/// PSNR and SSIM of one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Peak signal-to-noise ratio, dB.
    pub psnr: f64,
    /// Structural similarity, at most 1.
    pub ssim: f64,
}

/// Checks the pair and returns the output fitted to the truth and the truth's range,
/// both as `f64`.
fn prepare(
    output: ArrayView2<f32>,
    truth: ArrayView2<f32>,
) -> Result<(Array2<f64>, Array2<f64>, f64)> {
    if output.dim() != truth.dim() {
        return Err(Error::InvalidInput(format!(
            "the output is {} x {} but the ground truth is {} x {}",
            output.nrows(),
            output.ncols(),
            truth.nrows(),
            truth.ncols()
        )));
    }
    crate::classical::convolution::check_finite(output, "the output")?;
    crate::classical::convolution::check_finite(truth, "the ground truth")?;
    let t = truth.mapv(f64::from);
    let o = output.mapv(f64::from);
    let (lo, hi) = t
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let range = hi - lo;
    if range <= 0.0 {
        return Err(Error::InvalidInput(format!(
            "the ground truth is constant ({lo}): PSNR and SSIM need a dynamic range"
        )));
    }
    let (a, b) = affine_fit(o.view(), t.view());
    Ok((o.mapv(|v| a * v + b), t, range))
}

/// `(a, b)` minimising `sum (a * output + b - truth)^2` (`a = 0` when the output is
/// constant).
pub fn affine_fit(output: ArrayView2<f64>, truth: ArrayView2<f64>) -> (f64, f64) {
    let n = output.len() as f64;
    let mean_o = output.sum() / n;
    let mean_t = truth.sum() / n;
    let (mut cov, mut var) = (0.0, 0.0);
    for (&o, &t) in output.iter().zip(truth.iter()) {
        cov += (o - mean_o) * (t - mean_t);
        var += (o - mean_o) * (o - mean_o);
    }
    let a = if var > 0.0 { cov / var } else { 0.0 };
    (a, mean_t - a * mean_o)
}

/// PSNR in dB of `output` against `truth` after the affine fit (infinite for a
/// perfect fit).
///
/// # Errors
/// [`Error::InvalidInput`] if the sizes differ, a value is NaN or infinite, or the
/// ground truth is constant.
pub fn psnr(output: ArrayView2<f32>, truth: ArrayView2<f32>) -> Result<f64> {
    let (fitted, t, range) = prepare(output, truth)?;
    Ok(psnr_of(&fitted, &t, range))
}

fn psnr_of(fitted: &Array2<f64>, truth: &Array2<f64>, range: f64) -> f64 {
    let mse = fitted
        .iter()
        .zip(truth.iter())
        .map(|(&o, &t)| (o - t) * (o - t))
        .sum::<f64>()
        / truth.len() as f64;
    10.0 * (range * range / mse).log10()
}

/// SSIM of `output` against `truth` after the affine fit.
///
/// # Errors
/// As [`psnr`], and if the image is smaller than the 11 x 11 window.
pub fn ssim(output: ArrayView2<f32>, truth: ArrayView2<f32>) -> Result<f64> {
    let (fitted, t, range) = prepare(output, truth)?;
    ssim_of(&fitted, &t, range)
}

/// Both scores, sharing the fit.
///
/// # Errors
/// As [`ssim`].
pub fn score(output: ArrayView2<f32>, truth: ArrayView2<f32>) -> Result<Scores> {
    let (fitted, t, range) = prepare(output, truth)?;
    Ok(Scores {
        psnr: psnr_of(&fitted, &t, range),
        ssim: ssim_of(&fitted, &t, range)?,
    })
}

fn ssim_of(x: &Array2<f64>, y: &Array2<f64>, range: f64) -> Result<f64> {
    let (h, w) = x.dim();
    if h < SSIM_WINDOW || w < SSIM_WINDOW {
        return Err(Error::InvalidInput(format!(
            "SSIM needs images of at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels, got {h} x {w}"
        )));
    }
    let window = gaussian_window();
    let mu_x = filter_valid(x, &window);
    let mu_y = filter_valid(y, &window);
    let xx = filter_valid(&(x * x), &window);
    let yy = filter_valid(&(y * y), &window);
    let xy = filter_valid(&(x * y), &window);
    let c1 = (SSIM_K1 * range).powi(2);
    let c2 = (SSIM_K2 * range).powi(2);
    let mut total = 0.0;
    for i in 0..mu_x.len() {
        let (mx, my) = (mu_x[i], mu_y[i]);
        let sx = xx[i] - mx * mx;
        let sy = yy[i] - my * my;
        let sxy = xy[i] - mx * my;
        total +=
            ((2.0 * mx * my + c1) * (2.0 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2));
    }
    Ok(total / mu_x.len() as f64)
}

/// The normalised 1-D Gaussian window (the 2-D window is its outer product).
fn gaussian_window() -> Vec<f64> {
    let centre = (SSIM_WINDOW / 2) as f64;
    let w: Vec<f64> = (0..SSIM_WINDOW)
        .map(|i| (-((i as f64 - centre).powi(2)) / (2.0 * SSIM_SIGMA * SSIM_SIGMA)).exp())
        .collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// The separable filtering of `image` by `window` at the positions where the window
/// lies inside, row-major.
fn filter_valid(image: &Array2<f64>, window: &[f64]) -> Vec<f64> {
    let (h, w) = image.dim();
    let k = window.len();
    let (oh, ow) = (h - k + 1, w - k + 1);
    let mut rows = vec![0.0; h * ow];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = (0..k).map(|j| window[j] * image[(y, x + j)]).sum();
        }
    }
    let mut out = vec![0.0; oh * ow];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..k).map(|i| window[i] * rows[(y + i) * ow + x]).sum();
        }
    }
    out
}
