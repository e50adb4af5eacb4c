//! The command-line tool, run as a user runs it.

use std::path::PathBuf;
use std::process::Command;

use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::network::Workspace;
use mrbcr::Model;

/// The `mrbcr` tool of this build.
pub(crate) fn mrbcr() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mrbcr"))
}

/// The authors' checkpoint prefix in the reference material (it must be there).
pub(crate) fn checkpoint() -> PathBuf {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/official-m-rBCR/ckpt-24"
    ));
    assert!(
        p.with_extension("index").exists(),
        "reference checkpoint missing at {}",
        p.display()
    );
    p
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn import_tf_writes_a_model_that_runs_like_the_checkpoint() {
    let dir = temp_dir("import");
    let out = dir.join("official.safetensors");
    let run = mrbcr()
        .arg("import-tf")
        .arg(checkpoint())
        .arg("-o")
        .arg(&out)
        .arg("--name")
        .arg("official")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("296 tensors, 236630 parameters"));

    let info = mrbcr().arg("info").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success());
    for expected in [
        "name:                official",
        "per-tile-minmax",
        "128 x 128",
        "MIT License",
        "imported from TensorFlow checkpoint ckpt-24",
        // Measured: the one test of import-tf's measurement (others pass --tile-overlap).
        "tile overlap:        192 pixels",
    ] {
        assert!(text.contains(expected), "info lacks '{expected}':\n{text}");
    }

    // The file gives the very same network as the checkpoint.
    let from_file = Model::load(&out).unwrap();
    let (weights, _) = import_tf_checkpoint(&checkpoint()).unwrap();
    let from_ckpt = Model::from_weights(&weights, Default::default());
    let x = ndarray::Array2::from_shape_fn((64, 96), |(r, c)| ((r * 7 + c * 3) % 17) as f32 / 16.0);
    let a = from_file
        .network()
        .forward(x.view(), &mut Workspace::new())
        .unwrap();
    let b = from_ckpt
        .network()
        .forward(x.view(), &mut Workspace::new())
        .unwrap();
    assert_eq!(a, b);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn import_tf_never_overwrites_the_checkpoint() {
    let dir = temp_dir("overwrite");
    for ext in ["index", "data-00000-of-00001"] {
        std::fs::copy(
            checkpoint().with_extension(ext),
            dir.join(format!("ckpt-24.{ext}")),
        )
        .unwrap();
    }
    let index = dir.join("ckpt-24.index");
    let before = std::fs::read(&index).unwrap();
    let run = mrbcr()
        .arg("import-tf")
        .arg(dir.join("ckpt-24"))
        .arg("-o")
        .arg(&index)
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr)
        .contains("refusing to write the model over the checkpoint"));
    assert_eq!(std::fs::read(&index).unwrap(), before);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_inputs_fail_with_a_message_naming_the_file() {
    let dir = temp_dir("bad");
    let missing = dir.join("nope.safetensors");
    let run = mrbcr().arg("info").arg(&missing).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.starts_with("mrbcr: ")
            && err.contains("nope.safetensors")
            && err.contains("No such file"),
        "{err}"
    );

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a model at all").unwrap();
    let run = mrbcr().arg("info").arg(&garbage).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("garbage.safetensors") && err.contains("not a valid safetensors file"),
        "{err}"
    );

    let run = mrbcr()
        .arg("import-tf")
        .arg(dir.join("no-such-ckpt"))
        .arg("-o")
        .arg(dir.join("m.safetensors"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("no-such-ckpt.index"), "{err}");
    assert!(
        !dir.join("m.safetensors").exists(),
        "a failed import left a file"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bench_train_times_each_batch_shape_and_refuses_a_bad_one() {
    let out = mrbcr()
        .args([
            "bench-train",
            "--batches",
            "2x16,1x32",
            "--repeats",
            "1",
            "--threads",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for shape in ["2x16", "1x32"] {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(shape))
            .unwrap_or_else(|| panic!("no line for {shape} in:\n{stdout}"));
        let seconds: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let gflops: f64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
        assert!(seconds > 0.0 && gflops > 0.0, "{line}");
    }
    let out = mrbcr()
        .args(["bench-train", "--batches", "8x130"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("mrbcr: invalid input: '8x130' is not a batch shape"),
        "{err}"
    );
}
