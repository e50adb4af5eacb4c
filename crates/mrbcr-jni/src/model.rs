//! The model natives: load (a file or the bundled default model), free, metadata, and
//! the library's version.

use std::path::Path;

use jni::objects::{JClass, JObjectArray, JString};
use jni::sys::jlong;
use jni::EnvUnowned;

use super::{handles, invalid, string_array, NativeResult, ThrowMrbcrException};
use mrbcr::model::Model;

/// `static native long loadModel(String path)`: loads a model file and returns its
/// handle (never 0).
///
/// # Errors
/// Throws `MrbcrException` with the library's message (a missing file, an invalid
/// model file naming the tensor) or for a null path.
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_loadModel<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
) -> jlong {
    unowned_env
        .with_env(|env| -> NativeResult<jlong> {
            if path.is_null() {
                return Err(invalid("the model path is null"));
            }
            let path = path.try_to_string(env)?;
            let model = Model::load(Path::new(&path))?;
            Ok(handles::register(model))
        })
        .resolve::<ThrowMrbcrException>()
}

/// `static native long loadDefaultModel()`: the default model bundled in the library
/// (trained by `mrbcr train` on simulated widefield images; no file needed), as a new
/// handle (never 0) that `freeModel` releases like any other. Its metadata tells how it
/// was trained.
///
/// # Errors
/// Throws `MrbcrException` only if the bundled model cannot be read, which is a bug
/// (reported as such, not a crash).
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_loadDefaultModel<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jlong {
    unowned_env
        .with_env(|_env| -> NativeResult<jlong> { Ok(handles::register(Model::bundled())) })
        .resolve::<ThrowMrbcrException>()
}

/// `static native void freeModel(long handle)`: releases a handle (0 does nothing). A
/// run using the model meanwhile keeps it alive until it ends.
///
/// # Errors
/// Throws `MrbcrException` for a handle that is not live (freed twice).
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_freeModel<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    unowned_env
        .with_env(|_env| -> NativeResult<()> { handles::release(handle) })
        .resolve::<ThrowMrbcrException>()
}

/// `static native String[] modelMetadata(long handle)`: the model's metadata as
/// `key, value, key, value, ...`: `name`, `description`, `input_normalization`,
/// `train_patch_size` (empty if unknown), `provenance`, `license`, `created_by`,
/// `tile_overlap` (empty if not measured), then
/// every other key of the file in sorted order.
///
/// # Errors
/// Throws `MrbcrException` for a handle that is not live.
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_modelMetadata<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObjectArray<'local, JString<'local>> {
    unowned_env
        .with_env(
            |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
                let model = handles::model(handle)?;
                let entries = model.metadata().entries();
                let texts: Vec<&str> = entries.iter().flat_map(|(k, v)| [*k, v.as_str()]).collect();
                string_array(env, &texts)
            },
        )
        .resolve::<ThrowMrbcrException>()
}

/// `static native String libraryVersion()`: the version of the native library (the
/// crate's), to check that the jar's classes and library belong together.
///
/// # Errors
/// Throws only if the JVM cannot allocate the string.
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_libraryVersion<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    unowned_env
        .with_env(|env| -> NativeResult<JString<'local>> {
            Ok(env.new_string(env!("CARGO_PKG_VERSION"))?)
        })
        .resolve::<ThrowMrbcrException>()
}
