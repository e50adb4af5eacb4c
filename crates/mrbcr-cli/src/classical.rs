//! The classical commands: `psf`, `rl`, `wiener`, `simulate`, `eval` and the quality
//! benchmark `bench-quality`, thin layers over `mrbcr::classical` and
//! `mrbcr::simulate`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use mrbcr::classical::psf::{born_wolf_psf, gaussian_psf, PsfParams};
use mrbcr::classical::{
    map_planes, planes_to_stack, richardson_lucy, stack_planes, wiener, RichardsonLucyParams,
};
use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::simulate::{score, simulate_set, SimulatedPair, SimulationParams};
use mrbcr::{deconvolve, DeconvolveOptions, ImageStack, Model, Normalization, PixelType, Pixels};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::deconvolve::same_file;

/// Which PSF model to compute.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PsfModel {
    /// The Born-Wolf scalar diffraction integral (any defocus).
    BornWolf,
    /// The Gaussian approximation, sigma = 0.21 lambda / NA (in focus only).
    Gaussian,
}

/// The optics and sampling of a computed PSF.
#[derive(Args, Clone, Debug)]
pub struct OpticsArgs {
    /// Numerical aperture of the objective.
    #[arg(long, default_value_t = 1.4)]
    na: f64,
    /// Emission wavelength, nm.
    #[arg(long, default_value_t = 520.0)]
    wavelength: f64,
    /// Refractive index of the immersion medium.
    #[arg(long, default_value_t = 1.515)]
    refractive_index: f64,
    /// Pixel size in the sample plane, nm.
    #[arg(long, default_value_t = 65.0)]
    pixel_size: f64,
    /// Defocus, nm.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    defocus: f64,
    /// PSF side, pixels.
    #[arg(long, default_value_t = 65)]
    psf_size: usize,
    /// Points per pixel side integrated over.
    #[arg(long, default_value_t = 5)]
    oversampling: usize,
    /// The PSF model.
    #[arg(long, value_enum, default_value_t = PsfModel::BornWolf)]
    psf_model: PsfModel,
}

impl OpticsArgs {
    fn psf(&self) -> Result<Array2<f32>, String> {
        let params = PsfParams {
            numerical_aperture: self.na,
            wavelength_nm: self.wavelength,
            refractive_index: self.refractive_index,
            pixel_size_nm: self.pixel_size,
            defocus_nm: self.defocus,
            width: self.psf_size,
            height: self.psf_size,
            oversampling: self.oversampling,
        };
        match self.psf_model {
            PsfModel::BornWolf => born_wolf_psf(&params),
            PsfModel::Gaussian => gaussian_psf(&params),
        }
        .map_err(|e| e.to_string())
    }
}

/// Arguments of `mrbcr psf`.
#[derive(Args)]
pub struct PsfArgs {
    #[command(flatten)]
    optics: OpticsArgs,
    /// The 32-bit float TIFF to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Where the PSF of `rl` and `wiener` comes from, and what to subtract first.
#[derive(Args)]
pub struct DeconvolutionInput {
    /// The image to deconvolve: a TIFF, one plane or a stack (every plane is done).
    input: PathBuf,
    /// The 32-bit float TIFF to write (never the input).
    #[arg(short, long)]
    output: PathBuf,
    /// A measured PSF as a TIFF (first plane); without it, one is computed from the
    /// optics options.
    #[arg(long)]
    psf: Option<PathBuf>,
    /// Camera offset subtracted from the image first, counts.
    #[arg(long, default_value_t = 0.0)]
    offset: f32,
    #[command(flatten)]
    optics: OpticsArgs,
}

/// Arguments of `mrbcr rl`.
#[derive(Args)]
pub struct RlArgs {
    #[command(flatten)]
    input: DeconvolutionInput,
    /// Iterations.
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Total-variation weight (0: plain Richardson-Lucy; about 0.002 is typical).
    #[arg(long, default_value_t = 0.0)]
    tv_lambda: f64,
}

/// Arguments of `mrbcr wiener`.
#[derive(Args)]
pub struct WienerArgs {
    #[command(flatten)]
    input: DeconvolutionInput,
    /// Noise-to-signal ratio (regularisation).
    #[arg(long, default_value_t = 0.01)]
    nsr: f64,
}

/// Arguments of `mrbcr simulate`.
#[derive(Args)]
pub struct SimulateArgs {
    /// Folder to write `NNNN_raw.tif` (16-bit counts) and `NNNN_truth.tif` (32-bit
    /// float ground truth) into.
    #[arg(short, long)]
    output: PathBuf,
    /// Number of pairs.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Seed; the same seed gives the same images.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Image side, pixels.
    #[arg(long, default_value_t = 256)]
    size: usize,
}

/// Arguments of `mrbcr eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// A ground-truth TIFF; give one `--truth` per output, in the same order.
    #[arg(long, required = true)]
    truth: Vec<PathBuf>,
    /// The restored TIFFs to score.
    #[arg(required = true)]
    outputs: Vec<PathBuf>,
}

