//! The weights of an m-rBCR network as named tensors, validated against the
//! architecture ([`super::spec`]). This is what model files and checkpoints hold and
//! what training updates; the network packs them into its own layout.

use std::collections::BTreeMap;

use super::spec::{self, LayerSpec};
use crate::error::{Error, ModelFileProblem, Result};

/// A float32 tensor in checkpoint layout (row-major in the order of `shape`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

/// Every tensor of one m-rBCR network, complete and with the right shapes.
///
/// A `Weights` can only be built through [`Weights::from_tensors`], which checks the
/// tensors against the architecture, so every `Weights` value is a usable network.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    tensors: BTreeMap<String, Tensor>,
}

impl Weights {
    /// Checks a set of named tensors against the architecture and keeps them.
    ///
    /// `source` names where the tensors came from (a file name) for error messages.
    ///
    /// # Errors
    /// [`Error::ModelFile`] naming the first tensor that is missing, not part of the
    /// architecture, of the wrong shape or not finite.
    pub fn from_tensors(source: &str, mut tensors: BTreeMap<String, Tensor>) -> Result<Weights> {
        let fail = |tensor: &str, problem| Error::ModelFile {
            file: source.to_string(),
            tensor: Some(tensor.to_string()),
            problem,
        };
        let specs = spec::all_tensors();
        let mut checked = BTreeMap::new();
        for s in &specs {
            let t = tensors
                .remove(&s.name)
                .ok_or_else(|| fail(&s.name, ModelFileProblem::MissingTensor))?;
            if t.shape != s.shape || t.data.len() != s.len() {
                return Err(fail(
                    &s.name,
                    ModelFileProblem::WrongShape {
                        expected: s.shape.clone(),
                        found: t.shape,
                    },
                ));
            }
            if t.data.iter().any(|v| !v.is_finite()) {
                return Err(fail(&s.name, ModelFileProblem::NonFiniteValues));
            }
            checked.insert(s.name.clone(), t);
        }
        if let Some(extra) = tensors.keys().next() {
            return Err(fail(extra, ModelFileProblem::UnexpectedTensor));
        }
        Ok(Weights { tensors: checked })
    }

    /// The tensor of that name.
    ///
    /// # Panics
    /// If `name` is not a tensor of the architecture: names come from [`spec`], so
    /// this is a programming error, not a data error.
    pub fn tensor(&self, name: &str) -> &Tensor {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("'{name}' is not a tensor of m-rBCR"))
    }

    /// The kernel and bias values of one layer.
    pub fn layer(&self, layer: &LayerSpec) -> (&[f32], &[f32]) {
        (
            &self.tensor(&layer.kernel_name()).data,
            &self.tensor(&layer.bias_name()).data,
        )
    }

    /// All tensors by name, in name order.
    pub fn tensors(&self) -> &BTreeMap<String, Tensor> {
        &self.tensors
    }

    /// Mutable access to every tensor's values, in name order (shapes stay fixed).
    /// Training updates weights through this.
    pub fn values_mut(&mut self) -> impl Iterator<Item = (&str, &mut [f32])> {
        self.tensors
            .iter_mut()
            .map(|(k, t)| (k.as_str(), t.data.as_mut_slice()))
    }
}
