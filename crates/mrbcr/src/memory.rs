//! Memory the library asks for before it takes it: what the system can give, and
//! buffers allocated fallibly, so that running out is an [`Error::OutOfMemory`] the
//! host program sees as a status, an exception or `MemoryError`, never an abort.

use crate::error::{Error, Result};

/// The memory the system can give without swapping (Linux `MemAvailable`), if known.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `n` copies of `value`, or [`Error::OutOfMemory`] naming `task` if the allocation
/// fails.
///
/// # Errors
/// [`Error::OutOfMemory`] if the memory cannot be had.
pub fn filled_vec<T: Clone>(n: usize, value: T, task: impl FnOnce() -> String) -> Result<Vec<T>> {
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return Err(Error::OutOfMemory {
            task: task(),
            needed: (n as u64).saturating_mul(std::mem::size_of::<T>() as u64),
            available: available_memory(),
        });
    }
    v.resize(n, value);
    Ok(v)
}
