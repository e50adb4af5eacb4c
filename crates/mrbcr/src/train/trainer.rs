//! The training loop: batches of random patches, Adam steps, validation, early
//! stopping, checkpoints and progress lines; resumable bit for bit.
//!
//! Step `k` (1-based) draws its batch from a generator seeded by `(seed, k)`; a step's
//! result does not depend on the thread count (see [`super::step`]); validation happens
//! at every multiple of `validate_every` steps. So a run stopped after any checkpoint
//! and resumed gives exactly the weights of an uninterrupted run.
//!
//! Files written to the output directory: the checkpoint ([`super::checkpoint`]),
//! `best.safetensors` (the weights of the lowest validation loss so far) and, at the
//! end, `model.safetensors`: the best weights (the last ones if no validation ran),
//! with metadata recording how they were made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::adam::{Adam, AdamConfig};
use super::checkpoint::{load_checkpoint, save_checkpoint, TrainState};
use super::data::{random_sample, ImagePair, InputScaling, PatchOptions, TruthScaling};
use super::loss::sample_loss_f32;
use super::step::{train_step, BatchLoss, Sample};
use crate::error::{Error, Result};
use crate::formats::model_file::{load_model, save_model, ModelMetadata};
use crate::network::{Network, Weights, Workspace};
use crate::rng::SplitMix64;

/// File name of the best weights so far.
pub const BEST_FILE: &str = "best.safetensors";
/// File name of the final model.
pub const MODEL_FILE: &str = "model.safetensors";

/// The settings of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Side of the square training patches (a multiple of 4, at least 16).
    pub patch_size: usize,
    /// Patches per step.
    pub batch_size: usize,
    /// Stop after this many steps in all (a resumed run counts the earlier ones).
    pub max_steps: u64,
    /// The optimiser; its learning rate is the one of the first step.
    pub adam: AdamConfig,
    /// Cosine decay of the learning rate from `adam.learning_rate` at the first step
    /// to this at `max_steps` (`None`: constant). Short runs end far better settled
    /// with it.
    pub final_learning_rate: Option<f64>,
    /// How the samples' losses combine into the batch's (and the validation set's).
    pub batch_loss: BatchLoss,
    /// Seed of the patch draws and augmentation.
    pub seed: u64,
    /// Random flips and 90-degree rotations.
    pub flips: bool,
    /// The authors' Gaussian noise augmentation.
    pub noise: bool,
    /// A progress line every this many steps.
    pub log_every: u64,
    /// Validate every this many steps (0: never).
    pub validate_every: u64,
    /// Stop after this many validations without a new best (0: never stop early).
    pub patience: usize,
    /// Save a checkpoint every this many steps (and always at the end).
    pub checkpoint_every: u64,
    /// Where checkpoints and the model go.
    pub output_dir: PathBuf,
}

impl Default for TrainConfig {
    /// Patches of 128, batches of 8, 10,000 steps, Keras' Adam, the mean of the
    /// samples' losses, seed 1, flips and
    /// noise on, a line every 10 steps, validation every 200 steps with a patience of
    /// 10, a checkpoint every 100 steps, into `train-run`.
    fn default() -> TrainConfig {
        TrainConfig {
            patch_size: 128,
            batch_size: 8,
            max_steps: 10_000,
            adam: AdamConfig::default(),
            final_learning_rate: None,
            batch_loss: BatchLoss::Mean,
            seed: 1,
            flips: true,
            noise: true,
            log_every: 10,
            validate_every: 200,
            patience: 10,
            checkpoint_every: 100,
            output_dir: PathBuf::from("train-run"),
        }
    }
}

/// The data of a run.
#[derive(Debug, Clone)]
pub struct TrainingSet {
    /// Whole images to draw training patches from.
    pub train: Vec<ImagePair>,
    /// Fixed validation samples (normalised patches).
    pub validation: Vec<Sample>,
    /// How the data were made (e.g. simulator settings), recorded in the model's
    /// metadata as `data.<key>`.
    pub description: BTreeMap<String, String>,
    /// How the truth of a training patch is scaled (that of `validation` too).
    pub truth_scaling: TruthScaling,
    /// How the input of a training patch is scaled (that of `validation` too).
    pub input_scaling: InputScaling,
}

/// Where the weights of a new run start.
#[derive(Debug, Clone)]
pub struct Initialization {
    /// The weights.
    pub weights: Weights,
    /// What they are, for the metadata (`glorot-uniform seed 1`, a file name, ...).
    pub description: String,
    /// The licence of the weights started from (empty for fresh weights): a model
    /// trained from them carries it on, as their licence asks.
    pub license: String,
}