/// Arguments of `mrbcr bench-quality`.
#[derive(Args)]
pub struct BenchQualityArgs {
    /// Simulated images.
    #[arg(long, default_value_t = 24)]
    count: usize,
    /// Image side, pixels.
    #[arg(long, default_value_t = 256)]
    size: usize,
    /// Seed of the simulated set.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Most Richardson-Lucy iterations tried.
    #[arg(long, default_value_t = 100)]
    max_iterations: usize,
    /// TV weight of the RL-TV row (0 leaves it out).
    #[arg(long, default_value_t = 0.002)]
    tv_lambda: f64,
    /// Photons at the brightest pixel, `MIN,MAX` (drawn log-uniformly per image).
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [20.0, 2000.0])]
    photons: Vec<f64>,
    /// Camera pixel size in the sample, nm.
    #[arg(long, default_value_t = 65.0)]
    pixel_size: f64,
    /// Further m-rBCR model files to score (the bundled default model always is).
    #[arg(long)]
    model: Vec<PathBuf>,
    /// Tile side of the m-rBCR runs (0: each whole image at once).
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_TILE)]
    tile: usize,
    /// Tile overlap of the m-rBCR runs.
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_OVERLAP)]
    overlap: usize,
    /// Normalisation of the m-rBCR runs, as `mrbcr deconvolve --norm`.
    #[arg(long, default_value = "percentile")]
    norm: String,
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

fn read_planes(path: &Path) -> Result<Vec<Array2<f32>>, String> {
    let image = read_tiff(path).map_err(|e| e.to_string())?;
    Ok(stack_planes(&image.stack))
}

fn write_planes(path: &Path, planes: &[Array2<f32>]) -> Result<(), String> {
    let stack = planes_to_stack(planes).map_err(|e| e.to_string())?;
    write_tiff(path, &stack, &TiffMetadata::default()).map_err(|e| e.to_string())
}

/// `mrbcr psf`.
///
/// # Errors
/// A message for the user if a parameter is out of range or the file cannot be
/// written.
pub fn run_psf(args: &PsfArgs) -> Result<(), String> {
    let psf = args.optics.psf()?;
    write_planes(&args.output, &[psf])?;
    println!("wrote {}", args.output.display());
    Ok(())
}

