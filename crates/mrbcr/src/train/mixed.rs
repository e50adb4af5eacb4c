//! The training set of the bundled model: widefield pairs made from sharp real images
//! ([`crate::simulate::real`]) mixed with 3-D specimens ([`crate::simulate::specimen`])
//! and the 2-D simulator's pairs, every whole image
//! scaled as deconvolution scales a plane by default, so that the model sees what it
//! will be given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::data::{grid_samples, ImagePair, InputScaling, SimulatedTraining, TruthScaling};
use super::trainer::TrainingSet;
use crate::deconvolve::normalize::plane_scaling;
use crate::deconvolve::options::Normalization;
use crate::error::Result;
use crate::simulate::real::{real_pair_set, RealImageList, RealPair, RealPairSettings};
use crate::simulate::specimen::{specimen_set, SpecimenSettings};

/// Real-image pairs, 3-D specimens and 2-D simulated pairs, scaled whole.
///
/// The real pairs and the specimens use seed `seed` for training and `seed + 1` for
/// validation; the 2-D simulated ones are [`SimulatedTraining::pairs`]
/// (`simulated.images` may be 0).
/// Validation uses every non-overlapping patch of the validation images.
#[derive(Debug, Clone, PartialEq)]
pub struct MixedTraining {
    /// The folder holding the real images.
    pub real_dir: PathBuf,
    /// Which real images, with their pixel sizes, licences and sources.
    pub real_list: RealImageList,
    /// How the real-image pairs are made.
    pub real: RealPairSettings,
    /// Real-image training pairs.
    pub real_images: usize,
    /// Real-image validation pairs.
    pub real_validation_images: usize,
    /// Seed of the real-image training pairs (validation: seed + 1).
    pub seed: u64,
    /// How the 3-D specimens are made.
    pub specimen: SpecimenSettings,
    /// 3-D specimen training pairs.
    pub specimen_images: usize,
    /// 3-D specimen validation pairs.
    pub specimen_validation_images: usize,
    /// The 2-D simulated pairs mixed in.
    pub simulated: SimulatedTraining,
    /// How each whole input image is scaled (its truth by the same transform).
    pub normalization: Normalization,
}

/// `pair` with input and truth in the network's range: the input scaled by
/// `normalization` as a whole plane, the truth by the same transform.
fn scale_whole(pair: ImagePair, normalization: &Normalization) -> Result<ImagePair> {
    let scaling = plane_scaling(pair.input.view(), 0, normalization)?;
    Ok(ImagePair {
        input: pair.input.mapv(|v| scaling.forward(f64::from(v))),
        truth: pair.truth.mapv(|v| scaling.forward(f64::from(v))),
    })
}

/// A real pair as an image pair in camera counts.
fn counts_pair(pair: RealPair) -> ImagePair {
    ImagePair {
        input: pair.raw.mapv(f32::from),
        truth: pair.truth,
    }
}

impl MixedTraining {
    /// Reads the real images, makes every pair, scales them and cuts the validation
    /// patches (of `patch_size`, the training patch size).
    ///
    /// # Errors
    /// If a real image cannot be read or a setting is out of range (the message names
    /// it).
    pub fn training_set(&self, patch_size: usize) -> Result<TrainingSet> {
        self.real.validate()?;
        let images = self.real_list.load(&self.real_dir)?;
        let mut train: Vec<ImagePair> =
            real_pair_set(&images, &self.real, self.seed, self.real_images)?
                .into_iter()
                .map(counts_pair)
                .collect();
        let mut validation: Vec<ImagePair> = real_pair_set(
            &images,
            &self.real,
            self.seed + 1,
            self.real_validation_images,
        )?
        .into_iter()
        .map(counts_pair)
        .collect();
        let specimen_pairs = |seed, count| -> Result<Vec<ImagePair>> {
            Ok(specimen_set(&self.specimen, seed, count)?
                .into_iter()
                .map(|p| ImagePair {
                    input: p.raw.mapv(f32::from),
                    truth: p.truth,
                })
                .collect())
        };
        if self.specimen_images + self.specimen_validation_images > 0 {
            train.extend(specimen_pairs(self.seed, self.specimen_images)?);
            validation.extend(specimen_pairs(
                self.seed + 1,
                self.specimen_validation_images,
            )?);
        }
        if self.simulated.images + self.simulated.validation_images > 0 {
            let (sim_train, sim_validation) = self.simulated.pairs()?;
            train.extend(sim_train);
            validation.extend(sim_validation);
        }
        let scale = |pairs: Vec<ImagePair>| -> Result<Vec<ImagePair>> {
            pairs
                .into_iter()
                .map(|p| scale_whole(p, &self.normalization))
                .collect()
        };
        let (train, validation) = (scale(train)?, scale(validation)?);
        let input_scaling = InputScaling::WholeImage(self.normalization);
        Ok(TrainingSet {
            validation: grid_samples(
                &validation,
                patch_size,
                TruthScaling::LikeInput,
                input_scaling,
            ),
            train,
            description: self.description(),
            truth_scaling: TruthScaling::LikeInput,
            input_scaling,
        })
    }

    /// How the images are made, recorded as `data.<key>` metadata: the real images'
    /// sources and licences, the pair generator's settings, the simulator's.
    pub fn description(&self) -> BTreeMap<String, String> {
        let mut description: BTreeMap<String, String> = [
            (
                "source",
                "mrbcr real-image pairs (sharp real images as in-focus truth, imaged through \
                 drawn widefield optics and cameras) mixed with mrbcr 3-D specimens and 2-D \
                 simulator pairs"
                    .to_string(),
            ),
            (
                "real_images",
                format!(
                    "{} training pairs seed {}, {} validation pairs seed {}",
                    self.real_images,
                    self.seed,
                    self.real_validation_images,
                    self.seed + 1
                ),
            ),
            ("real_sources", self.real_list.description()),
            ("real_generator", self.real.description()),
            (
                "specimen_images",
                format!(
                    "{} training pairs seed {}, {} validation pairs seed {}",
                    self.specimen_images,
                    self.seed,
                    self.specimen_validation_images,
                    self.seed + 1
                ),
            ),
            ("scaling", format!("whole image {}", self.normalization)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if self.specimen_images + self.specimen_validation_images > 0 {
            for (key, value) in self.specimen.description() {
                description.insert(format!("specimen.{key}"), value);
            }
        }
        if self.simulated.images + self.simulated.validation_images > 0 {
            for (key, value) in self.simulated.description() {
                description.insert(format!("simulated.{key}"), value);
            }
        }
        description
    }
}