impl Initialization {
    /// The seed of fresh weights when none is given (that of `mrbcr train` and the C
    /// interface).
    pub const DEFAULT_SEED: u64 = 1;

    /// Fresh Glorot-uniform weights with zero biases, drawn with `seed`.
    pub fn fresh(seed: u64) -> Initialization {
        Initialization {
            weights: Weights::initialize(seed),
            description: format!("Glorot-uniform weights, zero biases, seed {seed}"),
            license: String::new(),
        }
    }

    /// The weights of a model file (fine-tuning).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, [`Error::ModelFile`] if it is not a
    /// valid model file.
    pub fn from_model_file(path: &Path) -> Result<Initialization> {
        let (weights, metadata) = load_model(path)?;
        let name = if metadata.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", metadata.name)
        };
        Ok(Initialization {
            weights,
            description: format!("model file {}{name}", path.display()),
            license: metadata.license,
        })
    }

    /// The weights of the bundled default model (fine-tuning it on one's own data).
    pub fn bundled() -> Initialization {
        let (weights, metadata) = crate::model::bundled_model();
        Initialization {
            weights,
            description: crate::model::BUNDLED_MODEL_NAME.to_string(),
            license: metadata.license,
        }
    }
}

/// One progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Steps done.
    pub step: u64,
    /// Mean training loss over the steps since the previous line.
    pub train_loss: f64,
    /// Validation loss, if this step validated.
    pub val_loss: Option<f64>,
    /// Wall-clock seconds per step since the previous line.
    pub seconds_per_step: f64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// Steps done in all.
    pub steps: u64,
    /// Lowest validation loss (infinite if none ran) and its step.
    pub best_val_loss: f64,
    /// Step of the lowest validation loss.
    pub best_step: u64,
    /// True if early stopping ended the run.
    pub stopped_early: bool,
    /// The final model file.
    pub model_path: PathBuf,
}

impl TrainConfig {
    /// Checks the settings against the data.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first unusable setting.
    pub fn validate(&self, data: &TrainingSet) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidInput(m));
        if self.patch_size < 16 || !self.patch_size.is_multiple_of(4) {
            return bad(format!(
                "the patch size must be a multiple of 4 and at least 16, got {}",
                self.patch_size
            ));
        }
        if self.batch_size == 0 || self.log_every == 0 || self.checkpoint_every == 0 {
            return bad(
                "the batch size, log interval and checkpoint interval must be positive".into(),
            );
        }
        if data.train.is_empty() {
            return bad("no training images".into());
        }
        if let Some(small) = data
            .train
            .iter()
            .position(|p| p.input.nrows() < self.patch_size || p.input.ncols() < self.patch_size)
        {
            let (h, w) = data.train[small].input.dim();
            return bad(format!(
                "training image {} is {h} x {w} pixels, smaller than the {} x {} patches",
                small + 1,
                self.patch_size,
                self.patch_size
            ));
        }
        if self.validate_every > 0 && data.validation.is_empty() {
            return bad("validation is asked for but there are no validation samples".into());
        }
        let lr = self.adam.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return bad(format!("the learning rate must be positive, got {lr}"));
        }
        if let Some(last) = self.final_learning_rate {
            if !(last.is_finite() && last > 0.0 && last <= lr) {
                return bad(format!(
                    "the final learning rate must be positive and at most the first ({lr}), got {last}"
                ));
            }
        }
        if let BatchLoss::MeanLog { floor } = self.batch_loss {
            if !(floor.is_finite() && floor >= 0.0) {
                return bad(format!(
                    "the floor of the logarithmic batch loss must be at least 0, got {floor}"
                ));
            }
        }
        Ok(())
    }

    /// The learning rate of step `step` (1-based): constant, or the cosine decay from
    /// the first to the final rate over `max_steps`.
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        let first = self.adam.learning_rate;
        match self.final_learning_rate {
            None => first,
            Some(last) => {
                let span = self.max_steps.saturating_sub(1).max(1) as f64;
                let progress = (step.saturating_sub(1) as f64 / span).min(1.0);
                last + 0.5 * (first - last) * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }

    /// How the learning rate moves, for logs and metadata.
    fn schedule_description(&self) -> String {
        match self.final_learning_rate {
            None => format!("constant {}", self.adam.learning_rate),
            Some(last) => format!(
                "cosine from {} to {} over {} steps",
                self.adam.learning_rate, last, self.max_steps
            ),
        }
    }

    /// The settings a resumed run must share with the run it continues.
    fn fingerprint(&self, data: &TrainingSet) -> String {
        let a = self.adam;
        format!(
            "patch={} batch={} batch_loss={} seed={} flips={} noise={} lr={} betas={},{} eps={} validate_every={} patience={} truth={:?} input={:?} data={:?}",
            self.patch_size,
            self.batch_size,
            self.batch_loss.description(),
            self.seed,
            self.flips,
            self.noise,
            self.schedule_description(),
            a.beta1,
            a.beta2,
            a.epsilon,
            self.validate_every,
            self.patience,
            data.truth_scaling,
            data.input_scaling,
            data.description
        )
    }
}

