//! Gradients of the loss with respect to every tensor of the network: the same names
//! and shapes as [`Weights`].

use crate::network::spec::{self, LayerSpec};
use crate::network::Weights;

/// One value per weight of m-rBCR, tensor by tensor in name order (the order of
/// [`Weights::tensors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    names: Vec<String>,
    shapes: Vec<Vec<usize>>,
    values: Vec<Vec<f32>>,
}

/// Where a layer's kernel and bias gradients are in a [`Gradients`].
#[derive(Debug, Clone, Copy)]
pub struct LayerSlots {
    /// Index of the kernel tensor.
    pub kernel: usize,
    /// Index of the bias tensor.
    pub bias: usize,
}

impl Default for Gradients {
    fn default() -> Self {
        Self::zeros()
    }
}

impl Gradients {
    /// All zeros.
    pub fn zeros() -> Gradients {
        let mut specs = spec::all_tensors();
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        Gradients {
            values: specs.iter().map(|s| vec![0.0; s.len()]).collect(),
            shapes: specs.iter().map(|s| s.shape.clone()).collect(),
            names: specs.into_iter().map(|s| s.name).collect(),
        }
    }

    /// The slots of `layer`'s kernel and bias.
    ///
    /// # Panics
    /// If the layer is not one of the architecture (a programming error).
    pub fn slots(&self, layer: &LayerSpec) -> LayerSlots {
        let find = |name: String| {
            self.names
                .binary_search(&name)
                .unwrap_or_else(|_| panic!("'{name}' is not a tensor of m-rBCR"))
        };
        LayerSlots {
            kernel: find(layer.kernel_name()),
            bias: find(layer.bias_name()),
        }
    }

    /// The kernel and bias gradients of a layer, mutably.
    pub fn layer_mut(&mut self, slots: LayerSlots) -> (&mut [f32], &mut [f32]) {
        assert_ne!(slots.kernel, slots.bias);
        let (lo, hi) = self.values.split_at_mut(slots.kernel.max(slots.bias));
        let (a, b) = (&mut lo[slots.kernel.min(slots.bias)], &mut hi[0]);
        if slots.kernel < slots.bias {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// The gradient of the tensor `name`, if it is one of the architecture.
    pub fn tensor(&self, name: &str) -> Option<&[f32]> {
        let i = self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()?;
        Some(&self.values[i])
    }

    /// Every tensor's name, shape and gradient, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[usize], &[f32])> {
        self.names
            .iter()
            .zip(&self.shapes)
            .zip(&self.values)
            .map(|((n, s), v)| (n.as_str(), s.as_slice(), v.as_slice()))
    }

    /// Adds `other` value by value.
    pub fn add(&mut self, other: &Gradients) {
        for (a, b) in self.values.iter_mut().zip(&other.values) {
            for (x, &y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// Sets every value to `value`.
    pub fn fill(&mut self, value: f32) {
        for v in self.values.iter_mut().flatten() {
            *v = value;
        }
    }

    /// Multiplies every value by `factor`.
    pub fn scale(&mut self, factor: f32) {
        for v in self.values.iter_mut().flatten() {
            *v *= factor;
        }
    }

    /// True if the names are those of `weights`, in the same order (always, for
    /// validated weights; checked by the optimiser).
    pub fn matches(&self, weights: &Weights) -> bool {
        weights.tensors().keys().eq(self.names.iter())
    }
}