fn deconvolve_file(
    input: &DeconvolutionInput,
    method: impl Fn(ArrayView2<f32>, ArrayView2<f32>) -> mrbcr::Result<Array2<f32>> + Sync,
) -> Result<(), String> {
    if same_file(&input.input, &input.output) {
        return Err(format!(
            "refusing to overwrite the input {}",
            input.input.display()
        ));
    }
    let psf = match &input.psf {
        Some(path) => read_planes(path)?.swap_remove(0),
        None => input.optics.psf()?,
    };
    let planes: Vec<Array2<f32>> = read_planes(&input.input)?
        .into_iter()
        .map(|p| p.mapv(|v| v - input.offset))
        .collect();
    let start = Instant::now();
    let restored = map_planes(&planes, 0, 0, None, |plane, _| method(plane, psf.view()))
        .map_err(|e| e.to_string())?;
    write_planes(&input.output, &restored)?;
    println!(
        "wrote {} ({} plane(s), {:.2} s)",
        input.output.display(),
        restored.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `mrbcr rl`.
///
/// # Errors
/// A message for the user if a file cannot be read or written or a setting is out
/// of range.
pub fn run_rl(args: &RlArgs) -> Result<(), String> {
    let params = RichardsonLucyParams {
        iterations: args.iterations,
        tv_lambda: args.tv_lambda,
    };
    deconvolve_file(&args.input, |image, psf| {
        richardson_lucy(image, psf, &params, None)
    })
}

/// `mrbcr wiener`.
///
/// # Errors
/// As [`run_rl`].
pub fn run_wiener(args: &WienerArgs) -> Result<(), String> {
    deconvolve_file(&args.input, |image, psf| wiener(image, psf, args.nsr))
}

/// `mrbcr simulate`.
///
/// # Errors
/// A message for the user if the folder or a file cannot be written.
pub fn run_simulate(args: &SimulateArgs) -> Result<(), String> {
    let params = SimulationParams {
        width: args.size,
        height: args.size,
        ..SimulationParams::default()
    };
    let pairs = simulate_set(&params, args.seed, args.count).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.output).map_err(|e| format!("{}: {e}", args.output.display()))?;
    for (i, pair) in pairs.iter().enumerate() {
        let (h, w) = pair.raw.dim();
        let raw = ImageStack::new(w, h, 1, Pixels::U16(pair.raw.iter().copied().collect()))
            .map_err(|e| e.to_string())?;
        let raw_path = args.output.join(format!("{i:04}_raw.tif"));
        write_tiff(&raw_path, &raw, &TiffMetadata::default()).map_err(|e| e.to_string())?;
        write_planes(
            &args.output.join(format!("{i:04}_truth.tif")),
            std::slice::from_ref(&pair.ground_truth),
        )?;
    }
    println!(
        "wrote {} pairs to {} (camera offset {} counts)",
        pairs.len(),
        args.output.display(),
        params.camera.offset
    );
    Ok(())
}

/// `mrbcr eval`.
///
/// # Errors
/// A message for the user if a file cannot be read, the counts differ, or an output
/// does not match its ground truth's size.
pub fn run_eval(args: &EvalArgs) -> Result<(), String> {
    if args.truth.len() != args.outputs.len() {
        return Err(format!(
            "{} ground-truth files for {} outputs: give one per output",
            args.truth.len(),
            args.outputs.len()
        ));
    }
    println!("{:<40} {:>9} {:>7}", "output", "PSNR (dB)", "SSIM");
    let (mut psnr_sum, mut ssim_sum) = (0.0, 0.0);
    for (truth_path, output_path) in args.truth.iter().zip(&args.outputs) {
        let truth = read_planes(truth_path)?.swap_remove(0);
        let output = read_planes(output_path)?.swap_remove(0);
        let s = score(output.view(), truth.view())
            .map_err(|e| format!("{}: {e}", output_path.display()))?;
        println!(
            "{:<40} {:>9.2} {:>7.4}",
            output_path.display(),
            s.psnr,
            s.ssim
        );
        psnr_sum += s.psnr;
        ssim_sum += s.ssim;
    }
    let n = args.outputs.len() as f64;
    println!("{:<40} {:>9.2} {:>7.4}", "mean", psnr_sum / n, ssim_sum / n);
    Ok(())
}

/// One row of the quality table.
struct Row {
    method: String,
    setting: String,
    psnr: f64,
    ssim: f64,
    seconds_per_megapixel: f64,
}

/// Mean PSNR and SSIM of `outputs` against the set's ground truths.
fn mean_scores(set: &[SimulatedPair], outputs: &[Array2<f32>]) -> Result<(f64, f64), String> {
    let mut sums = (0.0, 0.0);
    for (pair, output) in set.iter().zip(outputs) {
        let s = score(output.view(), pair.ground_truth.view()).map_err(|e| e.to_string())?;
        sums.0 += s.psnr;
        sums.1 += s.ssim;
    }
    let n = set.len() as f64;
    Ok((sums.0 / n, sums.1 / n))
}

/// Runs `method` on every image in parallel; the outputs and the wall time.
fn timed<F>(inputs: &[Array2<f32>], method: F) -> Result<(Vec<Array2<f32>>, f64), String>
where
    F: Fn(usize, ArrayView2<f32>) -> mrbcr::Result<Array2<f32>> + Sync,
{
    let start = Instant::now();
    let outputs: Vec<mrbcr::Result<Array2<f32>>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, image)| method(i, image.view()))
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    let outputs = outputs
        .into_iter()
        .collect::<mrbcr::Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;
    Ok((outputs, seconds))
}

