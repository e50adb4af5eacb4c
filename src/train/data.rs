//! Training data: whole image pairs (simulated, or the user's own TIFFs) and the
//! patches drawn from them.
//!
//! Normalisation follows the authors: each patch's input is scaled to [0, 1] by its
//! own minimum and maximum, and so is its ground truth, by its own (a constant patch
//! becomes all zeros). A model trained this way expects `per-tile-minmax` inputs.
//!
//! Augmentation, per drawn patch: one of the 8 flips/rotations by 90 degrees (the same
//! for input and truth), then Gaussian noise as the authors added it: `sigma =
//! 0.5 * U(0, 0.05)` on the min-max normalised input, which is then min-max normalised
//! again.

use std::path::{Path, PathBuf};

use ndarray::{s, Array2, ArrayView2};

use super::step::Sample;
use crate::classical::stack::stack_planes;
use crate::error::{Error, Result};
use crate::formats::tiff::read_tiff;
use crate::rng::SplitMix64;
use crate::simulate::sampling::standard_normal;
use crate::simulate::{simulate_set, SimulationParams};

/// A whole low-quality image and its high-quality counterpart, same size, any units.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePair {
    /// The image the network sees (e.g. widefield).
    pub input: Array2<f32>,
    /// What it should restore (ground truth or a high-quality acquisition).
    pub truth: Array2<f32>,
}

/// How patches are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchOptions {
    /// Side of the square patches (a multiple of 4).
    pub size: usize,
    /// Random flips and rotations by 90 degrees.
    pub flips: bool,
    /// The authors' Gaussian noise on the input.
    pub noise: bool,
}

/// Largest noise standard deviation drawn (on [0, 1] inputs), before the factor 0.5.
const NOISE_SIGMA_MAX: f64 = 0.05;
/// The factor the authors apply to the drawn sigma.
const NOISE_FACTOR: f64 = 0.5;

/// Pairs `0..count` of the simulated set seeded with `seed`: the raw camera counts as
/// input, the ground truth as truth.
///
/// # Errors
/// As [`simulate_set`].
pub fn simulated_pairs(
    params: &SimulationParams,
    seed: u64,
    count: usize,
) -> Result<Vec<ImagePair>> {
    Ok(simulate_set(params, seed, count)?
        .into_iter()
        .map(|p| ImagePair {
            input: p.raw.mapv(f32::from),
            truth: p.ground_truth,
        })
        .collect())
}

/// The TIFF files of a folder, by name, or the file itself.
fn tiff_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no .tif or .tiff files in {}",
            path.display()
        )));
    }
    Ok(files)
}

/// Every plane of `path` (a TIFF file or stack, or a folder of them in name order),
/// each with the name of its file and its page.
fn read_planes(path: &Path) -> Result<Vec<(String, Array2<f32>)>> {
    let mut out = Vec::new();
    for file in tiff_files(path)? {
        let image = read_tiff(&file)?;
        for (k, plane) in stack_planes(&image.stack).into_iter().enumerate() {
            out.push((format!("{} (page {})", file.display(), k + 1), plane));
        }
    }
    Ok(out)
}

/// The user's own pairs: `low` and `high` are each a TIFF (stack) or a folder of TIFFs,
/// matched plane by plane in order (files by name, then pages).
///
/// # Errors
/// [`Error::InvalidInput`] if the numbers of planes differ, two matched planes differ
/// in size, or a plane has non-finite values; errors of [`read_tiff`].
pub fn tiff_pairs(low: &Path, high: &Path) -> Result<Vec<ImagePair>> {
    let (inputs, truths) = (read_planes(low)?, read_planes(high)?);
    if inputs.len() != truths.len() {
        return Err(Error::InvalidInput(format!(
            "{} holds {} images but {} holds {}: low- and high-quality images must match one to one",
            low.display(),
            inputs.len(),
            high.display(),
            truths.len()
        )));
    }
    inputs
        .into_iter()
        .zip(truths)
        .map(|((in_name, input), (gt_name, truth))| {
            if input.dim() != truth.dim() {
                return Err(Error::InvalidInput(format!(
                    "{in_name} is {:?} pixels (height, width) but its match {gt_name} is {:?}",
                    input.dim(),
                    truth.dim()
                )));
            }
            for (name, a) in [(&in_name, &input), (&gt_name, &truth)] {
                if a.iter().any(|v| !v.is_finite()) {
                    return Err(Error::InvalidInput(format!(
                        "{name} has NaN or infinite values"
                    )));
                }
            }
            Ok(ImagePair { input, truth })
        })
        .collect()
}

