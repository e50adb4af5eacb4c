//! The `mrbcr` command-line tool: a thin front end over the library.

mod bench;
mod bench_images;
mod bench_quality;
mod bench_train;
mod classical;
mod deconvolve;
#[cfg(test)]
mod default_drift;
mod export_bioimageio;
mod export_onnx;
mod measure_overlap;
mod signals;
mod train;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::{Parser, Subcommand};
use mrbcr::formats::atomic_write::same_file;
use mrbcr::formats::model_file::save_model;
use mrbcr::formats::tf_import::{import_tf_checkpoint, resolve_checkpoint_prefix};
use mrbcr::network::spec;
use mrbcr::{DeconvolveOptions, Error, Model, Normalization, Result};

#[derive(Parser)]
#[command(
    name = "mrbcr",
    version,
    about = "m-rBCR deconvolution for fluorescence microscopy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Restore a TIFF image or stack with m-rBCR (tiled, every plane).
    Deconvolve(deconvolve::DeconvolveArgs),
    /// Compute a widefield PSF (Born-Wolf or Gaussian) as a 32-bit TIFF.
    Psf(classical::PsfArgs),
    /// Deconvolve a TIFF by Richardson-Lucy (optionally RL-TV) with a known PSF.
    Rl(classical::RlArgs),
    /// Deconvolve a TIFF by Wiener filtering with a known PSF.
    Wiener(classical::WienerArgs),
    /// Write simulated widefield pairs: raw 16-bit TIFF and 32-bit ground truth.
    Simulate(classical::SimulateArgs),
    /// Score restored TIFFs against their ground truth (PSNR, SSIM).
    Eval(classical::EvalArgs),
    /// Compare raw, Wiener, Richardson-Lucy and optionally an m-rBCR model on
    /// simulated images (mean PSNR, SSIM and time per megapixel).
    BenchQuality(bench_quality::BenchQualityArgs),
    /// Train m-rBCR (from scratch or a model file) on simulated widefield pairs or
    /// on your own low/high-quality TIFF pairs; resumable.
    Train(Box<train::TrainArgs>),
    /// Convert a TensorFlow checkpoint of m-rBCR (the authors' weights, or DeBCR's
    /// m-rBCR) into an mrbcr model file. No TensorFlow needed.
    ImportTf {
        /// Checkpoint prefix: the path of `<prefix>.index` without `.index`
        /// (e.g. `official-m-rBCR/ckpt-24`), or a folder holding the checkpoint
        /// (DeBCR's `weights/<task>`: its only one, or the one its `checkpoint` file names).
        prefix: PathBuf,
        /// The model file to write (safetensors).
        #[arg(short, long)]
        output: PathBuf,
        /// A name for the model (default: from the checkpoint's file name).
        #[arg(long)]
        name: Option<String>,
        /// The normalisation the checkpoint was trained with, recorded in the model's
        /// metadata (default: per-tile-minmax, how the authors trained m-rBCR; e.g.
        /// percentile:0.1:99.9 for DeBCR's own percentile normalisation).
        #[arg(long, value_parser = Normalization::from_str)]
        norm: Option<Normalization>,
        /// Record this tile overlap (pixels) in the model instead of measuring it (the
        /// measurement deconvolves test images at overlaps up to the one needed: about
        /// a minute of CPU; `mrbcr measure-overlap` measures it later).
        #[arg(long)]
        tile_overlap: Option<usize>,
    },
    /// Write a model as ONNX (opset 17, dynamic batch, height and width) for ONNX
    /// Runtime; inputs must be normalised as the model's metadata says.
    ExportOnnx(export_onnx::ExportOnnxArgs),
    /// Write a model as a BioImage Model Zoo package (zip: rdf.yaml, ONNX weights, test
    /// tensors, cover) for deepImageJ, bioimageio.core and the zoo's other tools.
    ExportBioimageio(export_bioimageio::ExportBioimageioArgs),
    /// Show what a model file says about itself.
    Info {
        /// The model file (default: the bundled default model).
        model: Option<PathBuf>,
    },
    /// Measure the tile overlap a model needs (how far its output depends on the
    /// input) and optionally write the model with it recorded.
    MeasureOverlap(measure_overlap::MeasureOverlapArgs),
    /// Measure whole-image deconvolution (seconds per megapixel, peak memory) on
    /// 16-bit test images of several sizes.
    BenchImages {
        /// Square image sides, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1024,4096,8192")]
        sizes: Vec<usize>,
        /// Timed runs per size (the median is reported).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Tile side.
        #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_TILE)]
        tile: usize,
        /// Tile overlap (default: the model's, as `mrbcr deconvolve`).
        #[arg(long)]
        overlap: Option<usize>,
        /// Worker threads (0: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Model file (default: the bundled default model; speed does not depend on
        /// the weights' values).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Measure the speed of a training step (forward, backward and Adam over a batch
    /// of patches) on this machine.
    BenchTrain {
        /// Batches to time, as COUNTxSIDE (square patches), comma-separated; 2x256 is
        /// what the bundled model trains with.
        #[arg(long, value_delimiter = ',', default_value = "8x128,2x256")]
        batches: Vec<bench_train::BatchShape>,
        /// Timed steps per batch (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// Worker threads (0: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Measure the speed of the network on this machine.
    Bench {
        /// Tile sizes (square), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "128,512")]
        tiles: Vec<usize>,
        /// Timed runs per configuration (the median is reported).
        #[arg(long, default_value_t = 7)]
        repeats: usize,
        /// Tiles per batch in throughput mode.
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Thread counts, comma-separated (default: 1 and all cores).
        #[arg(long, value_delimiter = ',')]
        threads: Vec<usize>,
        /// Model file to run (default: the bundled default model; the speed does not
        /// depend on the weights' values).
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    signals::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match library_error(&e) {
            Some(error) => return fail(error),
            None => e.exit(),
        },
    };
    let result = match cli.command {
        Command::Deconvolve(args) => deconvolve::run(&args),
        Command::Psf(args) => classical::run_psf(&args),
        Command::Rl(args) => classical::run_rl(&args),
        Command::Wiener(args) => classical::run_wiener(&args),
        Command::Simulate(args) => classical::run_simulate(&args),
        Command::Eval(args) => classical::run_eval(&args),
        Command::BenchQuality(args) => bench_quality::run(&args),
        Command::Train(args) => train::run(&args),
        Command::ImportTf {
            prefix,
            output,
            name,
            norm,
            tile_overlap,
        } => import_tf(&prefix, &output, name, norm, tile_overlap),
        Command::ExportOnnx(args) => export_onnx::run(&args),
        Command::ExportBioimageio(args) => export_bioimageio::run(&args),
        Command::Info { model } => info(model.as_deref()),
        Command::MeasureOverlap(args) => measure_overlap::run(&args),
        Command::BenchImages {
            sizes,
            repeats,
            tile,
            overlap,
            threads,
            model,
        } => {
            let model = match load_model(model.as_deref()) {
                Ok(m) => m,
                Err(e) => return fail(&e),
            };
            bench_images::run(
                &model,
                &bench_images::ImageBenchOptions {
                    sizes,
                    repeats: repeats.max(1),
                    deconvolve: DeconvolveOptions {
                        tile,
                        overlap,
                        threads,
                        ..DeconvolveOptions::default()
                    },
                },
            )
        }
        Command::BenchTrain {
            batches,
            repeats,
            threads,
        } => bench_train::run(&bench_train::TrainBenchOptions {
            batches,
            repeats: repeats.max(1),
            threads,
        }),
        Command::Bench {
            tiles,
            repeats,
            batch,
            threads,
            model,
        } => {
            let threads = if threads.is_empty() {
                vec![1, mrbcr::threads::available_cores()]
            } else {
                match threads
                    .into_iter()
                    .map(mrbcr::threads::worker_threads)
                    .collect::<mrbcr::Result<Vec<_>>>()
                {
                    Ok(t) => t,
                    Err(e) => return fail(&e),
                }
            };
            let network = match load_model(model.as_deref()) {
                Ok(m) => m.network().clone(),
                Err(e) => return fail(&e),
            };
            bench::run(
                &network,
                &bench::BenchOptions {
                    tiles,
                    repeats: repeats.max(1),
                    batch,
                    threads,
                },
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The library's error behind a value clap refused (a `--norm` or `--output-range`
/// the core does not parse), so that it is reported as every other library error is.
fn library_error(error: &clap::Error) -> Option<&Error> {
    if error.kind() != clap::error::ErrorKind::ValueValidation {
        return None;
    }
    std::error::Error::source(error)?.downcast_ref::<Error>()
}

/// Prints `error` for the user and gives the tool's exit status for a failure (1).
fn fail(error: &Error) -> ExitCode {
    eprintln!("mrbcr: {error}");
    ExitCode::FAILURE
}

fn import_tf(
    path: &Path,
    output: &Path,
    name: Option<String>,
    norm: Option<Normalization>,
    tile_overlap: Option<usize>,
) -> Result<()> {
    let prefix = &resolve_checkpoint_prefix(path)?;
    for suffix in [".index", ".data-00000-of-00001"] {
        let input = PathBuf::from(format!("{}{suffix}", prefix.display()));
        if same_file(&input, output) {
            return Err(Error::InvalidInput(format!(
                "refusing to write the model over the checkpoint's own file {}",
                input.display()
            )));
        }
    }
    let (weights, mut metadata) = import_tf_checkpoint(prefix)?;
    if let Some(name) = name {
        metadata.name = name;
    }
    if let Some(norm) = norm {
        metadata.input_normalization = norm.to_string();
    }
    match tile_overlap {
        Some(overlap) => metadata.tile_overlap = Some(overlap),
        None => {
            measure_overlap::record_overlap(&weights, &mut metadata)?;
        }
    }
    save_model(output, &weights, &metadata)?;
    println!(
        "wrote {} ({} tensors, {} parameters) from {}",
        output.display(),
        weights.tensors().len(),
        spec::PARAMETER_COUNT,
        prefix.display()
    );
    Ok(())
}

/// The model file at `path`, or the bundled default model without one.
///
/// # Errors
/// The library's error if the file cannot be read or is not a model file.
pub fn load_model(path: Option<&Path>) -> Result<Model> {
    match path {
        Some(path) => Model::load(path),
        None => Ok(Model::bundled()),
    }
}

fn info(path: Option<&Path>) -> Result<()> {
    let model = load_model(path)?;
    let m = model.metadata();
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "(not given)".to_string()
        } else {
            s.to_string()
        }
    };
    println!(
        "file:                {}",
        path.map_or(mrbcr::model::BUNDLED_MODEL_NAME.into(), |p| p
            .display()
            .to_string())
    );
    println!(
        "architecture:        m-rBCR, {} parameters",
        spec::PARAMETER_COUNT
    );
    println!("name:                {}", or_unknown(&m.name));
    println!("description:         {}", or_unknown(&m.description));
    println!(
        "input normalisation: {}",
        or_unknown(&m.input_normalization)
    );
    println!(
        "training patch size: {}",
        m.train_patch_size
            .map_or("(not given)".into(), |p| format!("{p} x {p}"))
    );
    println!("provenance:          {}", or_unknown(&m.provenance));
    println!("licence:             {}", or_unknown(&m.license));
    println!("created by:          {}", or_unknown(&m.created_by));
    println!(
        "tile overlap:        {}",
        m.tile_overlap.map_or(
            format!(
                "(not measured: {} by default)",
                DeconvolveOptions::DEFAULT_OVERLAP
            ),
            |o| format!("{o} pixels")
        )
    );
    for (k, v) in &m.extra {
        println!("{k}: {v}");
    }
    Ok(())
}
