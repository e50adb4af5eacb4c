//! Training's own failures are [`Error::Training`], not invalid input: a run that
//! diverges (a learning rate of 1e30), and a checkpoint that cannot be resumed (the
//! weights of another architecture, Adam moments of the wrong size, a run with other
//! settings). A new run over an existing checkpoint stays a usage error
//! ([`Error::InvalidInput`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{join_safetensors, split_safetensors};
use mrbcr::network::Weights;
use mrbcr::simulate::SimulationParams;
use mrbcr::train::checkpoint::{load_checkpoint, STATE_FILE, WEIGHTS_FILE};
use mrbcr::train::data::{grid_samples, simulated_pairs};
use mrbcr::train::{
    train, AdamConfig, BatchLoss, Initialization, InputScaling, TrainConfig, TrainingSet,
    TruthScaling,
};
use mrbcr::Error;

fn tiny_set() -> TrainingSet {
    let params = SimulationParams {
        width: 32,
        height: 32,
        psf_size: 31,
        oversampling: 2,
        ..SimulationParams::default()
    };
    let train = simulated_pairs(&params, 5, 2).unwrap();
    let validation = grid_samples(
        &simulated_pairs(&params, 6, 1).unwrap(),
        16,
        TruthScaling::LikeInput,
        InputScaling::PerPatchMinMax,
    );
    TrainingSet {
        train,
        validation,
        description: BTreeMap::from([("source".to_string(), "tiny simulated".to_string())]),
        truth_scaling: TruthScaling::LikeInput,
        input_scaling: InputScaling::PerPatchMinMax,
    }
}

fn config(dir: &Path, steps: u64, learning_rate: f64) -> TrainConfig {
    TrainConfig {
        patch_size: 16,
        batch_size: 2,
        max_steps: steps,
        adam: AdamConfig {
            learning_rate,
            ..AdamConfig::default()
        },
        final_learning_rate: None,
        batch_loss: BatchLoss::Mean,
        seed: 3,
        flips: false,
        noise: false,
        log_every: 1,
        validate_every: 0,
        patience: 0,
        checkpoint_every: 1,
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

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mrbcr-train-errors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The message of an [`Error::Training`], or a panic naming what came instead.
#[track_caller]
fn training_message<T: std::fmt::Debug>(result: mrbcr::Result<T>) -> String {
    match result {
        Err(e @ Error::Training(_)) => e.to_string(),
        other => panic!("expected Error::Training, got {other:?}"),
    }
}

/// A checkpoint of two steps in a fresh directory `name`.
fn checkpoint_dir(data: &TrainingSet, name: &str) -> PathBuf {
    let dir = temp_dir(name);
    train(&config(&dir, 2, 1e-3), data, &init(), false, &mut |_| true).unwrap();
    assert!(dir.join(WEIGHTS_FILE).exists() && dir.join(STATE_FILE).exists());
    dir
}

/// Rewrites the safetensors file at `path` with `change` applied to its tensors.
fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<crate::common::RawTensor>)) {
    let (mut tensors, meta) = split_safetensors(&std::fs::read(path).unwrap());
    change(&mut tensors);
    std::fs::write(path, join_safetensors(&tensors, Some(meta))).unwrap();
}

#[test]
fn a_learning_rate_of_1e30_diverges_with_a_training_error() {
    let data = tiny_set();
    let dir = temp_dir("diverges");
    let result = train(&config(&dir, 5, 1e30), &data, &init(), false, &mut |_| true);
    let message = training_message(result);
    assert!(
        message.starts_with("training failed: the run diverged") && message.contains("step"),
        "{message}"
    );
    assert!(
        !dir.join("model.safetensors").exists(),
        "no model from a diverged run"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_checkpoint_with_the_weights_of_another_architecture_is_a_training_error() {
    let data = tiny_set();
    let dir = checkpoint_dir(&data, "architecture");
    // A head with 16 input channels instead of 32: a network m-rBCR is not.
    rewrite(&dir.join(WEIGHTS_FILE), |tensors| {
        let head = tensors
            .iter_mut()
            .find(|t| t.name == "forward.head_y4.kernel")
            .unwrap();
        assert_eq!(head.shape, [1, 1, 32, 1]);
        head.shape = vec![1, 1, 16, 1];
        head.bytes.truncate(16 * 4);
    });
    let message = training_message(load_checkpoint(&dir));
    assert!(
        message.contains(WEIGHTS_FILE)
            && message.contains("not a valid training checkpoint")
            && message.contains("forward.head_y4.kernel"),
        "{message}"
    );
    let resumed = train(&config(&dir, 4, 1e-3), &data, &init(), true, &mut |_| true);
    assert_eq!(training_message(resumed), message);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn adam_moments_of_the_wrong_size_are_a_training_error() {
    let data = tiny_set();
    let dir = checkpoint_dir(&data, "moments");
    rewrite(&dir.join(STATE_FILE), |tensors| {
        let moment = tensors
            .iter_mut()
            .find(|t| t.name == "adam.v.forward.head_y4.kernel")
            .unwrap();
        moment.shape = vec![16];
        moment.bytes.truncate(16 * 4);
    });
    let message = training_message(load_checkpoint(&dir));
    assert!(
        message.contains(STATE_FILE)
            && message.contains("'adam.v.forward.head_y4.kernel' has the wrong size"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resuming_with_other_settings_is_a_training_error_and_a_new_run_over_a_checkpoint_invalid_input()
{
    let data = tiny_set();
    let dir = checkpoint_dir(&data, "settings");
    let mut other = config(&dir, 4, 1e-3);
    other.seed = 4;
    let message = training_message(train(&other, &data, &init(), true, &mut |_| true));
    assert!(message.contains("a run with other settings"), "{message}");
    let again = train(&config(&dir, 4, 1e-3), &data, &init(), false, &mut |_| true);
    assert!(
        matches!(&again, Err(Error::InvalidInput(m)) if m.contains("already holds a training checkpoint")),
        "{again:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_negative_log_loss_floor_is_invalid_input_and_another_batch_loss_does_not_resume() {
    let data = tiny_set();
    let dir = checkpoint_dir(&data, "batch-loss");
    let mut negative = config(&dir, 4, 1e-3);
    negative.batch_loss = BatchLoss::MeanLog { floor: -0.5 };
    let result = train(&negative, &data, &init(), true, &mut |_| true);
    assert!(
        matches!(&result, Err(Error::InvalidInput(m)) if m.contains("floor of the logarithmic batch loss") && m.contains("-0.5")),
        "{result:?}"
    );
    let mut log = config(&dir, 4, 1e-3);
    log.batch_loss = BatchLoss::MeanLog { floor: 0.5 };
    let message = training_message(train(&log, &data, &init(), true, &mut |_| true));
    assert!(
        message.contains("a run with other settings") && message.contains("ln(sample loss + 0.5)"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
