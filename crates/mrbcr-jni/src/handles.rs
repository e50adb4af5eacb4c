//! Model handles given to Java: the address of an `Arc<Model>`, checked against the
//! set of live handles before every use.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use jni::sys::jlong;

use super::{invalid, NativeResult};
use mrbcr::model::Model;

/// The handles given to Java and not yet freed.
static LIVE_HANDLES: Mutex<BTreeSet<jlong>> = Mutex::new(BTreeSet::new());

/// The live set (a panic while it was held cannot leave it inconsistent: every
/// change is one insert or remove).
fn live_handles() -> MutexGuard<'static, BTreeSet<jlong>> {
    LIVE_HANDLES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Gives a model to Java: its handle, never zero.
pub fn register(model: Model) -> jlong {
    let handle = Arc::into_raw(Arc::new(model)) as jlong;
    live_handles().insert(handle);
    handle
}

/// The model of a live handle, shared (so freeing the handle meanwhile is safe).
///
/// # Errors
/// [`mrbcr::Error::InvalidInput`] for zero or a handle that is not live.
pub fn model(handle: jlong) -> NativeResult<Arc<Model>> {
    let live = live_handles();
    check_live(&live, handle)?;
    let pointer = handle as *const Model;
    // SAFETY: a live handle comes from `Arc::into_raw` in `register`, and its strong
    // count the handle owns is only given back in `release`, under this same lock,
    // which is held here: the count stays at least one while it is incremented.
    unsafe {
        Arc::increment_strong_count(pointer);
        Ok(Arc::from_raw(pointer))
    }
}

/// Frees a handle; zero does nothing.
///
/// # Errors
/// [`mrbcr::Error::InvalidInput`] for a handle that is not live (freed already).
pub fn release(handle: jlong) -> NativeResult<()> {
    if handle == 0 {
        return Ok(());
    }
    let mut live = live_handles();
    check_live(&live, handle)?;
    live.remove(&handle);
    drop(live);
    // SAFETY: the handle was live, so it came from `Arc::into_raw` in `register` and
    // still owns one strong count; it was just removed from the live set, so this is
    // the only place that gives that count back.
    drop(unsafe { Arc::from_raw(handle as *const Model) });
    Ok(())
}

/// Checks that `handle` is live.
fn check_live(live: &BTreeSet<jlong>, handle: jlong) -> NativeResult<()> {
    if handle == 0 {
        Err(invalid("the model handle is null (no model loaded)"))
    } else if !live.contains(&handle) {
        Err(invalid(format!(
            "the model handle {handle:#x} is not a loaded model (freed already?)"
        )))
    } else {
        Ok(())
    }
}
