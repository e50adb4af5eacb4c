//! The m-rBCR network: its architecture ([`spec`]), its weights ([`weights`]) and the
//! forward pass over packed weights.

pub mod spec;
pub mod weights;
