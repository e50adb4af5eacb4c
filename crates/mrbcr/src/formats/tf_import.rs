//! Import of the authors' TensorFlow checkpoint (`ckpt-N.index` + `.data-*`) into
//! [`Weights`]: maps the checkpoint's keys to the project's tensor names (see
//! `reference/MODEL.md`, "The checkpoint's keys") and checks every tensor.
//!
//! Keys are `model/layer_with_weights-A/layer_with_weights-N/{kernel,bias}/.ATTRIBUTES/VARIABLE_VALUE`,
//! with one more level for the fusion blocks
//! (`.../layer_with_weights-N/conv/layer_with_weights-{0,1}/...`, 0 the 1x1, 1 the 3x3).
//! A = 0 is the forward stage:
//!
//! | N | layer |
//! |---|---|
//! | 3(k-1) + 0, 1, 2, k = 1..12 | dense k of MLP_2, MLP_4, MLP_0 |
//! | 36 | FA |
//! | 37, 38, 39 | heads of y0, y2, y4 |
//!
//! A = 1 the inverse stage:
//!
//! | N | layer |
//! |---|---|
//! | 0-5, 6-33 | P_4: conv1d 1-6, then RDBs 1-4 (a1, b1, a2, b2, a3, b3, fuse each) |
//! | 34 | FB |
//! | 35-40, 41-68 | P_2, likewise |
//! | 69-74, 75-102 | P_0, likewise |
//! | 103, 104, 105 | heads of z0, z2, z4 |
//!
//! The mapping is built from [`crate::network::spec`]'s layer lists, so the two cannot
//! drift apart. Keys outside `model/` (the bundle header, `_CHECKPOINTABLE_OBJECT_GRAPH`,
//! `save_counter`, `optimizer/...`) and optimizer slots (`.../.OPTIMIZER_SLOT/...`) are
//! ignored. Any other float tensor under `model/` is refused
//! ([`CheckpointProblem::UnexpectedKey`]), so that a checkpoint of another network or
//! variant is not silently half-loaded.
//!
//! DeBCR (the same group's later package, github.com/DeBCR/DeBCR and
//! leeroyhannover/DeBCR) saves its m-rBCR with the same `tf.train.Checkpoint(model=...)`
//! under TensorFlow 2.11 (Keras 2), so its checkpoints have exactly these keys and
//! shapes; it ships them as a folder per task (`weights/<task>/ckpt-best.*` beside a
//! `checkpoint` file that may name an older step), which
//! [`resolve_checkpoint_prefix`] accepts.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::model_file::ModelMetadata;
use super::tf_bundle::{DataType, TfBundle};
use crate::error::{CheckpointProblem, Error, Result};
use crate::network::spec::{self, LayerSpec};
use crate::network::weights::{Tensor, Weights};

/// Licence recorded when there is no `LICENSE` file next to the checkpoint.
pub const UNKNOWN_LICENSE: &str = "unknown (see the checkpoint's source)";

/// One tensor of the mapping: the checkpoint's key, the project's name, and the shape
/// the project needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMapping {
    /// The key in the tensor bundle.
    pub tf_key: String,
    /// The project's name ([`crate::network::spec`]).
    pub name: String,
    /// The project's shape for it.
    pub shape: Vec<usize>,
}

/// Prefix of layer `n` of stage `a` (`model/layer_with_weights-a/layer_with_weights-n`).
fn layer_key(a: usize, n: usize) -> String {
    format!("model/layer_with_weights-{a}/layer_with_weights-{n}")
}

