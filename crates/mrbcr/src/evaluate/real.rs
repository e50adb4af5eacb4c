//! The real-specimen benchmark: sharp real images held out from training
//! ([`crate::simulate::real::benchmark`]) blurred and recorded under fixed
//! microscopes; the raw input, Wiener and Richardson-Lucy with the true PSF at each
//! image's best setting (an oracle no user has), and models run as `mrbcr deconvolve`
//! runs them, scored per image and on the mean.

use std::path::Path;

use ndarray::Array2;
use rayon::prelude::*;

use super::search::{best_wiener, richardson_lucy_curve};
use super::NamedModel;
use crate::classical::psf::born_wolf_psf;
use crate::classical::{planes_to_stack, stack_planes, RichardsonLucyParams};
use crate::error::{Error, Result};
use crate::simulate::real::benchmark::{benchmark_cases, BenchmarkCase};
use crate::simulate::real::{RealImageList, BENCHMARK_LIST};
use crate::simulate::{score, Scores};
use crate::{deconvolve, DeconvolveOptions, PixelType};

/// Noise-to-signal ratios tried for Wiener on each image.
pub const WIENER_NSR: [f64; 10] = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];

/// The benchmark's cases and the planes they came from.
#[derive(Debug, Clone)]
pub struct RealCases {
    /// Real planes read (each gives one case per microscope).
    pub planes: usize,
    /// Every plane under every microscope.
    pub cases: Vec<BenchmarkCase>,
}

/// Reads the images of `list` (a tab-separated list as `models/real-benchmark.tsv`;
/// `None`: that bundled held-out list) from `dir` and makes the benchmark's cases,
/// their noise drawn from `seed`.
///
/// # Errors
/// An unreadable or malformed list, a missing or unreadable image.
pub fn load_real_cases(dir: &Path, list: Option<&Path>, seed: u64) -> Result<RealCases> {
    let list = match list {
        Some(path) => RealImageList::read(path),
        None => RealImageList::parse(BENCHMARK_LIST, "the bundled benchmark list"),
    }?;
    let images = list.load(dir)?;
    let cases = benchmark_cases(&images, seed)?;
    Ok(RealCases {
        planes: images.iter().map(|i| i.planes.len()).sum(),
        cases,
    })
}

/// One case's scores and outputs.
#[derive(Debug, Clone)]
pub struct RealCaseResult {
    /// Scores of the raw input, Wiener, Richardson-Lucy, then each model.
    pub scores: Vec<Scores>,
    /// The noise-to-signal ratio of Wiener's best PSNR.
    pub wiener_nsr: f64,
    /// The iteration count of Richardson-Lucy's best PSNR.
    pub rl_iterations: usize,
    /// The outputs in the order of `scores` (the raw input is the camera's counts).
    pub outputs: Vec<Array2<f32>>,
}

/// Scores every method on one case.
fn run_case(
    case: &BenchmarkCase,
    models: &[NamedModel],
    options: &DeconvolveOptions,
    max_iterations: usize,
) -> Result<RealCaseResult> {
    let truth = case.truth.view();
    let offset = case.acquisition.camera.offset as f32;
    let counts = case.raw.mapv(f32::from);
    let input = counts.mapv(|v| (v - offset).max(0.0));
    let psf = born_wolf_psf(&case.acquisition.psf)?;
    let mut scores = vec![score(counts.view(), truth)?];
    let mut outputs = vec![counts.clone()];

    let wiener = best_wiener(input.view(), psf.view(), truth, &WIENER_NSR)?;
    scores.push(wiener.scores);
    outputs.push(wiener.output);

    let params = RichardsonLucyParams {
        iterations: max_iterations,
        tv_lambda: 0.0,
    };
    let rl = richardson_lucy_curve(input.view(), psf.view(), truth, &params)?.best;
    scores.push(rl.scores);
    outputs.push(rl.output);

    let stack = planes_to_stack(std::slice::from_ref(&counts))?;
    for named in models {
        let restored = deconvolve(&named.model, &stack, options, PixelType::F32, None)?;
        let out = stack_planes(&restored).swap_remove(0);
        scores.push(score(out.view(), truth)?);
        outputs.push(out);
    }
    Ok(RealCaseResult {
        scores,
        wiener_nsr: wiener.setting,
        rl_iterations: rl.setting,
        outputs,
    })
}

/// Scores the raw input, Wiener (best of [`WIENER_NSR`]), Richardson-Lucy (best of 1
/// to `max_iterations`) and each model (run with `options`) on every case, the cases
/// in parallel on the current rayon pool; the results in the order of `cases`.
///
/// # Errors
/// [`Error::InvalidInput`] if `max_iterations` is 0 or an option is out of range; the
/// methods' and the scores' errors.
pub fn run_real(
    cases: &[BenchmarkCase],
    models: &[NamedModel],
    options: &DeconvolveOptions,
    max_iterations: usize,
) -> Result<Vec<RealCaseResult>> {
    if max_iterations == 0 {
        return Err(Error::InvalidInput(
            "bench-quality needs at least 1 image and 1 iteration".into(),
        ));
    }
    options.validate()?;
    cases
        .par_iter()
        .map(|case| run_case(case, models, options, max_iterations))
        .collect()
}

/// One method's scores over all cases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanScores {
    /// Mean PSNR, dB.
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
    /// Cases where its PSNR is below the raw input's.
    pub below_raw_psnr: usize,
    /// Cases where its SSIM is below the raw input's.
    pub below_raw_ssim: usize,
}

/// Each method's mean scores over `results`, in the order of
/// [`RealCaseResult::scores`] (the raw input first).
pub fn mean_scores(results: &[RealCaseResult]) -> Vec<MeanScores> {
    let n = results.len() as f64;
    let methods = results.first().map_or(0, |r| r.scores.len());
    (0..methods)
        .map(|k| {
            let mean =
                |f: fn(&Scores) -> f64| results.iter().map(|r| f(&r.scores[k])).sum::<f64>() / n;
            let below = |f: fn(&Scores) -> f64| {
                results
                    .iter()
                    .filter(|r| f(&r.scores[k]) < f(&r.scores[0]))
                    .count()
            };
            MeanScores {
                psnr: mean(|s| s.psnr),
                ssim: mean(|s| s.ssim),
                below_raw_psnr: below(|s| s.psnr),
                below_raw_ssim: below(|s| s.ssim),
            }
        })
        .collect()
}
