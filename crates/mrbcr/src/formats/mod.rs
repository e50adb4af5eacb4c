//! File formats: the project's model file (safetensors), TensorFlow checkpoints, TIFF images,
//! ONNX export, BioImage Model Zoo packages (with their zip, npy and PNG writers), and the
//! atomic writing all of them share.

pub mod atomic_write;
pub mod bioimageio;
pub(crate) mod crc32;
pub(crate) mod crc32c;
pub mod model_file;
pub(crate) mod npy;
mod ome;
pub mod onnx;
pub(crate) mod png;
pub mod tf_bundle;
pub mod tf_import;
pub mod tiff;
pub(crate) mod zip_stored;
