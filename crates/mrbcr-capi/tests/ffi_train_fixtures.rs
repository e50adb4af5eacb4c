//! Training through the C ABI against the Rust API.
//!
//! `write_train_fixtures` (ignored; run by .ci/run with `MRBCR_FFI_FIXTURES=<dir>`)
//! trains the tiny run that tests/c/test_train.c repeats through the ABI and writes
//! its model file (`reference.safetensors`), which the C test requires byte for byte;
//! it writes the TIFF pairs the C test trains on or must refuse, and the core's
//! training defaults (`defaults.txt`), which the C getters and Python's
//! `training_defaults()` must give. The settings below and those of test_train.c are
//! one run: change both or neither.

use std::path::PathBuf;

use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::simulate::SimulationParams;
use mrbcr::train::{
    train, AdamConfig, BatchLoss, Initialization, SimulatedTraining, TiffTraining, TrainConfig,
    TrainingSet,
};
use mrbcr::{ImageStack, Pixels};

/// The simulated data of the C test's run (`mrbcr_simulation_params_new` with these
/// three changes; pixel sizes 60 and 70 nm, 4 + 1 images, seed 5).
fn simulated_data() -> TrainingSet {
    SimulatedTraining {
        params: SimulationParams {
            width: 48,
            height: 48,
            psf_size: 31,
            oversampling: 2,
            ..SimulationParams::default()
        },
        pixel_sizes_nm: vec![60.0, 70.0],
        images: 4,
        validation_images: 1,
        seed: 5,
    }
    .training_set(16)
    .unwrap()
}

/// The C test's training options.
fn config(output_dir: PathBuf) -> TrainConfig {
    TrainConfig {
        patch_size: 16,
        batch_size: 3,
        max_steps: 12,
        adam: AdamConfig {
            learning_rate: 2e-3,
            ..AdamConfig::default()
        },
        final_learning_rate: Some(1e-4),
        batch_loss: BatchLoss::Mean,
        seed: 9,
        flips: true,
        noise: true,
        log_every: 4,
        validate_every: 4,
        patience: 0,
        checkpoint_every: 4,
        output_dir,
    }
}

/// The core's training defaults as `name value` lines, in the C getters' terms (a
/// constant learning rate is a final rate of 0; booleans are 0 or 1; 0 threads is
/// every core).
fn defaults_text() -> String {
    let c = TrainConfig::default();
    let t = SimulatedTraining::default();
    let lines = [
        ("patch_size", c.patch_size.to_string()),
        ("batch_size", c.batch_size.to_string()),
        ("steps", c.max_steps.to_string()),
        ("learning_rate", c.adam.learning_rate.to_string()),
        (
            "final_learning_rate",
            c.final_learning_rate.unwrap_or(0.0).to_string(),
        ),
        ("seed", c.seed.to_string()),
        ("flips", u8::from(c.flips).to_string()),
        ("noise", u8::from(c.noise).to_string()),
        (
            "log_loss",
            u8::from(matches!(c.batch_loss, BatchLoss::MeanLog { .. })).to_string(),
        ),
        (
            "log_loss_floor",
            match c.batch_loss {
                BatchLoss::Mean => 0.0,
                BatchLoss::MeanLog { floor } => floor,
            }
            .to_string(),
        ),
        ("validate_every", c.validate_every.to_string()),
        ("patience", c.patience.to_string()),
        ("log_every", c.log_every.to_string()),
        ("checkpoint_every", c.checkpoint_every.to_string()),
        ("resume", "0".to_string()),
        ("threads", mrbcr::threads::EVERY_CORE.to_string()),
        ("init_seed", Initialization::DEFAULT_SEED.to_string()),
        ("images", t.images.to_string()),
        ("validation_images", t.validation_images.to_string()),
        ("data_seed", t.seed.to_string()),
        (
            "validation_fraction",
            TiffTraining::DEFAULT_VALIDATION_FRACTION.to_string(),
        ),
    ];
    lines.iter().map(|(k, v)| format!("{k} {v}\n")).collect()
}

/// A stack of `planes` planes of `side` x `side` 16-bit pixels, a pattern of `seed`.
fn stack(side: usize, planes: usize, seed: usize) -> ImageStack {
    let pixels = (0..planes * side * side)
        .map(|i| ((i * 37 + seed * 101) % 4000) as u16 + 100)
        .collect();
    ImageStack::new(side, side, planes, Pixels::U16(pixels)).unwrap()
}

#[test]
#[ignore = "writes the fixtures of the C training test into $MRBCR_FFI_FIXTURES; run by .ci/run"]
fn write_train_fixtures() {
    let dir = PathBuf::from(
        std::env::var_os("MRBCR_FFI_FIXTURES")
            .expect("set MRBCR_FFI_FIXTURES to the directory to write the fixtures into"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let run_dir = dir.join("rust-run");
    let _ = std::fs::remove_dir_all(&run_dir);
    let outcome = train(
        &config(run_dir.clone()),
        &simulated_data(),
        &Initialization::fresh(1),
        false,
        &mut |_| true,
    )
    .unwrap();
    std::fs::copy(&outcome.model_path, dir.join("reference.safetensors")).unwrap();
    std::fs::remove_dir_all(&run_dir).unwrap();
    let metadata = TiffMetadata::default();
    write_tiff(&dir.join("low.tif"), &stack(32, 3, 1), &metadata).unwrap();
    write_tiff(&dir.join("high.tif"), &stack(32, 3, 2), &metadata).unwrap();
    write_tiff(&dir.join("high-short.tif"), &stack(32, 2, 3), &metadata).unwrap();
    std::fs::write(dir.join("defaults.txt"), defaults_text()).unwrap();
}
