//! The simulated benchmark: raw input, Wiener, Richardson-Lucy (and RL-TV) with the
//! true PSF at their best settings on the mean, and models run as `mrbcr deconvolve`
//! runs them, scored on a set of the 2-D simulator's images.

use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::search::richardson_lucy_curve;
use super::NamedModel;
use crate::classical::psf::{born_wolf_psf, PsfParams};
use crate::classical::RichardsonLucyParams;
use crate::classical::{planes_to_stack, richardson_lucy, stack_planes, wiener};
use crate::error::{Error, Result};
use crate::simulate::{score, simulate_set, Scores, SimulatedPair, SimulationParams};
use crate::{deconvolve, DeconvolveOptions, PixelType};

/// Noise-to-signal ratios tried for Wiener (one for the whole set).
pub const WIENER_NSR: [f64; 8] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];

/// Side of the true PSF the classical methods get, pixels.
pub const TRUE_PSF_SIZE: usize = 65;

/// One plane per image of the set.
pub type Planes = Vec<Array2<f32>>;

/// The simulated set and the searches of the benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedBenchmark {
    /// Images in the set.
    pub images: usize,
    /// Their side, pixels.
    pub size: usize,
    /// Seed of the set.
    pub seed: u64,
    /// Most Richardson-Lucy iterations tried.
    pub max_iterations: usize,
    /// TV weight of the RL-TV row (0 leaves it out).
    pub tv_lambda: f64,
    /// Photons at the brightest pixel, `(min, max)`, drawn log-uniformly per image.
    pub peak_photons: (f64, f64),
    /// Camera pixel size in the sample, nm.
    pub pixel_size_nm: f64,
}

impl Default for SimulatedBenchmark {
    /// The published benchmark: 24 images of 256 x 256 pixels of 65 nm, seed 2024
    /// (which no training or validation image used), 20 to 2000 photons; up to 100
    /// Richardson-Lucy iterations; RL-TV with lambda 0.002.
    fn default() -> SimulatedBenchmark {
        SimulatedBenchmark {
            images: 24,
            size: 256,
            seed: 2024,
            max_iterations: 100,
            tv_lambda: 0.002,
            peak_photons: (20.0, 2000.0),
            pixel_size_nm: 65.0,
        }
    }
}

impl SimulatedBenchmark {
    /// The simulator's settings of the set.
    pub fn simulation(&self) -> SimulationParams {
        SimulationParams {
            width: self.size,
            height: self.size,
            pixel_size_nm: self.pixel_size_nm,
            peak_photons: self.peak_photons,
            ..SimulationParams::default()
        }
    }

    /// Megapixels in the set.
    pub fn megapixels(&self) -> f64 {
        (self.images * self.size * self.size) as f64 / 1e6
    }
}

/// A method scored by the benchmark, with its setting.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// The raw input (camera counts less the offset).
    RawInput,
    /// Wiener with the true PSF at the noise-to-signal ratio of best mean PSNR.
    Wiener {
        /// The best noise-to-signal ratio of [`WIENER_NSR`].
        nsr: f64,
    },
    /// Richardson-Lucy (RL-TV if `tv_lambda > 0`) with the true PSF at the iteration
    /// count of best mean PSNR.
    RichardsonLucy {
        /// The best iteration count.
        iterations: usize,
        /// The TV weight (0: plain Richardson-Lucy).
        tv_lambda: f64,
    },
    /// A model, run with the benchmark's deconvolution options.
    Model {
        /// Its name.
        name: String,
    },
}

/// One method's mean scores over the set and its speed.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodResult {
    /// The method and its setting.
    pub method: Method,
    /// Mean PSNR, dB.
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
    /// Wall-clock seconds per megapixel of a run at the chosen setting (0 for the raw
    /// input).
    pub seconds_per_megapixel: f64,
}

/// Mean PSNR and SSIM of `outputs` against the set's ground truths.
fn set_scores(set: &[SimulatedPair], outputs: &[Array2<f32>]) -> Result<(f64, f64)> {
    let mut sums = (0.0, 0.0);
    for (pair, output) in set.iter().zip(outputs) {
        let s = score(output.view(), pair.ground_truth.view())?;
        sums.0 += s.psnr;
        sums.1 += s.ssim;
    }
    let n = set.len() as f64;
    Ok((sums.0 / n, sums.1 / n))
}

/// Runs `method` on every image in parallel; the outputs and the wall time, s.
fn timed<F>(inputs: &[Array2<f32>], method: F) -> Result<(Vec<Array2<f32>>, f64)>
where
    F: Fn(usize, ArrayView2<f32>) -> Result<Array2<f32>> + Sync,
{
    let start = Instant::now();
    let outputs: Vec<Result<Array2<f32>>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, image)| method(i, image.view()))
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    let outputs = outputs.into_iter().collect::<Result<Vec<_>>>()?;
    Ok((outputs, seconds))
}

/// The iteration count (from 1) of best mean PSNR over `curves` (an image whose curve
/// stopped early counts its last scores), the latest of equals, with its mean PSNR and
/// SSIM.
fn best_mean_iteration(curves: &[Vec<Scores>], max_iterations: usize) -> (usize, f64, f64) {
    let n = curves.len() as f64;
    let mean_at = |k: usize| -> (f64, f64) {
        let sums = curves.iter().fold((0.0, 0.0), |acc, c| {
            let (p, s) = c
                .get(k)
                .or(c.last())
                .map_or((f64::NAN, f64::NAN), |s| (s.psnr, s.ssim));
            (acc.0 + p, acc.1 + s)
        });
        (sums.0 / n, sums.1 / n)
    };
    let best = (0..max_iterations)
        .max_by(|&a, &b| mean_at(a).0.total_cmp(&mean_at(b).0))
        .unwrap_or(0);
    let (psnr, ssim) = mean_at(best);
    (best + 1, psnr, ssim)
}

