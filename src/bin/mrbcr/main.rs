//! The `mrbcr` command-line tool: a thin front end over the library.

mod bench;
mod deconvolve;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mrbcr::formats::model_file::save_model;
use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::network::{spec, Network, Weights};
use mrbcr::Model;

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
    /// Convert a TensorFlow checkpoint of m-rBCR (the authors' weights, or DeBCR's
    /// m-rBCR) into an mrbcr model file. No TensorFlow needed.
    ImportTf {
        /// Checkpoint prefix: the path of `<prefix>.index` without `.index`
        /// (e.g. `official-m-rBCR/ckpt-24`).
        prefix: PathBuf,
        /// The model file to write (safetensors).
        #[arg(short, long)]
        output: PathBuf,
        /// A name for the model (default: from the checkpoint's file name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show what a model file says about itself.
    Info {
        /// The model file.
        model: PathBuf,
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
        /// Model file to run (default: freshly initialised weights; the speed does not
        /// depend on the weights' values).
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deconvolve(args) => deconvolve::run(&args),
        Command::ImportTf {
            prefix,
            output,
            name,
        } => import_tf(&prefix, &output, name),
        Command::Info { model } => info(&model),
        Command::Bench {
            tiles,
            repeats,
            batch,
            threads,
            model,
        } => {
            let threads = if threads.is_empty() {
                vec![
                    1,
                    std::thread::available_parallelism().map_or(1, |n| n.get()),
                ]
            } else {
                threads
            };
            let network = match model {
                Some(path) => match Model::load(&path) {
                    Ok(m) => m.network().clone(),
                    Err(e) => return fail(e.to_string()),
                },
                None => Network::new(&Weights::initialize(1)),
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
        Err(msg) => fail(msg),
    }
}

fn fail(msg: String) -> ExitCode {
    eprintln!("mrbcr: {msg}");
    ExitCode::FAILURE
}

fn import_tf(prefix: &Path, output: &Path, name: Option<String>) -> Result<(), String> {
    for suffix in [".index", ".data-00000-of-00001"] {
        let input = PathBuf::from(format!("{}{suffix}", prefix.display()));
        if deconvolve::same_file(&input, output) {
            return Err(format!(
                "refusing to write the model over the checkpoint's own file {}",
                input.display()
            ));
        }
    }
    let (weights, mut metadata) = import_tf_checkpoint(prefix).map_err(|e| e.to_string())?;
    if let Some(name) = name {
        metadata.name = name;
    }
    save_model(output, &weights, &metadata).map_err(|e| e.to_string())?;
    println!(
        "wrote {} ({} tensors, {} parameters) from {}",
        output.display(),
        weights.tensors().len(),
        spec::PARAMETER_COUNT,
        prefix.display()
    );
    Ok(())
}

fn info(path: &Path) -> Result<(), String> {
    let model = Model::load(path).map_err(|e| e.to_string())?;
    let m = model.metadata();
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "(not given)".to_string()
        } else {
            s.to_string()
        }
    };
    println!("file:                {}", path.display());
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
    for (k, v) in &m.extra {
        println!("{k}: {v}");
    }
    Ok(())
}
