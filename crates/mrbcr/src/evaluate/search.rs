//! The best setting of a classical method on one image, found by scoring each
//! candidate against the image's ground truth.

use ndarray::{Array2, ArrayView2};

use crate::classical::{richardson_lucy, wiener, RichardsonLucyParams};
use crate::error::{Error, Result};
use crate::simulate::{score, Scores};

/// The best of the settings tried on one image (highest PSNR; the first of equals).
#[derive(Debug, Clone)]
pub struct BestSetting<T> {
    /// The setting.
    pub setting: T,
    /// Its scores against the truth.
    pub scores: Scores,
    /// Its output.
    pub output: Array2<f32>,
}

/// Wiener deconvolution of `input` by `psf` with each noise-to-signal ratio of `grid`;
/// the one whose output scores the highest PSNR against `truth`.
///
/// # Errors
/// [`Error::InvalidInput`] if `grid` is empty; Wiener's and [`score`]'s errors.
pub fn best_wiener(
    input: ArrayView2<f32>,
    psf: ArrayView2<f32>,
    truth: ArrayView2<f32>,
    grid: &[f64],
) -> Result<BestSetting<f64>> {
    let mut best: Option<BestSetting<f64>> = None;
    for &nsr in grid {
        let output = wiener(input, psf, nsr)?;
        let scores = score(output.view(), truth)?;
        if best.as_ref().is_none_or(|b| scores.psnr > b.scores.psnr) {
            best = Some(BestSetting {
                setting: nsr,
                scores,
                output,
            });
        }
    }
    best.ok_or_else(|| Error::InvalidInput("no noise-to-signal ratio to try".into()))
}

/// Every Richardson-Lucy iterate's scores, and the best of them.
#[derive(Debug, Clone)]
pub struct RichardsonLucyCurve {
    /// The scores after iteration 1, 2, ...: `params.iterations` of them, or fewer if
    /// an iterate could not be scored (the run stops there).
    pub scores: Vec<Scores>,
    /// The iterate of highest PSNR (the first of equals): its iteration count (from
    /// 1), scores and estimate.
    pub best: BestSetting<usize>,
}

/// Runs Richardson-Lucy (RL-TV when `params.tv_lambda > 0`) on `input` with `psf` for
/// `params.iterations` iterations, scoring every iterate against `truth`.
///
/// # Errors
/// Richardson-Lucy's errors; [`score`]'s if not even the first iterate can be scored.
pub fn richardson_lucy_curve(
    input: ArrayView2<f32>,
    psf: ArrayView2<f32>,
    truth: ArrayView2<f32>,
    params: &RichardsonLucyParams,
) -> Result<RichardsonLucyCurve> {
    let mut scores = Vec::with_capacity(params.iterations);
    let mut best: Option<BestSetting<usize>> = None;
    let mut failure = None;
    let mut record = |iteration: usize, estimate: ArrayView2<f32>| match score(estimate, truth) {
        Ok(s) => {
            if best.as_ref().is_none_or(|b| s.psnr > b.scores.psnr) {
                best = Some(BestSetting {
                    setting: iteration,
                    scores: s,
                    output: estimate.to_owned(),
                });
            }
            scores.push(s);
            true
        }
        Err(e) => {
            failure = Some(e);
            false
        }
    };
    richardson_lucy(input, psf, params, Some(&mut record))?;
    match (best, failure) {
        (Some(best), _) => Ok(RichardsonLucyCurve { scores, best }),
        (None, Some(e)) => Err(e),
        (None, None) => Err(Error::InvalidInput(
            "Richardson-Lucy ran no iteration to score".into(),
        )),
    }
}
