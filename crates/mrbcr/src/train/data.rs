//! Training data: whole image pairs (simulated, or the user's own TIFFs) and the
//! patches drawn from them.
//!
//! Normalisation follows the authors for the input: each patch's input is scaled to
//! [0, 1] by its own minimum and maximum (a constant patch becomes all zeros). The
//! ground truth is scaled as [`TruthScaling`] says: by its own minimum and maximum, as
//! the authors did (for a truth in other units than the input: another instrument or
//! modality), or by the very transform of its input (for a truth in the input's units,
//! as the simulated pairs are). The second keeps the mapping from input to truth local
//! and scale-consistent: a patch's truth does not depend on what else happens to be in
//! the patch, so a restored whole image keeps its relative intensities.
//!
//! Augmentation, per drawn patch: one of the 8 flips/rotations by 90 degrees (the same
//! for input and truth), then Gaussian noise as the authors added it: `sigma =
//! 0.5 * U(0, 0.05)` on the min-max normalised input, which is then min-max normalised
//! again.
//!
//! Whole training sets, as `mrbcr train` and the C ABI assemble them:
//! [`SimulatedTraining`] (simulated widefield pairs, shared out over pixel sizes) and
//! [`TiffTraining`] (the user's own TIFF pairs, the last ones held out for validation).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{s, Array2, ArrayView2};

use super::step::Sample;
use super::trainer::TrainingSet;
use crate::classical::stack::stack_planes;
use crate::deconvolve::options::Normalization;
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

/// How a patch's ground truth is scaled to the network's range (see the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruthScaling {
    /// By its own minimum and maximum, as the authors did: for a truth in other units
    /// than the input.
    OwnMinMax,
    /// By the transform that scales its input patch to [0, 1] (again after the noise
    /// augmentation): for a truth in the input's units.
    LikeInput,
}

impl TruthScaling {
    /// How the metadata (`train.normalization`) describes the scaling of input and
    /// truth.
    pub fn description(self) -> &'static str {
        match self {
            TruthScaling::OwnMinMax => "input and truth each min-max to [0, 1] per patch",
            TruthScaling::LikeInput => {
                "input min-max to [0, 1] per patch; truth (in the input's units) by the \
                 input's transform"
            }
        }
    }
}

/// How a patch's input is put into the network's range; the metadata's
/// `input_normalization` follows from it ([`InputScaling::normalization`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputScaling {
    /// Each patch by its own minimum and maximum, as the authors trained (truth as
    /// [`TruthScaling`] says); the model expects `per-tile-minmax`.
    PerPatchMinMax,
    /// The pairs were scaled whole by the set's builder, as this normalisation scales
    /// a whole plane at deconvolution (the truth by the input's transform); patches are
    /// cut as they are, so bright objects reach beyond 1 as they do when deconvolving.
    WholeImage(Normalization),
}

impl InputScaling {
    /// The normalisation a model trained so expects at deconvolution.
    pub fn normalization(self) -> Normalization {
        match self {
            InputScaling::PerPatchMinMax => Normalization::PerTileMinMax,
            InputScaling::WholeImage(n) => n,
        }
    }
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
    /// How the truth is scaled (for [`InputScaling::PerPatchMinMax`]).
    pub truth_scaling: TruthScaling,
    /// How the input is scaled.
    pub input_scaling: InputScaling,
}

/// Largest noise standard deviation drawn (on [0, 1] inputs), before the factor 0.5.
const NOISE_SIGMA_MAX: f64 = 0.05;
/// The factor the authors apply to the drawn sigma.
const NOISE_FACTOR: f64 = 0.5;

/// Pairs `0..count` of the simulated set seeded with `seed`: the raw camera counts as
/// input, the ground truth as truth, in the same units (the counts the camera would
/// record of it: `gain x (photons + background) + offset`; the background is light of
/// the specimen, kept as [`crate::simulate::acquisition::Acquisition::truth_counts`]
/// keeps it), to be scaled [`TruthScaling::LikeInput`].
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
            truth: p.ground_truth.mapv(|v| {
                ((f64::from(v) + p.conditions.background_photons) * params.camera.gain
                    + params.camera.offset) as f32
            }),
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
    let (lo, scale) = minmax_transform(a);
    apply_transform(a, lo, scale)
}

