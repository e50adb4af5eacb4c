//! `mrbcr train`: train m-rBCR on simulated widefield pairs or on the user's own TIFF
//! pairs, from scratch or from a model file, resumably.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use mrbcr::deconvolve::options::Normalization;
use mrbcr::simulate::acquisition::AcquisitionRanges;
use mrbcr::simulate::real::{RealImageList, RealPairSettings, TRAINING_LIST};
use mrbcr::simulate::specimen::SpecimenSettings;
use mrbcr::simulate::SimulationParams;
use mrbcr::train::{
    train, AdamConfig, BatchLoss, Initialization, MixedTraining, Progress, SimulatedTraining,
    TiffTraining, TrainConfig, TrainingSet, TruthScaling,
};
use mrbcr::Result;

/// Arguments of `mrbcr train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Directory for checkpoints, `best.safetensors` and the final `model.safetensors`.
    #[arg(short, long)]
    output_dir: PathBuf,
    /// Continue the run whose checkpoint is in the output directory.
    #[arg(long)]
    resume: bool,
    /// Low-quality training images: a TIFF (stack) or a folder of TIFFs. With
    /// `--high`; without both, simulated widefield pairs are used.
    #[arg(long, requires = "high")]
    low: Option<PathBuf>,
    /// High-quality images matching `--low` one to one (files by name, then pages).
    #[arg(long, requires = "low")]
    high: Option<PathBuf>,
    /// The `--high` images are in the units of the `--low` ones (the same camera and
    /// settings, e.g. long and short exposures): scale each truth patch by its input
    /// patch's transform instead of its own minimum and maximum, so that the model
    /// keeps intensities.
    #[arg(long)]
    same_units: bool,
    /// Share of the TIFF pairs held out for validation (the last ones).
    #[arg(long, default_value_t = TiffTraining::DEFAULT_VALIDATION_FRACTION)]
    val_fraction: f64,
    /// Train on pairs made from the sharp real images in this folder (the files of
    /// `--real-list`), mixed with `--sim-images` simulated ones; every whole image is
    /// scaled as `mrbcr deconvolve` scales a plane by default (percentile 1 to 99.8).
    #[arg(long, conflicts_with = "low")]
    real: Option<PathBuf>,
    /// The list of real images (file, pixel size, planes, licence, source; see
    /// models/real-training.tsv); default: the bundled model's list.
    #[arg(long, requires = "real")]
    real_list: Option<PathBuf>,
    /// Training pairs made from the real images.
    #[arg(long, default_value_t = 384)]
    real_images: usize,
    /// Validation pairs made from the real images (another seed).
    #[arg(long, default_value_t = 16)]
    real_val_images: usize,
    /// Seed of the real-image training pairs (validation uses seed + 1).
    #[arg(long, default_value_t = 2000)]
    real_seed: u64,
    /// Share of the real-image pairs with out-of-focus light of another image added.
    #[arg(long, default_value_t = RealPairSettings::default().out_of_focus_probability, requires = "real")]
    real_out_of_focus: f64,
    /// Brightness of that light relative to the in-focus image, `MIN MAX`.
    #[arg(long, num_args = 2, default_values_t = [RealPairSettings::default().out_of_focus_brightness.0, RealPairSettings::default().out_of_focus_brightness.1], requires = "real")]
    real_out_of_focus_brightness: Vec<f64>,
    /// Photons at the brightest pixel of the real-image pairs, `MIN MAX` (log-uniform;
    /// default: the acquisitions' range, 5 to 20000).
    #[arg(long, num_args = 2, default_values_t = [AcquisitionRanges::default().peak_photons.0, AcquisitionRanges::default().peak_photons.1], requires = "real")]
    real_photons: Vec<f64>,
    /// 3-D specimen training pairs mixed in with `--real` (nuclei, tissue, cells,
    /// membranes, mitochondria, ER, vesicles, cytoskeleton; seeds as the real pairs').
    #[arg(long, default_value_t = 256, requires = "real")]
    specimen_images: usize,
    /// 3-D specimen validation pairs.
    #[arg(long, default_value_t = 8, requires = "real")]
    specimen_val_images: usize,
    /// Side of the real-image pairs and 3-D specimens, pixels.
    #[arg(long, default_value_t = 256)]
    real_size: usize,
    /// Simulated training images (drawn once, patches are cut from them).
    #[arg(long, default_value_t = SimulatedTraining::default().images)]
    sim_images: usize,
    /// Simulated validation images (another seed).
    #[arg(long, default_value_t = SimulatedTraining::default().validation_images)]
    sim_val_images: usize,
    /// Side of the simulated images, pixels.
    #[arg(long, default_value_t = SimulatedTraining::default().params.width)]
    sim_size: usize,
    /// Seed of the simulated training images (validation uses seed + 1).
    #[arg(long, default_value_t = SimulatedTraining::default().seed)]
    sim_seed: u64,
    /// Numerical aperture range `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [
        SimulatedTraining::default().params.numerical_aperture.0,
        SimulatedTraining::default().params.numerical_aperture.1,
    ])]
    na: Vec<f64>,
    /// Emission wavelength range, nm, `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [
        SimulatedTraining::default().params.wavelength_nm.0,
        SimulatedTraining::default().params.wavelength_nm.1,
    ])]
    wavelength: Vec<f64>,
    /// Camera pixel sizes in the sample, nm, `A,B,...`: the simulated images are
    /// shared out among them evenly (each size's share has its own seeds: the
    /// `k`-th size adds `100 k` to both).
    #[arg(long, value_delimiter = ',', num_args = 1..,
          default_values_t = SimulatedTraining::default().pixel_sizes_nm)]
    pixel_size: Vec<f64>,
    /// Photons at the brightest pixel, `MIN,MAX` (drawn log-uniformly).
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [
        SimulatedTraining::default().params.peak_photons.0,
        SimulatedTraining::default().params.peak_photons.1,
    ])]
    photons: Vec<f64>,
    /// Background photons per pixel, `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [
        SimulatedTraining::default().params.background_photons.0,
        SimulatedTraining::default().params.background_photons.1,
    ])]
    background: Vec<f64>,
    /// Side of the square training patches (multiple of 4).
    #[arg(long, default_value_t = TrainConfig::default().patch_size)]
    patch: usize,
    /// Patches per step.
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    batch: usize,
    /// Total steps (a resumed run counts the earlier ones).
    #[arg(long, default_value_t = TrainConfig::default().max_steps)]
    steps: u64,
    /// Adam's learning rate (of the first step, with `--lr-final`).
    #[arg(long, default_value_t = TrainConfig::default().adam.learning_rate)]
    lr: f64,
    /// Decay the learning rate along a cosine from `--lr` to this at the last step.
    #[arg(long)]
    lr_final: Option<f64>,
    /// Minimise the mean over a batch of ln(sample loss + FLOOR) instead of the mean
    /// sample loss: each patch then counts by its relative error, as an image does in a
    /// mean PSNR, so bright, sharply restorable patches are not drowned out by noisy
    /// ones (FLOOR at least 0 keeps near-empty patches from taking over; 0.5 suits
    /// 256-pixel patches).
    #[arg(long, value_name = "FLOOR")]
    log_loss: Option<f64>,
    /// Seed of the patch draws and augmentation.
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    seed: u64,
    /// No random flips and rotations.
    #[arg(long)]
    no_flips: bool,
    /// No Gaussian noise augmentation.
    #[arg(long)]
    no_noise: bool,
    /// A progress line every N steps.
    #[arg(long, default_value_t = TrainConfig::default().log_every)]
    log_every: u64,
    /// Validate every N steps (0: never).
    #[arg(long, default_value_t = TrainConfig::default().validate_every)]
    validate_every: u64,
    /// Stop after this many validations without improvement (0: never).
    #[arg(long, default_value_t = TrainConfig::default().patience)]
    patience: usize,
    /// Save a checkpoint every N steps.
    #[arg(long, default_value_t = TrainConfig::default().checkpoint_every)]
    checkpoint_every: u64,
    /// Start from this model file (fine-tuning) instead of fresh weights; `default`
    /// starts from the bundled default model.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Seed of the fresh (Glorot-uniform) weights.
    #[arg(long, default_value_t = Initialization::DEFAULT_SEED)]
    init_seed: u64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = mrbcr::threads::EVERY_CORE)]
    threads: usize,
}

