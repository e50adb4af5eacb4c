//! `mrbcr bench-quality --real DIR`: the real-specimen benchmark. Sharp real images
//! held out from training ([`mrbcr::simulate::real::benchmark`]) are blurred and
//! recorded under fixed microscopes; the raw input, Wiener and Richardson-Lucy with the
//! true PSF at each image's best setting (an oracle no user has), and each model run
//! as `mrbcr deconvolve` runs it, are scored per image and on the mean.

use std::path::{Path, PathBuf};

use mrbcr::classical::stack::planes_to_stack;
use mrbcr::classical::{richardson_lucy, wiener, RichardsonLucyParams};
use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::simulate::real::benchmark::{benchmark_cases, BenchmarkCase};
use mrbcr::simulate::real::{RealImageList, BENCHMARK_LIST};
use mrbcr::simulate::{score, Scores};
use mrbcr::{deconvolve, DeconvolveOptions, Model, PixelType};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Noise-to-signal ratios tried for Wiener on each image.
const WIENER_NSR: [f64; 10] = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];

/// What the benchmark runs.
pub struct RealBenchmark<'a> {
    /// The folder of the real images.
    pub dir: &'a Path,
    /// A list of images instead of the bundled held-out list.
    pub list: Option<&'a Path>,
    /// The models scored, with their names.
    pub models: &'a [(String, Model)],
    /// How the models run.
    pub options: &'a DeconvolveOptions,
    /// Most Richardson-Lucy iterations tried.
    pub max_iterations: usize,
    /// Seed of the noise.
    pub seed: u64,
    /// A folder for one TIFF per image: truth, raw, Wiener, Richardson-Lucy, models.
    pub pictures: Option<&'a Path>,
}

/// One image's scores and outputs.
struct CaseResult {
    /// Raw input, Wiener, Richardson-Lucy, then each model.
    scores: Vec<Scores>,
    /// The best Wiener NSR and Richardson-Lucy iteration count.
    settings: (f64, usize),
    /// The outputs in the order of `scores` (raw input first).
    outputs: Vec<Array2<f32>>,
}

/// The best Richardson-Lucy result by PSNR up to `max_iterations`: its scores, its
/// iteration count and its estimate.
fn best_richardson_lucy(
    input: ArrayView2<f32>,
    psf: ArrayView2<f32>,
    truth: ArrayView2<f32>,
    max_iterations: usize,
) -> mrbcr::Result<(Scores, usize, Array2<f32>)> {
    let mut best: Option<(Scores, usize, Array2<f32>)> = None;
    let mut record = |iteration: usize, estimate: ArrayView2<f32>| {
        if let Ok(s) = score(estimate, truth) {
            if best.as_ref().is_none_or(|(b, _, _)| s.psnr > b.psnr) {
                best = Some((s, iteration, estimate.to_owned()));
            }
        }
        true
    };
    let params = RichardsonLucyParams {
        iterations: max_iterations,
        tv_lambda: 0.0,
    };
    richardson_lucy(input, psf, &params, Some(&mut record))?;
    Ok(best.expect("at least one iteration ran"))
}

/// Scores every method on one case.
fn run_case(case: &BenchmarkCase, bench: &RealBenchmark) -> mrbcr::Result<CaseResult> {
    let truth = case.truth.view();
    let offset = case.acquisition.camera.offset as f32;
    let counts = case.raw.mapv(f32::from);
    let input = counts.mapv(|v| (v - offset).max(0.0));
    let psf = mrbcr::classical::psf::born_wolf_psf(&case.acquisition.psf)?;
    let mut scores = vec![score(counts.view(), truth)?];
    let mut outputs = vec![counts.clone()];

    let mut best_wiener: Option<(Scores, f64, Array2<f32>)> = None;
    for nsr in WIENER_NSR {
        let out = wiener(input.view(), psf.view(), nsr)?;
        let s = score(out.view(), truth)?;
        if best_wiener.as_ref().is_none_or(|(b, _, _)| s.psnr > b.psnr) {
            best_wiener = Some((s, nsr, out));
        }
    }
    let (wiener_scores, nsr, wiener_out) = best_wiener.expect("the grid is not empty");
    scores.push(wiener_scores);
    outputs.push(wiener_out);

    let (rl_scores, iterations, rl_out) =
        best_richardson_lucy(input.view(), psf.view(), truth, bench.max_iterations)?;
    scores.push(rl_scores);
    outputs.push(rl_out);

    let stack = planes_to_stack(std::slice::from_ref(&counts))?;
    for (_, model) in bench.models {
        let restored = deconvolve(model, &stack, bench.options, PixelType::F32, None)?;
        let out = mrbcr::classical::stack::stack_planes(&restored).swap_remove(0);
        scores.push(score(out.view(), truth)?);
        outputs.push(out);
    }
    Ok(CaseResult {
        scores,
        settings: (nsr, iterations),
        outputs,
    })
}

