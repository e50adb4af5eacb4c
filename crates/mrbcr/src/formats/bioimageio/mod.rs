//! Export of an m-rBCR model as a BioImage Model Zoo package (bioimage.io model
//! description format 0.5), for deepImageJ, bioimageio.core, ilastik and the other
//! tools that read the zoo's packages.
//!
//! The package is a zip archive ([`crate::formats::zip_stored`]) holding:
//!
//! | file | what |
//! |---|---|
//! | `rdf.yaml` | the description ([`rdf`]): input, output, preprocessing, halo, authors, licence, citation |
//! | `weights.onnx` | the network, [`crate::formats::onnx`] with the restored image as its only output |
//! | `test_input.npy` | a simulated widefield image, `[1, 1, n, n]` float32 camera counts ([`test_size`]: 192 unless the halo needs more) |
//! | `test_output.npy` | the native engine's result on it (whole plane, normalised output) |
//! | `cover.png` | the test input and output side by side |
//! | `README.md` | the documentation ([`documentation`]) |
//!
//! The test output is computed by this crate's own network, not by ONNX Runtime, so
//! `bioimageio test` checks the ONNX graph and the zoo's preprocessing against the
//! native engine.

mod documentation;
mod rdf;

use std::path::Path;

use crate::deconvolve::{deconvolve, DeconvolveOptions, Normalization, OutputRange};
use crate::error::{Error, Result};
use crate::formats::atomic_write::write_bytes_atomically;
use crate::formats::model_file::ModelMetadata;
use crate::formats::npy::npy_f32_bytes;
use crate::formats::onnx::{onnx_model_bytes, Outputs};
use crate::formats::png::grayscale_png;
use crate::formats::zip_stored::ZipWriter;
use crate::image::{ImageStack, PixelType, Pixels};
use crate::model::Model;
use crate::network::Weights;
use crate::simulate::{simulate_pair, SimulationParams};

pub use rdf::{halo, min_size, spdx_license, SIZE_STEP};

/// Side of the square test image, unless a model's halo needs a larger one.
pub const TEST_SIZE: usize = 192;

/// Side of the square test image for a [`halo`]: [`TEST_SIZE`], or the smallest size
/// the halo allows ([`min_size`]) if that is larger.
pub fn test_size(halo: usize) -> usize {
    TEST_SIZE.max(min_size(halo))
}
/// Seed of the simulated test image.
const TEST_SEED: u64 = 17;
/// Gap between the input and the output on the cover, pixels.
const COVER_GAP: usize = 8;

/// The file names inside the package.
pub mod files {
    /// The model description.
    pub const RDF: &str = "rdf.yaml";
    /// The ONNX weights.
    pub const WEIGHTS: &str = "weights.onnx";
    /// The test input tensor.
    pub const TEST_INPUT: &str = "test_input.npy";
    /// The test output tensor.
    pub const TEST_OUTPUT: &str = "test_output.npy";
    /// The cover image.
    pub const COVER: &str = "cover.png";
    /// The documentation.
    pub const DOCUMENTATION: &str = "README.md";
}

/// How the package's preprocessing scales the input: the model's own normalisation
/// where the zoo can express it (`scale_range` over each image's y and x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PackageNormalization {
    /// `scale_range` with these percentiles (minmax is 0 and 100).
    Percentiles {
        /// The percentile mapped to 0.
        low: f64,
        /// The percentile mapped to 1.
        high: f64,
    },
    /// No preprocessing: the input is normalised already.
    None,
}

impl PackageNormalization {
    /// The package's normalisation for a model's metadata `input_normalization`, and a
    /// note for the documentation when it is not exactly the model's. The authors'
    /// per-tile minimum and maximum has no zoo equivalent: the whole image's minimum
    /// and maximum stand in; an empty or unknown entry gets the default percentiles.
    pub fn for_metadata(input_normalization: &str) -> (PackageNormalization, Option<String>) {
        match input_normalization.parse::<Normalization>() {
            Ok(native) => PackageNormalization::for_native(native),
            Err(_) => {
                let default = Normalization::DEFAULT_PERCENTILE;
                let (package, _) = PackageNormalization::for_native(default);
                let note = format!(
                    "The model's metadata does not name its normalisation \
                     ({input_normalization:?}); the package uses the default, {default}."
                );
                (package, Some(note))
            }
        }
    }

    /// [`PackageNormalization::for_metadata`] for a known normalisation.
    fn for_native(native: Normalization) -> (PackageNormalization, Option<String>) {
        let whole_range = PackageNormalization::Percentiles {
            low: 0.0,
            high: 100.0,
        };
        match native {
            Normalization::Percentile { low, high } => {
                (PackageNormalization::Percentiles { low, high }, None)
            }
            Normalization::MinMax => (whole_range, None),
            Normalization::PerTileMinMax => (
                whole_range,
                Some(
                    "The model was trained on patches scaled by their own minimum and maximum \
                     (per-tile-minmax); the zoo's preprocessing cannot scale per tile, so the \
                     package scales each whole image by its minimum and maximum."
                        .to_string(),
                ),
            ),
            Normalization::None => (PackageNormalization::None, None),
        }
    }

    /// The same scaling for the native engine.
    fn native(self) -> Normalization {
        match self {
            PackageNormalization::Percentiles { low, high } => {
                Normalization::Percentile { low, high }
            }
            PackageNormalization::None => Normalization::None,
        }
    }
}

