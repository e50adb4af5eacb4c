//! `mrbcr deconvolve` streams a stack through memory a chunk of planes at a time
//! (issue 12: a 200-plane stack under a 2 GB limit aborted, because the whole stack
//! and its whole output were held before the work started). The tool runs as a child
//! process on a generated 200-plane 16-bit stack of 1 GB (1600 x 1600 pixels, whose
//! 32-bit float result is 2 GB) with `--memory-limit 512`; its peak resident memory,
//! as the kernel counts it (`wait4`'s `ru_maxrss`), stays below the limit, far below
//! the stack. The run is stopped with Ctrl-C once several planes' results are in the
//! output's temporary file (reading, deconvolving and writing have all streamed past
//! the first chunk; the whole stack would take half an hour on two cores), which
//! leaves neither the output nor the temporary file.
#![cfg(unix)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mrbcr::formats::tiff::{write_tiff_planes, TiffMetadata};
use mrbcr::{ImageStack, PixelType, Pixels, StackLayout};

const SIDE: usize = 1600;
const PLANES: usize = 200;
const LIMIT_MIB: u64 = 512;

/// A directory removed with everything in it when the test ends, passed or failed.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The names of the files in `dir`, sorted (hidden temporary files included).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes the 1 GB input a plane at a time (this test's own memory stays small too).
fn write_big_stack(path: &Path) {
    let layout = StackLayout {
        width: SIDE,
        height: SIDE,
        planes: PLANES,
        pixel_type: PixelType::U16,
    };
    write_tiff_planes(path, layout, &TiffMetadata::default(), |writer| {
        for p in 0..PLANES {
            let values = (0..SIDE * SIDE)
                .map(|i| {
                    let (y, x) = (i / SIDE, i % SIDE);
                    (1000 + (x * 7 + y * 13 + p * 101) % 3000 + ((x / 40 + y / 40) % 2) * 2000)
                        as u16
                })
                .collect();
            writer.write_planes(&ImageStack::new(SIDE, SIDE, 1, Pixels::U16(values))?)?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_stack_larger_than_the_memory_limit_streams_through_it() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("mrbcr-stream-memory-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let input = dir.0.join("big.tif");
    write_big_stack(&input);
    let stack_bytes = std::fs::metadata(&input).unwrap().len();
    assert!(stack_bytes > 1_000_000_000, "{stack_bytes}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_mrbcr"))
        .arg("deconvolve")
        .arg(&input)
        .arg("-o")
        .arg(dir.0.join("out.tif"))
        .args(["--memory-limit", &LIMIT_MIB.to_string()])
        .args([
            "--tile",
            "256",
            "--overlap",
            "32",
            "--threads",
            "2",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;

    // Wait for the results of 3 planes (32-bit float) in the temporary output file.
    let written_enough = (3 * SIDE * SIDE * 4) as u64;
    loop {
        let temp = files_in(&dir.0)
            .into_iter()
            .find(|n| n.starts_with(".out.tif.") && n.ends_with(".partial"));
        let size = temp.map_or(0, |n| {
            std::fs::metadata(dir.0.join(n)).map_or(0, |m| m.len())
        });
        if size >= written_enough {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the run ended ({status}) before 3 planes were written: {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // SAFETY: signalling our own child, which has not been waited for; then reaping it
    // with plain out-parameters.
    let (status, usage) = unsafe {
        libc::kill(pid, libc::SIGINT);
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut usage), pid);
        (status, usage)
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 130,
        "status {status}: {err}"
    );
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(files_in(&dir.0), ["big.tif"], "the run left files behind");

    // Linux counts ru_maxrss in KiB.
    let peak = usage.ru_maxrss as u64 * 1024;
    eprintln!(
        "peak RSS {} MiB for a {} MiB stack, limit {LIMIT_MIB} MiB",
        peak >> 20,
        stack_bytes >> 20
    );
    assert!(
        peak < LIMIT_MIB << 20,
        "peak RSS {} MiB, above the {LIMIT_MIB} MiB limit",
        peak >> 20
    );
    assert!(peak < stack_bytes / 2);
}
