//! The m-rBCR network: its architecture ([`spec`]), its weights ([`weights`]) and the
//! forward pass over packed weights.

pub(crate) mod forward;
pub mod spec;
pub mod weights;

pub use forward::{ForwardOutputs, Network, Trace, Workspace};
pub use weights::{Tensor, Weights};
