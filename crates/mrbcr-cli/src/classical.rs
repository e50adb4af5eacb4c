//! The classical commands: `psf`, `rl`, `wiener`, `simulate` and `eval`, thin layers
//! over `mrbcr::classical` and `mrbcr::simulate`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use mrbcr::classical::psf::{born_wolf_psf, gaussian_psf, PsfParams};
use mrbcr::classical::wiener::DEFAULT_NOISE_TO_SIGNAL;
use mrbcr::classical::{
    map_planes, planes_to_stack, richardson_lucy, stack_planes, wiener, RichardsonLucyParams,
};
use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::simulate::{score, simulate_set, SimulationParams};
use mrbcr::{Error, ImageStack, Pixels, Result};
use ndarray::{Array2, ArrayView2};

use mrbcr::formats::atomic_write::same_file;

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
    #[arg(long, default_value_t = PsfParams::default().numerical_aperture)]
    na: f64,
    /// Emission wavelength, nm.
    #[arg(long, default_value_t = PsfParams::default().wavelength_nm)]
    wavelength: f64,
    /// Refractive index of the immersion medium.
    #[arg(long, default_value_t = PsfParams::default().refractive_index)]
    refractive_index: f64,
    /// Pixel size in the sample plane, nm.
    #[arg(long, default_value_t = PsfParams::default().pixel_size_nm)]
    pixel_size: f64,
    /// Defocus, nm.
    #[arg(long, default_value_t = PsfParams::default().defocus_nm, allow_hyphen_values = true)]
    defocus: f64,
    /// PSF side, pixels.
    #[arg(long, default_value_t = PsfParams::default().width)]
    psf_size: usize,
    /// Points per pixel side integrated over.
    #[arg(long, default_value_t = PsfParams::default().oversampling)]
    oversampling: usize,
    /// The PSF model.
    #[arg(long, value_enum, default_value_t = PsfModel::BornWolf)]
    psf_model: PsfModel,
}

impl OpticsArgs {
    /// The PSF's parameters.
    pub fn params(&self) -> PsfParams {
        PsfParams {
            numerical_aperture: self.na,
            wavelength_nm: self.wavelength,
            refractive_index: self.refractive_index,
            pixel_size_nm: self.pixel_size,
            defocus_nm: self.defocus,
            width: self.psf_size,
            height: self.psf_size,
            oversampling: self.oversampling,
        }
    }

    fn psf(&self) -> Result<Array2<f32>> {
        let params = self.params();
        match self.psf_model {
            PsfModel::BornWolf => born_wolf_psf(&params),
            PsfModel::Gaussian => gaussian_psf(&params),
        }
    }
}

/// Arguments of `mrbcr psf`.
#[derive(Args)]
pub struct PsfArgs {
    #[command(flatten)]
    pub optics: OpticsArgs,
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
    pub optics: OpticsArgs,
}

/// Arguments of `mrbcr rl`.
#[derive(Args)]
pub struct RlArgs {
    #[command(flatten)]
    pub input: DeconvolutionInput,
    /// Iterations.
    #[arg(long, default_value_t = RichardsonLucyParams::default().iterations)]
    iterations: usize,
    /// Total-variation weight (0: plain Richardson-Lucy; about 0.002 is typical).
    #[arg(long, default_value_t = RichardsonLucyParams::default().tv_lambda)]
    tv_lambda: f64,
}

impl RlArgs {
    /// The Richardson-Lucy settings the arguments ask for.
    pub fn params(&self) -> RichardsonLucyParams {
        RichardsonLucyParams {
            iterations: self.iterations,
            tv_lambda: self.tv_lambda,
        }
    }
}

/// Arguments of `mrbcr wiener`.
#[derive(Args)]
pub struct WienerArgs {
    #[command(flatten)]
    input: DeconvolutionInput,
    /// Noise-to-signal ratio (regularisation).
    #[arg(long, default_value_t = DEFAULT_NOISE_TO_SIGNAL)]
    pub nsr: f64,
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
    #[arg(long, default_value_t = SimulationParams::default().width)]
    size: usize,
}

impl SimulateArgs {
    /// The simulator's settings the arguments ask for.
    pub fn params(&self) -> SimulationParams {
        SimulationParams {
            width: self.size,
            height: self.size,
            ..SimulationParams::default()
        }
    }
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

fn read_planes(path: &Path) -> Result<Vec<Array2<f32>>> {
    let image = read_tiff(path)?;
    Ok(stack_planes(&image.stack))
}

fn write_planes(path: &Path, planes: &[Array2<f32>]) -> Result<()> {
    let stack = planes_to_stack(planes)?;
    write_tiff(path, &stack, &TiffMetadata::default())
}

/// `mrbcr psf`.
///
/// # Errors
/// A message for the user if a parameter is out of range or the file cannot be
/// written.
pub fn run_psf(args: &PsfArgs) -> Result<()> {
    let psf = args.optics.psf()?;
    write_planes(&args.output, &[psf])?;
    println!("wrote {}", args.output.display());
    Ok(())
}

fn deconvolve_file(
    input: &DeconvolutionInput,
    method: impl Fn(ArrayView2<f32>, ArrayView2<f32>) -> mrbcr::Result<Array2<f32>> + Sync,
) -> Result<()> {
    if same_file(&input.input, &input.output) {
        return Err(Error::InvalidInput(format!(
            "refusing to overwrite the input {}",
            input.input.display()
        )));
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
    let restored = map_planes(&planes, 0, 0, None, |plane, _| method(plane, psf.view()))?;
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
pub fn run_rl(args: &RlArgs) -> Result<()> {
    let params = args.params();
    deconvolve_file(&args.input, |image, psf| {
        richardson_lucy(image, psf, &params, None)
    })
}

/// `mrbcr wiener`.
///
/// # Errors
/// As [`run_rl`].
pub fn run_wiener(args: &WienerArgs) -> Result<()> {
    deconvolve_file(&args.input, |image, psf| wiener(image, psf, args.nsr))
}

/// `mrbcr simulate`.
///
/// # Errors
/// A message for the user if the folder or a file cannot be written.
pub fn run_simulate(args: &SimulateArgs) -> Result<()> {
    let params = args.params();
    let pairs = simulate_set(&params, args.seed, args.count)?;
    std::fs::create_dir_all(&args.output).map_err(|e| Error::io(&args.output, e))?;
    for (i, pair) in pairs.iter().enumerate() {
        let (h, w) = pair.raw.dim();
        let raw = ImageStack::new(w, h, 1, Pixels::U16(pair.raw.iter().copied().collect()))?;
        let raw_path = args.output.join(format!("{i:04}_raw.tif"));
        write_tiff(&raw_path, &raw, &TiffMetadata::default())?;
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
pub fn run_eval(args: &EvalArgs) -> Result<()> {
    if args.truth.len() != args.outputs.len() {
        return Err(Error::InvalidInput(format!(
            "{} ground-truth files for {} outputs: give one per output",
            args.truth.len(),
            args.outputs.len()
        )));
    }
    println!("{:<40} {:>9} {:>7}", "output", "PSNR (dB)", "SSIM");
    let (mut psnr_sum, mut ssim_sum) = (0.0, 0.0);
    for (truth_path, output_path) in args.truth.iter().zip(&args.outputs) {
        let truth = read_planes(truth_path)?.swap_remove(0);
        let output = read_planes(output_path)?.swap_remove(0);
        let s = score(output.view(), truth.view()).map_err(|e| match e {
            Error::InvalidInput(why) => {
                Error::InvalidInput(format!("{}: {why}", output_path.display()))
            }
            other => other,
        })?;
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
