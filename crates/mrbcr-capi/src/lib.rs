//! The stable C ABI (`include/mrbcr.h`, generated from this module by cbindgen): what
//! C, C++, Python (ctypes) and any other language with a C foreign-function interface
//! call.
//!
//! Shaped like rustls-ffi: opaque handles ([`mrbcr_model`], [`mrbcr_options`]) made
//! and freed by the library, functions named `mrbcr_<object>_<verb>`, a status code
//! ([`mrbcr_status`]) whose numbers never change, and a thread-local message for the
//! last failure ([`mrbcr_last_error_message`]). The conventions every function keeps
//! (ownership, errors, out-parameters, thread safety, versioning) are written once, at
//! the top of the header: see the `header` text in `cbindgen.toml`.
//!
//! Inside, every exported function runs its body in `guard` (or `guard_value`):
//! a panic becomes [`mrbcr_status::Panic`] with its message, never an unwind across
//! the boundary.

mod classical;
mod deconvolve;
#[cfg(test)]
mod header_defaults;
mod model;
mod options;
mod simulate;
mod train;
mod train_options;

pub use classical::{
    mrbcr_psf_compute, mrbcr_psf_model, mrbcr_psf_params, mrbcr_psf_params_free,
    mrbcr_psf_params_new, mrbcr_psf_params_set_defocus_nm, mrbcr_psf_params_set_numerical_aperture,
    mrbcr_psf_params_set_oversampling, mrbcr_psf_params_set_pixel_size_nm,
    mrbcr_psf_params_set_refractive_index, mrbcr_psf_params_set_size,
    mrbcr_psf_params_set_wavelength_nm, mrbcr_richardson_lucy, mrbcr_wiener,
};
pub use deconvolve::{
    mrbcr_deconvolve, mrbcr_deconvolve_defaults, mrbcr_image_in, mrbcr_image_out, mrbcr_pixel_type,
    mrbcr_progress_callback,
};
pub use model::{
    mrbcr_model, mrbcr_model_free, mrbcr_model_from_bytes, mrbcr_model_load, mrbcr_model_metadata,
    mrbcr_model_metadata_count, mrbcr_model_metadata_key, mrbcr_model_new_default,
};
pub use options::{
    mrbcr_options, mrbcr_options_free, mrbcr_options_new, mrbcr_options_set_memory_limit,
    mrbcr_options_set_normalization, mrbcr_options_set_output_range, mrbcr_options_set_overlap,
    mrbcr_options_set_percentiles, mrbcr_options_set_threads, mrbcr_options_set_tile,
    mrbcr_output_range,
};
pub use simulate::{
    mrbcr_score, mrbcr_simulate_pair, mrbcr_simulation_params, mrbcr_simulation_params_free,
    mrbcr_simulation_params_new, mrbcr_simulation_params_set_background_photons,
    mrbcr_simulation_params_set_camera, mrbcr_simulation_params_set_defocus_nm,
    mrbcr_simulation_params_set_numerical_aperture,
    mrbcr_simulation_params_set_out_of_focus_layers, mrbcr_simulation_params_set_oversampling,
    mrbcr_simulation_params_set_peak_photons, mrbcr_simulation_params_set_pixel_size_nm,
    mrbcr_simulation_params_set_psf_size, mrbcr_simulation_params_set_refractive_index,
    mrbcr_simulation_params_set_size, mrbcr_simulation_params_set_wavelength_nm,
};
pub use train::{
    mrbcr_train_progress_callback, mrbcr_train_simulated, mrbcr_train_simulated_defaults,
    mrbcr_train_tiff_pairs, mrbcr_train_tiff_pairs_defaults,
};
pub use train_options::{
    mrbcr_train_options, mrbcr_train_options_free, mrbcr_train_options_get_augmentation,
    mrbcr_train_options_get_batch_size, mrbcr_train_options_get_checkpoint_every,
    mrbcr_train_options_get_init_seed, mrbcr_train_options_get_learning_rate,
    mrbcr_train_options_get_log_every, mrbcr_train_options_get_log_loss,
    mrbcr_train_options_get_patch_size, mrbcr_train_options_get_resume,
    mrbcr_train_options_get_seed, mrbcr_train_options_get_steps, mrbcr_train_options_get_threads,
    mrbcr_train_options_get_validation, mrbcr_train_options_new,
    mrbcr_train_options_set_augmentation, mrbcr_train_options_set_batch_size,
    mrbcr_train_options_set_checkpoint_every, mrbcr_train_options_set_init_default,
    mrbcr_train_options_set_init_model_file, mrbcr_train_options_set_init_seed,
    mrbcr_train_options_set_learning_rate, mrbcr_train_options_set_log_every,
    mrbcr_train_options_set_log_loss, mrbcr_train_options_set_patch_size,
    mrbcr_train_options_set_resume, mrbcr_train_options_set_seed, mrbcr_train_options_set_steps,
    mrbcr_train_options_set_threads, mrbcr_train_options_set_validation,
};

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{self, AssertUnwindSafe};

