//! `mrbcr export-onnx`: a model as an ONNX file, for ONNX Runtime and the tools built
//! on it.

use std::path::PathBuf;

use clap::Args;
use mrbcr::formats::atomic_write::same_file;
use mrbcr::formats::model_file::load_model;
use mrbcr::formats::onnx::{save_onnx, OPSET};
use mrbcr::model::bundled_model;
use mrbcr::{Error, Result};

/// Arguments of `mrbcr export-onnx`.
#[derive(Args)]
#[command(
    after_help = "The graph is the network on a NORMALISED image: input `x0`, \
float32 [batch, 1, height, width] (height and width multiples of 4), scaled as the model's \
metadata `input_normalization` says (`mrbcr info`; the bundled model: `percentile:1:99.8`, \
each plane's 1st and 99.8th percentiles to 0 and 1). Outputs: `z0` the restored image \
[batch, 1, height, width] in the same normalised scale, `z2` and `z4` the half- and \
quarter-size outputs (training only). The metadata is in the ONNX metadata_props."
)]
pub struct ExportOnnxArgs {
    /// The model file (.safetensors); without it, the bundled default model.
    model: Option<PathBuf>,
    /// The ONNX file to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Runs `mrbcr export-onnx`.
///
/// # Errors
/// [`Error::InvalidInput`] if the output is the model file; the library's errors for
/// an unreadable model or an unwritable output.
pub fn run(args: &ExportOnnxArgs) -> Result<()> {
    let (weights, metadata) = match &args.model {
        Some(path) => {
            if same_file(path, &args.output) {
                return Err(Error::InvalidInput(format!(
                    "refusing to write the ONNX file over the model file {}",
                    path.display()
                )));
            }
            load_model(path)?
        }
        None => bundled_model(),
    };
    save_onnx(&args.output, &weights, &metadata)?;
    println!(
        "wrote {} (ONNX opset {OPSET}; input x0 normalised as: {})",
        args.output.display(),
        if metadata.input_normalization.is_empty() {
            "(not given in the model's metadata)"
        } else {
            &metadata.input_normalization
        }
    );
    Ok(())
}