/// The checkpoint keys of every layer: (key prefix, layer).
fn layer_keys() -> Vec<(String, LayerSpec)> {
    let mut out = Vec::new();
    // Forward stage: dense k of MLP_2, MLP_4, MLP_0 interleaved.
    let mlps: Vec<Vec<LayerSpec>> = [2, 4, 0].iter().map(|&s| spec::mlp_layers(s)).collect();
    for k in 0..spec::MLP_LAYERS {
        for (j, mlp) in mlps.iter().enumerate() {
            out.push((layer_key(0, 3 * k + j), mlp[k].clone()));
        }
    }
    let fusion = |a, n, layers: [LayerSpec; 2]| {
        layers.into_iter().enumerate().map(move |(i, l)| {
            (
                format!("{}/conv/layer_with_weights-{i}", layer_key(a, n)),
                l,
            )
        })
    };
    let next = 3 * spec::MLP_LAYERS;
    out.extend(fusion(0, next, spec::fusion_a_layers()));
    for (i, s) in [0, 2, 4].into_iter().enumerate() {
        out.push((layer_key(0, next + 1 + i), spec::head_y_layer(s)));
    }
    // Inverse stage: P_4, FB, P_2, P_0, heads z0, z2, z4.
    let mut n = 0;
    for s in [4, 2, 0] {
        let mut layers = spec::conv1d_layers(s);
        for r in 1..=spec::RDB_BLOCKS {
            layers.extend(spec::rdb_layers(s, r));
        }
        for l in layers {
            out.push((layer_key(1, n), l));
            n += 1;
        }
        if s == 4 {
            out.extend(fusion(1, n, spec::fusion_b_layers()));
            n += 1;
        }
    }
    for s in [0, 2, 4] {
        out.push((layer_key(1, n), spec::head_z_layer(s)));
        n += 1;
    }
    out
}

/// The full mapping from checkpoint keys to the project's tensors, in the order of
/// the checkpoint's layers (kernel, then bias).
pub fn checkpoint_mapping() -> Vec<KeyMapping> {
    const SUFFIX: &str = ".ATTRIBUTES/VARIABLE_VALUE";
    layer_keys()
        .into_iter()
        .flat_map(|(prefix, l)| {
            [
                KeyMapping {
                    tf_key: format!("{prefix}/kernel/{SUFFIX}"),
                    name: l.kernel_name(),
                    shape: l.kernel_shape.clone(),
                },
                KeyMapping {
                    tf_key: format!("{prefix}/bias/{SUFFIX}"),
                    name: l.bias_name(),
                    shape: vec![l.out_channels()],
                },
            ]
        })
        .collect()
}

/// The checkpoint prefix `path` names: `path` itself unless it is a directory; for a
/// directory (as DeBCR ships its weights), the prefix of its only `*.index` file, or,
/// when it has several, of the one its `checkpoint` file's `model_checkpoint_path`
/// names.
///
/// # Errors
/// [`Error::InvalidInput`] for a directory that cannot be listed, has no `*.index`
/// file, or has several and no `checkpoint` file naming one of them (the message lists
/// them).
pub fn resolve_checkpoint_prefix(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let listing = std::fs::read_dir(path).map_err(|e| {
        Error::InvalidInput(format!(
            "cannot list the checkpoint folder {}: {e}",
            path.display()
        ))
    })?;
    let mut prefixes: Vec<String> = listing
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".index").map(str::to_string)
        })
        .collect();
    prefixes.sort();
    let named = std::fs::read_to_string(path.join("checkpoint"))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let value = line.trim().strip_prefix("model_checkpoint_path:")?;
                Some(value.trim().trim_matches('"').to_string())
            })
        });
    match prefixes.as_slice() {
        [] => Err(Error::InvalidInput(format!(
            "the checkpoint folder {} has no *.index file",
            path.display()
        ))),
        [only] => Ok(path.join(only)),
        several => match named.filter(|n| several.contains(n)) {
            Some(n) => Ok(path.join(n)),
            None => Err(Error::InvalidInput(format!(
                "the checkpoint folder {} holds several checkpoints ({}) and no `checkpoint` \
                 file naming one of them: give the prefix, e.g. {}",
                path.display(),
                several.join(", "),
                path.join(&several[several.len() - 1]).display()
            ))),
        },
    }
}

/// Imports the checkpoint `<prefix>.index` + `<prefix>.data-00000-of-00001`, e.g. the
/// prefix `.../ckpt-24`, and describes it: provenance "imported from TensorFlow
/// checkpoint <name>", the licence from a `LICENSE` file in the same directory, or
/// else in its parent (DeBCR's layout), if there is one (see [`license_summary`]), input normalisation `per-tile-minmax`, training
/// patches of 128.
///
/// # Errors
/// [`Error::Io`] if a file cannot be read; otherwise as [`TfBundle::from_bytes`] and
/// [`import_from_bundle`].
pub fn import_tf_checkpoint(prefix: &Path) -> Result<(Weights, ModelMetadata)> {
    let bundle = TfBundle::open(prefix)?;
    let weights = import_from_bundle(&bundle)?;
    let name = prefix
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| prefix.display().to_string());
    let dir = prefix
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // DeBCR keeps one LICENSE for all its tasks' folders, one level up.
    let license = license_summary(&dir.join("LICENSE"))
        .or_else(|| license_summary(&dir.parent()?.join("LICENSE")))
        .unwrap_or_else(|| UNKNOWN_LICENSE.to_string());
    let meta = ModelMetadata {
        name: format!("m-rBCR ({name})"),
        description: "m-rBCR deconvolution network (Li, Kudryashev, Yakimovich, ECCV 2024)"
            .to_string(),
        input_normalization: "per-tile-minmax".to_string(),
        train_patch_size: Some(128),
        provenance: format!("imported from TensorFlow checkpoint {name}"),
        license,
        ..ModelMetadata::default()
    };
    Ok((weights, meta))
}

