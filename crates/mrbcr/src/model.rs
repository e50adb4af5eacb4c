//! A model ready to use: the network with its packed weights and the metadata of the
//! file it came from. This is what every front end loads.

use std::path::Path;
use std::sync::Mutex;

use crate::error::Result;
use crate::formats::model_file::{self, ModelMetadata};
use crate::network::{Network, Weights, Workspace};

/// The bundled default model file, trained by `mrbcr train` on simulated widefield
/// images (see `models/README.md` for the command that reproduces it).
static BUNDLED_MODEL_FILE: &[u8] = include_bytes!("../../../models/default.safetensors");

/// The name the bundled model goes by in messages and in `mrbcr info`.
pub const BUNDLED_MODEL_NAME: &str = "<bundled default model>";

/// The weights and metadata of the bundled default model (also to fine-tune it:
/// [`crate::train::Initialization::bundled`]).
pub fn bundled_model() -> (Weights, ModelMetadata) {
    model_file::read_model(BUNDLED_MODEL_FILE, BUNDLED_MODEL_NAME)
        .expect("the bundled model file is checked by the tests")
}

/// Workspaces larger than this are not kept between runs (a whole-image run of a big
/// plane would otherwise hold gigabytes); a 512 x 512 tile's is about 360 MiB.
const MAX_KEPT_WORKSPACE_BYTES: usize = 1 << 30;

/// An m-rBCR model: immutable once loaded, and shareable by any number of threads.
///
/// It also keeps the network's working memory of finished runs, one workspace per
/// worker thread, so that a stream of frames (an acquisition) does not allocate and
/// clear hundreds of megabytes for each one. Results never depend on it.
#[derive(Debug)]
pub struct Model {
    metadata: ModelMetadata,
    network: Network,
    workspaces: Mutex<Vec<Workspace>>,
}

impl Clone for Model {
    /// The same metadata and network, without the kept working memory.
    fn clone(&self) -> Model {
        Model {
            metadata: self.metadata.clone(),
            network: self.network.clone(),
            workspaces: Mutex::new(Vec::new()),
        }
    }
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

    /// The default model bundled in the library: no file or download needed. Its
    /// metadata records how it was trained.
    pub fn bundled() -> Model {
        let (weights, metadata) = bundled_model();
        Model::from_weights(&weights, metadata)
    }

    /// A model from weights in memory (imported, or being trained).
    pub fn from_weights(weights: &Weights, metadata: ModelMetadata) -> Model {
        Model {
            metadata,
            network: Network::new(weights),
            workspaces: Mutex::new(Vec::new()),
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

    /// A workspace for one worker of a run: a kept one if there is one.
    pub fn take_workspace(&self) -> Workspace {
        let mut kept = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
        kept.pop().unwrap_or_default()
    }

    /// Gives a worker's workspace back for later runs (dropped if it is very large).
    pub fn give_workspace(&self, workspace: Workspace) {
        if workspace.retained_bytes() <= MAX_KEPT_WORKSPACE_BYTES {
            let mut kept = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
            kept.push(workspace);
        }
    }
}
