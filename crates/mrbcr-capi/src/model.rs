//! Models across the C ABI: loading, freeing, metadata.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use super::{guard, guard_value, non_null, non_null_mut, require_non_null, Failure, FfiResult};
use mrbcr::model::Model;

/// A loaded m-rBCR model (opaque). Made by `mrbcr_model_load` or
/// `mrbcr_model_from_bytes`, freed by `mrbcr_model_free`.
///
/// A model never changes once loaded: one `const mrbcr_model *` may be used by any
/// number of threads at the same time (e.g. one `mrbcr_deconvolve` per thread).
#[allow(non_camel_case_types)]
pub struct mrbcr_model {
    _private: [u8; 0],
}

/// A model with its metadata as NUL-terminated strings, which C callers borrow.
pub(crate) struct LoadedModel {
    pub(crate) model: Model,
    /// `(key, value)`, each NUL-terminated; the standard keys first, then the others
    /// in sorted order.
    metadata: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The text with a NUL appended.
fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

impl LoadedModel {
    pub(crate) fn new(model: Model) -> LoadedModel {
        let metadata = model
            .metadata()
            .entries()
            .into_iter()
            .map(|(key, value)| (nul_terminated(key), nul_terminated(&value)))
            .collect();
        LoadedModel { model, metadata }
    }

    /// Hands the model to the caller.
    pub(crate) fn into_handle(self) -> *mut mrbcr_model {
        Box::into_raw(Box::new(self)).cast()
    }

    /// The model behind a handle, or [`super::mrbcr_status::NullParameter`].
    ///
    /// # Safety
    /// `model` is NULL or a handle from [`LoadedModel::into_handle`] not yet freed.
    pub(crate) unsafe fn from_handle<'a>(model: *const mrbcr_model) -> FfiResult<&'a LoadedModel> {
        // SAFETY: a non-NULL handle points to a LoadedModel, by the caller's contract.
        unsafe { non_null(model.cast::<LoadedModel>(), "model") }
    }
}

/// Loads a model file (the project's safetensors format; see the README).
///
/// On success `*model_out` receives a new model, which the caller frees with
/// `mrbcr_model_free`. On failure `*model_out` is left as it was.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `path` or `model_out` is NULL;
/// `MRBCR_STATUS_IO` if the file cannot be read; `MRBCR_STATUS_MODEL_FILE` (the message
/// names the file and the tensor) if it is not a valid model file.
///
/// # Safety
/// `path` is NULL or a NUL-terminated file name (bytes as the operating system takes
/// them); `model_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_load(
    path: *const c_char,
    model_out: *mut *mut mrbcr_model,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or NUL-terminated, by the caller's contract.
        let path = unsafe { path_parameter(path, "path") }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let model_out = unsafe { non_null_mut(model_out, "model_out") }?;
        let model = Model::load(&path)?;
        *model_out = LoadedModel::new(model).into_handle();
        Ok(())
    })
}

/// The default model bundled in the library (trained by mrbcr on simulated widefield
/// images; no file or download needed). `mrbcr_model_metadata` tells how it was made.
///
/// On success `*model_out` receives a new model, which the caller frees with
/// `mrbcr_model_free`. On failure `*model_out` is left as it was.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `model_out` is NULL.
///
/// # Safety
/// `model_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_new_default(
    model_out: *mut *mut mrbcr_model,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let model_out = unsafe { non_null_mut(model_out, "model_out") }?;
        *model_out = LoadedModel::new(Model::bundled()).into_handle();
        Ok(())
    })
}

/// A path from a NUL-terminated string parameter (its bytes as the operating system
/// takes them; UTF-8 outside Unix), or [`super::mrbcr_status::NullParameter`] naming it.
///
/// # Safety
/// `pointer` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn path_parameter(pointer: *const c_char, name: &str) -> FfiResult<PathBuf> {
    require_non_null(pointer, name)?;
    // SAFETY: not NULL, and NUL-terminated by the caller's contract.
    let text = unsafe { CStr::from_ptr(pointer) };
    path_from_c(text, name)
}

/// The path a C string names.
#[cfg(unix)]
fn path_from_c(path: &CStr, _name: &str) -> FfiResult<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(path.to_bytes())))
}

/// The path a C string names (UTF-8 outside Unix).
#[cfg(not(unix))]
fn path_from_c(path: &CStr, name: &str) -> FfiResult<PathBuf> {
    path.to_str()
        .map(PathBuf::from)
        .map_err(|_| Failure::invalid(format!("the parameter '{name}' is not valid UTF-8")))
}

