//! `mrbcr measure-overlap`: measures the tile overlap a model needs and, if asked,
//! writes the model again with it recorded (the weights unchanged).

use std::path::{Path, PathBuf};

use clap::Args;
use mrbcr::deconvolve::context::{measure_tile_overlap, OverlapMeasurement, SIDE, TOLERANCE};
use mrbcr::formats::atomic_write::same_file;
use mrbcr::formats::model_file::{load_model, save_model, ModelMetadata};
use mrbcr::model::bundled_model;
use mrbcr::network::Weights;
use mrbcr::{Error, Model, Result};

/// The arguments of `mrbcr measure-overlap`.
#[derive(Args)]
pub struct MeasureOverlapArgs {
    /// The model file (.safetensors); without it, the bundled default model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write the model, with the measured overlap in its metadata (`tile_overlap`),
    /// to this file (not the model's own file).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Measures the tile overlap `weights` need (printing each overlap tried) and records it
/// in `metadata`.
///
/// # Errors
/// As [`measure_tile_overlap`].
pub fn record_overlap(weights: &Weights, metadata: &mut ModelMetadata) -> Result<usize> {
    let model = Model::from_weights(weights, metadata.clone());
    let OverlapMeasurement {
        overlap,
        differences,
    } = measure_tile_overlap(&model)?;
    println!(
        "largest difference between tiled and untiled results on {SIDE}x{SIDE} images, fraction of the output range"
    );
    for (o, d) in differences {
        println!("  overlap {o:>4}: {d:.2e}");
    }
    println!(
        "tiled results are within {TOLERANCE} of the untiled ones with an overlap of {overlap}"
    );
    metadata.tile_overlap = Some(overlap);
    Ok(overlap)
}

/// Runs `mrbcr measure-overlap`.
///
/// # Errors
/// The model cannot be read or written, the output is the model's own file, or the
/// measurement fails ([`measure_tile_overlap`]).
pub fn run(args: &MeasureOverlapArgs) -> Result<()> {
    if let (Some(model), Some(output)) = (&args.model, &args.output) {
        refuse_same_file(model, output)?;
    }
    let (weights, mut metadata) = match &args.model {
        Some(path) => load_model(path)?,
        None => bundled_model(),
    };
    record_overlap(&weights, &mut metadata)?;
    if let Some(output) = &args.output {
        save_model(output, &weights, &metadata)?;
        println!("wrote {}", output.display());
    }
    Ok(())
}

/// Refuses to write the model over its own file.
fn refuse_same_file(model: &Path, output: &Path) -> Result<()> {
    if same_file(model, output) {
        return Err(Error::InvalidInput(format!(
            "refusing to overwrite the model file {}: give another output file",
            model.display()
        )));
    }
    Ok(())
}