/// The simulated test image: a widefield image of the project's simulator (camera
/// counts as float32), `side` square.
fn test_image(side: usize) -> Result<Vec<f32>> {
    let params = SimulationParams {
        width: side,
        height: side,
        ..SimulationParams::default()
    };
    let pair = simulate_pair(&params, TEST_SEED, 0)?;
    Ok(pair.raw.iter().map(|&v| f32::from(v)).collect())
}

/// 8-bit display values of a normalised image: 0 and 1 to black and white, clamped.
fn display(values: &[f32]) -> impl Iterator<Item = u8> + '_ {
    values
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

/// The cover: the normalised input and the output side by side, a white gap between.
fn cover(normalised_input: &[f32], output: &[f32], side: usize) -> Result<Vec<u8>> {
    let width = 2 * side + COVER_GAP;
    let mut pixels = Vec::with_capacity(width * side);
    for (row_in, row_out) in normalised_input.chunks(side).zip(output.chunks(side)) {
        pixels.extend(display(row_in));
        pixels.extend(std::iter::repeat_n(255u8, COVER_GAP));
        pixels.extend(display(row_out));
    }
    grayscale_png(width, side, &pixels)
}

/// The bytes of the BioImage Model Zoo package (a zip archive) of the model with
/// `weights` and `metadata`.
///
/// # Errors
/// [`Error::InvalidInput`] if the metadata's licence has no SPDX identifier (see
/// [`spdx_license`]), which the zoo requires; the native engine's errors on the test
/// image (none expected for a valid model).
pub fn bioimageio_package_bytes(weights: &Weights, metadata: &ModelMetadata) -> Result<Vec<u8>> {
    let license = spdx_license(&metadata.license).ok_or_else(|| {
        Error::InvalidInput(format!(
            "the model's licence ({:?}) has no SPDX identifier, which a BioImage Model Zoo \
             package needs: name it (e.g. MIT, CC-BY-4.0)",
            metadata.license
        ))
    })?;
    let (normalization, note) = PackageNormalization::for_metadata(&metadata.input_normalization);
    let model = Model::from_weights(weights, metadata.clone());
    let side = test_size(halo(metadata));
    let input = test_image(side)?;
    let stack = ImageStack::new(side, side, 1, Pixels::F32(input.clone()))?;
    let run = |normalization| {
        let options = DeconvolveOptions {
            tile: 0,
            normalization,
            output_range: OutputRange::Normalized,
            ..DeconvolveOptions::default()
        };
        deconvolve(&model, &stack, &options, PixelType::F32, None)
    };
    let output = match run(normalization.native())?.into_pixels() {
        Pixels::F32(v) => v,
        _ => unreachable!("an F32 output was asked for"),
    };
    // The input scaled as the engine scales it (the same percentiles), for the cover.
    let normalised_input = {
        let (low, high) = match normalization {
            PackageNormalization::Percentiles { low, high } => (low, high),
            PackageNormalization::None => (0.0, 100.0),
        };
        let view = ndarray::ArrayView2::from_shape((side, side), &input[..])
            .expect("the test image has side^2 values");
        let lo = crate::deconvolve::normalize::percentile(view, low);
        let hi = crate::deconvolve::normalize::percentile(view, high);
        let scale = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
        input
            .iter()
            .map(|&v| ((f64::from(v) - lo) * scale) as f32)
            .collect::<Vec<f32>>()
    };
    let shape = [1, 1, side, side];
    let mut zip = ZipWriter::new();
    zip.add(
        files::RDF,
        rdf::rdf_yaml(metadata, normalization, &license).as_bytes(),
    )?;
    zip.add(
        files::DOCUMENTATION,
        documentation::readme(metadata, normalization, note.as_deref()).as_bytes(),
    )?;
    zip.add(
        files::WEIGHTS,
        &onnx_model_bytes(weights, metadata, Outputs::RestoredOnly),
    )?;
    zip.add(files::TEST_INPUT, &npy_f32_bytes(&shape, &input)?)?;
    zip.add(files::TEST_OUTPUT, &npy_f32_bytes(&shape, &output)?)?;
    zip.add(files::COVER, &cover(&normalised_input, &output, side)?)?;
    zip.finish()
}

/// Writes the BioImage Model Zoo package of the model to `path`, atomically (see
/// [`crate::formats::atomic_write`]).
///
/// # Errors
/// As [`bioimageio_package_bytes`] and [`write_bytes_atomically`].
pub fn save_bioimageio_package(
    path: &Path,
    weights: &Weights,
    metadata: &ModelMetadata,
) -> Result<()> {
    write_bytes_atomically(path, &bioimageio_package_bytes(weights, metadata)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisations_as_the_zoo_can_express_them() {
        let p = |low, high| PackageNormalization::Percentiles { low, high };
        let of = PackageNormalization::for_metadata;
        assert_eq!(of("percentile:1:99.8"), (p(1.0, 99.8), None));
        assert_eq!(of("minmax"), (p(0.0, 100.0), None));
        assert_eq!(of("none"), (PackageNormalization::None, None));
        let (package, note) = of("per-tile-minmax");
        assert_eq!(package, p(0.0, 100.0));
        assert!(note.unwrap().contains("cannot scale per tile"));
        let (package, note) = of("");
        assert_eq!(package, p(1.0, 99.8));
        assert!(note.unwrap().contains("percentile:1:99.8"));
    }
}
