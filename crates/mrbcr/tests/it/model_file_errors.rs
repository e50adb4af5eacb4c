//! The model file: a round trip, and every way a file can be broken giving its exact
//! [`ModelFileProblem`] with a message that names the file and the tensor.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::*;
use mrbcr::formats::model_file::{
    load_model, model_to_bytes, read_model, save_model, weights_checksum, ModelMetadata,
    FORMAT_VERSION,
};
use mrbcr::{Error, ModelFileProblem};
use safetensors::Dtype;

const FILE: &str = "broken.safetensors";

fn valid() -> (mrbcr::network::weights::Weights, ModelMetadata, Vec<u8>) {
    let w = random_weights(42);
    let mut meta = ModelMetadata::new("test model");
    meta.description = "random weights".into();
    meta.train_patch_size = Some(128);
    meta.provenance = "tests/model_file_errors.rs".into();
    meta.license = "MIT".into();
    meta.extra
        .insert("training.loss".into(), "[0.5, 0.25]".into());
    let bytes = model_to_bytes(&w, &meta).unwrap();
    (w, meta, bytes)
}

/// Asserts a model-file error with this tensor and problem, and that the message names
/// the file and the tensor. Returns the message.
#[track_caller]
fn expect_err(
    bytes: &[u8],
    tensor: Option<&str>,
    check: impl FnOnce(&ModelFileProblem) -> bool,
) -> String {
    let e = read_model(bytes, FILE).expect_err("expected an error");
    let msg = e.to_string();
    match &e {
        Error::ModelFile {
            file,
            tensor: t,
            problem,
        } => {
            assert_eq!(file, FILE);
            assert_eq!(t.as_deref(), tensor, "{msg}");
            assert!(check(problem), "unexpected problem {problem:?}: {msg}");
        }
        other => panic!("expected Error::ModelFile, got {other:?}"),
    }
    assert!(msg.contains(FILE), "{msg}");
    if let Some(t) = tensor {
        assert!(msg.contains(t), "{msg}");
    }
    msg
}

/// The valid file's tensors and metadata with `f` applied, re-encoded.
fn variant(f: impl FnOnce(&mut Vec<RawTensor>, &mut HashMap<String, String>)) -> Vec<u8> {
    let (_, _, bytes) = valid();
    let (mut tensors, mut meta) = split_safetensors(&bytes);
    f(&mut tensors, &mut meta);
    join_safetensors(&tensors, Some(meta))
}

fn tensor<'a>(tensors: &'a mut [RawTensor], name: &str) -> &'a mut RawTensor {
    tensors.iter_mut().find(|t| t.name == name).unwrap()
}

fn not_safetensors(p: &ModelFileProblem) -> bool {
    matches!(p, ModelFileProblem::NotSafetensors(_))
}

fn bad_metadata(p: &ModelFileProblem) -> bool {
    matches!(p, ModelFileProblem::BadMetadata(_))
}

#[test]
fn round_trip() {
    let (w, meta, bytes) = valid();
    let (w2, meta2) = read_model(&bytes, "valid").unwrap();
    assert_eq!(w2, w);
    assert_eq!(meta2, meta);
    assert_eq!(meta2.extra["training.loss"], "[0.5, 0.25]");
    assert!(meta2.created_by.starts_with("mrbcr "));

    // The metadata keys as the format documents them.
    let (tensors, map) = split_safetensors(&bytes);
    assert_eq!(tensors.len(), 296);
    assert!(tensors.iter().all(|t| t.dtype == Dtype::F32));
    assert_eq!(map["format"], "mrbcr-model");
    assert_eq!(map["format_version"], FORMAT_VERSION.to_string());
    assert_eq!(map["architecture"], "m-rBCR");
    assert_eq!(map["train_patch_size"], "128");
    assert_eq!(map["input_normalization"], "per-tile-minmax");

    // Empty optional fields are left out and read back empty.
    let mut bare = ModelMetadata::new("");
    bare.input_normalization.clear();
    bare.created_by.clear();
    let b = model_to_bytes(&w, &bare).unwrap();
    let (_, map) = split_safetensors(&b);
    // The required keys and the weights' checksum.
    assert_eq!(map.len(), 4, "{map:?}");
    assert!(map.contains_key("weights_crc32c"), "{map:?}");
    assert_eq!(read_model(&b, "bare").unwrap().1, bare);

    // The other tensor order (sorted by name) reads the same.
    let (mut tensors, map) = split_safetensors(&bytes);
    tensors.reverse();
    assert_eq!(
        read_model(&join_safetensors(&tensors, Some(map)), "x")
            .unwrap()
            .0,
        w
    );
}

