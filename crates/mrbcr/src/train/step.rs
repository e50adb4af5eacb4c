//! One optimisation step over a batch: per-sample forward, loss and backward in
//! parallel, gradients reduced in a fixed order, then Adam.
//!
//! Samples run as rayon tasks (and each sample's kernels are themselves parallel).
//! Every sample's gradient is computed in full on its own (its value does not depend on
//! the threads) and the gradients are added in sample order, so a step gives
//! bit-identical weights at any thread count. Memory: the activations of the samples
//! in flight (~110 MB per 128 x 128 sample) plus one gradient (~1 MB) per sample.

use ndarray::Array2;
use rayon::prelude::*;

use super::adam::Adam;
use super::gradients::Gradients;
use super::loss::sample_loss_f32;
use super::network::TrainNetwork;
use crate::error::{Error, Result};
use crate::network::Weights;

/// One training example: a normalised input patch and its ground truth, both
/// `H x W` with sides multiples of 4.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// What the network sees.
    pub input: Array2<f32>,
    /// What it should output.
    pub truth: Array2<f32>,
}

/// The loss of one sample and the gradient of that loss with respect to every weight.
///
/// # Errors
/// [`Error::InvalidInput`] if the input and truth differ in size or the sides are not
/// multiples of 4.
pub fn sample_gradients(network: &TrainNetwork, sample: &Sample) -> Result<(f64, Gradients)> {
    if sample.input.dim() != sample.truth.dim() {
        return Err(Error::InvalidInput(format!(
            "a training input of {:?} pixels has a ground truth of {:?}",
            sample.input.dim(),
            sample.truth.dim()
        )));
    }
    let tape = network.forward(sample.input.view())?;
    let (loss, dz) = sample_loss_f32(tape.outputs(), sample.truth.view());
    let mut gradients = Gradients::zeros();
    network.backward(&tape, [&dz[0], &dz[1], &dz[2]], &mut gradients, false);
    Ok((loss, gradients))
}

/// The mean loss of a batch and the gradient of that mean (the per-sample gradients
/// added in sample order, then divided by the batch size).
///
/// # Errors
/// As [`sample_gradients`]; [`Error::InvalidInput`] for an empty batch.
pub fn batch_gradients(network: &TrainNetwork, batch: &[Sample]) -> Result<(f64, Gradients)> {
    if batch.is_empty() {
        return Err(Error::InvalidInput("an empty training batch".into()));
    }
    let per_sample: Vec<(f64, Gradients)> = batch
        .par_iter()
        .map(|s| sample_gradients(network, s))
        .collect::<Result<_>>()?;
    let mut iter = per_sample.into_iter();
    let (mut loss, mut total) = iter.next().expect("a non-empty batch");
    for (l, g) in iter {
        loss += l;
        total.add(&g);
    }
    let scale = 1.0 / batch.len() as f64;
    total.scale(scale as f32);
    Ok((loss * scale, total))
}

/// One step: the batch's gradient, then an Adam update of `weights`. Returns the
/// batch's mean loss before the update.
///
/// # Errors
/// As [`batch_gradients`] and [`Adam::update`]; [`Error::Training`] if the batch's
/// loss is not finite (the run diverged; the weights are then left as they were).
pub fn train_step(weights: &mut Weights, adam: &mut Adam, batch: &[Sample]) -> Result<f64> {
    let network = TrainNetwork::new(weights);
    let (loss, gradients) = batch_gradients(&network, batch)?;
    if !loss.is_finite() {
        return Err(Error::Training(format!(
            "the run diverged: the loss of step {} is {loss} (a lower learning rate may help)",
            adam.step + 1
        )));
    }
    adam.update(weights, &gradients)?;
    Ok(loss)
}