use mrbcr::Error;

/// The version of the C ABI this library implements. It changes only when a change
/// would break a program compiled against an earlier header: a function's signature
/// or meaning, a struct's layout, an enum value. Adding functions, statuses or
/// options does not change it. Compare it with `mrbcr_abi_version()` at run time to
/// detect a header and a library that do not belong together.
pub const MRBCR_ABI_VERSION: u32 = 1;

/// What a call did. The numbers are fixed forever: new statuses are only ever added
/// at the end, so a caller should treat an unknown nonzero value as a failure.
/// Every failure also sets the thread's last-error message
/// (`mrbcr_last_error_message()`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mrbcr_status {
    /// Success.
    Ok = 0,
    /// A pointer parameter that must not be NULL was NULL.
    NullParameter = 1,
    /// An argument is not acceptable: bad image sizes or strides, an unknown pixel
    /// type, bad options (tile, overlap, normalisation text, percentiles), an image
    /// with NaN or infinite values, input and output memory that overlap.
    InvalidInput = 2,
    /// A file could not be read (missing, unreadable, a directory).
    Io = 3,
    /// A model file is not valid (the message names the file and the tensor).
    ModelFile = 4,
    /// A TensorFlow checkpoint could not be imported.
    Checkpoint = 5,
    /// The progress callback returned 0: the run stopped and the output was zeroed.
    Cancelled = 6,
    /// A bug in mrbcr: it panicked. The message says where. The library stays usable,
    /// but please report it.
    Panic = 7,
    /// An image file (TIFF) cannot be read or written as an image. No function of
    /// this ABI version reads image files; the status is reserved for those to come.
    ImageFile = 8,
    /// The work needs more memory than the system can give; it was refused (before it
    /// started, with the estimate in the message) and nothing was changed.
    OutOfMemory = 9,
    /// A bug in mrbcr that it caught without panicking: a worker thread that ended
    /// without its result, a broken internal invariant. The message says what. The
    /// library stays usable, but please report it.
    Internal = 10,
    /// Training cannot go on: the run diverged (a non-finite loss or weight; a lower
    /// learning rate may help), or the checkpoint in the output directory is damaged,
    /// of another network, or of a run with other settings. The message names the
    /// step, tensor or file.
    Training = 11,
}

/// Why a call failed: the status it returns and the message it leaves.
pub(crate) struct Failure {
    status: mrbcr_status,
    message: String,
}

impl Failure {
    /// An [`mrbcr_status::InvalidInput`] failure.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            status: mrbcr_status::InvalidInput,
            message: format!("invalid input: {}", message.into()),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        // No wildcard arm: a new variant of Error fails to compile here until it has
        // its status (added at the end of mrbcr_status).
        let status = match &error {
            Error::Io { .. } => mrbcr_status::Io,
            Error::ModelFile { .. } => mrbcr_status::ModelFile,
            Error::Checkpoint { .. } => mrbcr_status::Checkpoint,
            Error::ImageFile { .. } => mrbcr_status::ImageFile,
            Error::InvalidInput(_) => mrbcr_status::InvalidInput,
            Error::Cancelled => mrbcr_status::Cancelled,
            Error::OutOfMemory { .. } => mrbcr_status::OutOfMemory,
            Error::Internal(_) => mrbcr_status::Internal,
            Error::Training(_) => mrbcr_status::Training,
        };
        Failure {
            status,
            message: error.to_string(),
        }
    }
}

/// The result of an exported function's body.
pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// [`mrbcr_status::NullParameter`] naming the parameter if `pointer` is NULL; nothing
/// is read through it.
pub(crate) fn require_non_null<T>(pointer: *const T, name: &str) -> FfiResult {
    if pointer.is_null() {
        return Err(Failure {
            status: mrbcr_status::NullParameter,
            message: format!("the parameter '{name}' is NULL"),
        });
    }
    Ok(())
}

/// A reference from a pointer parameter, or [`mrbcr_status::NullParameter`] naming it.
///
/// # Safety
/// `pointer` is NULL or points to a valid `T` that outlives `'a`.
pub(crate) unsafe fn non_null<'a, T>(pointer: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller guarantees the pointer is NULL or valid.
    unsafe { pointer.as_ref() }.ok_or_else(|| Failure {
        status: mrbcr_status::NullParameter,
        message: format!("the parameter '{name}' is NULL"),
    })
}

