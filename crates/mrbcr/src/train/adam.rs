//! The Adam optimiser, as Keras implements it (TensorFlow 2.11+ / Keras 3):
//!
//! ```text
//! t     = step + 1
//! alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//! m    += (g - m) * (1 - beta1)
//! v    += (g^2 - v) * (1 - beta2)
//! w    -= alpha * m / (sqrt(v) + epsilon)
//! ```
//!
//! with Keras' defaults `beta1 = 0.9`, `beta2 = 0.999`, `epsilon = 1e-7` (note: added
//! to `sqrt(v)` without bias correction, unlike the paper's `epsilon-hat`). `alpha` is
//! computed in f64 and rounded once; everything else is float32, as in Keras.

use crate::error::{Error, Result};
use crate::network::Weights;

use super::gradients::Gradients;

/// Hyper-parameters of Adam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (Keras default 1e-3, the authors' value).
    pub learning_rate: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to `sqrt(v)`.
    pub epsilon: f64,
}

impl Default for AdamConfig {
    /// Keras' defaults: lr 1e-3, betas 0.9 / 0.999, epsilon 1e-7.
    fn default() -> AdamConfig {
        AdamConfig {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
        }
    }
}

/// Adam's state: the step count and both moments of every weight, tensor by tensor in
/// name order (the order of [`Weights::tensors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// The hyper-parameters.
    pub config: AdamConfig,
    /// Updates done so far.
    pub step: u64,
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
}

impl Adam {
    /// A fresh optimiser (step 0, zero moments) for weights shaped like `weights`.
    pub fn new(config: AdamConfig, weights: &Weights) -> Adam {
        let zeros: Vec<Vec<f32>> = weights
            .tensors()
            .values()
            .map(|t| vec![0.0; t.data.len()])
            .collect();
        Adam {
            config,
            step: 0,
            m: zeros.clone(),
            v: zeros,
        }
    }

    /// Applies one update with `gradients` to `weights`.
    ///
    /// # Errors
    /// [`Error::Training`] if the gradients or the moments do not match the weights'
    /// tensors (a checkpoint of another network), or an updated weight is not finite
    /// (the run diverged).
    pub fn update(&mut self, weights: &mut Weights, gradients: &Gradients) -> Result<()> {
        let shapes_match = self.m.len() == weights.tensors().len()
            && self
                .m
                .iter()
                .zip(weights.tensors().values())
                .all(|(m, t)| m.len() == t.data.len());
        if !gradients.matches(weights) || !shapes_match {
            return Err(Error::Training(
                "the optimiser state does not match the network's weights (a checkpoint of another network?)"
                    .into(),
            ));
        }
        let c = self.config;
        let t = (self.step + 1) as f64;
        let alpha =
            (c.learning_rate * (1.0 - c.beta2.powf(t)).sqrt() / (1.0 - c.beta1.powf(t))) as f32;
        let (one_b1, one_b2, eps) = (
            (1.0 - c.beta1) as f32,
            (1.0 - c.beta2) as f32,
            c.epsilon as f32,
        );
        for (((name, w), (_, _, g)), (m, v)) in weights
            .values_mut()
            .zip(gradients.iter())
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            for (((wi, &gi), mi), vi) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *mi += (gi - *mi) * one_b1;
                *vi += (gi * gi - *vi) * one_b2;
                *wi -= alpha * *mi / (vi.sqrt() + eps);
            }
            if w.iter().any(|x| !x.is_finite()) {
                return Err(Error::Training(format!(
                    "the run diverged: tensor {name} has non-finite values after step {} \
                     (a lower learning rate may help)",
                    self.step + 1
                )));
            }
        }
        self.step += 1;
        Ok(())
    }
}
