//! The m-rBCR network: its architecture ([`spec`]), its weights ([`weights`]) and the
//! forward pass over packed weights.

pub mod spec;
pub mod weights;
pub mod forward;

pub use forward::{ForwardOutputs, Network, Trace, Workspace};
pub use weights::{Tensor, Weights};