/// The simulated set the arguments describe.
pub fn simulated_training(args: &TrainArgs) -> SimulatedTraining {
    SimulatedTraining {
        params: SimulationParams {
            width: args.sim_size,
            height: args.sim_size,
            numerical_aperture: (args.na[0], args.na[1]),
            wavelength_nm: (args.wavelength[0], args.wavelength[1]),
            peak_photons: (args.photons[0], args.photons[1]),
            background_photons: (args.background[0], args.background[1]),
            ..SimulationParams::default()
        },
        pixel_sizes_nm: args.pixel_size.clone(),
        images: args.sim_images,
        validation_images: args.sim_val_images,
        seed: args.sim_seed,
    }
}

/// The user's TIFF pairs the arguments describe, if `--low` and `--high` are given.
pub fn tiff_training(args: &TrainArgs) -> Option<TiffTraining> {
    let (low, high) = (args.low.as_ref()?, args.high.as_ref()?);
    Some(TiffTraining {
        low: low.clone(),
        high: high.clone(),
        validation_fraction: args.val_fraction,
        truth_scaling: if args.same_units {
            TruthScaling::LikeInput
        } else {
            TruthScaling::OwnMinMax
        },
    })
}

/// The settings of the run the arguments describe.
pub fn train_config(args: &TrainArgs) -> TrainConfig {
    TrainConfig {
        patch_size: args.patch,
        batch_size: args.batch,
        max_steps: args.steps,
        final_learning_rate: args.lr_final,
        adam: AdamConfig {
            learning_rate: args.lr,
            ..AdamConfig::default()
        },
        batch_loss: match args.log_loss {
            None => BatchLoss::Mean,
            Some(floor) => BatchLoss::MeanLog { floor },
        },
        seed: args.seed,
        flips: !args.no_flips,
        noise: !args.no_noise,
        log_every: args.log_every,
        validate_every: args.validate_every,
        patience: args.patience,
        checkpoint_every: args.checkpoint_every,
        output_dir: args.output_dir.clone(),
    }
}

