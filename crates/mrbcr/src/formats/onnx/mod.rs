//! Export of an m-rBCR model to ONNX (opset 17), for ONNX Runtime and the tools built
//! on it, on a CPU or a GPU.
//!
//! The graph is the network on a **normalised** image, exactly as
//! [`crate::network::Network`] computes it:
//!
//! | name | shape (NCHW, float32) | what |
//! |---|---|---|
//! | input `x0` | `[batch, 1, height, width]` | the image, normalised as the model's metadata says (`input_normalization`; the bundled model: each plane's 1st and 99.8th percentiles to 0 and 1); height and width multiples of 4 |
//! | output `z0` | `[batch, 1, height, width]` | the restored image (normalised) |
//! | output `z2` | `[batch, 1, height / 2, width / 2]` | the half-size output (training loss only) |
//! | output `z4` | `[batch, 1, height / 4, width / 4]` | the quarter-size output (training loss only) |
//!
//! The model's metadata goes into the ONNX `metadata_props`. The protobuf is written
//! by [`protobuf`], a small wire-format encoder: the few messages needed do not
//! justify a protobuf code generator and its build script.

mod graph;
mod messages;
pub(crate) mod protobuf;

use std::path::Path;

use crate::error::Result;
use crate::formats::atomic_write::write_bytes_atomically;
use crate::formats::model_file::ModelMetadata;
use crate::network::Weights;
use graph::NetworkGraph;
use messages::{float_value_info, Dim};

pub use graph::{Outputs, INPUT, OUTPUTS};

/// The ONNX operator set the graph declares: 17, the one deepImageJ's engine library
/// (JDLL) installs by default and has an ONNX Runtime for on every platform it
/// supports (ONNX Runtime 1.12; for opset 13 it would fetch ONNX Runtime 1.8, which
/// it has for x86-64 only). The graph's operators (Resize with `half_pixel`, Slice
/// with steps, Conv, AveragePool, Concat, Relu, Add, Shape) are the same at 13 and 17.
pub const OPSET: i64 = 17;
/// The ONNX IR version of opset 17.
const IR_VERSION: i64 = 8;

/// The ONNX model file (a serialised `ModelProto`) of the network with `weights` and
/// the outputs `outputs` names, its metadata as `metadata_props`.
pub fn onnx_model_bytes(weights: &Weights, metadata: &ModelMetadata, outputs: Outputs) -> Vec<u8> {
    let network = NetworkGraph::build(weights, outputs);
    let norm = if metadata.input_normalization.is_empty() {
        "(not given in the model's metadata)"
    } else {
        &metadata.input_normalization
    };
    let batch = Dim::Named("batch");
    let input = float_value_info(
        INPUT,
        &[
            batch,
            Dim::Fixed(1),
            Dim::Named("height"),
            Dim::Named("width"),
        ],
        &format!(
            "The image, normalised as input_normalization says: {norm}. \
             Height and width multiples of 4."
        ),
    );
    let output_docs = [
        ("height", "width", "The restored image (normalised)."),
        (
            "height_half",
            "width_half",
            "Half-size output (height/2 x width/2), used by the training loss only.",
        ),
        (
            "height_quarter",
            "width_quarter",
            "Quarter-size output (height/4 x width/4), used by the training loss only.",
        ),
    ];
    let output_doc = match outputs {
        Outputs::AllScales => {
            "output z0 the restored image, z2 and z4 the half- and quarter-size outputs"
        }
        Outputs::RestoredOnly => "output z0 the restored image",
    };
    let outputs: Vec<_> = outputs
        .names()
        .iter()
        .zip(output_docs)
        .map(|(name, (h, w, doc))| {
            float_value_info(
                name,
                &[
                    Dim::Named("batch"),
                    Dim::Fixed(1),
                    Dim::Named(h),
                    Dim::Named(w),
                ],
                doc,
            )
        })
        .collect();
    let doc = format!(
        "m-rBCR (Li, Kudryashev, Yakimovich, ECCV 2024) on a normalised image: input \
         {INPUT} [batch, 1, height, width] (multiples of 4), normalised as: {norm}; \
         {output_doc}."
    );
    let graph = messages::graph(
        "m-rBCR",
        &doc,
        &network.nodes,
        &network.initializers,
        &[input],
        &outputs,
    );
    let model = messages::model(
        IR_VERSION,
        OPSET,
        ("mrbcr", env!("CARGO_PKG_VERSION")),
        &doc,
        &graph,
        &metadata.entries(),
    );
    model.as_bytes().to_vec()
}

/// Writes the ONNX model of the network with `weights` and all its outputs
/// ([`Outputs::AllScales`]) to `path`, atomically (see [`crate::formats::atomic_write`]).
///
/// # Errors
/// As [`write_bytes_atomically`].
pub fn save_onnx(path: &Path, weights: &Weights, metadata: &ModelMetadata) -> Result<()> {
    write_bytes_atomically(
        path,
        &onnx_model_bytes(weights, metadata, Outputs::AllScales),
    )
}