/// Richardson-Lucy at the iteration count of best mean PSNR up to `max_iterations`,
/// timed at exactly that count.
fn best_richardson_lucy(
    set: &[SimulatedPair],
    inputs: &[Array2<f32>],
    psfs: &[Array2<f32>],
    max_iterations: usize,
    tv_lambda: f64,
    megapixels: f64,
) -> Result<MethodResult> {
    let params = RichardsonLucyParams {
        iterations: max_iterations,
        tv_lambda,
    };
    let curves = inputs
        .par_iter()
        .enumerate()
        .map(|(i, image)| {
            let truth = set[i].ground_truth.view();
            Ok(richardson_lucy_curve(image.view(), psfs[i].view(), truth, &params)?.scores)
        })
        .collect::<Vec<Result<Vec<Scores>>>>()
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let (iterations, psnr, ssim) = best_mean_iteration(&curves, max_iterations);
    let timed_params = RichardsonLucyParams {
        iterations,
        tv_lambda,
    };
    let (_, seconds) = timed(inputs, |i, image| {
        richardson_lucy(image, psfs[i].view(), &timed_params, None)
    })?;
    Ok(MethodResult {
        method: Method::RichardsonLucy {
            iterations,
            tv_lambda,
        },
        psnr,
        ssim,
        seconds_per_megapixel: seconds / megapixels,
    })
}

/// What the methods of the benchmark get of each pair of `set`, simulated with
/// `params`: its input (the camera counts less the camera's offset) and its true
/// in-focus PSF, cut to [`TRUE_PSF_SIZE`] pixels.
///
/// # Errors
/// The PSF's errors.
pub fn inputs_and_true_psfs(
    params: &SimulationParams,
    set: &[SimulatedPair],
) -> Result<(Planes, Planes)> {
    let offset = params.camera.offset as f32;
    let inputs = set
        .iter()
        .map(|p| p.raw.mapv(|c| f32::from(c) - offset))
        .collect();
    let psfs = set
        .iter()
        .map(|p| {
            born_wolf_psf(&PsfParams {
                width: TRUE_PSF_SIZE,
                height: TRUE_PSF_SIZE,
                ..p.conditions.psf.clone()
            })
        })
        .collect::<Result<_>>()?;
    Ok((inputs, psfs))
}

/// Simulates the set of `bench` and scores on it, in this order: the raw input,
/// Wiener, Richardson-Lucy, RL-TV (if `bench.tv_lambda > 0`), then each model run
/// with `options`. The classical methods run in parallel on the current rayon pool.
///
/// # Errors
/// [`Error::InvalidInput`] if the set has no image or Richardson-Lucy no iteration,
/// or a setting is out of range; the simulator's, the methods' and the scores' errors.
pub fn run_simulated(
    bench: &SimulatedBenchmark,
    models: &[NamedModel],
    options: &DeconvolveOptions,
) -> Result<Vec<MethodResult>> {
    if bench.images == 0 || bench.max_iterations == 0 {
        return Err(Error::InvalidInput(
            "bench-quality needs at least 1 image and 1 iteration".into(),
        ));
    }
    options.validate()?;
    let params = bench.simulation();
    let set = simulate_set(&params, bench.seed, bench.images)?;
    let megapixels = bench.megapixels();
    let (inputs, psfs) = inputs_and_true_psfs(&params, &set)?;

    let mut results = Vec::new();
    let (psnr, ssim) = set_scores(&set, &inputs)?;
    results.push(MethodResult {
        method: Method::RawInput,
        psnr,
        ssim,
        seconds_per_megapixel: 0.0,
    });

    let mut best_wiener: Option<(f64, f64, f64)> = None;
    for nsr in WIENER_NSR {
        let (outputs, _) = timed(&inputs, |i, image| wiener(image, psfs[i].view(), nsr))?;
        let (psnr, ssim) = set_scores(&set, &outputs)?;
        if best_wiener.is_none_or(|(_, best, _)| psnr > best) {
            best_wiener = Some((nsr, psnr, ssim));
        }
    }
    let (nsr, psnr, ssim) = best_wiener.expect("the grid is not empty");
    let (_, seconds) = timed(&inputs, |i, image| wiener(image, psfs[i].view(), nsr))?;
    results.push(MethodResult {
        method: Method::Wiener { nsr },
        psnr,
        ssim,
        seconds_per_megapixel: seconds / megapixels,
    });

    results.push(best_richardson_lucy(
        &set,
        &inputs,
        &psfs,
        bench.max_iterations,
        0.0,
        megapixels,
    )?);
    if bench.tv_lambda > 0.0 {
        results.push(best_richardson_lucy(
            &set,
            &inputs,
            &psfs,
            bench.max_iterations,
            bench.tv_lambda,
            megapixels,
        )?);
    }

    for named in models {
        let start = Instant::now();
        let outputs = inputs
            .iter()
            .map(|image| {
                let stack = planes_to_stack(std::slice::from_ref(image))?;
                let restored = deconvolve(&named.model, &stack, options, PixelType::F32, None)?;
                Ok(stack_planes(&restored).swap_remove(0))
            })
            .collect::<Result<Vec<_>>>()?;
        let seconds = start.elapsed().as_secs_f64();
        let (psnr, ssim) = set_scores(&set, &outputs)?;
        results.push(MethodResult {
            method: Method::Model {
                name: named.name.clone(),
            },
            psnr,
            ssim,
            seconds_per_megapixel: seconds / megapixels,
        });
    }
    Ok(results)
}
