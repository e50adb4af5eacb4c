//! Scoring deconvolution methods against ground truth: the quality benchmarks of
//! `mrbcr bench-quality`, as structured results for any front end to print.
//!
//! - [`search`]: the best setting of a classical method on one image (Wiener's
//!   noise-to-signal ratio, Richardson-Lucy's iteration count), found with the truth.
//! - [`simulated`]: raw input, Wiener, Richardson-Lucy (and RL-TV) at their best
//!   settings on the mean, and models, on a set of the 2-D simulator's images.
//! - [`real`]: the same, per image and on the mean, on sharp real specimens held out
//!   from training, blurred and recorded under fixed microscopes.
//!
//! Every score is [`crate::simulate::score`]'s: PSNR and SSIM after a least-squares
//! affine fit of the output to the truth. The classical methods get the true PSF and
//! their best setting on the very images they are scored on: an oracle no user has.

pub(crate) mod real;
pub(crate) mod search;
pub mod simulated;

pub use real::{load_real_cases, mean_scores, run_real, MeanScores, RealCaseResult, RealCases};
pub use search::{best_wiener, richardson_lucy_curve, BestSetting, RichardsonLucyCurve};
pub use simulated::{run_simulated, Method, MethodResult, SimulatedBenchmark};

use crate::Model;

/// A model to score, with the name the results give it.
#[derive(Debug)]
pub struct NamedModel {
    /// Its name in the results (a file path, or the bundled model's name).
    pub name: String,
    /// The model.
    pub model: Model,
}
