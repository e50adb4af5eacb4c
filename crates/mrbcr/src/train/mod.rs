//! Training m-rBCR on the CPU: backward passes of every layer, the whole network's
//! gradient, the loss, Adam, and the training loop with its data, checkpoints and
//! logs.
//!
//! - [`network`]: the forward pass keeping activations, and the backward pass.
//! - [`layers`]: each layer's backward pass; [`weight_grad`]: the weight-gradient
//!   kernel.
//! - [`loss`]: `MSE + 0.5 mean|FFT2 difference|` at three scales, with gradients.
//! - [`adam`]: Keras' Adam. [`step`]: one deterministic batch step.
//! - [`reference`](mod@reference): a plain float64 forward pass and loss, the reference of the
//!   gradient checks.
//! - [`data`]: image pairs (simulated or TIFF) and patches; [`trainer`]: the loop;
//!   [`checkpoint`]: resumable checkpoints; [`pool`]: recycled map buffers.

pub(crate) mod adam;
pub mod checkpoint;
pub mod data;
pub mod gradients;
pub mod layers;
pub mod loss;
pub(crate) mod mixed;
pub(crate) mod network;
pub(crate) mod pool;
pub mod reference;
pub(crate) mod step;
pub mod trainer;
pub mod weight_grad;

pub use adam::{Adam, AdamConfig};
pub use data::{InputScaling, SimulatedTraining, TiffTraining, TruthScaling};
pub use gradients::Gradients;
pub use mixed::MixedTraining;
pub use network::{Tape, TrainNetwork};
pub use step::{batch_gradients, sample_gradients, train_step, BatchLoss, Sample};
pub use trainer::{train, Initialization, Progress, TrainConfig, TrainOutcome, TrainingSet};