/// The best Richardson-Lucy iteration count (by mean PSNR) up to `max_iterations`,
/// its row, with the time of a run of exactly that many iterations.
fn best_richardson_lucy(
    set: &[SimulatedPair],
    inputs: &[Array2<f32>],
    psfs: &[Array2<f32>],
    max_iterations: usize,
    tv_lambda: f64,
    megapixels: f64,
) -> Result<Row, String> {
    let params = RichardsonLucyParams {
        iterations: max_iterations,
        tv_lambda,
    };
    let curves: Vec<mrbcr::Result<Vec<(f64, f64)>>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, image)| {
            let mut curve = Vec::with_capacity(max_iterations);
            let truth = set[i].ground_truth.view();
            let mut record = |_: usize, estimate: ArrayView2<f32>| match score(estimate, truth) {
                Ok(s) => {
                    curve.push((s.psnr, s.ssim));
                    true
                }
                Err(_) => false,
            };
            richardson_lucy(image.view(), psfs[i].view(), &params, Some(&mut record))?;
            Ok(curve)
        })
        .collect();
    let curves = curves
        .into_iter()
        .collect::<mrbcr::Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;
    let n = set.len() as f64;
    let mean_at = |k: usize| -> (f64, f64) {
        let sums = curves.iter().fold((0.0, 0.0), |acc, c| {
            let (p, s) = c
                .get(k)
                .or(c.last())
                .copied()
                .unwrap_or((f64::NAN, f64::NAN));
            (acc.0 + p, acc.1 + s)
        });
        (sums.0 / n, sums.1 / n)
    };
    let best = (0..max_iterations)
        .max_by(|&a, &b| mean_at(a).0.total_cmp(&mean_at(b).0))
        .unwrap_or(0);
    let (psnr, ssim) = mean_at(best);
    let iterations = best + 1;
    let timed_params = RichardsonLucyParams {
        iterations,
        tv_lambda,
    };
    let (_, seconds) = timed(inputs, |i, image| {
        richardson_lucy(image, psfs[i].view(), &timed_params, None)
    })?;
    Ok(Row {
        method: if tv_lambda > 0.0 {
            "Richardson-Lucy-TV, true PSF".into()
        } else {
            "Richardson-Lucy, true PSF".into()
        },
        setting: if tv_lambda > 0.0 {
            format!("{iterations} iterations, lambda {tv_lambda}")
        } else {
            format!("{iterations} iterations")
        },
        psnr,
        ssim,
        seconds_per_megapixel: seconds / megapixels,
    })
}

