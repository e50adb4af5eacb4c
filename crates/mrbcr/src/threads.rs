//! How many worker threads a run may start: the one rule every front end's thread
//! count goes through (`--threads`, the C ABI's `threads` fields, Python, Fiji).
//!
//! `0` means one thread per core. More threads than cores only help a little (a core
//! that waits for memory), and thousands spend minutes starting, so a request above
//! [`MAX_THREADS_PER_CORE`] times the cores is refused with a message that names the
//! limit, instead of being honoured or silently changed.

use crate::error::{Error, Result};

/// Largest number of worker threads per core a run accepts.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The thread count that asks for one thread per core: every run's default
/// (deconvolution, training).
pub const EVERY_CORE: usize = 0;

/// The cores this process may use (1 if the system cannot tell).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The largest thread count a run accepts on this machine.
pub fn max_worker_threads() -> usize {
    MAX_THREADS_PER_CORE * available_cores()
}

/// The worker threads of a run asked for `requested` (`0`: one per core).
///
/// # Errors
/// [`Error::InvalidInput`] naming the request and the limit if `requested` exceeds
/// [`max_worker_threads`].
pub fn worker_threads(requested: usize) -> Result<usize> {
    if requested == EVERY_CORE {
        return Ok(available_cores());
    }
    let limit = max_worker_threads();
    if requested > limit {
        return Err(Error::InvalidInput(format!(
            "{requested} worker threads is too many: at most {limit} ({MAX_THREADS_PER_CORE} per core \
             on this machine's {} cores); 0 uses one per core",
            available_cores()
        )));
    }
    Ok(requested)
}

/// Runs `work` on a thread pool of its own with the worker threads asked for by
/// `requested` (see [`worker_threads`]; `pool.current_num_threads()` tells how many).
/// The pool's threads have ended when this returns, so a host may unload the library
/// right after the call: the one way every run of the library starts its workers.
///
/// # Errors
/// [`Error::InvalidInput`] if `requested` is above the limit or the threads cannot be
/// started (the message names the count).
pub fn with_worker_pool<R>(
    requested: usize,
    work: impl FnOnce(&rayon::ThreadPool) -> R,
) -> Result<R> {
    let threads = worker_threads(requested)?;
    std::thread::scope(|scope| {
        // Not rayon's `build_scoped`, which leaves its threads to the scope (see
        // `join_thread`).
        let mut handles = Vec::with_capacity(threads);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .spawn_handler(|thread| {
                handles.push(std::thread::Builder::new().spawn_scoped(scope, || thread.run())?);
                Ok(())
            })
            .build()
            .map_err(|e| {
                Error::InvalidInput(format!("cannot start {threads} worker threads: {e}"))
            })?;
        let result = work(&pool);
        drop(pool);
        handles.into_iter().for_each(join_thread);
        Ok(result)
    })
}

/// Waits for a scoped thread to end, re-raising its panic on this thread. A thread left
/// to its scope is detached once its closure returns and may still be exiting when the
/// caller (or the process) goes on; every thread the library starts is joined here.
pub(crate) fn join_thread<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
