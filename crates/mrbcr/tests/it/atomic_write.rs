//! Output files are written atomically and safely by every writer (TIFF images, model
//! files, the shared helper the training checkpoints use): symbolic links planted at
//! temporary names are not followed, devices and FIFOs are refused and left alone, and
//! a failed write leaves the target as it was and no temporary file behind.

#![cfg(unix)]

use std::path::{Path, PathBuf};

use mrbcr::formats::atomic_write::{write_atomically, write_bytes_atomically};
use mrbcr::formats::model_file::{load_model, save_model};
use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::network::Weights;
use mrbcr::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-atomic-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn small_stack() -> ImageStack {
    ImageStack::new(3, 2, 1, Pixels::U16(vec![1, 2, 3, 4, 5, 6])).unwrap()
}

/// The names of the files in `dir`.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Symbolic links to `victim` at every temporary name the earlier writers used for
/// `target` in this process: `.NAME.PID.partial` (TIFF), `.NAME.PID-N.tmp` (model
/// files) and `NAME.partial` (checkpoints).
fn plant_links(target: &Path, victim: &Path) -> Vec<PathBuf> {
    let dir = target.parent().unwrap();
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let pid = std::process::id();
    let mut names = vec![format!(".{name}.{pid}.partial"), format!("{name}.partial")];
    names.extend((0..64).map(|n| format!(".{name}.{pid}-{n}.tmp")));
    names
        .into_iter()
        .map(|n| {
            let link = dir.join(n);
            std::os::unix::fs::symlink(victim, &link).unwrap();
            link
        })
        .collect()
}

#[test]
fn planted_symlinks_are_not_followed() {
    let dir = temp_dir("links");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();

    let image = dir.join("out.tif");
    let links = plant_links(&image, &victim);
    write_tiff(&image, &small_stack(), &TiffMetadata::default()).unwrap();
    assert_eq!(read_tiff(&image).unwrap().stack, small_stack());

    let model = dir.join("model.safetensors");
    let links2 = plant_links(&model, &victim);
    let weights = Weights::initialize(1);
    save_model(&model, &weights, &ModelMetadata::new("test")).unwrap();
    assert_eq!(load_model(&model).unwrap().0, weights);

    let state = dir.join("state.bin");
    let links3 = plant_links(&state, &victim);
    write_bytes_atomically(&state, b"state").unwrap();
    assert_eq!(std::fs::read(&state).unwrap(), b"state");

    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    for link in links.iter().chain(&links2).chain(&links3) {
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A FIFO at `path`.
fn fifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that lives across the call; mkfifo only
    // reads it.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A character device like /dev/null (1, 3) at `path`, when this process may create
/// one (as root); else the real /dev/null.
fn null_device(dir: &Path) -> PathBuf {
    let path = dir.join("null");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that lives across the call; mknod only
    // reads it.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    if made == 0 {
        path
    } else {
        PathBuf::from("/dev/null")
    }
}

fn is_special(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    t.is_fifo() || t.is_char_device()
}

#[test]
fn devices_fifos_and_directories_are_refused_and_left_alone() {
    let dir = temp_dir("special");
    let pipe = dir.join("pipe");
    fifo(&pipe);
    let null = null_device(&dir);
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let link_to_null = dir.join("link-to-null");
    std::os::unix::fs::symlink(&null, &link_to_null).unwrap();
    let weights = Weights::initialize(1);
    for (target, kind) in [
        (&pipe, "a FIFO"),
        (&null, "a character device"),
        (&link_to_null, "a character device"),
        (&sub, "a directory"),
    ] {
        let errors = [
            write_tiff(target, &small_stack(), &TiffMetadata::default()).unwrap_err(),
            save_model(target, &weights, &ModelMetadata::new("test")).unwrap_err(),
            write_bytes_atomically(target, b"x").unwrap_err(),
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(matches!(e, Error::InvalidInput(_)), "{msg}");
            assert!(
                msg.contains(&target.display().to_string())
                    && msg.contains(kind)
                    && msg.contains("not a regular file"),
                "{msg}"
            );
        }
    }
    assert!(is_special(&pipe) && is_special(&null));
    assert!(sub.is_dir() && std::fs::read_dir(&sub).unwrap().next().is_none());
    assert!(
        listing(&dir).iter().all(|n| !n.contains("partial")),
        "{:?}",
        listing(&dir)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_write_leaves_the_target_and_no_temporary_file() {
    let dir = temp_dir("fail");
    let target = dir.join("out.tif");
    std::fs::write(&target, b"the old content").unwrap();
    let before = listing(&dir);

    let e = write_atomically(&target, |f| {
        use std::io::Write;
        f.write_all(b"half of the new").unwrap();
        Err(Error::InvalidInput("the writer failed".into()))
    })
    .unwrap_err();
    assert!(e.to_string().contains("the writer failed"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), b"the old content");
    assert_eq!(listing(&dir), before);

    // A writer that panics: the temporary file goes too.
    let panicked = std::panic::catch_unwind(|| {
        write_atomically(&target, |_| panic!("writer panicked")).unwrap();
    });
    assert!(panicked.is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"the old content");
    assert_eq!(listing(&dir), before);

    // A write that works replaces the content.
    write_bytes_atomically(&target, b"new").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    assert_eq!(listing(&dir), before);

    // A directory that does not exist: an error naming the target, nothing created.
    let missing = dir.join("no-such-dir").join("out.tif");
    let e = write_bytes_atomically(&missing, b"x").unwrap_err();
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    assert_eq!(listing(&dir), before);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_read_only_directory_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("readonly");
    let target = dir.join("out.tif");
    std::fs::write(&target, b"old").unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions: then the write simply works.
    let result = write_tiff(&target, &small_stack(), &TiffMetadata::default());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if let Err(e) = result {
        assert!(e.to_string().contains("out.tif"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
    }
    assert_eq!(listing(&dir), ["out.tif"]);
    std::fs::remove_dir_all(dir).unwrap();
}
