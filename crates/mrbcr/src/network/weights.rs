//! The weights of an m-rBCR network as named tensors, validated against the
//! architecture ([`super::spec`]). This is what model files and checkpoints hold and
//! what training updates; the network packs them into its own layout.

use std::collections::BTreeMap;

use super::spec::{self, LayerSpec};
use crate::error::{Error, ModelFileProblem, Result};
use crate::rng::SplitMix64;

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

    /// Fresh weights for training from scratch: kernels drawn Glorot-uniform (as Keras
    /// does by default: `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`, fans counting
    /// the kernel's spatial taps), biases zero. Deterministic for a seed.
    pub fn initialize(seed: u64) -> Weights {
        let mut rng = SplitMix64::new(seed);
        let tensors = spec::all_layers()
            .into_iter()
            .flat_map(|l| {
                let shape = &l.kernel_shape;
                let taps: usize = shape[..shape.len() - 2].iter().product();
                let (c_in, c_out) = (shape[shape.len() - 2], shape[shape.len() - 1]);
                let limit = (6.0 / ((c_in + c_out) * taps) as f32).sqrt();
                let kernel = Tensor {
                    shape: shape.clone(),
                    data: (0..shape.iter().product::<usize>())
                        .map(|_| rng.uniform(-limit, limit))
                        .collect(),
                };
                let bias = Tensor {
                    shape: vec![c_out],
                    data: vec![0.0; c_out],
                };
                [(l.kernel_name(), kernel), (l.bias_name(), bias)]
            })
            .collect();
        Weights { tensors }
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
