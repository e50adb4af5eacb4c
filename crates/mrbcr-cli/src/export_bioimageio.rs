//! `mrbcr export-bioimageio`: a model as a BioImage Model Zoo package, for deepImageJ,
//! bioimageio.core and the other tools that read the zoo's packages.

use std::path::PathBuf;

use clap::Args;
use mrbcr::formats::atomic_write::same_file;
use mrbcr::formats::bioimageio::{halo, min_size, save_bioimageio_package, SIZE_STEP};
use mrbcr::formats::model_file::load_model;
use mrbcr::model::bundled_model;
use mrbcr::{Error, Result};

/// Arguments of `mrbcr export-bioimageio`.
#[derive(Args)]
#[command(
    after_help = "The package (a zip archive) holds rdf.yaml (bioimage.io model description \
format 0.5), the network as ONNX (weights.onnx), a simulated test image and the native \
engine's result on it (test_input.npy, test_output.npy), a cover (cover.png) and README.md. \
Input `raw`: one 2D image, height and width multiples of 4; the preprocessing scales it by \
the percentiles of the model's metadata (`input_normalization`); output `restored` in the \
normalised scale, with a halo for tools that tile of half the model's tile overlap (64 \
pixels for an overlap of 128). Check it with \
`bioimageio test package.zip` (pip install bioimageio.core onnxruntime 'pydantic<2.12')."
)]
pub struct ExportBioimageioArgs {
    /// The model file (.safetensors); without it, the bundled default model.
    model: Option<PathBuf>,
    /// The package to write (.zip).
    #[arg(short, long)]
    output: PathBuf,
    /// The weights' licence as an SPDX identifier (e.g. CC-BY-4.0), for a model whose
    /// metadata names none the zoo accepts (default: from the metadata).
    #[arg(long)]
    license: Option<String>,
}

/// Runs `mrbcr export-bioimageio`.
///
/// # Errors
/// [`Error::InvalidInput`] if the output is the model file; the library's errors for
/// an unreadable model or an unwritable output.
pub fn run(args: &ExportBioimageioArgs) -> Result<()> {
    let (weights, mut metadata) = match &args.model {
        Some(path) => {
            if same_file(path, &args.output) {
                return Err(Error::InvalidInput(format!(
                    "refusing to write the package over the model file {}",
                    path.display()
                )));
            }
            load_model(path)?
        }
        None => bundled_model(),
    };
    if let Some(license) = &args.license {
        metadata.license.clone_from(license);
    }
    save_bioimageio_package(&args.output, &weights, &metadata)?;
    let halo = halo(&metadata);
    println!(
        "wrote {} (bioimage.io model package: ONNX weights, images of {}+{SIZE_STEP}n \
         pixels, halo {halo})",
        args.output.display(),
        min_size(halo)
    );
    Ok(())
}
