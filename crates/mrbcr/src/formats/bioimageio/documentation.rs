//! The package's README.md: what the model does, how to run it, what its
//! preprocessing and halo are, and where it comes from.

use super::rdf::{halo, min_size, SIZE_STEP};
use super::test_size;
use super::PackageNormalization;
use crate::formats::model_file::ModelMetadata;
use crate::formats::onnx::OPSET;
use crate::network::spec::receptive_field_radius;

/// The documentation of the package of the model with `metadata`; `note` says how
/// the preprocessing differs from the model's own normalisation, if it does.
pub fn readme(
    metadata: &ModelMetadata,
    normalization: PackageNormalization,
    note: Option<&str>,
) -> String {
    let (radius_y, radius_x) = receptive_field_radius();
    let halo = halo(metadata);
    let scaling = match normalization {
        PackageNormalization::Percentiles { low, high } => format!(
            "each image's {low}th and {high}th percentiles (over y and x) are mapped to 0 and 1 \
             (`scale_range`); values beyond are kept"
        ),
        PackageNormalization::None => "none: the input must be normalised already".to_string(),
    };
    let field = |label: &str, value: &str| {
        if value.is_empty() {
            String::new()
        } else {
            format!("- {label}: {value}\n")
        }
    };
    format!(
        "# m-rBCR deconvolution{name}\n\n\
         m-rBCR (Li, Kudryashev, Yakimovich, ECCV 2024) is a small physics-informed network \
         for the deconvolution of 2D fluorescence microscopy images: a multi-stage residual \
         Beylkin-Coifman-Rokhlin network, made of convolutions, bilinear resizing, \
         concatenation, ReLU and addition only.\n\n\
         This package was written by `mrbcr export-bioimageio` (mrbcr {version}, MIT licence); \
         the weights are an ONNX graph (opset {OPSET}) that reproduces mrbcr's own engine \
         within 1e-5.\n\n\
         ## The model\n\n\
         {model_fields}\n\
         ## Input and output\n\n\
         - Input `raw`: one 2D image, axes batch, channel (1), y, x; height and width \
         multiples of {SIZE_STEP}, at least {min_size}.\n\
         - Preprocessing: {scaling}.{note}\n\
         - Output `restored`: the deconvolved image, same size, in the normalised scale \
         (about 0 to 1). To return to the input's intensities, multiply by the difference \
         of the two percentiles and add the lower one (`mrbcr deconvolve` does this by \
         default).\n\n\
         ## Tiling and halo\n\n\
         The output's halo is {halo} pixels on each side: tools that cut a large image \
         into tiles crop that much from each tile's border. It is what mrbcr's own tiling \
         uses (tiles of 512 pixels blended over {overlap} pixels). The network's exact \
         receptive field reaches {radius_y} pixels along y and {radius_x} along x, so \
         tiled results differ slightly from a whole-image run near tile borders; run \
         whole images (no tiling) where memory allows (about 1.3 KiB per pixel).\n\n\
         ## Validation\n\n\
         `test_input.npy` is a {side} x {side} widefield image simulated by mrbcr (camera \
         counts); `test_output.npy` is mrbcr's native result on it (whole image, the \
         preprocessing above), so `bioimageio test` checks the ONNX weights and the \
         zoo's preprocessing against mrbcr's own engine (tolerance 1e-4). The network \
         itself was checked against the authors' TensorFlow outputs (within 1e-4). \
         `cover.png` shows the input (normalised) and the output side by side.\n\n\
         ## Run it\n\n\
         - bioimageio.core: `bioimageio predict --inputs image.npy package.zip` or \
         `bioimageio test package.zip`.\n\
         - deepImageJ 3 (Fiji): *Plugins > DeepImageJ > Install model manually* with \
         the zip, then *DeepImageJ Run* on a 32-bit copy of the image (deepImageJ scales \
         the input in the image's own pixel type, so 8- and 16-bit images lose the \
         scaling's fractions).\n\
         - mrbcr itself: `mrbcr deconvolve image.tif -o restored.tif --model model.safetensors`.\n\n\
         ## Citation\n\n\
         Li R., Kudryashev M., Yakimovich A. Solving the inverse problem of microscopy \
         deconvolution with a residual Beylkin-Coifman-Rokhlin neural network. ECCV 2024. \
         arXiv:2407.03239.\n",
        name = if metadata.name.is_empty() {
            String::new()
        } else {
            format!(": {}", metadata.name)
        },
        version = env!("CARGO_PKG_VERSION"),
        model_fields = [
            field("Name", &metadata.name),
            field("Description", &metadata.description),
            field("Trained for normalisation", &metadata.input_normalization),
            field("Provenance", &metadata.provenance),
            field("Licence of the weights", &metadata.license),
            field("Created by", &metadata.created_by),
        ]
        .concat(),
        note = note.map(|n| format!(" {n}")).unwrap_or_default(),
        overlap = 2 * halo,
        min_size = min_size(halo),
        side = test_size(halo),
    )
}
