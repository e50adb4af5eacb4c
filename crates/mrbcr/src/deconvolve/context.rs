//! The tile overlap a model needs, measured (the `tile_overlap` a model file records).
//!
//! The receptive field of m-rBCR is hundreds of pixels wide, but how far the output
//! really depends on the input depends on the weights, and so does the overlap tiles
//! need to give the untiled network's result. It is measured per model, with the run
//! users make: images of [`SIDE`] x [`SIDE`] pixels are deconvolved whole and in tiles
//! of [`MEASURED_TILE`] (two per axis: handovers through the middle
//! both ways, and a corner where four tiles meet), with the default normalisation,
//! for overlaps of [`OVERLAP_STEP`], `2 x OVERLAP_STEP`, ... The overlap the model needs
//! is the first at which the tiled result differs from the untiled one by at most
//! [`TOLERANCE`] of the untiled output's range on every image. The images: simulated
//! widefield images ([`crate::simulate`], fixed seeds) and a smooth, noise-free image
//! of slow waves (out-of-focus light: the content whose output depends on the
//! farthest pixels).

use super::options::{DeconvolveOptions, Normalization, OutputRange};
use crate::error::{Error, Result};
use crate::image::{ImageStack, PixelType, Pixels};
use crate::model::Model;
use crate::simulate::{simulate_pair, SimulationParams};

/// Side of the tiles the overlap is measured with, pixels: the smallest tile a run takes
/// (its handovers lie as close to tile edges as larger tiles' do).
pub const MEASURED_TILE: usize = 512;
/// Side of the square images the overlap is measured on, pixels.
pub const SIDE: usize = 576;
/// The overlaps tried are multiples of this.
pub const OVERLAP_STEP: usize = 16;
/// The largest overlap tried.
pub const MAX_OVERLAP: usize = 320;
/// The largest difference allowed between tiled and untiled results, as a fraction of
/// the untiled output's range.
pub const TOLERANCE: f32 = 1e-3;
/// Seeds of the simulated images the overlap is measured on.
const SEEDS: [u64; 3] = [1, 2, 3];

/// What [`measure_tile_overlap`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapMeasurement {
    /// The smallest overlap tried whose results are within the tolerance.
    pub overlap: usize,
    /// For each overlap tried, the largest difference over the images, as a fraction
    /// of the output range.
    pub differences: Vec<(usize, f32)>,
}

/// Measures the tile overlap `model` needs (see the [module documentation](self)).
/// Takes some seconds to minutes: each overlap tried deconvolves the images again.
///
/// # Errors
/// [`Error::InvalidInput`] if no overlap up to [`MAX_OVERLAP`] brings the tiled results
/// within the tolerance (the model's output depends on far pixels: whole-image mode
/// then is the only faithful one); errors of the simulation or the deconvolution.
pub fn measure_tile_overlap(model: &Model) -> Result<OverlapMeasurement> {
    let params = SimulationParams {
        width: SIDE,
        height: SIDE,
        ..SimulationParams::default()
    };
    let mut images: Vec<Vec<f32>> = SEEDS
        .iter()
        .map(|&seed| {
            let raw = simulate_pair(&params, seed, 0)?.raw;
            Ok(raw.iter().copied().map(f32::from).collect())
        })
        .collect::<Result<Vec<_>>>()?;
    images.push(slow_waves(SIDE));
    let run = |image: &ImageStack, tile: usize, overlap: usize| -> Result<Vec<f32>> {
        let options = DeconvolveOptions {
            tile,
            overlap: Some(overlap),
            normalization: Normalization::default(),
            output_range: OutputRange::Normalized,
            ..DeconvolveOptions::default()
        };
        match super::deconvolve(model, image, &options, PixelType::F32, None)?.into_pixels() {
            Pixels::F32(values) => Ok(values),
            _ => unreachable!("an F32 output was asked for"),
        }
    };
    let mut cases = Vec::new();
    for image in images {
        let stack = ImageStack::new(SIDE, SIDE, 1, Pixels::F32(image))?;
        let whole = run(&stack, 0, 0)?;
        cases.push((stack, whole));
    }
    let mut differences = Vec::new();
    for overlap in (OVERLAP_STEP..=MAX_OVERLAP).step_by(OVERLAP_STEP) {
        let mut worst = 0f32;
        for (stack, whole) in &cases {
            let tiled = run(stack, MEASURED_TILE, overlap)?;
            worst = worst.max(relative_difference(&tiled, whole));
        }
        differences.push((overlap, worst));
        if worst <= TOLERANCE {
            return Ok(OverlapMeasurement {
                overlap,
                differences,
            });
        }
    }
    Err(Error::InvalidInput(format!(
        "tiled results still differ from untiled ones by more than {TOLERANCE} of the output \
         range with an overlap of {MAX_OVERLAP} (by {:.3e}): use whole-image mode (tile 0)",
        differences.last().map_or(0.0, |d| d.1)
    )))
}

/// A `side x side` image of slow waves, from about 200 to 2200, without noise,
/// row-major.
fn slow_waves(side: usize) -> Vec<f32> {
    (0..side * side)
        .map(|i| {
            let (y, x) = ((i / side) as f32, (i % side) as f32);
            1200.0 + 500.0 * (x / 41.0).sin() * (y / 59.0).cos() + 400.0 * ((x + y) / 97.0).sin()
        })
        .collect()
}

/// The largest difference between `tiled` and `whole`, as a fraction of `whole`'s range.
fn relative_difference(tiled: &[f32], whole: &[f32]) -> f32 {
    let largest = tiled
        .iter()
        .zip(whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    let (low, high) = whole
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    largest / (high - low).max(f32::MIN_POSITIVE)
}