/// The training and validation data the arguments describe.
fn training_set(args: &TrainArgs) -> Result<TrainingSet> {
    if let Some(real_dir) = &args.real {
        let real_list = match &args.real_list {
            Some(path) => RealImageList::read(path),
            None => RealImageList::parse(TRAINING_LIST, "the bundled training list"),
        }?;
        eprintln!(
            "making {} training and {} validation pairs of {} x {} from {} real files in {}, \
             {} and {} 3-D specimens, and simulating {} training and {} validation images ...",
            args.real_images,
            args.real_val_images,
            args.real_size,
            args.real_size,
            real_list.entries.len(),
            real_dir.display(),
            args.specimen_images,
            args.specimen_val_images,
            args.sim_images,
            args.sim_val_images
        );
        return MixedTraining {
            real_dir: real_dir.clone(),
            real_list,
            real: RealPairSettings {
                size: args.real_size,
                out_of_focus_probability: args.real_out_of_focus,
                out_of_focus_brightness: (
                    args.real_out_of_focus_brightness[0],
                    args.real_out_of_focus_brightness[1],
                ),
                acquisition: AcquisitionRanges {
                    peak_photons: (args.real_photons[0], args.real_photons[1]),
                    ..AcquisitionRanges::default()
                },
                ..RealPairSettings::default()
            },
            real_images: args.real_images,
            real_validation_images: args.real_val_images,
            specimen: SpecimenSettings {
                height: args.real_size,
                width: args.real_size,
                ..SpecimenSettings::default()
            },
            specimen_images: args.specimen_images,
            specimen_validation_images: args.specimen_val_images,
            seed: args.real_seed,
            simulated: simulated_training(args),
            normalization: Normalization::DEFAULT_PERCENTILE,
        }
        .training_set(args.patch);
    }
    match tiff_training(args) {
        Some(tiff) => tiff.training_set(args.patch, args.validate_every > 0),
        None => {
            eprintln!(
                "simulating {} training and {} validation images of {} x {} ...",
                args.sim_images, args.sim_val_images, args.sim_size, args.sim_size
            );
            simulated_training(args).training_set(args.patch)
        }
    }
}

/// `mrbcr train`.
///
/// # Errors
/// The library's error: bad settings or data, unreadable or unwritable files.
pub fn run(args: &TrainArgs) -> Result<()> {
    mrbcr::threads::with_worker_pool(args.threads, |pool| pool.install(|| train_with(args)))?
}

/// `mrbcr train` on the current thread pool: making the data, then training.
fn train_with(args: &TrainArgs) -> Result<()> {
    let init = match &args.init {
        Some(path) if path.as_os_str() == "default" => Initialization::bundled(),
        Some(path) => Initialization::from_model_file(path)?,
        None => Initialization::fresh(args.init_seed),
    };
    let data = training_set(args)?;
    let config = train_config(args);
    eprintln!(
        "training on {} images ({} validation patches), batches of {} patches of {} x {}, up to {} steps, into {}",
        data.train.len(),
        data.validation.len(),
        config.batch_size,
        config.patch_size,
        config.patch_size,
        config.max_steps,
        config.output_dir.display()
    );
    let mut log = |p: &Progress| {
        let val = p
            .val_loss
            .map_or(String::new(), |v| format!("  val {v:.6}"));
        println!(
            "step {:>7}  train {:.6}{val}  {:.3} s/step",
            p.step, p.train_loss, p.seconds_per_step
        );
        let _ = std::io::stdout().flush();
        true
    };
    let outcome = train(&config, &data, &init, args.resume, &mut log)?;
    println!(
        "done after {} steps{}; best validation loss {:.6} at step {}; model: {}",
        outcome.steps,
        if outcome.stopped_early {
            " (early stop)"
        } else {
            ""
        },
        outcome.best_val_loss,
        outcome.best_step,
        outcome.model_path.display()
    );
    Ok(())
}
