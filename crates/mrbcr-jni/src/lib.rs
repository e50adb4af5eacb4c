//! The natives of the Fiji/ImageJ plugin (`fiji-plugin/`): the static `native` methods
//! of the Java class `io.github.mrbcr.fiji.MrbcrNative`, over the same Rust API as
//! every other front end (not over the C ABI).
//!
//! | Java method | what |
//! |---|---|
//! | `long loadModel(String path)` | loads a model file; returns a handle |
//! | `long loadDefaultModel()` | the bundled default model; returns a handle |
//! | `void freeModel(long handle)` | releases a handle |
//! | `String[] modelMetadata(long handle)` | the metadata as key, value, key, value, ... |
//! | `String libraryVersion()` | the version of this library |
//! | `String[] deconvolveDefaults()` | the core's deconvolution defaults and normalisation names, as key, value, ... |
//! | `void deconvolve(long handle, Object[] inputPlanes, int inputBits, Object[] outputPlanes, int outputBits, int width, int height, int tile, int overlap, String normalization, String outputRange, int threads, ProgressListener progress)` | deconvolves a stack of planes given as Java arrays |
//!
//! **Handles.** A handle is the address of an `Arc<Model>` given to Java. The bridge
//! keeps the set of live handles, so a zero, unknown or already freed handle is a Java
//! exception rather than a crash, and a model freed while another thread deconvolves
//! with it stays alive until that run ends.
//!
//! **Errors.** Every native runs its body in [`jni::EnvUnowned::with_env`] (which
//! catches panics) and resolves the outcome with [`ThrowMrbcrException`]: a library
//! error becomes an `io.github.mrbcr.fiji.MrbcrException` carrying the library's
//! message (an internal error, [`Error::Internal`], included), a cancelled run an
//! `io.github.mrbcr.fiji.MrbcrCancelledException` (its subclass), a panic an `MrbcrException` saying it is a bug, and an exception thrown by
//! the Java progress listener propagates unchanged. Nothing unwinds into the JVM.

mod deconvolve;
mod defaults;
mod handles;
mod model;

pub use deconvolve::Java_io_github_mrbcr_fiji_MrbcrNative_deconvolve;
pub use defaults::Java_io_github_mrbcr_fiji_MrbcrNative_deconvolveDefaults;
pub use model::{
    Java_io_github_mrbcr_fiji_MrbcrNative_freeModel,
    Java_io_github_mrbcr_fiji_MrbcrNative_libraryVersion,
    Java_io_github_mrbcr_fiji_MrbcrNative_loadDefaultModel,
    Java_io_github_mrbcr_fiji_MrbcrNative_loadModel,
    Java_io_github_mrbcr_fiji_MrbcrNative_modelMetadata,
};

use std::any::Any;
use std::fmt;

use jni::errors::ErrorPolicy;
use jni::objects::{JObjectArray, JString};
use jni::strings::JNIString;
use jni::Env;

use mrbcr::Error;

/// The Java exception class of library errors.
const EXCEPTION_CLASS: &str = "io/github/mrbcr/fiji/MrbcrException";
/// The Java exception class of a cancelled run (a subclass of [`EXCEPTION_CLASS`]).
const CANCELLED_CLASS: &str = "io/github/mrbcr/fiji/MrbcrCancelledException";

/// Why a native failed.
#[derive(Debug)]
pub enum NativeFailure {
    /// The library refused or failed (bad arguments are [`Error::InvalidInput`]).
    Library(Error),
    /// A JNI call failed. If it left a Java exception pending (for example one thrown
    /// by the progress listener), that exception is what Java sees.
    Jni(jni::errors::Error),
}

impl fmt::Display for NativeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeFailure::Library(error) => write!(f, "{error}"),
            NativeFailure::Jni(error) => write!(f, "a JNI call failed: {error}"),
        }
    }
}

impl std::error::Error for NativeFailure {}

impl From<Error> for NativeFailure {
    fn from(error: Error) -> NativeFailure {
        NativeFailure::Library(error)
    }
}

impl From<jni::errors::Error> for NativeFailure {
    fn from(error: jni::errors::Error) -> NativeFailure {
        NativeFailure::Jni(error)
    }
}

/// The result of a native's body.
pub type NativeResult<T> = Result<T, NativeFailure>;

/// An [`Error::InvalidInput`] failure: a bad argument from Java.
fn invalid(message: impl Into<String>) -> NativeFailure {
    NativeFailure::Library(Error::InvalidInput(message.into()))
}

/// A Java `String[]` of `texts`.
fn string_array<'local>(
    env: &mut Env<'local>,
    texts: &[&str],
) -> NativeResult<JObjectArray<'local, JString<'local>>> {
    let array = JObjectArray::<JString>::new(env, texts.len(), JString::null())?;
    for (index, text) in texts.iter().enumerate() {
        let element = env.new_string(text)?;
        array.set_element(env, index, &element)?;
        env.delete_local_ref(element);
    }
    Ok(array)
}

/// The error policy of every native: failures and panics become Java exceptions
/// (see the [module documentation](self)), and the native returns 0 or null.
#[derive(Debug)]
pub struct ThrowMrbcrException;

impl<T: Default> ErrorPolicy<T, NativeFailure> for ThrowMrbcrException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        failure: NativeFailure,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            return Ok(T::default()); // a Java exception is already on its way
        }
        // No wildcard arm for the library's errors: a new variant of Error fails to
        // compile here until it has its Java exception.
        let class = match &failure {
            NativeFailure::Library(Error::Cancelled) => CANCELLED_CLASS,
            NativeFailure::Library(
                Error::Io { .. }
                | Error::ModelFile { .. }
                | Error::Checkpoint { .. }
                | Error::ImageFile { .. }
                | Error::InvalidInput(_)
                | Error::OutOfMemory { .. }
                | Error::Internal(_)
                | Error::Training(_),
            )
            | NativeFailure::Jni(_) => EXCEPTION_CLASS,
        };
        throw(env, class, &failure.to_string());
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let text = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "(no message)".to_owned()
        };
        // The payload is a &str or a String here or dropped as a plain box: no payload
        // of this library panics on drop.
        drop(payload);
        if !env.exception_check() {
            let message = format!("internal error (a bug in mrbcr, please report it): {text}");
            throw(env, EXCEPTION_CLASS, &message);
        }
        Ok(T::default())
    }
}

/// Throws a new exception of `class` with `message`. If that fails (the class cannot
/// be found), the JVM's own error about it is what stays pending.
fn throw(env: &mut Env, class: &str, message: &str) {
    let class = JNIString::from(class);
    let message = JNIString::from(message);
    // `throw_new` reports the exception it threw as `Err(JavaException)`: it is meant
    // to propagate to Java, so the result is not an error here.
    let _thrown = env.throw_new(&class, &message);
}
