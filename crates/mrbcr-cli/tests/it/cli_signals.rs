//! The command-line tool under signals: Ctrl-C at any moment leaves the result
//! complete or absent and no hidden temporary file; a closed pipe ends it quietly.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::{ImageStack, Pixels};

fn mrbcr() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mrbcr"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-signals-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The names in `dir` other than `input.tif`, sorted.
fn other_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "input.tif")
        .collect();
    names.sort();
    names
}

const SIDE: usize = 1024;
const PLANES: usize = 12;

/// A Wiener run on a 12-plane 1024 x 1024 stack, whose 48 MiB float result takes a
/// good share of the run to write.
fn wiener(dir: &Path) -> Command {
    let mut c = mrbcr();
    c.arg("wiener")
        .arg(dir.join("input.tif"))
        .arg("-o")
        .arg(dir.join("out.tif"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn ctrl_c_at_any_moment_leaves_a_whole_result_or_none_and_no_temporary_file() {
    let dir = temp_dir("ctrl-c");
    let values: Vec<u16> = (0..SIDE * SIDE * PLANES)
        .map(|i| (100 + (i * 7919) % 900) as u16)
        .collect();
    let stack = ImageStack::new(SIDE, SIDE, PLANES, Pixels::U16(values)).unwrap();
    write_tiff(&dir.join("input.tif"), &stack, &TiffMetadata::default()).unwrap();

    // An uninterrupted run: its duration, and the result to compare with.
    let start = Instant::now();
    let out = wiener(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = start.elapsed();
    let whole = std::fs::read(dir.join("out.tif")).unwrap();
    std::fs::remove_file(dir.join("out.tif")).unwrap();

    let mut interrupted = 0;
    for k in 1..=12 {
        let delay = full.mul_f64(k as f64 / 13.0);
        let child = wiener(&dir).spawn().unwrap();
        std::thread::sleep(delay);
        // SAFETY: sending a signal to our own child, which is alive until waited for.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let files = other_files(&dir);
        if out.status.success() {
            // Finished before the signal: the whole result.
            assert_eq!(files, ["out.tif"], "after {delay:?}");
            assert!(std::fs::read(dir.join("out.tif")).unwrap() == whole);
            std::fs::remove_file(dir.join("out.tif")).unwrap();
            continue;
        }
        interrupted += 1;
        assert_eq!(out.status.code(), Some(130), "after {delay:?}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        match files.as_slice() {
            [] => {}
            // The signal came after the rename: the result is whole.
            [name] if name == "out.tif" => {
                assert!(std::fs::read(dir.join("out.tif")).unwrap() == whole);
                std::fs::remove_file(dir.join("out.tif")).unwrap();
            }
            other => panic!("after {delay:?}, left behind: {other:?}"),
        }
    }
    assert!(
        interrupted >= 6,
        "only {interrupted} of 12 runs were interrupted"
    );
    let back = read_tiff(&dir.join("input.tif")).unwrap();
    assert_eq!(back.stack, stack, "the input was changed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_pipe_ends_the_tool_quietly() {
    // `mrbcr info | true`: the reader is gone before the first line is written.
    let mut child = mrbcr()
        .arg("info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "mrbcr info did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{stderr}");
}
