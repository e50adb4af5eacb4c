//! `mrbcr train`: train m-rBCR on simulated widefield pairs or on the user's own TIFF
//! pairs, from scratch or from a model file, resumably.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use mrbcr::formats::model_file::load_model;
use mrbcr::network::Weights;
use mrbcr::simulate::SimulationParams;
use mrbcr::train::data::{grid_samples, simulated_pairs, tiff_pairs, ImagePair};
use mrbcr::train::{train, AdamConfig, Initialization, Progress, TrainConfig, TrainingSet};

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
    /// Share of the TIFF pairs held out for validation (the last ones).
    #[arg(long, default_value_t = 0.1)]
    val_fraction: f64,
    /// Simulated training images (drawn once, patches are cut from them).
    #[arg(long, default_value_t = 192)]
    sim_images: usize,
    /// Simulated validation images (another seed).
    #[arg(long, default_value_t = 8)]
    sim_val_images: usize,
    /// Side of the simulated images, pixels.
    #[arg(long, default_value_t = 256)]
    sim_size: usize,
    /// Seed of the simulated training images (validation uses seed + 1).
    #[arg(long, default_value_t = 1000)]
    sim_seed: u64,
    /// Numerical aperture range `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [1.1, 1.4])]
    na: Vec<f64>,
    /// Emission wavelength range, nm, `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [500.0, 620.0])]
    wavelength: Vec<f64>,
    /// Camera pixel size in the sample, nm.
    #[arg(long, default_value_t = 65.0)]
    pixel_size: f64,
    /// Photons at the brightest pixel, `MIN,MAX` (drawn log-uniformly).
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [10.0, 5000.0])]
    photons: Vec<f64>,
    /// Background photons per pixel, `MIN,MAX`.
    #[arg(long, value_delimiter = ',', num_args = 2, default_values_t = [0.0, 20.0])]
    background: Vec<f64>,
    /// Side of the square training patches (multiple of 4).
    #[arg(long, default_value_t = 128)]
    patch: usize,
    /// Patches per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Total steps (a resumed run counts the earlier ones).
    #[arg(long, default_value_t = 10_000)]
    steps: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the patch draws and augmentation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// No random flips and rotations.
    #[arg(long)]
    no_flips: bool,
    /// No Gaussian noise augmentation.
    #[arg(long)]
    no_noise: bool,
    /// A progress line every N steps.
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Validate every N steps (0: never).
    #[arg(long, default_value_t = 200)]
    validate_every: u64,
    /// Stop after this many validations without improvement (0: never).
    #[arg(long, default_value_t = 10)]
    patience: usize,
    /// Save a checkpoint every N steps.
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Start from this model file (fine-tuning) instead of fresh weights.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Seed of the fresh (Glorot-uniform) weights.
    #[arg(long, default_value_t = 1)]
    init_seed: u64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// The simulator's settings from the arguments, for images of `size`.
fn simulation_params(args: &TrainArgs) -> SimulationParams {
    SimulationParams {
        width: args.sim_size,
        height: args.sim_size,
        pixel_size_nm: args.pixel_size,
        numerical_aperture: (args.na[0], args.na[1]),
        wavelength_nm: (args.wavelength[0], args.wavelength[1]),
        peak_photons: (args.photons[0], args.photons[1]),
        background_photons: (args.background[0], args.background[1]),
        ..SimulationParams::default()
    }
}

/// The training and validation data the arguments describe.
fn training_set(args: &TrainArgs) -> Result<TrainingSet, String> {
    let mut description = BTreeMap::new();
    let (train, validation): (Vec<ImagePair>, Vec<ImagePair>) = match (&args.low, &args.high) {
        (Some(low), Some(high)) => {
            let mut pairs = tiff_pairs(low, high).map_err(|e| e.to_string())?;
            let held = ((pairs.len() as f64 * args.val_fraction).round() as usize).max(1);
            if args.validate_every > 0 && pairs.len() < 2 {
                return Err("validation needs at least 2 image pairs (one is held out); or pass --validate-every 0".into());
            }
            let held = if args.validate_every > 0 {
                held.min(pairs.len() - 1)
            } else {
                0
            };
            let val = pairs.split_off(pairs.len() - held);
            description.insert("source".into(), "tiff pairs".into());
            description.insert("low".into(), low.display().to_string());
            description.insert("high".into(), high.display().to_string());
            description.insert(
                "pairs".into(),
                format!("{} training, {} validation", pairs.len(), val.len()),
            );
            (pairs, val)
        }
        _ => {
            let params = simulation_params(args);
            eprintln!(
                "simulating {} training and {} validation images of {} x {} ...",
                args.sim_images, args.sim_val_images, args.sim_size, args.sim_size
            );
            let train = simulated_pairs(&params, args.sim_seed, args.sim_images)
                .map_err(|e| e.to_string())?;
            let val = simulated_pairs(&params, args.sim_seed + 1, args.sim_val_images)
                .map_err(|e| e.to_string())?;
            for (k, v) in [
                (
                    "source",
                    "mrbcr simulator (widefield, Born-Wolf PSF, Poisson + camera noise)"
                        .to_string(),
                ),
                (
                    "images",
                    format!(
                        "{} of {} x {}, seed {}",
                        args.sim_images, args.sim_size, args.sim_size, args.sim_seed
                    ),
                ),
                (
                    "validation_images",
                    format!("{}, seed {}", args.sim_val_images, args.sim_seed + 1),
                ),
                (
                    "numerical_aperture",
                    format!("{:?}", params.numerical_aperture),
                ),
                ("wavelength_nm", format!("{:?}", params.wavelength_nm)),
                ("pixel_size_nm", params.pixel_size_nm.to_string()),
                (
                    "peak_photons",
                    format!("{:?} log-uniform", params.peak_photons),
                ),
                (
                    "background_photons",
                    format!("{:?}", params.background_photons),
                ),
                (
                    "out_of_focus_layers",
                    params.out_of_focus_layers.to_string(),
                ),
            ] {
                description.insert(k.to_string(), v);
            }
            (train, val)
        }
    };
    Ok(TrainingSet {
        validation: grid_samples(&validation, args.patch),
        train,
        description,
    })
}

/// `mrbcr train`.
///
/// # Errors
/// A message for the user: bad settings or data, unreadable or unwritable files.
pub fn run(args: &TrainArgs) -> Result<(), String> {
    if args.threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global()
            .map_err(|e| e.to_string())?;
    }
    let init = match &args.init {
        Some(path) => Initialization {
            weights: load_model(path).map_err(|e| e.to_string())?.0,
            description: format!("model file {}", path.display()),
        },
        None => Initialization {
            weights: Weights::initialize(args.init_seed),
            description: format!(
                "Glorot-uniform weights, zero biases, seed {}",
                args.init_seed
            ),
        },
    };
    let data = training_set(args)?;
    let config = TrainConfig {
        patch_size: args.patch,
        batch_size: args.batch,
        max_steps: args.steps,
        adam: AdamConfig {
            learning_rate: args.lr,
            ..AdamConfig::default()
        },
        seed: args.seed,
        flips: !args.no_flips,
        noise: !args.no_noise,
        log_every: args.log_every,
        validate_every: args.validate_every,
        patience: args.patience,
        checkpoint_every: args.checkpoint_every,
        output_dir: args.output_dir.clone(),
    };
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
    };
    let outcome = train(&config, &data, &init, args.resume, &mut log).map_err(|e| e.to_string())?;
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