/// `a` scaled to [0, 1] by its minimum and maximum; all zeros if it is constant.
pub fn minmax_normalize(a: ArrayView2<f32>) -> Array2<f32> {
    let (lo, hi) = a
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if hi > lo {
        let scale = 1.0 / (f64::from(hi) - f64::from(lo));
        a.mapv(|v| ((f64::from(v) - f64::from(lo)) * scale) as f32)
    } else {
        Array2::zeros(a.dim())
    }
}

/// One of the 8 symmetries of the square: `k` rotations by 90 degrees, then a
/// left-right flip if `flip`.
fn dihedral(a: ArrayView2<f32>, k: usize, flip: bool) -> Array2<f32> {
    let mut v = a;
    for _ in 0..k % 4 {
        v = v.reversed_axes();
        v.invert_axis(ndarray::Axis(1));
    }
    if flip {
        v.invert_axis(ndarray::Axis(1));
    }
    v.to_owned()
}

/// A training sample from the input and truth patches (already cut): augmentation as
/// asked, then normalisation (see the module documentation).
fn make_sample(
    input: ArrayView2<f32>,
    truth: ArrayView2<f32>,
    options: &PatchOptions,
    rng: &mut SplitMix64,
) -> Sample {
    let (k, flip) = if options.flips {
        let r = rng.next_u64();
        ((r % 4) as usize, (r >> 2) & 1 == 1)
    } else {
        (0, false)
    };
    let mut x = minmax_normalize(dihedral(input, k, flip).view());
    if options.noise {
        let sigma = NOISE_FACTOR * NOISE_SIGMA_MAX * f64::from(rng.next_f32());
        x.mapv_inplace(|v| (f64::from(v) + sigma * standard_normal(rng)) as f32);
        x = minmax_normalize(x.view());
    }
    Sample {
        input: x,
        truth: minmax_normalize(dihedral(truth, k, flip).view()),
    }
}

/// A random patch of a random pair, augmented and normalised.
///
/// # Panics
/// If `pairs` is empty or an image is smaller than the patch (checked by the trainer).
pub fn random_sample(pairs: &[ImagePair], options: &PatchOptions, rng: &mut SplitMix64) -> Sample {
    let pair = &pairs[(rng.next_u64() % pairs.len() as u64) as usize];
    let (h, w) = pair.input.dim();
    let p = options.size;
    let top = (rng.next_u64() % (h - p + 1) as u64) as usize;
    let left = (rng.next_u64() % (w - p + 1) as u64) as usize;
    let window = s![top..top + p, left..left + p];
    make_sample(
        pair.input.slice(window),
        pair.truth.slice(window),
        options,
        rng,
    )
}

/// Fixed validation samples: every non-overlapping patch of each pair (a grid from
/// the top-left corner), normalised, without augmentation or noise.
pub fn grid_samples(pairs: &[ImagePair], size: usize) -> Vec<Sample> {
    let options = PatchOptions {
        size,
        flips: false,
        noise: false,
    };
    let mut rng = SplitMix64::new(0);
    let mut out = Vec::new();
    for pair in pairs {
        let (h, w) = pair.input.dim();
        for top in (0..=h.saturating_sub(size)).step_by(size) {
            for left in (0..=w.saturating_sub(size)).step_by(size) {
                if top + size > h || left + size > w {
                    continue;
                }
                let window = s![top..top + size, left..left + size];
                out.push(make_sample(
                    pair.input.slice(window),
                    pair.truth.slice(window),
                    &options,
                    &mut rng,
                ));
            }
        }
    }
    out
}
