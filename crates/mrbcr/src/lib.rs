//! # mrbcr
//!
//! Deep-learning deconvolution of fluorescence microscopy images with m-rBCR
//! (Li, Kudryashev, Yakimovich, ECCV 2024), on the CPU, without TensorFlow.
//!
//! The crate is layered so that every front end (command line, C ABI, JNI, Python) is
//! a thin layer over one core:
//!
//! - [`kernels`]: the numerical kernels (convolution, resize), each a scalar reference
//!   plus SIMD versions chosen at run time; all give bit-identical results.
//! - [`network`]: the architecture, its weights, and the forward pass.
//! - [`formats`]: the model file (safetensors) and the TensorFlow checkpoint importer.
//! - [`classical`]: PSF models, Richardson-Lucy and Wiener deconvolution (baselines).
//! - [`simulate`]: simulated widefield image pairs (raw camera counts, ground truth)
//!   and the PSNR/SSIM scores against the ground truth.
//! - [`deconvolve`]: whole images and stacks: tiling, blending, normalisation,
//!   progress and cancellation.
//! - [`evaluate`]: the quality benchmarks: methods scored against ground truth on
//!   simulated and real specimens, with the classical methods' best settings.
//! - [`train`]: training from image pairs (simulated, TIFF, mixed), with checkpoints.
//! - [`model`]: a model ready to run (network, metadata, the bundled default).
//! - [`threads`]: the one rule for how many worker threads a run may start.
//! - [`rng`]: the seeded generator behind every random choice (simulation, training).
//!
//! The crate root re-exports what most users need: [`Model`], [`deconvolve()`],
//! [`DeconvolveOptions`], [`ImageStack`] and its views, [`Error`] and [`Result`]; the
//! modules above hold the rest. Helpers that only the crate itself uses (FFTs,
//! checksums, the writers of package files, buffer pools) are `pub(crate)`.
#![warn(missing_docs)]

pub mod classical;
pub mod deconvolve;
mod error;
pub mod evaluate;
pub mod formats;
mod image;
pub(crate) mod memory;
pub mod model;
pub mod network;
pub mod rng;
pub mod simulate;
pub mod threads;
pub mod train;

/// The numerical kernels (the `mrbcr-kernels` crate), under their old path.
pub use mrbcr_kernels as kernels;

pub use deconvolve::{deconvolve, deconvolve_into, DeconvolveOptions, Normalization, OutputRange};
pub use error::{CheckpointProblem, Error, ModelFileProblem, Result};
pub use formats::model_file::ModelMetadata;
pub use image::{ImageStack, PixelType, Pixels, StackLayout, StackView, StackViewMut};
pub use model::Model;