/// The offset and scale that map `a` to [0, 1] by its minimum and maximum (scale 0 if
/// it is constant).
fn minmax_transform(a: ArrayView2<f32>) -> (f64, f64) {
    let (lo, hi) = a
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if hi > lo {
        (f64::from(lo), 1.0 / (f64::from(hi) - f64::from(lo)))
    } else {
        (0.0, 0.0)
    }
}

/// `(a - lo) * scale`.
fn apply_transform(a: ArrayView2<f32>, lo: f64, scale: f64) -> Array2<f32> {
    a.mapv(|v| ((f64::from(v) - lo) * scale) as f32)
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
    let input = dihedral(input, k, flip);
    let truth = dihedral(truth, k, flip);
    if let InputScaling::WholeImage(_) = options.input_scaling {
        let mut x = input;
        if options.noise {
            let sigma = NOISE_FACTOR * NOISE_SIGMA_MAX * f64::from(rng.next_f32());
            x.mapv_inplace(|v| (f64::from(v) + sigma * standard_normal(rng)) as f32);
        }
        return Sample { input: x, truth };
    }
    let (lo, scale) = minmax_transform(input.view());
    let mut x = apply_transform(input.view(), lo, scale);
    let mut t = match options.truth_scaling {
        TruthScaling::OwnMinMax => minmax_normalize(truth.view()),
        TruthScaling::LikeInput => apply_transform(truth.view(), lo, scale),
    };
    if options.noise {
        let sigma = NOISE_FACTOR * NOISE_SIGMA_MAX * f64::from(rng.next_f32());
        x.mapv_inplace(|v| (f64::from(v) + sigma * standard_normal(rng)) as f32);
        let (lo, scale) = minmax_transform(x.view());
        x = apply_transform(x.view(), lo, scale);
        if options.truth_scaling == TruthScaling::LikeInput {
            t = apply_transform(t.view(), lo, scale);
        }
    }
    Sample { input: x, truth: t }
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
/// the top-left corner), scaled with `input_scaling` and `truth_scaling`, without
/// augmentation or noise.
pub fn grid_samples(
    pairs: &[ImagePair],
    size: usize,
    truth_scaling: TruthScaling,
    input_scaling: InputScaling,
) -> Vec<Sample> {
    let options = PatchOptions {
        size,
        flips: false,
        noise: false,
        truth_scaling,
        input_scaling,
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

/// Seed offset between the simulated images of successive pixel sizes
/// ([`SimulatedTraining`]).
pub const PIXEL_SIZE_SEED_STRIDE: u64 = 100;

/// A training set of simulated widefield pairs (raw camera counts as input, ground
/// truth as truth), as `mrbcr train` makes it without `--low`/`--high`.
///
/// The `images` training and `validation_images` validation images are shared out
/// evenly over the pixel sizes, in order (the first sizes get one more when the
/// counts do not divide): the `k`-th size (0-based) simulates its share of training
/// images with seed `seed + 100 k` and its share of validation images with seed
/// `seed + 100 k + 1`. Validation uses every non-overlapping patch of the validation
/// images ([`grid_samples`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedTraining {
    /// The simulator's settings (image size, NA, wavelengths, photons, ...); its
    /// `pixel_size_nm` is replaced by each of `pixel_sizes_nm`.
    pub params: SimulationParams,
    /// Camera pixel sizes in the sample, nanometres (at least one).
    pub pixel_sizes_nm: Vec<f64>,
    /// Training images, in all.
    pub images: usize,
    /// Validation images, in all.
    pub validation_images: usize,
    /// Seed of the training images of the first pixel size (see above).
    pub seed: u64,
}

impl Default for SimulatedTraining {
    /// The defaults of `mrbcr train`: 192 training and 8 validation images of 256 x
    /// 256 pixels of 65 nm, seed 1000; NA 1.1 to 1.4, emission 500 to 620 nm, 10 to
    /// 5000 photons at the brightest pixel over 0 to 20 background photons; the
    /// simulator's defaults otherwise.
    fn default() -> SimulatedTraining {
        SimulatedTraining {
            params: SimulationParams {
                width: 256,
                height: 256,
                pixel_size_nm: 65.0,
                numerical_aperture: (1.1, 1.4),
                wavelength_nm: (500.0, 620.0),
                peak_photons: (10.0, 5000.0),
                background_photons: (0.0, 20.0),
                ..SimulationParams::default()
            },
            pixel_sizes_nm: vec![65.0],
            images: 192,
            validation_images: 8,
            seed: 1000,
        }
    }
}

impl SimulatedTraining {
    /// The simulator's settings for pixels of `pixel_size_nm`.
    fn params_for(&self, pixel_size_nm: f64) -> SimulationParams {
        SimulationParams {
            pixel_size_nm,
            ..self.params.clone()
        }
    }

    /// Simulates the images and cuts the validation patches (of `patch_size`, the
    /// training patch size). The description (recorded in the model's metadata and
    /// compared on resume) names the simulator and every setting above.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if there is no pixel size or a simulation setting is out
    /// of range (the message names it).
    pub fn training_set(&self, patch_size: usize) -> Result<TrainingSet> {
        let (train, validation) = self.pairs()?;
        Ok(TrainingSet {
            validation: grid_samples(
                &validation,
                patch_size,
                TruthScaling::LikeInput,
                InputScaling::PerPatchMinMax,
            ),
            train,
            description: self.description(),
            truth_scaling: TruthScaling::LikeInput,
            input_scaling: InputScaling::PerPatchMinMax,
        })
    }

    /// The training and validation pairs (raw camera counts, truth in the same units),
    /// simulated as the type's documentation says.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if there is no pixel size or a simulation setting is out
    /// of range (the message names it).
    pub fn pairs(&self) -> Result<(Vec<ImagePair>, Vec<ImagePair>)> {
        if self.pixel_sizes_nm.is_empty() {
            return Err(Error::InvalidInput(
                "the simulated training images need at least one pixel size".into(),
            ));
        }
        // Every size checked before any image is simulated.
        for &pixel_size in &self.pixel_sizes_nm {
            self.params_for(pixel_size).validate()?;
        }
        let sizes = self.pixel_sizes_nm.len();
        let (mut train, mut validation) = (Vec::new(), Vec::new());
        for (k, &pixel_size) in self.pixel_sizes_nm.iter().enumerate() {
            let params = self.params_for(pixel_size);
            let seed = self.seed + PIXEL_SIZE_SEED_STRIDE * k as u64;
            let share = |total: usize| total / sizes + usize::from(k < total % sizes);
            train.extend(simulated_pairs(&params, seed, share(self.images))?);
            validation.extend(simulated_pairs(
                &params,
                seed + 1,
                share(self.validation_images),
            )?);
        }
        Ok((train, validation))
    }

    /// How the images are made: the [`TrainingSet::description`] of
    /// [`training_set`](Self::training_set), recorded as `data.<key>` metadata. The
    /// keys and texts are those `mrbcr train` has always written (a run's checkpoint
    /// compares them on resume); simulator settings `mrbcr train` does not set are
    /// added, under `other_simulation_settings`, only when they differ from the
    /// defaults.
    pub fn description(&self) -> BTreeMap<String, String> {
        let p = &self.params;
        let mut description: BTreeMap<String, String> = [
            (
                "source",
                "mrbcr simulator (widefield, Born-Wolf PSF, Poisson + camera noise)".to_string(),
            ),
            (
                "images",
                format!(
                    "{} of {} x {}, seed {} (+{} per further pixel size)",
                    self.images, p.width, p.height, self.seed, PIXEL_SIZE_SEED_STRIDE
                ),
            ),
            (
                "validation_images",
                format!("{}, seed {}", self.validation_images, self.seed + 1),
            ),
            ("numerical_aperture", format!("{:?}", p.numerical_aperture)),
            ("wavelength_nm", format!("{:?}", p.wavelength_nm)),
            (
                "pixel_size_nm",
                format!("{:?} (images shared out evenly)", self.pixel_sizes_nm),
            ),
            ("peak_photons", format!("{:?} log-uniform", p.peak_photons)),
            ("background_photons", format!("{:?}", p.background_photons)),
            ("out_of_focus_layers", p.out_of_focus_layers.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // The settings named above, put back to the defaults: what remains differs
        // from the defaults only in settings the keys above do not show.
        let defaults = SimulationParams::default();
        let others = SimulationParams {
            width: defaults.width,
            height: defaults.height,
            pixel_size_nm: defaults.pixel_size_nm,
            numerical_aperture: defaults.numerical_aperture,
            wavelength_nm: defaults.wavelength_nm,
            peak_photons: defaults.peak_photons,
            background_photons: defaults.background_photons,
            out_of_focus_layers: defaults.out_of_focus_layers,
            ..p.clone()
        };
        if others != defaults {
            description.insert("other_simulation_settings".into(), format!("{others:?}"));
        }
        description
    }
}

/// A training set of the user's own pairs, as `mrbcr train --low --high` makes it:
/// [`tiff_pairs`] of `low` and `high`, the last ones held out for validation.
#[derive(Debug, Clone, PartialEq)]
pub struct TiffTraining {
    /// Low-quality images: a TIFF (stack) or a folder of TIFFs.
    pub low: PathBuf,
    /// High-quality images matching `low` one to one (files by name, then pages).
    pub high: PathBuf,
    /// Share of the pairs held out for validation (0 to 1): `round(pairs x share)`,
    /// at least 1 and at most all but one.
    pub validation_fraction: f64,
    /// How the high-quality images are scaled: [`TruthScaling::OwnMinMax`] unless they
    /// are in the units of the low-quality ones (the same camera and settings).
    pub truth_scaling: TruthScaling,
}

impl TiffTraining {
    /// Default share of the pairs held out for validation (that of `mrbcr train`).
    pub const DEFAULT_VALIDATION_FRACTION: f64 = 0.1;

    /// Reads the pairs and holds the last ones out for validation if `validate` (the
    /// run validates: `TrainConfig::validate_every > 0`; otherwise every pair
    /// trains), cut into the non-overlapping patches of `patch_size` (the training
    /// patch size).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `validation_fraction` is not between 0 and 1, if
    /// `validate` with fewer than 2 pairs, or as [`tiff_pairs`]; the errors of
    /// [`tiff_pairs`] for files that cannot be read.
    pub fn training_set(&self, patch_size: usize, validate: bool) -> Result<TrainingSet> {
        let fraction = self.validation_fraction;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::InvalidInput(format!(
                "the validation fraction must be between 0 and 1, got {fraction}"
            )));
        }
        let (low, high) = (&self.low, &self.high);
        let mut pairs = tiff_pairs(low, high)?;
        if validate && pairs.len() < 2 {
            return Err(Error::InvalidInput(format!(
                "validation needs at least 2 image pairs (one is held out), {} and {} hold {}; \
                 or do not validate (validate every 0 steps: --validate-every 0)",
                low.display(),
                high.display(),
                pairs.len()
            )));
        }
        let held = if validate {
            ((pairs.len() as f64 * fraction).round() as usize)
                .max(1)
                .min(pairs.len() - 1)
        } else {
            0
        };
        let validation = pairs.split_off(pairs.len() - held);
        let description = [
            ("source", "tiff pairs".to_string()),
            ("low", low.display().to_string()),
            ("high", high.display().to_string()),
            (
                "pairs",
                format!("{} training, {} validation", pairs.len(), validation.len()),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Ok(TrainingSet {
            validation: grid_samples(
                &validation,
                patch_size,
                self.truth_scaling,
                InputScaling::PerPatchMinMax,
            ),
            train: pairs,
            description,
            truth_scaling: self.truth_scaling,
            input_scaling: InputScaling::PerPatchMinMax,
        })
    }
}
