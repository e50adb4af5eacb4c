//! The training loop end to end on tiny simulated patches: the loss goes down, and a
//! run stopped halfway (at its end, or cancelled by its progress callback) and resumed
//! from its checkpoint ends bit-identical to an uninterrupted one.

use std::collections::BTreeMap;
use std::path::Path;

use mrbcr::network::Weights;
use mrbcr::simulate::SimulationParams;
use mrbcr::train::checkpoint::load_checkpoint;
use mrbcr::train::data::{grid_samples, simulated_pairs};
use mrbcr::train::trainer::validation_loss;
use mrbcr::train::{
    train, train_step, Adam, AdamConfig, BatchLoss, Initialization, InputScaling, TrainConfig,
    TrainingSet, TruthScaling,
};
use mrbcr::Error;

fn tiny_set() -> TrainingSet {
    let params = SimulationParams {
        width: 48,
        height: 48,
        psf_size: 31,
        oversampling: 2,
        ..SimulationParams::default()
    };
    let train = simulated_pairs(&params, 5, 4).unwrap();
    let validation = grid_samples(
        &simulated_pairs(&params, 6, 1).unwrap(),
        16,
        TruthScaling::LikeInput,
        InputScaling::PerPatchMinMax,
    );
    let description = BTreeMap::from([("source".to_string(), "tiny simulated".to_string())]);
    TrainingSet {
        train,
        validation,
        description,
        truth_scaling: TruthScaling::LikeInput,
        input_scaling: InputScaling::PerPatchMinMax,
    }
}

fn config(dir: &Path, steps: u64) -> TrainConfig {
    TrainConfig {
        patch_size: 16,
        batch_size: 3,
        max_steps: steps,
        adam: AdamConfig::default(),
        final_learning_rate: None,
        batch_loss: BatchLoss::Mean,
        seed: 9,
        flips: true,
        noise: true,
        log_every: 1,
        validate_every: 2,
        patience: 0,
        checkpoint_every: 2,
        output_dir: dir.to_path_buf(),
    }
}

fn init() -> Initialization {
    Initialization {
        weights: Weights::initialize(4),
        description: "test".into(),
        license: String::new(),
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mrbcr-train-smoke-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn steps_on_a_fixed_batch_lower_its_loss() {
    let data = tiny_set();
    let batch = &data.validation[..3];
    let mut weights = init().weights;
    let mut adam = Adam::new(AdamConfig::default(), &weights);
    let losses: Vec<f64> = (0..40)
        .map(|_| train_step(&mut weights, &mut adam, batch, BatchLoss::Mean).unwrap())
        .collect();
    let after = validation_loss(&weights, batch, BatchLoss::Mean).unwrap();
    assert!(
        after < 0.8 * losses[0],
        "loss {} -> {after} ({losses:?})",
        losses[0]
    );
}

#[test]
fn the_training_loop_lowers_the_validation_loss() {
    let data = tiny_set();
    let dir = temp_dir("loss");
    let before = validation_loss(&init().weights, &data.validation, BatchLoss::Mean).unwrap();
    let mut lines = Vec::new();
    let outcome = train(&config(&dir, 12), &data, &init(), false, &mut |p| {
        lines.push(p.clone());
        true
    })
    .unwrap();
    assert_eq!(outcome.steps, 12);
    assert_eq!(lines.len(), 12);
    assert_eq!(lines.iter().filter(|p| p.val_loss.is_some()).count(), 6);
    assert!(
        outcome.best_val_loss < before,
        "validation loss {before} -> {}",
        outcome.best_val_loss
    );
    assert!(dir.join("model.safetensors").exists() && dir.join("best.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_resumed_run_continues_bit_identically() {
    let data = tiny_set();
    let (straight, halves) = (temp_dir("straight"), temp_dir("halves"));
    train(&config(&straight, 8), &data, &init(), false, &mut |_| true).unwrap();
    train(&config(&halves, 4), &data, &init(), false, &mut |_| true).unwrap();
    // Without `resume`, an existing checkpoint is refused.
    assert!(train(&config(&halves, 8), &data, &init(), false, &mut |_| true).is_err());
    // The resumed run must not use its initial weights: give it others.
    let other = Initialization {
        weights: Weights::initialize(99),
        description: "test".into(),
        license: String::new(),
    };
    train(&config(&halves, 8), &data, &other, true, &mut |_| true).unwrap();
    let a = load_checkpoint(&straight).unwrap().unwrap();
    let b = load_checkpoint(&halves).unwrap().unwrap();
    assert_eq!(a.adam.step, 8);
    assert_eq!(a, b);
    let model = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert_eq!(model(&straight), model(&halves));
    // Other settings are refused on resume.
    let mut changed = config(&halves, 10);
    changed.seed = 10;
    assert!(train(&changed, &data, &init(), true, &mut |_| true).is_err());
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&halves);
}

#[test]
fn a_cancelled_run_keeps_its_checkpoint_and_resumes_bit_identically() {
    let data = tiny_set();
    let (straight, cancelled) = (temp_dir("uncancelled"), temp_dir("cancelled"));
    train(&config(&straight, 8), &data, &init(), false, &mut |_| true).unwrap();
    // Stop at step 3: not a checkpoint step (every 2), so the cancel saves its own.
    let mut seen = Vec::new();
    let result = train(&config(&cancelled, 8), &data, &init(), false, &mut |p| {
        seen.push(p.step);
        p.step < 3
    });
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!(load_checkpoint(&cancelled).unwrap().unwrap().adam.step, 3);
    assert!(!cancelled.join("model.safetensors").exists());
    // The run goes on from step 4, with other initial weights that it must not use.
    let other = Initialization {
        weights: Weights::initialize(99),
        description: "test".into(),
        license: String::new(),
    };
    let mut resumed = Vec::new();
    train(&config(&cancelled, 8), &data, &other, true, &mut |p| {
        resumed.push(p.step);
        true
    })
    .unwrap();
    assert_eq!(resumed, (4..=8).collect::<Vec<u64>>());
    let a = load_checkpoint(&straight).unwrap().unwrap();
    let b = load_checkpoint(&cancelled).unwrap().unwrap();
    assert_eq!(a, b);
    let model = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert_eq!(model(&straight), model(&cancelled));
    let _ = std::fs::remove_dir_all(&straight);
    let _ = std::fs::remove_dir_all(&cancelled);
}
