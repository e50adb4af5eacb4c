//! Resumable training checkpoints, in a directory:
//!
//! - `checkpoint.safetensors`: the current weights, an ordinary model file (usable for
//!   inference as it is), its metadata recording `train.step`;
//! - `checkpoint.state.safetensors`: the sidecar with Adam's moments (tensors
//!   `adam.m.<name>` and `adam.v.<name>`, float32) and, as metadata, the step, Adam's
//!   hyper-parameters, the early-stopping record and the fingerprint of the run's
//!   settings (a resumed run must have the same).
//!
//! The random numbers of step `k` are drawn from a generator seeded by `(seed, k)`,
//! so the step count is the whole random state. The sidecar is written before the
//! weights, each file atomically (temporary file, then rename); a resume checks that
//! both name the same step.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use super::adam::{Adam, AdamConfig};
use crate::error::{Error, Result};
use crate::formats::atomic_write::write_bytes_atomically;
use crate::formats::model_file::{load_model, save_model, ModelMetadata};
use crate::network::Weights;

/// File name of the checkpoint's weights.
pub const WEIGHTS_FILE: &str = "checkpoint.safetensors";
/// File name of the checkpoint's optimiser and loop state.
pub const STATE_FILE: &str = "checkpoint.state.safetensors";
/// Metadata key of the step in the weights file.
const STEP_KEY: &str = "train.step";

/// Everything a run needs to continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    /// The current weights.
    pub weights: Weights,
    /// The optimiser; `adam.step` is the number of steps done.
    pub adam: Adam,
    /// Lowest validation loss so far (infinite before the first validation).
    pub best_val_loss: f64,
    /// Step of that validation.
    pub best_step: u64,
    /// Validations since the best one.
    pub stale_validations: usize,
    /// The run's settings, as text; a resume must match it.
    pub fingerprint: String,
}

/// An [`Error::Training`] saying that `path` is not a usable checkpoint, and why.
fn state_error(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Training(format!(
        "{} is not a valid training checkpoint: {what}",
        path.display()
    ))
}

/// Saves `state` into `dir` (created if needed); `metadata` describes the weights.
///
/// # Errors
/// [`Error::Io`] if a file cannot be written; model-file errors of [`save_model`].
pub fn save_checkpoint(dir: &Path, state: &TrainState, metadata: &ModelMetadata) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let names: Vec<&String> = state.weights.tensors().keys().collect();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (prefix, moments) in [("adam.m.", &state.adam.m), ("adam.v.", &state.adam.v)] {
        for (name, values) in names.iter().zip(moments.iter()) {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            tensors.push((format!("{prefix}{name}"), vec![values.len()], bytes));
        }
    }
    let views = tensors
        .iter()
        .map(|(n, shape, b)| TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (n.as_str(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Internal(format!("encoding the optimiser state: {e}")))?;
    let c = state.adam.config;
    let meta: HashMap<String, String> = [
        ("step", state.adam.step.to_string()),
        ("adam.learning_rate", c.learning_rate.to_string()),
        ("adam.beta1", c.beta1.to_string()),
        ("adam.beta2", c.beta2.to_string()),
        ("adam.epsilon", c.epsilon.to_string()),
        ("best_val_loss", state.best_val_loss.to_string()),
        ("best_step", state.best_step.to_string()),
        ("stale_validations", state.stale_validations.to_string()),
        ("fingerprint", state.fingerprint.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::Internal(format!("encoding the optimiser state: {e}")))?;
    write_bytes_atomically(&dir.join(STATE_FILE), &bytes)?;
    let mut metadata = metadata.clone();
    metadata
        .extra
        .insert(STEP_KEY.into(), state.adam.step.to_string());
    save_model(&dir.join(WEIGHTS_FILE), &state.weights, &metadata)
}

/// Loads the checkpoint of `dir`, or `None` if it has none.
///
/// # Errors
/// [`Error::Io`] if a file cannot be read; [`Error::Training`] if the files are not a
/// consistent checkpoint of this network (weights of another architecture or a
/// damaged weights file, unreadable values, moments of the wrong size, different
/// steps).
pub fn load_checkpoint(dir: &Path) -> Result<Option<TrainState>> {
    let (state_path, weights_path) = (dir.join(STATE_FILE), dir.join(WEIGHTS_FILE));
    if !state_path.exists() && !weights_path.exists() {
        return Ok(None);
    }
    let (weights, model_meta) = load_model(&weights_path).map_err(|e| match e {
        Error::ModelFile { .. } => state_error(&weights_path, e),
        other => other,
    })?;
    let bytes = std::fs::read(&state_path).map_err(|e| Error::io(&state_path, e))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| state_error(&state_path, e))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| state_error(&state_path, e))?;
    let meta: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    let get = |key: &str| {
        meta.get(key)
            .ok_or_else(|| state_error(&state_path, format!("no '{key}'")))
    };
    let number = |key: &str| -> Result<f64> {
        get(key)?
            .parse::<f64>()
            .map_err(|e| state_error(&state_path, format!("'{key}': {e}")))
    };
    let integer = |key: &str| -> Result<u64> {
        get(key)?
            .parse::<u64>()
            .map_err(|e| state_error(&state_path, format!("'{key}': {e}")))
    };
    let step = integer("step")?;
    let weights_step = model_meta
        .extra
        .get(STEP_KEY)
        .and_then(|s| s.parse::<u64>().ok());
    if weights_step != Some(step) {
        return Err(state_error(
            &state_path,
            format!(
                "it is at step {step} but {} is at step {weights_step:?} (interrupted while saving? restore both files from the same save)",
                weights_path.display()
            ),
        ));
    }
    let moments = |prefix: &str| -> Result<Vec<Vec<f32>>> {
        weights
            .tensors()
            .iter()
            .map(|(name, t)| {
                let key = format!("{prefix}{name}");
                let view = file
                    .tensor(&key)
                    .map_err(|_| state_error(&state_path, format!("no tensor '{key}'")))?;
                if view.dtype() != Dtype::F32 || view.data().len() != 4 * t.data.len() {
                    return Err(state_error(
                        &state_path,
                        format!("'{key}' has the wrong size"),
                    ));
                }
                Ok(view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect())
            })
            .collect()
    };
    let adam = Adam {
        config: AdamConfig {
            learning_rate: number("adam.learning_rate")?,
            beta1: number("adam.beta1")?,
            beta2: number("adam.beta2")?,
            epsilon: number("adam.epsilon")?,
        },
        step,
        m: moments("adam.m.")?,
        v: moments("adam.v.")?,
    };
    Ok(Some(TrainState {
        weights,
        adam,
        best_val_loss: number("best_val_loss")?,
        best_step: integer("best_step")?,
        stale_validations: integer("stale_validations")? as usize,
        fingerprint: get("fingerprint")?.clone(),
    }))
}
