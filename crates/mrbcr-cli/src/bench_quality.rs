//! `mrbcr bench-quality`: the arguments of the quality benchmarks of
//! [`mrbcr::evaluate`], and their tables (and, for the real specimens, pictures).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::Args;
use mrbcr::classical::planes_to_stack;
use mrbcr::evaluate::{
    load_real_cases, mean_scores, run_real, run_simulated, Method, NamedModel, RealCaseResult,
    SimulatedBenchmark,
};
use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::simulate::real::benchmark::{BenchmarkCase, BENCHMARK_CONDITIONS};
use mrbcr::{DeconvolveOptions, Error, Model, Normalization, Result};

/// Arguments of `mrbcr bench-quality`.
#[derive(Args)]
pub struct BenchQualityArgs {
    /// Simulated images.
    #[arg(long, default_value_t = SimulatedBenchmark::default().images)]
    count: usize,
    /// Image side, pixels.
    #[arg(long, default_value_t = SimulatedBenchmark::default().size)]
    size: usize,
    /// Seed of the simulated set (with `--real`: of the noise).
    #[arg(long, default_value_t = SimulatedBenchmark::default().seed)]
    seed: u64,
    /// Most Richardson-Lucy iterations tried.
    #[arg(long, default_value_t = SimulatedBenchmark::default().max_iterations)]
    max_iterations: usize,
    /// TV weight of the RL-TV row (0 leaves it out).
    #[arg(long, default_value_t = SimulatedBenchmark::default().tv_lambda)]
    tv_lambda: f64,
    /// Photons at the brightest pixel, `MIN,MAX` (drawn log-uniformly per image).
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [
        SimulatedBenchmark::default().peak_photons.0,
        SimulatedBenchmark::default().peak_photons.1,
    ])]
    photons: Vec<f64>,
    /// Camera pixel size in the sample, nm.
    #[arg(long, default_value_t = SimulatedBenchmark::default().pixel_size_nm)]
    pixel_size: f64,
    /// Further m-rBCR model files to score (the bundled default model always is).
    #[arg(long)]
    model: Vec<PathBuf>,
    /// Tile side of the m-rBCR runs (0: each whole image at once).
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_TILE)]
    tile: usize,
    /// Tile overlap of the m-rBCR runs (default: each model's own, as `mrbcr
    /// deconvolve`).
    #[arg(long)]
    overlap: Option<usize>,
    /// Normalisation of the m-rBCR runs, as `mrbcr deconvolve --norm`.
    #[arg(long, default_value_t = DeconvolveOptions::default().normalization,
          value_parser = Normalization::from_str)]
    norm: Normalization,
    /// Score on sharp real images held out from training, in this folder (the files of
    /// `--real-list`), under fixed microscopes, per image and on the mean, instead of on
    /// simulated images.
    #[arg(long)]
    real: Option<PathBuf>,
    /// The real images' list (see models/real-benchmark.tsv); default: the bundled
    /// held-out list.
    #[arg(long, requires = "real")]
    real_list: Option<PathBuf>,
    /// With `--real`: write one TIFF per image into this folder (truth, raw input,
    /// Wiener, Richardson-Lucy, each model).
    #[arg(long, requires = "real")]
    pictures: Option<PathBuf>,
}

impl BenchQualityArgs {
    /// How the models run.
    pub fn options(&self) -> DeconvolveOptions {
        DeconvolveOptions {
            tile: self.tile,
            overlap: self.overlap,
            normalization: self.norm,
            ..DeconvolveOptions::default()
        }
    }

    /// The simulated benchmark the arguments ask for.
    pub fn benchmark(&self) -> SimulatedBenchmark {
        SimulatedBenchmark {
            images: self.count,
            size: self.size,
            seed: self.seed,
            max_iterations: self.max_iterations,
            tv_lambda: self.tv_lambda,
            peak_photons: (self.photons[0], self.photons[1]),
            pixel_size_nm: self.pixel_size,
        }
    }
}

/// `mrbcr bench-quality`: see the command's help.
///
/// # Errors
/// The library's error if a setting is out of range, a model or an image cannot be
/// loaded, or a picture cannot be written.
pub fn run(args: &BenchQualityArgs) -> Result<()> {
    let options = args.options();
    let models = std::iter::once(Ok(NamedModel {
        name: mrbcr::model::BUNDLED_MODEL_NAME.to_string(),
        model: Model::bundled(),
    }))
    .chain(args.model.iter().map(|path| {
        Ok(NamedModel {
            name: path.display().to_string(),
            model: Model::load(path)?,
        })
    }))
    .collect::<Result<Vec<_>>>()?;
    match &args.real {
        Some(dir) => run_real_specimens(args, dir, &models, &options),
        None => run_simulated_set(args, &models, &options),
    }
}

