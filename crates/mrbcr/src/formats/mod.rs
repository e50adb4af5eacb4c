//! File formats: the project's model file (safetensors), TensorFlow checkpoints, TIFF images,
//! ONNX export, BioImage Model Zoo packages (with their zip, npy and PNG writers), and the
//! atomic writing all of them share.

pub mod atomic_write;
pub mod bioimageio;
pub mod crc32;
pub mod crc32c;
pub mod model_file;
pub mod npy;
mod ome;
pub mod onnx;
pub mod png;
pub mod tf_bundle;
pub mod tf_import;
pub mod tiff;
pub mod zip_stored;
