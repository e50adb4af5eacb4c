//! File formats: the project's model file (safetensors) and TensorFlow checkpoints.

pub mod crc32c;
pub mod model_file;
pub mod tf_bundle;
pub mod tf_import;
