//! File formats: the project's model file (safetensors), TensorFlow checkpoints, TIFF images.

pub mod crc32c;
pub mod model_file;
pub mod tf_bundle;
pub mod tf_import;
pub mod tiff;