/// A one-line summary of a licence file: its first non-empty line, followed by its
/// first line starting with "Copyright" if that is another line (e.g. "MIT License,
/// Copyright (c) 2023 RoyLeeLee"). `None` if the file cannot be read or is empty.
/// Only the first 64 KiB are read.
pub(crate) fn license_summary(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut text)
        .ok()?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    let mut summary = first.to_string();
    if !first.starts_with("Copyright") {
        if let Some(c) = lines.find(|l| l.starts_with("Copyright")) {
            summary.push_str(", ");
            summary.push_str(c);
        }
    }
    Some(summary)
}

/// Whether a key names a model variable that must be in the mapping.
fn is_model_variable(key: &str) -> bool {
    key.starts_with("model/") && !key.contains("/.OPTIMIZER_SLOT/")
}

/// Maps the tensors of a decoded bundle to [`Weights`].
///
/// Each tensor must be float32 with the spec's shape; a tensor with the same number of
/// elements and the same last dimension but another rank (a Dense head stored as
/// `[64, 1]` for the project's `[1, 1, 64, 1]`) is reshaped.
///
/// # Errors
/// [`Error::Checkpoint`] naming the index file, and the key:
/// - [`CheckpointProblem::UnexpectedKey`] for a float tensor under `model/` that
///   m-rBCR does not have (checked first, so another network is refused at once);
/// - [`CheckpointProblem::MissingKey`] for a key of the mapping the bundle lacks (the
///   key is then given as `"<checkpoint key> (m-rBCR tensor <name>)"`);
/// - [`CheckpointProblem::WrongTensor`] for a tensor of another dtype or shape, or
///   holding NaN or infinite values;
/// - as [`TfBundle::read_f32`] for a tensor whose bytes are out of range or corrupt.
pub fn import_from_bundle(bundle: &TfBundle) -> Result<Weights> {
    let fail = |key: String, problem| Error::Checkpoint {
        file: bundle.index_name().to_string(),
        key: Some(key),
        problem,
    };
    let mapping = checkpoint_mapping();
    let known: HashSet<&str> = mapping.iter().map(|m| m.tf_key.as_str()).collect();
    for key in bundle.keys() {
        if !is_model_variable(key) || known.contains(key) {
            continue;
        }
        let entry = bundle.entry(key).expect("keys() lists entries");
        if entry.dtype == DataType::FLOAT {
            return Err(fail(key.to_string(), CheckpointProblem::UnexpectedKey));
        }
    }
    // Check every entry's dtype and shape before reading any data, so that the memory
    // read is bounded by the size of the architecture.
    let mut shapes = Vec::with_capacity(mapping.len());
    for m in &mapping {
        let Some(entry) = bundle.entry(&m.tf_key) else {
            return Err(fail(
                format!("{} (m-rBCR tensor {})", m.tf_key, m.name),
                CheckpointProblem::MissingKey,
            ));
        };
        if entry.dtype != DataType::FLOAT {
            return Err(fail(
                m.tf_key.clone(),
                CheckpointProblem::WrongTensor(format!(
                    "dtype {}, but m-rBCR's {} is float32",
                    entry.dtype, m.name
                )),
            ));
        }
        let found = entry.dims();
        let acceptable = found.as_ref().is_some_and(|f| {
            *f == m.shape
                || (f.last() == m.shape.last()
                    && f.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
                        == Some(m.shape.iter().product()))
        });
        if !acceptable {
            let found = match &entry.shape {
                Some(s) => format!("{s:?}"),
                None => "of unknown rank".to_string(),
            };
            return Err(fail(
                m.tf_key.clone(),
                CheckpointProblem::WrongTensor(format!(
                    "shape {found}, but m-rBCR's {} has shape {:?}",
                    m.name, m.shape
                )),
            ));
        }
        shapes.push(m.shape.clone());
    }
    let mut tensors = BTreeMap::new();
    for (m, shape) in mapping.iter().zip(shapes) {
        let t = bundle.read_f32(&m.tf_key)?;
        if t.data.iter().any(|v| !v.is_finite()) {
            return Err(fail(
                m.tf_key.clone(),
                CheckpointProblem::WrongTensor(format!(
                    "holds NaN or infinite values (m-rBCR's {})",
                    m.name
                )),
            ));
        }
        tensors.insert(
            m.name.clone(),
            Tensor {
                shape,
                data: t.data,
            },
        );
    }
    // Cannot fail after the checks above; kept as a safety net.
    Weights::from_tensors(bundle.index_name(), tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_covers_the_spec_once() {
        let mapping = checkpoint_mapping();
        let specs = spec::all_tensors();
        assert_eq!(mapping.len(), specs.len());
        assert_eq!(mapping.len(), 296);
        let names: HashSet<&str> = mapping.iter().map(|m| m.name.as_str()).collect();
        let keys: HashSet<&str> = mapping.iter().map(|m| m.tf_key.as_str()).collect();
        assert_eq!(names.len(), 296);
        assert_eq!(keys.len(), 296);
        for s in &specs {
            let m = mapping.iter().find(|m| m.name == s.name).unwrap();
            assert_eq!(m.shape, s.shape);
        }
    }

    #[test]
    fn mapping_follows_model_md() {
        let mapping = checkpoint_mapping();
        let key_of = |name: &str| {
            mapping
                .iter()
                .find(|m| m.name == name)
                .unwrap()
                .tf_key
                .trim_end_matches("/.ATTRIBUTES/VARIABLE_VALUE")
                .trim_start_matches("model/")
                .replace("layer_with_weights-", "")
        };
        assert_eq!(key_of("forward.mlp2.dense1.kernel"), "0/0/kernel");
        assert_eq!(key_of("forward.mlp4.dense1.kernel"), "0/1/kernel");
        assert_eq!(key_of("forward.mlp0.dense1.kernel"), "0/2/kernel");
        assert_eq!(key_of("forward.mlp0.dense12.bias"), "0/35/bias");
        assert_eq!(
            key_of("forward.fusion_a.conv1x1.kernel"),
            "0/36/conv/0/kernel"
        );
        assert_eq!(key_of("forward.fusion_a.conv3x3.bias"), "0/36/conv/1/bias");
        assert_eq!(key_of("forward.head_y0.kernel"), "0/37/kernel");
        assert_eq!(key_of("forward.head_y4.kernel"), "0/39/kernel");
        assert_eq!(key_of("inverse.p4.conv1d1.kernel"), "1/0/kernel");
        assert_eq!(key_of("inverse.p4.rdb1.a1.kernel"), "1/6/kernel");
        assert_eq!(key_of("inverse.p4.rdb1.fuse.kernel"), "1/12/kernel");
        assert_eq!(key_of("inverse.p4.rdb4.fuse.kernel"), "1/33/kernel");
        assert_eq!(
            key_of("inverse.fusion_b.conv1x1.kernel"),
            "1/34/conv/0/kernel"
        );
        assert_eq!(key_of("inverse.p2.conv1d1.kernel"), "1/35/kernel");
        assert_eq!(key_of("inverse.p2.rdb1.a1.kernel"), "1/41/kernel");
        assert_eq!(key_of("inverse.p0.conv1d1.kernel"), "1/69/kernel");
        assert_eq!(key_of("inverse.p0.rdb1.a1.kernel"), "1/75/kernel");
        assert_eq!(key_of("inverse.p0.rdb4.fuse.bias"), "1/102/bias");
        assert_eq!(key_of("inverse.head_z0.kernel"), "1/103/kernel");
        assert_eq!(key_of("inverse.head_z4.kernel"), "1/105/kernel");
    }

    #[test]
    fn model_variables() {
        assert!(is_model_variable(
            "model/layer_with_weights-0/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
        ));
        assert!(!is_model_variable(
            "model/layer_with_weights-0/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"
        ));
        assert!(!is_model_variable(
            "save_counter/.ATTRIBUTES/VARIABLE_VALUE"
        ));
        assert!(!is_model_variable("_CHECKPOINTABLE_OBJECT_GRAPH"));
    }
}
