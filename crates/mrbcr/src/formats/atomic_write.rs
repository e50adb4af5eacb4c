//! Writing a file so that it appears complete or not at all: the one helper every
//! writer of the crate (model files, TIFF images, training checkpoints) goes through.
//!
//! The bytes go to a fresh temporary file in the target's directory (so the final
//! rename stays within one file system and is atomic), which is synced and then
//! renamed over the target. The temporary file:
//!
//! - is created with `O_CREAT | O_EXCL` (and, on Unix, `O_NOFOLLOW`): a file or a
//!   symbolic link planted at its name makes the creation fail instead of being
//!   written through, so a shared folder cannot redirect the write to another file;
//! - has a name nobody can predict (`.NAME.PID-COUNTER-RANDOM.partial`), and another
//!   is tried if it exists anyway;
//! - is removed on every error, and when the writing code panics (a guard's `Drop`).
//!
//! A target that exists and is not a regular file (a device such as `/dev/null`, a
//! FIFO, a directory, a socket) is refused: the rename would replace the node itself.
//!
//! The temporary files being written are listed process-wide, so that a program
//! stopped by a signal (Ctrl-C) can remove them before it exits
//! ([`abandon_unfinished_writes`]) instead of leaving hidden full-size files behind.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// How many fresh names are tried before giving up when each already exists (which,
/// with a random part in every name, only happens when someone plants files on
/// purpose).
const ATTEMPTS: usize = 16;

/// The temporary files of this process's writes in progress. A temporary file is
/// created and listed under the lock, so while the lock is held, none exists that is
/// not listed.
static UNFINISHED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// The list of unfinished writes (a panic elsewhere while it was held does not make
/// it unusable: each change to it is a single insert or remove).
fn unfinished() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// For a program about to exit on a signal: removes the temporary file of every write
/// in progress in this process, and keeps any other write from starting (a write
/// that starts afterwards waits forever, so call this only right before exiting).
/// Targets are untouched: each holds its old content or a complete new one.
pub fn abandon_unfinished_writes() {
    let list = unfinished();
    for temp in list.iter() {
        let _ = std::fs::remove_file(temp);
    }
    // Held until the process exits.
    std::mem::forget(list);
}

/// Writes `path` atomically: `write` fills a new temporary file beside it, which is
/// then synced to disk and renamed over `path`. An existing regular file at `path` is
/// replaced; after any error, `path` is as it was and no temporary file is left.
///
/// # Errors
/// [`Error::InvalidInput`] if `path` exists and is not a regular file (a device, a
/// FIFO, a directory); [`Error::Io`] naming `path` if the temporary file cannot be
/// created, written, synced or renamed; any error `write` returns.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    check_target(path)?;
    let (mut file, mut temp) = create_temp_beside(path)?;
    write(&mut file)?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    drop(file);
    std::fs::rename(&temp.path, path).map_err(|e| Error::io(path, e))?;
    temp.renamed = true;
    Ok(())
}

/// [`write_atomically`] with the file's whole content in memory.
///
/// # Errors
/// As [`write_atomically`].
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |f| f.write_all(bytes).map_err(|e| Error::io(path, e)))
}

/// True if `a` and `b` name the same file: an existing file through any path (links,
/// `.` and `..` resolved), or the same path. Writers check it to never write over
/// their input.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Refuses a target that exists and is not a regular file (after following symbolic
/// links: a link to a device is refused like the device).
fn check_target(path: &Path) -> Result<()> {
    let kind = match std::fs::metadata(path) {
        Ok(m) => m.file_type(),
        // Nothing there (or a dangling link, which the rename replaces): a new file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_kind(&kind)
    };
    Err(Error::InvalidInput(format!(
        "{} is {what}, not a regular file: output is written only to regular files \
         (replacing them) or to new names",
        path.display()
    )))
}

/// The name of a kind of special file.
#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// The name of a kind of special file.
#[cfg(not(unix))]
fn special_kind(_kind: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// A temporary file that is removed when dropped, unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let mut list = unfinished();
        if !self.renamed {
            // Best effort: the file was created by us, in a directory we could write.
            let _ = std::fs::remove_file(&self.path);
        }
        list.remove(&self.path);
    }
}

/// Creates a new temporary file in `path`'s directory, under a fresh name.
fn create_temp_beside(path: &Path) -> Result<(File, TempFile)> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let temp = temp_name(path);
        let mut list = unfinished();
        match create_exclusive(&temp) {
            Ok(file) => {
                list.insert(temp.clone());
                return Ok((
                    file,
                    TempFile {
                        path: temp,
                        renamed: false,
                    },
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let e = last.expect("at least one attempt was made");
    Err(Error::io(
        path,
        std::io::Error::new(
            e.kind(),
            format!(
                "no temporary file could be created beside it ({ATTEMPTS} fresh names all existed)"
            ),
        ),
    ))
}

/// Creates `path` as a new file: fails if anything, a symbolic link included, is
/// already there.
fn create_exclusive(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    options.open(path)
}

/// A fresh name beside `path`: `.NAME.PID-COUNTER-RANDOM.partial`.
fn temp_name(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // std's RandomState is seeded from the operating system's random source.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(n);
    let random = hasher.finish();
    let file = path
        .file_name()
        .map_or_else(|| "out".into(), |f| f.to_string_lossy().into_owned());
    let name = format!(".{file}.{}-{n}-{random:016x}.partial", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_fresh_and_in_the_targets_directory() {
        let a = temp_name(Path::new("/some/dir/out.tif"));
        let b = temp_name(Path::new("/some/dir/out.tif"));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/some/dir")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".out.tif.") && name.ends_with(".partial"),
            "{name}"
        );
        assert_eq!(
            temp_name(Path::new("out.tif")).parent(),
            Some(Path::new(""))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_temporary_name_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("mrbcr-atomic-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let planted = dir.join("planted");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let e = create_exclusive(&planted).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        // A dangling link is not followed either (it would create the file it names).
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("created-through-link"), &dangling).unwrap();
        assert!(create_exclusive(&dangling).is_err());
        assert!(!dir.join("created-through-link").exists());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
