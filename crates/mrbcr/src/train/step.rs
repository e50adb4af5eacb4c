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

/// How a batch's per-sample losses `L_i` make the loss that a step minimises.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BatchLoss {
    /// `mean_i L_i`, the authors' choice. A sample weighs in by its error, so the
    /// noisiest and most blurred patches steer the step; patches whose data allow a
    /// sharp restoration (bright, small PSF) leave small errors and count little.
    #[default]
    Mean,
    /// `mean_i ln(L_i + floor)`: each sample's gradient is divided by `L_i + floor`, so
    /// a sample counts by its relative error, as an image does in a mean PSNR over
    /// images. `floor` (at least 0) keeps nearly empty patches, whose losses are tiny,
    /// from taking over the step.
    MeanLog {
        /// Added to every sample's loss before the logarithm.
        floor: f64,
    },
}

impl BatchLoss {
    /// A sample's share of the batch loss and the factor on that sample's gradient
    /// (before the division by the batch size), for its loss `loss`.
    pub fn term(self, loss: f64) -> (f64, f64) {
        match self {
            BatchLoss::Mean => (loss, 1.0),
            BatchLoss::MeanLog { floor } => {
                let shifted = loss + floor;
                (shifted.ln(), 1.0 / shifted)
            }
        }
    }

    /// Names it for logs, metadata and run fingerprints.
    pub fn description(self) -> String {
        match self {
            BatchLoss::Mean => "mean of the samples' losses".into(),
            BatchLoss::MeanLog { floor } => {
                format!("mean of ln(sample loss + {floor})")
            }
        }
    }
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

/// The loss of a batch as `batch_loss` combines its samples' losses, and its gradient
/// (the per-sample gradients, each scaled by its factor from [`BatchLoss::term`], added
/// in sample order, then divided by the batch size).
///
/// # Errors
/// As [`sample_gradients`]; [`Error::InvalidInput`] for an empty batch.
pub fn batch_gradients(
    network: &TrainNetwork,
    batch: &[Sample],
    batch_loss: BatchLoss,
) -> Result<(f64, Gradients)> {
    if batch.is_empty() {
        return Err(Error::InvalidInput("an empty training batch".into()));
    }
    let per_sample: Vec<(f64, Gradients)> = batch
        .par_iter()
        .map(|s| {
            let (loss, mut gradients) = sample_gradients(network, s)?;
            let (term, factor) = batch_loss.term(loss);
            if factor != 1.0 {
                gradients.scale(factor as f32);
            }
            Ok((term, gradients))
        })
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

/// One step: the gradient of the batch's loss (`batch_loss`), then an Adam update of
/// `weights`. Returns the batch's loss before the update.
///
/// # Errors
/// As [`batch_gradients`] and [`Adam::update`]; [`Error::Training`] if the batch's
/// loss is not finite (the run diverged; the weights are then left as they were).
pub fn train_step(
    weights: &mut Weights,
    adam: &mut Adam,
    batch: &[Sample],
    batch_loss: BatchLoss,
) -> Result<f64> {
    let network = TrainNetwork::new(weights);
    let (loss, gradients) = batch_gradients(&network, batch, batch_loss)?;
    if !loss.is_finite() {
        return Err(Error::Training(format!(
            "the run diverged: the loss of step {} is {loss} (a lower learning rate may help)",
            adam.step + 1
        )));
    }
    adam.update(weights, &gradients)?;
    Ok(loss)
}
