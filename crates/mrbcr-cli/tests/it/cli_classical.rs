//! The classical commands run as a user runs them: `psf`, `simulate`, `rl`, `wiener`
//! and `eval` write what they say, agree with the library, and refuse bad input with
//! a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mrbcr::formats::tiff::read_tiff;
use mrbcr::{ImageStack, PixelType, Pixels};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-cli-classical-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mrbcr(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mrbcr"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = mrbcr(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(dir: &Path, args: &[&str], expected: &str) {
    let out = mrbcr(dir, args);
    assert_eq!(out.status.code(), Some(1), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("mrbcr: ") && err.contains(expected),
        "expected '{expected}' in: {err}"
    );
}

fn floats(s: &ImageStack) -> &[f32] {
    match s.pixels() {
        Pixels::F32(v) => v,
        other => panic!("expected 32-bit float, got {:?}", other.pixel_type()),
    }
}

#[test]
fn psf_simulate_deconvolve_and_score() {
    let dir = temp_dir("flow");
    ok(
        &dir,
        &[
            "psf",
            "--na",
            "1.3",
            "--wavelength",
            "600",
            "--pixel-size",
            "80",
            "--psf-size",
            "33",
            "-o",
            "psf.tif",
        ],
    );
    let psf = read_tiff(&dir.join("psf.tif")).unwrap().stack;
    assert_eq!((psf.width(), psf.height(), psf.planes()), (33, 33, 1));
    let p = floats(&psf);
    assert!((p.iter().map(|&v| f64::from(v)).sum::<f64>() - 1.0).abs() < 1e-4);
    let peak = p.iter().copied().fold(0.0, f32::max);
    assert_eq!(p[16 * 33 + 16], peak, "the PSF peaks off centre");

    ok(
        &dir,
        &[
            "simulate", "-o", "sim", "--count", "2", "--seed", "3", "--size", "64",
        ],
    );
    ok(
        &dir,
        &[
            "simulate", "-o", "again", "--count", "2", "--seed", "3", "--size", "64",
        ],
    );
    for name in [
        "0000_raw.tif",
        "0001_raw.tif",
        "0000_truth.tif",
        "0001_truth.tif",
    ] {
        let a = std::fs::read(dir.join("sim").join(name)).unwrap();
        assert_eq!(
            a,
            std::fs::read(dir.join("again").join(name)).unwrap(),
            "{name} differs for one seed"
        );
    }
    let raw = read_tiff(&dir.join("sim/0000_raw.tif")).unwrap().stack;
    assert_eq!(
        (raw.width(), raw.height(), raw.pixel_type()),
        (64, 64, PixelType::U16)
    );
    let truth = read_tiff(&dir.join("sim/0000_truth.tif")).unwrap().stack;
    assert_eq!(truth.pixel_type(), PixelType::F32);

    let before = std::fs::read(dir.join("sim/0000_raw.tif")).unwrap();
    for method in [
        &["rl", "--iterations", "10"][..],
        &["wiener", "--nsr", "0.02"][..],
    ] {
        let out = format!("{}.tif", method[0]);
        let mut args = method.to_vec();
        args.extend([
            "sim/0000_raw.tif",
            "--psf",
            "psf.tif",
            "--offset",
            "100",
            "-o",
            &out,
        ]);
        ok(&dir, &args);
        let restored = read_tiff(&dir.join(&out)).unwrap().stack;
        assert_eq!((restored.width(), restored.height()), (64, 64));
        assert!(floats(&restored).iter().all(|v| v.is_finite()), "{out}");
    }
    assert_eq!(
        std::fs::read(dir.join("sim/0000_raw.tif")).unwrap(),
        before,
        "the input changed"
    );

    let table = ok(
        &dir,
        &[
            "eval",
            "--truth",
            "sim/0000_truth.tif",
            "--truth",
            "sim/0000_truth.tif",
            "rl.tif",
            "wiener.tif",
        ],
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].contains("PSNR (dB)") && lines[0].contains("SSIM"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("rl.tif")
            && lines[2].starts_with("wiener.tif")
            && lines[3].starts_with("mean"),
        "{table}"
    );
    for line in &lines[1..4] {
        let fields: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap())
            .collect();
        assert!(
            fields[0] > 10.0 && fields[0] < 80.0 && fields[1] > 0.0 && fields[1] <= 1.0,
            "{line}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn classical_commands_refuse_bad_input() {
    let dir = temp_dir("bad");
    fails(
        &dir,
        &["psf", "--na", "2.0", "-o", "p.tif"],
        "the numerical aperture (2) cannot exceed the immersion refractive index (1.515)",
    );
    assert!(!dir.join("p.tif").exists());
    ok(
        &dir,
        &["simulate", "-o", "sim", "--count", "1", "--size", "32"],
    );
    fails(
        &dir,
        &["rl", "sim/0000_raw.tif", "-o", "sim/0000_raw.tif"],
        "refusing to overwrite the input",
    );
    fails(
        &dir,
        &["wiener", "missing.tif", "-o", "w.tif"],
        "missing.tif",
    );
    fails(
        &dir,
        &[
            "eval",
            "--truth",
            "sim/0000_truth.tif",
            "sim/0000_raw.tif",
            "sim/0000_truth.tif",
        ],
        "1 ground-truth files for 2 outputs",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_quality_real_scores_every_image_and_method_and_writes_pictures() {
    let dir = temp_dir("bench-real");
    // A 96 x 96 "real" image of blobs and thin lines, pixels of 65 nm.
    let values: Vec<f32> = (0..96 * 96)
        .map(|i| {
            let (y, x) = ((i / 96) as f32, (i % 96) as f32);
            let blob = (-((y - 40.0).powi(2) + (x - 50.0).powi(2)) / 120.0).exp();
            let line = if (i % 96 + 2 * (i / 96)) % 23 == 0 {
                0.6
            } else {
                0.0
            };
            blob + line
        })
        .collect();
    let stack = ImageStack::new(96, 96, 1, Pixels::F32(values)).unwrap();
    mrbcr::formats::tiff::write_tiff(
        &dir.join("cells.tif"),
        &stack,
        &mrbcr::formats::tiff::TiffMetadata::default(),
    )
    .unwrap();
    std::fs::write(dir.join("list.tsv"), "cells.tif\t65\tall\tCC0\ttest\n").unwrap();
    let out = ok(
        &dir,
        &[
            "bench-quality",
            "--real",
            ".",
            "--real-list",
            "list.tsv",
            "--max-iterations",
            "8",
            "--pictures",
            "pictures",
        ],
    );
    // One row per microscope, a mean row per method.
    assert_eq!(out.matches("| cells.tif (plane 0) |").count(), 3, "{out}");
    assert!(out.contains("Mean over 3 cases"), "{out}");
    for method in [
        "| raw input |",
        "| Wiener |",
        "| Richardson-Lucy |",
        "| <bundled default model> |",
    ] {
        assert!(out.contains(method), "{method} missing: {out}");
    }
    // The raw input is never below itself; Wiener and RL at their best beat it here.
    let mean_psnr = |method: &str| -> f64 {
        let line = out.lines().find(|l| l.starts_with(method)).unwrap();
        line.split('|').nth(2).unwrap().trim().parse().unwrap()
    };
    assert!(
        mean_psnr("| Richardson-Lucy |") > mean_psnr("| raw input |"),
        "{out}"
    );
    // Pictures: truth, raw, Wiener, RL, the model, for each case.
    for k in 0..3 {
        let picture = read_tiff(&dir.join(format!("pictures/case_{k:02}.tif"))).unwrap();
        assert_eq!(picture.stack.planes(), 5);
    }
    fails(&dir, &["bench-quality", "--real", "missing"], "missing");
    std::fs::remove_dir_all(&dir).unwrap();
}