/// The loss of the network with `weights` over `samples`, the samples' losses combined
/// as `batch_loss` says (inference forward passes, in parallel; the sum is taken in
/// sample order).
///
/// # Errors
/// [`Error::InvalidInput`] if a sample's sides are not multiples of 4; an empty set
/// gives an error too.
pub fn validation_loss(
    weights: &Weights,
    samples: &[Sample],
    batch_loss: BatchLoss,
) -> Result<f64> {
    if samples.is_empty() {
        return Err(Error::InvalidInput("no validation samples".into()));
    }
    let network = Network::new(weights);
    let losses: Vec<f64> = samples
        .par_iter()
        .map_init(Workspace::new, |ws, s| {
            let out = network.forward_all(s.input.view(), ws, None)?;
            let z2 = out.z2.as_ref().expect("asked for");
            let z4 = out.z4.as_ref().expect("asked for");
            Ok(batch_loss
                .term(sample_loss_f32([&out.z0, z2, z4], s.truth.view()).0)
                .0)
        })
        .collect::<Result<_>>()?;
    Ok(losses.iter().sum::<f64>() / samples.len() as f64)
}

/// The generator of step `step`'s random draws.
fn step_rng(seed: u64, step: u64) -> SplitMix64 {
    let mut mix = SplitMix64::new(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    SplitMix64::new(mix.next_u64())
}

/// How the licence of a fine-tuned model begins, before the licence of the weights it
/// started from.
const FINE_TUNED_LICENSE_PREFIX: &str = "weights fine-tuned from weights under: ";

/// Metadata of the models this run writes.
fn model_metadata(
    config: &TrainConfig,
    data: &TrainingSet,
    init: &Initialization,
    state: &TrainState,
    last_train_loss: f64,
) -> ModelMetadata {
    let mut m = ModelMetadata::new("m-rBCR (mrbcr train)");
    m.description = "m-rBCR trained with mrbcr's CPU trainer".into();
    m.input_normalization = data.input_scaling.normalization().to_string();
    m.train_patch_size = Some(config.patch_size);
    m.provenance = format!("trained by mrbcr train from {}", init.description);
    if !init.license.is_empty() {
        // Said once, however many fine-tunings the weights went through.
        m.license = if init.license.starts_with(FINE_TUNED_LICENSE_PREFIX) {
            init.license.clone()
        } else {
            format!("{FINE_TUNED_LICENSE_PREFIX}{}", init.license)
        };
    }
    let a = config.adam;
    let mut extra: BTreeMap<String, String> = [
        ("train.steps", state.adam.step.to_string()),
        ("train.seed", config.seed.to_string()),
        ("train.batch_size", config.batch_size.to_string()),
        ("train.patch_size", config.patch_size.to_string()),
        ("train.learning_rate", config.schedule_description()),
        (
            "train.adam",
            format!("beta1={} beta2={} epsilon={}", a.beta1, a.beta2, a.epsilon),
        ),
        (
            "train.augmentation",
            format!("flips={} noise={}", config.flips, config.noise),
        ),
        (
            "train.normalization",
            match data.input_scaling {
                InputScaling::PerPatchMinMax => data.truth_scaling.description().into(),
                InputScaling::WholeImage(n) => format!(
                    "each whole input image by {n} (as deconvolution does by default), its \
                     truth by the same transform; patches cut as they are"
                ),
            },
        ),
        (
            "train.loss",
            format!(
                "sum over scales 0,2,4 of MSE + 0.5 mean|FFT2 difference| (2-D FFT); batch: {}",
                config.batch_loss.description()
            ),
        ),
        ("train.init", init.description.clone()),
        ("train.last_train_loss", last_train_loss.to_string()),
        ("train.best_val_loss", state.best_val_loss.to_string()),
        ("train.best_step", state.best_step.to_string()),
        (
            "train.validation_samples",
            data.validation.len().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in &data.description {
        extra.insert(format!("data.{k}"), v.clone());
    }
    m.extra = extra;
    m
}

/// Runs (or, with `resume`, continues) a training run; `log` is shown a progress line
/// every `log_every` steps and at every validation, and returns `true` to go on or
/// `false` to stop the run: the checkpoint of the step just done is then saved (so
/// that `resume` continues exactly as if the run had not stopped), no
/// `model.safetensors` is written, and the run returns [`Error::Cancelled`].
///
/// # Errors
/// [`Error::InvalidInput`] for unusable settings or an existing checkpoint without
/// `resume`; [`Error::Training`] for a diverging run or a checkpoint that cannot be
/// resumed (damaged, of another network, or of a run with other settings);
/// [`Error::Cancelled`] if `log` returned `false`; [`Error::Io`] and model-file errors
/// for files that cannot be written or read.
pub fn train(
    config: &TrainConfig,
    data: &TrainingSet,
    init: &Initialization,
    resume: bool,
    log: &mut dyn FnMut(&Progress) -> bool,
) -> Result<TrainOutcome> {
    config.validate(data)?;
    let dir = &config.output_dir;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let fingerprint = config.fingerprint(data);
    let mut state = match load_checkpoint(dir)? {
        Some(state) if resume => {
            if state.fingerprint != fingerprint {
                return Err(Error::Training(format!(
                    "the checkpoint in {} comes from a run with other settings:\n  it: {}\n  now: {}",
                    dir.display(),
                    state.fingerprint,
                    fingerprint
                )));
            }
            state
        }
        Some(_) => {
            return Err(Error::InvalidInput(format!(
                "{} already holds a training checkpoint: resume it, or choose another directory",
                dir.display()
            )))
        }
        None => TrainState {
            adam: Adam::new(config.adam, &init.weights),
            weights: init.weights.clone(),
            best_val_loss: f64::INFINITY,
            best_step: 0,
            stale_validations: 0,
            fingerprint,
        },
    };
    let options = PatchOptions {
        size: config.patch_size,
        flips: config.flips,
        noise: config.noise,
        truth_scaling: data.truth_scaling,
        input_scaling: data.input_scaling,
    };
    let (mut window_loss, mut window_steps, mut window_start) = (0.0, 0u64, Instant::now());
    let mut last_train_loss = f64::NAN;
    // A run that already stopped early stays stopped.
    let mut stopped_early = config.patience > 0 && state.stale_validations >= config.patience;
    while state.adam.step < config.max_steps && !stopped_early {
        let step = state.adam.step + 1;
        let mut rng = step_rng(config.seed, step);
        let batch: Vec<Sample> = (0..config.batch_size)
            .map(|_| random_sample(&data.train, &options, &mut rng))
            .collect();
        state.adam.config.learning_rate = config.learning_rate_at(step);
        let loss = train_step(
            &mut state.weights,
            &mut state.adam,
            &batch,
            config.batch_loss,
        )?;
        last_train_loss = loss;
        window_loss += loss;
        window_steps += 1;
        let mut val_loss = None;
        if config.validate_every > 0 && step.is_multiple_of(config.validate_every) {
            let v = validation_loss(&state.weights, &data.validation, config.batch_loss)?;
            val_loss = Some(v);
            if v < state.best_val_loss {
                state.best_val_loss = v;
                state.best_step = step;
                state.stale_validations = 0;
                let meta = model_metadata(config, data, init, &state, loss);
                save_model(&dir.join(BEST_FILE), &state.weights, &meta)?;
            } else {
                state.stale_validations += 1;
                stopped_early = config.patience > 0 && state.stale_validations >= config.patience;
            }
        }
        let mut cancelled = false;
        if step.is_multiple_of(config.log_every) || val_loss.is_some() {
            cancelled = !log(&Progress {
                step,
                train_loss: window_loss / window_steps as f64,
                val_loss,
                seconds_per_step: window_start.elapsed().as_secs_f64() / window_steps as f64,
            });
            (window_loss, window_steps, window_start) = (0.0, 0, Instant::now());
        }
        let last = stopped_early || step == config.max_steps;
        if step.is_multiple_of(config.checkpoint_every) || last || cancelled {
            let meta = model_metadata(config, data, init, &state, loss);
            save_checkpoint(dir, &state, &meta)?;
        }
        if cancelled {
            return Err(Error::Cancelled);
        }
    }
    let meta = model_metadata(config, data, init, &state, last_train_loss);
    let best = dir.join(BEST_FILE);
    let final_weights = if best.exists() {
        load_model(&best)?.0
    } else {
        state.weights.clone()
    };
    let model_path = dir.join(MODEL_FILE);
    save_model(&model_path, &final_weights, &meta)?;
    Ok(TrainOutcome {
        steps: state.adam.step,
        best_val_loss: state.best_val_loss,
        best_step: state.best_step,
        stopped_early,
        model_path,
    })
}
