//! File formats: the project's model file (safetensors), TensorFlow checkpoints, TIFF images,
//! ONNX export, and the atomic writing all of them share.

pub mod atomic_write;
pub mod crc32c;
pub mod model_file;
mod ome;
pub mod onnx;
pub mod tf_bundle;
pub mod tf_import;
pub mod tiff;
