//! A model ready to use: the network with its packed weights and the metadata of the
//! file it came from. This is what every front end loads.

use std::path::Path;

use crate::error::Result;
use crate::formats::model_file::{self, ModelMetadata};
use crate::network::{Network, Weights};

/// An m-rBCR model: immutable once loaded, and shareable by any number of threads.
#[derive(Debug, Clone)]
pub struct Model {
    metadata: ModelMetadata,
    network: Network,
}

impl Model {
    /// Loads a model file (the project's safetensors format).
    ///
    /// # Errors
    /// [`crate::Error::Io`] if the file cannot be read, [`crate::Error::ModelFile`]
    /// naming the file and tensor if it is not a valid model file.
    pub fn load(path: &Path) -> Result<Model> {
        let (weights, metadata) = model_file::load_model(path)?;
        Ok(Model::from_weights(&weights, metadata))
    }

    /// Reads a model file held in memory; `source_name` names it in error messages.
    ///
    /// # Errors
    /// [`crate::Error::ModelFile`] if the bytes are not a valid model file.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Model> {
        let (weights, metadata) = model_file::read_model(bytes, source_name)?;
        Ok(Model::from_weights(&weights, metadata))
    }

    /// A model from weights in memory (imported, or being trained).
    pub fn from_weights(weights: &Weights, metadata: ModelMetadata) -> Model {
        Model {
            metadata,
            network: Network::new(weights),
        }
    }

    /// What the model file says about the weights.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }

    /// The network, for forward passes.
    pub fn network(&self) -> &Network {
        &self.network
    }
}
