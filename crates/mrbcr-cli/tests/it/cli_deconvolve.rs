//! `mrbcr deconvolve` run as a user runs it: TIFF stacks in and out, the same pixels
//! as the library, metadata kept, and every bad input refused with its message and
//! without touching the input or leaving a partial output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mrbcr::formats::model_file::save_model;
use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::formats::tiff::{read_tiff, write_tiff, Resolution, TiffMetadata};
use mrbcr::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-cli-deconv-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The official model written as a model file in `dir`.
fn model_file(dir: &Path) -> PathBuf {
    let (weights, meta) = import_tf_checkpoint(&crate::common::ckpt_prefix()).unwrap();
    let path = dir.join("official.safetensors");
    save_model(&path, &weights, &meta).unwrap();
    path
}

fn mrbcr(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mrbcr"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A 16-bit 2-plane stack as ImageJ writes it (hyperstack description, calibration).
fn write_input(dir: &Path) -> (PathBuf, ImageStack, TiffMetadata) {
    let (w, h) = (300, 200);
    let values: Vec<u16> = [
        crate::common::structured_image(h, w, 1),
        crate::common::structured_image(h, w, 2),
    ]
    .concat()
    .iter()
    .map(|&v| v.round() as u16)
    .collect();
    let stack = ImageStack::new(w, h, 2, Pixels::U16(values)).unwrap();
    let metadata = TiffMetadata {
        description: Some(
            "ImageJ=1.54f\nimages=2\nslices=2\nunit=micron\nspacing=0.3\nloop=false\nmin=100.0\nmax=1130.0\n"
                .into(),
        ),
        resolution: Some(Resolution { x: (10, 1), y: (10, 1), unit: 1 }),
    };
    let path = dir.join("cells.tif");
    write_tiff(&path, &stack, &metadata).unwrap();
    (path, stack, metadata)
}

#[test]
fn deconvolve_writes_the_library_result_with_the_input_metadata() {
    let dir = temp_dir("ok");
    let model = model_file(&dir);
    let (input, stack, _) = write_input(&dir);
    let out = dir.join("restored.tif");
    let run = mrbcr(&[
        &"deconvolve",
        &input,
        &"-o",
        &out,
        &"--model",
        &model,
        &"--tile",
        &"128",
        &"--overlap",
        &"32",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("2 planes of 300 x 200, 32-bit float"),
        "{stdout}"
    );

    let written = read_tiff(&out).unwrap();
    let options = DeconvolveOptions {
        tile: 128,
        overlap: Some(32),
        ..DeconvolveOptions::default()
    };
    let expected = deconvolve(
        &Model::load(&model).unwrap(),
        &stack,
        &options,
        PixelType::F32,
        None,
    )
    .unwrap();
    assert!(
        written.stack == expected,
        "the file's pixels are not the library's result"
    );
    let description = written.metadata.description.unwrap();
    assert!(
        description.contains("images=2\nslices=2\nunit=micron\nspacing=0.3"),
        "{description}"
    );
    assert!(
        !description.contains("min=") && !description.contains("max="),
        "{description}"
    );
    assert_eq!(
        written.metadata.resolution,
        Some(Resolution {
            x: (10, 1),
            y: (10, 1),
            unit: 1
        })
    );

    // In the input's own type: the same values rounded.
    let out16 = dir.join("restored16.tif");
    let run = mrbcr(&[
        &"deconvolve",
        &input,
        &"-o",
        &out16,
        &"--model",
        &model,
        &"--tile",
        &"128",
        &"--overlap",
        &"32",
        &"--output-type",
        &"same",
        &"-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let Pixels::F32(f) = expected.pixels() else {
        unreachable!()
    };
    let rounded: Vec<u16> = f
        .iter()
        .map(|v| v.round().clamp(0.0, 65535.0) as u16)
        .collect();
    assert_eq!(
        read_tiff(&out16).unwrap().stack.pixels(),
        &Pixels::U16(rounded)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn deconvolve_without_a_model_uses_the_bundled_default_model() {
    let dir = temp_dir("bundled");
    let (input, stack, _) = write_input(&dir);
    let out = dir.join("restored.tif");
    let run = mrbcr(&[&"deconvolve", &input, &"-o", &out, &"-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let expected = deconvolve(
        &Model::bundled(),
        &stack,
        &DeconvolveOptions::default(),
        PixelType::F32,
        None,
    )
    .unwrap();
    assert!(
        read_tiff(&out).unwrap().stack == expected,
        "the file's pixels are not the bundled model's result"
    );
    let info = mrbcr(&[&"info"]);
    assert!(info.status.success(), "{}", stderr(&info));
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("<bundled default model>") && text.contains("trained by mrbcr train"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn deconvolve_refuses_bad_input_and_keeps_files_safe() {
    let dir = temp_dir("bad");
    let model = model_file(&dir);
    let (input, _, _) = write_input(&dir);
    let before = std::fs::read(&input).unwrap();
    let fails = |args: &[&dyn AsRef<std::ffi::OsStr>], expected: &str| {
        let run = mrbcr(args);
        assert_eq!(
            run.status.code(),
            Some(1),
            "succeeded: expected '{expected}'"
        );
        let err = stderr(&run);
        assert!(
            err.starts_with("mrbcr: ") && err.contains(expected),
            "expected '{expected}' in: {err}"
        );
    };

    // Never over the input, whatever the path says.
    let same = dir.join(".").join("cells.tif");
    fails(
        &[&"deconvolve", &input, &"-o", &same, &"--model", &model],
        "refusing to overwrite the input file",
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);

    let out = dir.join("out.tif");
    fails(
        &[
            &"deconvolve",
            &input,
            &"-o",
            &out,
            &"--model",
            &dir.join("none.safetensors"),
        ],
        "none.safetensors: No such file",
    );
    fails(
        &[
            &"deconvolve",
            &input,
            &"-o",
            &out,
            &"--model",
            &model,
            &"--norm",
            &"gauss",
        ],
        "unknown normalisation 'gauss'",
    );
    fails(
        &[
            &"deconvolve",
            &input,
            &"-o",
            &out,
            &"--model",
            &model,
            &"--tile",
            &"100",
        ],
        "tile size 100",
    );
    fails(
        &[
            &"deconvolve",
            &input,
            &"-o",
            &out,
            &"--model",
            &model,
            &"--output-range",
            &"normalized",
            &"--output-type",
            &"u16",
        ],
        "needs the output range 'input'",
    );
    fails(
        &[
            &"deconvolve",
            &dir.join("missing.tif"),
            &"-o",
            &out,
            &"--model",
            &model,
        ],
        "missing.tif: No such file",
    );

    let garbage = dir.join("garbage.tif");
    std::fs::write(&garbage, b"II*\0 not really a tiff").unwrap();
    fails(
        &[&"deconvolve", &garbage, &"-o", &out, &"--model", &model],
        "garbage.tif: not a readable TIFF file",
    );

    let rgb = dir.join("rgb.tif");
    {
        let mut f = std::fs::File::create(&rgb).unwrap();
        let mut enc = tiff::encoder::TiffEncoder::new(&mut f).unwrap();
        enc.write_image::<tiff::encoder::colortype::RGB8>(4, 4, &[7u8; 48])
            .unwrap();
    }
    fails(
        &[&"deconvolve", &rgb, &"-o", &out, &"--model", &model],
        "page 1 is a colour image",
    );

    let unwritable = dir.join("no-such-dir").join("out.tif");
    fails(
        &[
            &"deconvolve",
            &input,
            &"-o",
            &unwritable,
            &"--model",
            &model,
            &"--tile",
            &"128",
            &"--overlap",
            &"32",
        ],
        "no-such-dir",
    );
    assert!(!out.exists(), "a failed run left an output file");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