/// Reads a model file held in memory (e.g. embedded in the calling program). The
/// bytes are copied: the caller may free them as soon as this returns.
///
/// On success `*model_out` receives a new model, which the caller frees with
/// `mrbcr_model_free`. On failure `*model_out` is left as it was.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `bytes` or `model_out` is NULL;
/// `MRBCR_STATUS_INVALID_INPUT` if `len` is larger than any object can be;
/// `MRBCR_STATUS_MODEL_FILE` if the bytes are not a valid model file (the message calls
/// it `(model in memory)`).
///
/// # Safety
/// `bytes` is NULL or points to `len` readable bytes; `model_out` is NULL or points to
/// writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_from_bytes(
    bytes: *const u8,
    len: usize,
    model_out: *mut *mut mrbcr_model,
) -> super::mrbcr_status {
    guard(|| {
        require_non_null(bytes, "bytes")?;
        // SAFETY: NULL or writable, by the caller's contract.
        let model_out = unsafe { non_null_mut(model_out, "model_out") }?;
        if len > isize::MAX as usize {
            return Err(Failure::invalid(format!(
                "a model of {len} bytes is larger than any object can be"
            )));
        }
        // SAFETY: non-NULL, `len` readable bytes by the caller's contract, and `len`
        // fits in isize.
        let bytes = unsafe { std::slice::from_raw_parts(bytes, len) };
        let model = Model::from_bytes(bytes, "(model in memory)")?;
        *model_out = LoadedModel::new(model).into_handle();
        Ok(())
    })
}

/// Frees a model. NULL is accepted and does nothing.
///
/// # Safety
/// `model` is NULL or a model from `mrbcr_model_load`/`mrbcr_model_from_bytes` that has
/// not been freed, and that no other thread is using. Strings borrowed from it
/// (metadata) are invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_free(model: *mut mrbcr_model) {
    guard_value((), || {
        if !model.is_null() {
            // SAFETY: a handle made by into_handle (Box::into_raw), freed once.
            drop(unsafe { Box::from_raw(model.cast::<LoadedModel>()) });
        }
    })
}

/// The number of metadata entries of a model (at least the 7 standard keys).
///
/// Metadata are (key, value) strings. The standard keys come first, always present
/// (an unknown value is empty): `name`, `description`, `input_normalization` (how the
/// weights expect inputs to be scaled: `per-tile-minmax` or `percentile:LOW:HIGH`),
/// `train_patch_size` (decimal, or empty), `provenance`, `license`, `created_by`,
/// `tile_overlap` (the overlap measured for the model, decimal, or empty). Any
/// other key of the file follows, in sorted order.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `model` is NULL or a valid model; `count_out` is NULL or points to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_metadata_count(
    model: *const mrbcr_model,
    count_out: *mut usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let model = unsafe { LoadedModel::from_handle(model) }?;
        // SAFETY: NULL or writable, by the caller's contract.
        *unsafe { non_null_mut(count_out, "count_out") }? = model.metadata.len();
        Ok(())
    })
}

/// The key of metadata entry `index` (0 to count - 1, see
/// `mrbcr_model_metadata_count`), for listing every entry.
///
/// `*key_out` receives a NUL-terminated string owned by the model: valid until the
/// model is freed, never to be freed by the caller.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL;
/// `MRBCR_STATUS_INVALID_INPUT` if `index` is not below the count.
///
/// # Safety
/// `model` is NULL or a valid model; `key_out` is NULL or points to writable memory for
/// a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_metadata_key(
    model: *const mrbcr_model,
    index: usize,
    key_out: *mut *const c_char,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let model = unsafe { LoadedModel::from_handle(model) }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let key_out = unsafe { non_null_mut(key_out, "key_out") }?;
        let (key, _) = model.metadata.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "metadata index {index} is out of range: the model has {} entries",
                model.metadata.len()
            ))
        })?;
        *key_out = key.as_ptr().cast();
        Ok(())
    })
}

/// The value of the metadata entry `key` (see `mrbcr_model_metadata_count` for the
/// keys).
///
/// `*value_out` receives a NUL-terminated string owned by the model: valid until the
/// model is freed, never to be freed by the caller. If `value_len_out` is not NULL,
/// `*value_len_out` receives the value's length in bytes, without the NUL (a value
/// may itself contain NUL bytes: the length is then the whole value).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `model`, `key` or `value_out` is NULL;
/// `MRBCR_STATUS_INVALID_INPUT` if the model has no entry `key` (the standard keys are
/// always there).
///
/// # Safety
/// `model` is NULL or a valid model; `key` is NULL or a NUL-terminated string;
/// `value_out` is NULL or points to writable memory for a pointer; `value_len_out` is
/// NULL or points to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_model_metadata(
    model: *const mrbcr_model,
    key: *const c_char,
    value_out: *mut *const c_char,
    value_len_out: *mut usize,
) -> super::mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let model = unsafe { LoadedModel::from_handle(model) }?;
        require_non_null(key, "key")?;
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let key = unsafe { CStr::from_ptr(key) };
        // SAFETY: NULL or writable, by the caller's contract.
        let value_out = unsafe { non_null_mut(value_out, "value_out") }?;
        let (_, value) = model
            .metadata
            .iter()
            .find(|(k, _)| k.as_slice() == key.to_bytes_with_nul())
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "the model has no metadata entry '{}'",
                    key.to_string_lossy()
                ))
            })?;
        *value_out = value.as_ptr().cast();
        // SAFETY: NULL or writable, by the caller's contract.
        if let Some(len) = unsafe { value_len_out.as_mut() } {
            *len = value.len() - 1;
        }
        Ok(())
    })
}
