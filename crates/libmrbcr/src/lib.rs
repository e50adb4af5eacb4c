//! `libmrbcr.so` and `libmrbcr.a`: one library with the C ABI ([`mrbcr_capi`],
//! declared in `include/mrbcr.h`) and, with the default feature `jni`, the natives of
//! the Fiji/ImageJ plugin ([`mrbcr_jni`]).
//!
//! Nothing is defined here. A cdylib or staticlib exports every `#[no_mangle]` function
//! of the crates it links, so naming the two crates is enough; they are separate crates
//! so that Rust code (tests, the fuzz targets) can call them, which a cdylib does not
//! allow, and so that a C user can build the library without the JNI crates
//! (`--no-default-features`).

pub use mrbcr_capi;
#[cfg(feature = "jni")]
pub use mrbcr_jni;