/// The simulated benchmark and its table.
fn run_simulated_set(
    args: &BenchQualityArgs,
    models: &[NamedModel],
    options: &DeconvolveOptions,
) -> Result<()> {
    let bench = args.benchmark();
    println!(
        "simulating {} images of {} x {} (seed {}, {}-{} photons at the peak, {} nm pixels)...",
        args.count,
        args.size,
        args.size,
        args.seed,
        args.photons[0],
        args.photons[1],
        args.pixel_size
    );
    let results = run_simulated(&bench, models, options)?;
    println!(
        "\n{} simulated {}x{} images, seed {}, {} thread(s); PSNR/SSIM after an affine fit to the ground truth\n",
        args.count,
        args.size,
        args.size,
        args.seed,
        rayon::current_num_threads()
    );
    println!("| method | setting | PSNR (dB) | SSIM | s / MP |");
    println!("|---|---|---|---|---|");
    for result in results {
        let (method, setting) = match result.method {
            Method::RawInput => ("raw input".to_string(), "-".to_string()),
            Method::Wiener { nsr } => ("Wiener, true PSF".into(), format!("NSR {nsr}")),
            Method::RichardsonLucy {
                iterations,
                tv_lambda,
            } if tv_lambda > 0.0 => (
                "Richardson-Lucy-TV, true PSF".into(),
                format!("{iterations} iterations, lambda {tv_lambda}"),
            ),
            Method::RichardsonLucy { iterations, .. } => (
                "Richardson-Lucy, true PSF".into(),
                format!("{iterations} iterations"),
            ),
            Method::Model { name } => (
                format!("m-rBCR, {name}"),
                format!(
                    "tile {}, overlap {}, {} normalisation",
                    args.tile,
                    args.overlap
                        .map_or("the model's".to_string(), |o| o.to_string()),
                    args.norm.short_form()
                ),
            ),
        };
        println!(
            "| {method} | {setting} | {:.2} | {:.4} | {:.3} |",
            result.psnr, result.ssim, result.seconds_per_megapixel
        );
    }
    Ok(())
}

/// The real-specimen benchmark, its tables and, with `--pictures`, its pictures.
fn run_real_specimens(
    args: &BenchQualityArgs,
    dir: &Path,
    models: &[NamedModel],
    options: &DeconvolveOptions,
) -> Result<()> {
    let real = load_real_cases(dir, args.real_list.as_deref(), args.seed)?;
    println!(
        "{} held-out real images x {} microscopes = {} cases (noise seed {}); scoring raw input, \
         Wiener and Richardson-Lucy (true PSF, each image's best setting), {} model(s) ...",
        real.planes,
        BENCHMARK_CONDITIONS.len(),
        real.cases.len(),
        args.seed,
        models.len()
    );
    let results = run_real(&real.cases, models, options, args.max_iterations)?;

    let mut methods = vec![
        "raw input".to_string(),
        "Wiener".to_string(),
        "Richardson-Lucy".to_string(),
    ];
    methods.extend(models.iter().map(|m| m.name.clone()));
    println!("\nPSNR (dB) / SSIM after an affine fit to the truth, per image:\n");
    println!(
        "| image | microscope | {} | Wiener NSR, RL iterations |",
        methods.join(" | ")
    );
    println!("|---|---|{}---|", "---|".repeat(methods.len()));
    for (case, result) in real.cases.iter().zip(&results) {
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
            result.wiener_nsr,
            result.rl_iterations
        );
    }
    println!("\nMean over {} cases:\n", results.len());
    println!("| method | PSNR (dB) | SSIM | images below raw input (PSNR, SSIM) |");
    println!("|---|---|---|---|");
    for (method, mean) in methods.iter().zip(mean_scores(&results)) {
        println!(
            "| {method} | {:.2} | {:.4} | {}, {} |",
            mean.psnr, mean.ssim, mean.below_raw_psnr, mean.below_raw_ssim
        );
    }
    if let Some(dir) = &args.pictures {
        write_pictures(dir, &real.cases, &results)?;
    }
    Ok(())
}

/// One TIFF per case in `dir`: truth, then the outputs (raw input, Wiener,
/// Richardson-Lucy, models).
fn write_pictures(dir: &Path, cases: &[BenchmarkCase], results: &[RealCaseResult]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        let why = std::io::Error::new(e.kind(), format!("cannot create the folder: {e}"));
        Error::io(dir, why)
    })?;
    for (k, (case, result)) in cases.iter().zip(results).enumerate() {
        let mut planes = vec![case.truth.clone()];
        planes.extend(result.outputs.iter().cloned());
        let stack = planes_to_stack(&planes)?;
        let path = dir.join(format!("case_{k:02}.tif"));
        let metadata = TiffMetadata {
            description: Some(format!("{} | {}", case.image, case.condition)),
            resolution: None,
        };
        write_tiff(&path, &stack, &metadata)?;
    }
    println!(
        "\npictures: {} (truth, raw, Wiener, RL, models per file)",
        dir.display()
    );
    Ok(())
}