#[test]
fn save_and_load() {
    let (w, meta, _) = valid();
    let dir = std::env::temp_dir().join(format!("mrbcr-model-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    save_model(&path, &w, &meta).unwrap();
    save_model(&path, &w, &meta).unwrap(); // replaces
    let (w2, meta2) = load_model(&path).unwrap();
    assert_eq!((w2, meta2), (w.clone(), meta.clone()));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("m.safetensors")],
        "no temporary files left"
    );

    // Errors name the path.
    let bad = dir.join("broken.safetensors");
    std::fs::write(&bad, b"not a model").unwrap();
    let msg = load_model(&bad).unwrap_err().to_string();
    assert!(msg.contains(&bad.display().to_string()), "{msg}");
    match load_model(&dir.join("absent.safetensors")) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("absent.safetensors")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    // A directory that does not exist: an I/O error and no file.
    let nowhere: PathBuf = dir.join("no/such/dir/m.safetensors");
    assert!(matches!(
        save_model(&nowhere, &w, &meta),
        Err(Error::Io { .. })
    ));
    assert!(!nowhere.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_garbage_and_absurd_lengths() {
    let (_, _, bytes) = valid();
    for cut in [0, 4, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        expect_err(&bytes[..cut], None, not_safetensors);
    }
    let mut longer = bytes.clone();
    longer.push(0);
    expect_err(&longer, None, not_safetensors);

    let garbage = Prng(3).bytes(10_000);
    expect_err(&garbage, None, not_safetensors);

    let mut absurd = bytes.clone();
    absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let msg = expect_err(&absurd, None, not_safetensors);
    assert!(msg.contains(&u64::MAX.to_string()), "{msg}");

    // A header of valid length but not JSON.
    let mut not_json = 8u64.to_le_bytes().to_vec();
    not_json.extend(b"{{{{{{{{");
    expect_err(&not_json, None, not_safetensors);

    // Offsets beyond the data.
    let header =
        r#"{"forward.mlp0.dense1.bias":{"dtype":"F32","shape":[32],"data_offsets":[0,128]}}"#;
    let mut short = (header.len() as u64).to_le_bytes().to_vec();
    short.extend(header.as_bytes());
    short.extend([0u8; 64]);
    expect_err(&short, None, not_safetensors);
}

#[test]
fn wrong_shape() {
    let name = "forward.head_y0.kernel";
    let bytes = variant(|t, _| tensor(t, name).shape = vec![1, 1, 32, 2]);
    let msg = expect_err(&bytes, Some(name), |p| {
        *p == ModelFileProblem::WrongShape {
            expected: vec![1, 1, 64, 1],
            found: vec![1, 1, 32, 2],
        }
    });
    assert!(
        msg.contains("[1, 1, 32, 2]") && msg.contains("[1, 1, 64, 1]"),
        "{msg}"
    );
}

#[test]
fn wrong_dtype_is_checked_before_shape() {
    let name = "forward.mlp0.dense1.bias";
    for (dtype, width) in [(Dtype::F16, 2), (Dtype::F64, 8), (Dtype::BF16, 2)] {
        let bytes = variant(|t, _| {
            let t = tensor(t, name);
            t.dtype = dtype;
            t.bytes = vec![0; 32 * width];
        });
        let found = dtype.to_string();
        let msg = expect_err(&bytes, Some(name), |p| {
            *p == ModelFileProblem::WrongDtype {
                found: found.clone(),
            }
        });
        assert!(msg.contains(&found), "{msg}");
    }
    // F16 and the wrong shape: the dtype is reported.
    let bytes = variant(|t, _| {
        let t = tensor(t, name);
        t.dtype = Dtype::F16;
        t.shape = vec![2, 16, 2];
        t.bytes = vec![0; 128];
    });
    expect_err(
        &bytes,
        Some(name),
        |p| matches!(p, ModelFileProblem::WrongDtype { found } if found == "F16"),
    );
}

#[test]
fn missing_and_extra_tensors() {
    let name = "inverse.head_z4.bias";
    let bytes = variant(|t, _| t.retain(|t| t.name != name));
    expect_err(&bytes, Some(name), |p| {
        *p == ModelFileProblem::MissingTensor
    });

    let extra = "forward.mlp0.dense13.kernel";
    let bytes = variant(|t, _| {
        t.push(RawTensor {
            name: extra.into(),
            dtype: Dtype::F32,
            shape: vec![32, 32],
            bytes: vec![0; 4096],
        })
    });
    expect_err(&bytes, Some(extra), |p| {
        *p == ModelFileProblem::UnexpectedTensor
    });
}

#[test]
fn non_finite_values() {
    let name = "inverse.p2.rdb3.fuse.kernel";
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let bytes = variant(|t, _| {
            tensor(t, name).bytes[40..44].copy_from_slice(&bad.to_le_bytes());
        });
        expect_err(&bytes, Some(name), |p| {
            *p == ModelFileProblem::NonFiniteValues
        });
    }
}

#[test]
fn a_flipped_bit_in_the_weights_is_caught_by_the_checksum() {
    let (w, _, bytes) = valid();
    let (tensors, map) = split_safetensors(&bytes);
    assert_eq!(
        map["weights_crc32c"],
        format!("{:08x}", weights_checksum(w.tensors()))
    );
    // One flipped exponent bit: a finite weight of about 1e37, as a bad copy can make.
    let name = "forward.mlp0.dense1.kernel";
    let bytes = variant(|t, _| tensor(t, name).bytes[3] ^= 0x40);
    let msg = expect_err(&bytes, None, |p| {
        matches!(p, ModelFileProblem::ChecksumMismatch { recorded, computed }
            if *recorded == map["weights_crc32c"] && computed != recorded)
    });
    assert!(msg.contains("damaged"), "{msg}");
    // A file written before the checksum existed is read unverified.
    let mut old = map.clone();
    old.remove("weights_crc32c");
    let (back, _) = read_model(&join_safetensors(&tensors, Some(old)), FILE).unwrap();
    assert!(back.tensors() == w.tensors());
    // A malformed recorded value is a mismatch too, never ignored.
    let bytes = variant(|_, m| drop(m.insert("weights_crc32c".into(), "zz".into())));
    expect_err(&bytes, None, |p| {
        matches!(p, ModelFileProblem::ChecksumMismatch { .. })
    });
}

#[test]
fn metadata_problems() {
    // No metadata at all.
    let (_, _, bytes) = valid();
    let (tensors, _) = split_safetensors(&bytes);
    let msg = expect_err(&join_safetensors(&tensors, None), None, bad_metadata);
    assert!(msg.contains("not an mrbcr model file"), "{msg}");

    // Missing or wrong `format`.
    let msg = expect_err(
        &variant(|_, m| drop(m.remove("format"))),
        None,
        bad_metadata,
    );
    assert!(msg.contains("format"), "{msg}");
    let msg = expect_err(
        &variant(|_, m| drop(m.insert("format".into(), "pt".into()))),
        None,
        bad_metadata,
    );
    assert!(msg.contains("'pt'"), "{msg}");

    // A newer format version, an unparsable one, a missing one.
    let msg = expect_err(
        &variant(|_, m| drop(m.insert("format_version".into(), "2".into()))),
        None,
        bad_metadata,
    );
    assert!(
        msg.contains("written by a newer mrbcr (format version 2); this build reads version 1"),
        "{msg}"
    );
    for v in ["0", "one", "", "-1"] {
        expect_err(
            &variant(|_, m| drop(m.insert("format_version".into(), v.into()))),
            None,
            bad_metadata,
        );
    }
    expect_err(
        &variant(|_, m| drop(m.remove("format_version"))),
        None,
        bad_metadata,
    );

    // Architecture.
    expect_err(
        &variant(|_, m| drop(m.remove("architecture"))),
        None,
        bad_metadata,
    );
    let msg = expect_err(
        &variant(|_, m| drop(m.insert("architecture".into(), "DeBCR".into()))),
        None,
        bad_metadata,
    );
    assert!(msg.contains("DeBCR"), "{msg}");

    // train_patch_size must be a positive integer.
    for v in ["0", "big", "-128"] {
        expect_err(
            &variant(|_, m| drop(m.insert("train_patch_size".into(), v.into()))),
            None,
            bad_metadata,
        );
    }

    // Metadata is checked before tensors: a wrong format with a missing tensor reports
    // the format.
    let bytes = variant(|t, m| {
        t.pop();
        m.insert("format".into(), "other".into());
    });
    expect_err(&bytes, None, bad_metadata);

    // Writing refuses an extra key that shadows a standard one.
    let (w, mut meta, _) = valid();
    meta.extra.insert("format".into(), "x".into());
    match model_to_bytes(&w, &meta) {
        Err(Error::ModelFile {
            problem: ModelFileProblem::BadMetadata(why),
            ..
        }) => assert!(why.contains("'format'"), "{why}"),
        other => panic!("expected BadMetadata, got {other:?}"),
    }
}

/// `load_model` refuses, before reading them, files that cannot be a model file: a
/// device that never ends, a FIFO (without waiting for a writer), a directory, a file
/// larger than any model file.
#[test]
fn files_that_cannot_be_models_are_refused_before_they_are_read() {
    use mrbcr::formats::model_file::MAX_MODEL_FILE_BYTES;
    let dir = std::env::temp_dir().join(format!("mrbcr-model-size-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let not_safetensors = |path: &std::path::Path, what: &str| {
        let e = load_model(path).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                Error::ModelFile {
                    problem: ModelFileProblem::NotSafetensors(_),
                    ..
                }
            ),
            "{msg}"
        );
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(what),
            "{msg}"
        );
    };
    // A sparse file of 3 GB: refused by its size, without reading it.
    let big = dir.join("stack.tif");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let started = std::time::Instant::now();
    not_safetensors(&big, "3221225472 bytes, more than the 67108864");
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
    // Just above the limit.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_MODEL_FILE_BYTES + 1)
        .unwrap();
    not_safetensors(&big, "more than the 67108864");
    not_safetensors(&dir, "not a regular file");
    #[cfg(unix)]
    {
        not_safetensors(std::path::Path::new("/dev/zero"), "not a regular file");
        let fifo = dir.join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that lives across the call; mkfifo only
        // reads it.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        not_safetensors(&fifo, "not a regular file");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