/// Runs the benchmark and prints its tables.
///
/// # Errors
/// A message for the user: unreadable images or list, failed runs.
pub fn run(bench: &RealBenchmark) -> Result<(), String> {
    let list = match bench.list {
        Some(path) => RealImageList::read(path),
        None => RealImageList::parse(BENCHMARK_LIST, "the bundled benchmark list"),
    }
    .map_err(|e| e.to_string())?;
    let images = list.load(bench.dir).map_err(|e| e.to_string())?;
    let cases = benchmark_cases(&images, bench.seed).map_err(|e| e.to_string())?;
    println!(
        "{} held-out real images x {} microscopes = {} cases (noise seed {}); scoring raw input, \
         Wiener and Richardson-Lucy (true PSF, each image's best setting), {} model(s) ...",
        images.iter().map(|i| i.planes.len()).sum::<usize>(),
        mrbcr::simulate::real::benchmark::BENCHMARK_CONDITIONS.len(),
        cases.len(),
        bench.seed,
        bench.models.len()
    );
    let results = cases
        .par_iter()
        .map(|case| run_case(case, bench))
        .collect::<mrbcr::Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;

    let mut methods = vec![
        "raw input".to_string(),
        "Wiener".to_string(),
        "Richardson-Lucy".to_string(),
    ];
    methods.extend(bench.models.iter().map(|(name, _)| name.clone()));
    println!("\nPSNR (dB) / SSIM after an affine fit to the truth, per image:\n");
    println!(
        "| image | microscope | {} | Wiener NSR, RL iterations |",
        methods.join(" | ")
    );
    println!("|---|---|{}---|", "---|".repeat(methods.len()));
    for (case, result) in cases.iter().zip(&results) {
        let cells: Vec<String> = result
            .scores
            .iter()
            .map(|s| format!("{:.2} / {:.3}", s.psnr, s.ssim))
            .collect();
        println!(
            "| {} | {} | {} | {}, {} |",
            case.image,
            case.condition,
            cells.join(" | "),
            result.settings.0,
            result.settings.1
        );
    }
    let n = results.len() as f64;
    let mean =
        |k: usize, f: fn(&Scores) -> f64| results.iter().map(|r| f(&r.scores[k])).sum::<f64>() / n;
    println!("\nMean over {} cases:\n", results.len());
    println!("| method | PSNR (dB) | SSIM | images below raw input (PSNR, SSIM) |");
    println!("|---|---|---|---|");
    for (k, method) in methods.iter().enumerate() {
        let below = |f: fn(&Scores) -> f64| {
            results
                .iter()
                .filter(|r| f(&r.scores[k]) < f(&r.scores[0]))
                .count()
        };
        println!(
            "| {method} | {:.2} | {:.4} | {}, {} |",
            mean(k, |s| s.psnr),
            mean(k, |s| s.ssim),
            below(|s| s.psnr),
            below(|s| s.ssim)
        );
    }
    if let Some(dir) = bench.pictures {
        write_pictures(dir, &cases, &results)?;
    }
    Ok(())
}

/// One TIFF per case in `dir`: truth, then the outputs (raw input, Wiener,
/// Richardson-Lucy, models).
fn write_pictures(
    dir: &Path,
    cases: &[BenchmarkCase],
    results: &[CaseResult],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (k, (case, result)) in cases.iter().zip(results).enumerate() {
        let mut planes = vec![case.truth.clone()];
        planes.extend(result.outputs.iter().cloned());
        let stack = planes_to_stack(&planes).map_err(|e| e.to_string())?;
        let path: PathBuf = dir.join(format!("case_{k:02}.tif"));
        let metadata = TiffMetadata {
            description: Some(format!("{} | {}", case.image, case.condition)),
            resolution: None,
        };
        write_tiff(&path, &stack, &metadata).map_err(|e| e.to_string())?;
    }
    println!(
        "\npictures: {} (truth, raw, Wiener, RL, models per file)",
        dir.display()
    );
    Ok(())
}