/// A mutable reference from an out-parameter, or [`mrbcr_status::NullParameter`].
///
/// # Safety
/// `pointer` is NULL or points to a valid, writable `T` that outlives `'a`.
pub(crate) unsafe fn non_null_mut<'a, T>(pointer: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: the caller guarantees the pointer is NULL or valid.
    unsafe { pointer.as_mut() }.ok_or_else(|| Failure {
        status: mrbcr_status::NullParameter,
        message: format!("the parameter '{name}' is NULL"),
    })
}

/// A UTF-8 string from a NUL-terminated string parameter.
///
/// # Safety
/// `pointer` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn utf8_parameter<'a>(pointer: *const c_char, name: &str) -> FfiResult<&'a str> {
    require_non_null(pointer, name)?;
    // SAFETY: not NULL, and NUL-terminated by the caller's contract.
    let text = unsafe { CStr::from_ptr(pointer) };
    text.to_str()
        .map_err(|_| Failure::invalid(format!("the parameter '{name}' is not valid UTF-8")))
}

thread_local! {
    /// The message of the last failed call on this thread, NUL-terminated; empty after
    /// a successful one.
    static LAST_ERROR: RefCell<Vec<u8>> = RefCell::new(vec![0]);
}

/// Stores the thread's last-error message (a NUL inside it ends the C string early).
fn set_last_error(message: &str) {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        last.clear();
        last.extend(message.bytes().map(|b| if b == 0 { b'?' } else { b }));
        last.push(0);
    });
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// Runs an exported function's body: a failure or a panic becomes its status and the
/// thread's last-error message; success clears the message.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> mrbcr_status {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            mrbcr_status::Ok
        }
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            set_last_error(&format!(
                "internal error (a bug in mrbcr, please report it): {}",
                panic_text(payload.as_ref())
            ));
            mrbcr_status::Panic
        }
    }
}

/// Runs the body of an exported function that returns a value rather than a status;
/// a panic gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The library's version, e.g. `"0.1.0"`: a static string, never NULL, never freed.
#[no_mangle]
pub extern "C" fn mrbcr_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the library: `MRBCR_ABI_VERSION` of the header it was built
/// with. A program should check that it equals the `MRBCR_ABI_VERSION` it was
/// compiled with.
#[no_mangle]
pub extern "C" fn mrbcr_abi_version() -> u32 {
    MRBCR_ABI_VERSION
}

/// The message of the last failed call made on this thread: a complete sentence for
/// the end user, naming the file, tensor, parameter or pixel concerned. Empty (`""`)
/// if the thread's last call succeeded or it made none.
///
/// Never NULL. The string belongs to the library and stays valid until the next call
/// of an mrbcr function that returns an `mrbcr_status` on this thread: copy it if you
/// need it later.
#[no_mangle]
pub extern "C" fn mrbcr_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), || {
        // The buffer lives as long as the thread and is only replaced by the next
        // status-returning call on this thread, as documented.
        LAST_ERROR.with(|last| last.borrow().as_ptr().cast())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: mrbcr_last_error_message returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(mrbcr_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("boom at the kernel"));
        assert_eq!(status, mrbcr_status::Panic);
        assert!(
            last_error().contains("boom at the kernel"),
            "{}",
            last_error()
        );
        assert_eq!(guard(|| Ok(())), mrbcr_status::Ok);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn errors_map_to_their_statuses() {
        let status = guard(|| Err(Error::Cancelled.into()));
        assert_eq!(status, mrbcr_status::Cancelled);
        assert_eq!(last_error(), Error::Cancelled.to_string());
        let status = guard(|| Err(Failure::invalid("with a NUL \0 inside")));
        assert_eq!(status, mrbcr_status::InvalidInput);
        assert_eq!(last_error(), "invalid input: with a NUL ? inside");
    }

    #[test]
    fn internal_and_training_errors_have_statuses_of_their_own() {
        let status = guard(|| Err(Error::Internal("a worker stopped".into()).into()));
        assert_eq!((status, status as i32), (mrbcr_status::Internal, 10));
        assert_eq!(
            last_error(),
            "internal error (a bug in mrbcr, please report it): a worker stopped"
        );
        let status = guard(|| Err(Error::Training("the run diverged at step 2".into()).into()));
        assert_eq!((status, status as i32), (mrbcr_status::Training, 11));
        assert_eq!(last_error(), "training failed: the run diverged at step 2");
    }

    #[test]
    fn versions_are_reported() {
        // SAFETY: mrbcr_version returns a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(mrbcr_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(mrbcr_abi_version(), MRBCR_ABI_VERSION);
    }
}