/// `mrbcr bench-quality`: see the command's help.
///
/// # Errors
/// A message for the user if a setting is out of range or the model cannot be loaded.
pub fn run_bench_quality(args: &BenchQualityArgs) -> Result<(), String> {
    if args.count == 0 || args.max_iterations == 0 {
        return Err("bench-quality needs at least 1 image and 1 iteration".into());
    }
    let model_options = DeconvolveOptions {
        tile: args.tile,
        overlap: args.overlap,
        normalization: args
            .norm
            .parse::<Normalization>()
            .map_err(|e| e.to_string())?,
        ..DeconvolveOptions::default()
    };
    model_options.validate().map_err(|e| e.to_string())?;
    let models = std::iter::once(Ok((
        mrbcr::model::BUNDLED_MODEL_NAME.to_string(),
        Model::bundled(),
    )))
    .chain(args.model.iter().map(|path| {
        let model = Model::load(path).map_err(|e| e.to_string())?;
        Ok((path.display().to_string(), model))
    }))
    .collect::<Result<Vec<_>, String>>()?;
    if let Some(dir) = &args.real {
        return super::bench_real::run(&super::bench_real::RealBenchmark {
            dir,
            list: args.real_list.as_deref(),
            models: &models,
            options: &model_options,
            max_iterations: args.max_iterations,
            seed: args.seed,
            pictures: args.pictures.as_deref(),
        });
    }
    let params = SimulationParams {
        width: args.size,
        height: args.size,
        pixel_size_nm: args.pixel_size,
        peak_photons: (args.photons[0], args.photons[1]),
        ..SimulationParams::default()
    };
    let threads = rayon::current_num_threads();
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
    let set = simulate_set(&params, args.seed, args.count).map_err(|e| e.to_string())?;
    let megapixels = (args.count * args.size * args.size) as f64 / 1e6;
    let offset = params.camera.offset as f32;
    let inputs: Vec<Array2<f32>> = set
        .iter()
        .map(|p| p.raw.mapv(|c| f32::from(c) - offset))
        .collect();
    // The true in-focus PSF of each image, cut to 65 pixels.
    let psfs: Vec<Array2<f32>> = set
        .iter()
        .map(|p| {
            born_wolf_psf(&PsfParams {
                width: 65,
                height: 65,
                ..p.conditions.psf.clone()
            })
        })
        .collect::<mrbcr::Result<_>>()
        .map_err(|e| e.to_string())?;

    let mut rows = Vec::new();
    let (psnr, ssim) = mean_scores(&set, &inputs)?;
    rows.push(Row {
        method: "raw input".into(),
        setting: "-".into(),
        psnr,
        ssim,
        seconds_per_megapixel: 0.0,
    });

    let mut best_wiener: Option<(f64, f64, f64)> = None;
    for nsr in [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1] {
        let (outputs, _) = timed(&inputs, |i, image| wiener(image, psfs[i].view(), nsr))?;
        let (psnr, ssim) = mean_scores(&set, &outputs)?;
        if best_wiener.is_none_or(|(_, best, _)| psnr > best) {
            best_wiener = Some((nsr, psnr, ssim));
        }
    }
    let (nsr, psnr, ssim) = best_wiener.expect("the grid is not empty");
    let (_, seconds) = timed(&inputs, |i, image| wiener(image, psfs[i].view(), nsr))?;
    rows.push(Row {
        method: "Wiener, true PSF".into(),
        setting: format!("NSR {nsr}"),
        psnr,
        ssim,
        seconds_per_megapixel: seconds / megapixels,
    });

    rows.push(best_richardson_lucy(
        &set,
        &inputs,
        &psfs,
        args.max_iterations,
        0.0,
        megapixels,
    )?);
    if args.tv_lambda > 0.0 {
        rows.push(best_richardson_lucy(
            &set,
            &inputs,
            &psfs,
            args.max_iterations,
            args.tv_lambda,
            megapixels,
        )?);
    }

    for (name, model) in &models {
        let start = Instant::now();
        let outputs = inputs
            .iter()
            .map(|image| {
                let stack = planes_to_stack(std::slice::from_ref(image))?;
                let restored = deconvolve(model, &stack, &model_options, PixelType::F32, None)?;
                Ok(stack_planes(&restored).swap_remove(0))
            })
            .collect::<mrbcr::Result<Vec<_>>>()
            .map_err(|e| e.to_string())?;
        let seconds = start.elapsed().as_secs_f64();
        let (psnr, ssim) = mean_scores(&set, &outputs)?;
        rows.push(Row {
            method: format!("m-rBCR, {name}"),
            setting: format!(
                "tile {}, overlap {}, {} normalisation",
                args.tile, args.overlap, args.norm
            ),
            psnr,
            ssim,
            seconds_per_megapixel: seconds / megapixels,
        });
    }

    println!(
        "\n{} simulated {}x{} images, seed {}, {} thread(s); PSNR/SSIM after an affine fit to the ground truth\n",
        args.count, args.size, args.size, args.seed, threads
    );
    println!("| method | setting | PSNR (dB) | SSIM | s / MP |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {:.2} | {:.4} | {:.3} |",
            row.method, row.setting, row.psnr, row.ssim, row.seconds_per_megapixel
        );
    }
    Ok(())
}
