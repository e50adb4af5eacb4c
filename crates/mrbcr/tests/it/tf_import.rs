//! The TensorFlow importer on the authors' checkpoint (read from
//! `../shared/reference/official-m-rBCR/ckpt-24.*`; the tests fail if it is absent) and
//! on variants of it built in memory.
//!
//! Shapes found in ckpt-24 (all exactly the spec's, so no reshape is needed for it):
//! MLP dense kernels `[1, 32]` (first) and `[32, 32]`, biases `[32]`; FA
//! `[1, 1, 64, 32]` + `[3, 3, 32, 32]`; heads y0, y2 `[1, 1, 64, 1]`, y4 `[1, 1, 32, 1]`
//! with biases `[1]`; conv1d `[5, 1 or 48 or 32, 32]`; RDB `[3, 3, c, 4]` and fuse
//! `[1, 1, C + 12, 4]`; FB `[1, 1, 49, 48]` + `[3, 3, 48, 48]`; heads z `[9, 9, 48, 1]`.
//! Besides the 296 float32 model tensors the bundle holds `_CHECKPOINTABLE_OBJECT_GRAPH`
//! (string, scalar) and `save_counter` (int64, scalar); the header says producer 1.

use std::path::{Path, PathBuf};

use crate::common::*;
use mrbcr::formats::tf_bundle::{DataType, TfBundle};
use mrbcr::formats::tf_import::{
    checkpoint_mapping, import_from_bundle, import_tf_checkpoint, UNKNOWN_LICENSE,
};
use mrbcr::network::spec;
use mrbcr::network::weights::Weights;
use mrbcr::{CheckpointProblem, Error};

const HEAD_Y0: &str =
    "model/layer_with_weights-0/layer_with_weights-37/kernel/.ATTRIBUTES/VARIABLE_VALUE";

/// Asserts a checkpoint error: its file, its key (containing `key`), its problem, and
/// that the message names the file and the key.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    r: mrbcr::Result<T>,
    file: &str,
    key: Option<&str>,
    check: impl FnOnce(&CheckpointProblem) -> bool,
) -> String {
    let e = r.expect_err("expected an error");
    let msg = e.to_string();
    match &e {
        Error::Checkpoint {
            file: f,
            key: k,
            problem,
        } => {
            assert_eq!(f, file, "{msg}");
            match key {
                Some(key) => assert!(k.as_deref().is_some_and(|k| k.contains(key)), "{msg}"),
                None => assert!(k.is_none(), "{msg}"),
            }
            assert!(check(problem), "unexpected problem: {problem:?} ({msg})");
        }
        other => panic!("expected Error::Checkpoint, got {other:?}"),
    }
    assert!(msg.contains(file), "{msg}");
    if let Some(key) = key {
        assert!(msg.contains(key), "{msg}");
    }
    msg
}

fn header() -> Vec<u8> {
    header_proto(1, 0)
}

/// Imports a bundle written by the test writer.
fn import_written(tensors: &[BundleTensor]) -> mrbcr::Result<Weights> {
    let (index, data) = write_bundle(&header(), tensors);
    let b = TfBundle::from_bytes(&index, data, "test.index", "test.data")?;
    import_from_bundle(&b)
}

fn with_tensor(tensors: &mut [BundleTensor], key: &str, f: impl FnOnce(&mut BundleTensor)) {
    f(tensors
        .iter_mut()
        .find(|t| t.key == key)
        .expect("key present"));
}

#[test]
fn imports_the_authors_checkpoint() {
    let prefix = ckpt_prefix();
    let (weights, meta) = import_tf_checkpoint(&prefix).expect("ckpt-24 imports");
    // A Weights value exists only after validation against the spec; check anyway.
    let n: usize = weights.tensors().values().map(|t| t.data.len()).sum();
    assert_eq!(n, spec::PARAMETER_COUNT);
    assert_eq!(weights.tensors().len(), 296);
    let again = Weights::from_tensors("again", weights.tensors().clone()).unwrap();
    assert_eq!(again, weights);

    assert_eq!(
        meta.provenance,
        "imported from TensorFlow checkpoint ckpt-24"
    );
    assert_eq!(meta.license, "MIT License, Copyright (c) 2023 RoyLeeLee");
    assert_eq!(meta.input_normalization, "per-tile-minmax");
    assert_eq!(meta.train_patch_size, Some(128));

    // Every tensor equals the bundle's, under the mapping.
    let bundle = TfBundle::open(&prefix).unwrap();
    for m in checkpoint_mapping() {
        let raw = bundle.read_f32(&m.tf_key).unwrap();
        assert_eq!(raw.data, weights.tensor(&m.name).data, "{}", m.name);
        assert_eq!(weights.tensor(&m.name).shape, m.shape);
    }

    // Spot checks straight from the data file's bytes, independent of read_f32.
    let (_, data) = ckpt_bytes();
    let at = |key: &str, i: usize| {
        let e = bundle.entry(key).unwrap();
        let o = e.offset as usize + 4 * i;
        f32::from_le_bytes(data[o..o + 4].try_into().unwrap())
    };
    let checks = [
        ("0/2/kernel", "forward.mlp0.dense1.kernel", 5),
        ("0/0/kernel", "forward.mlp2.dense1.kernel", 0),
        ("0/37/kernel", "forward.head_y0.kernel", 63),
        ("0/39/bias", "forward.head_y4.bias", 0),
        ("1/103/kernel", "inverse.head_z0.kernel", 9 * 9 * 48 - 1),
        ("1/34/conv/1/bias", "inverse.fusion_b.conv3x3.bias", 47),
        ("1/75/kernel", "inverse.p0.rdb1.a1.kernel", 100),
    ];
    for (short, name, i) in checks {
        let mut key = String::from("model");
        for part in short.split('/') {
            if part.chars().all(|c| c.is_ascii_digit()) {
                key.push_str(&format!("/layer_with_weights-{part}"));
            } else {
                key.push('/');
                key.push_str(part);
            }
        }
        key.push_str("/.ATTRIBUTES/VARIABLE_VALUE");
        let v = weights.tensor(name).data[i];
        assert_eq!(v, at(&key, i), "{name}[{i}]");
        assert!(v != 0.0 && v.is_finite(), "{name}[{i}] = {v}");
    }
}

#[test]
fn bundle_facts_and_masked_crcs() {
    let bundle = TfBundle::open(&ckpt_prefix()).unwrap();
    assert_eq!(bundle.producer(), 1);
    assert_eq!(bundle.keys().count(), 298);
    let floats: Vec<&str> = bundle
        .keys()
        .filter(|k| bundle.entry(k).unwrap().dtype == DataType::FLOAT)
        .collect();
    assert_eq!(floats.len(), 296);
    assert!(floats.iter().all(|k| k.starts_with("model/")));
    let (_, data) = ckpt_bytes();
    for k in floats {
        let e = bundle.entry(k).unwrap();
        let bytes = &data[e.offset as usize..(e.offset + e.size) as usize];
        let crc = crc32c::crc32c(bytes);
        // TensorFlow stores the entry's CRC masked.
        assert_eq!(e.crc32c, crc32c::mask(crc), "{k}");
        assert_ne!(e.crc32c, crc, "{k}");
    }
    let idx = bundle.index_name().to_string();
    let save_counter = "save_counter/.ATTRIBUTES/VARIABLE_VALUE";
    assert_eq!(bundle.entry(save_counter).unwrap().dtype, DataType::INT64);
    let msg = expect_err(
        bundle.read_f32(save_counter),
        &idx,
        Some(save_counter),
        |p| matches!(p, CheckpointProblem::WrongTensor(w) if w.contains("int64")),
    );
    assert!(msg.contains("expected float32"), "{msg}");
    expect_err(
        bundle.tensor_bytes("_CHECKPOINTABLE_OBJECT_GRAPH"),
        &idx,
        Some("_CHECKPOINTABLE_OBJECT_GRAPH"),
        |p| matches!(p, CheckpointProblem::Unsupported(_)),
    );
    expect_err(bundle.read_f32("nope"), &idx, Some("nope"), |p| {
        *p == CheckpointProblem::MissingKey
    });
}

#[test]
fn rewritten_checkpoint_imports_identically() {
    let (reference, _) = import_tf_checkpoint(&ckpt_prefix()).unwrap();
    let tensors = ckpt_float_tensors();
    assert_eq!(tensors.len(), 296);
    assert_eq!(import_written(&tensors).unwrap(), reference);
}

#[test]
fn lower_rank_head_is_reshaped_other_shapes_are_refused() {
    let (reference, _) = import_tf_checkpoint(&ckpt_prefix()).unwrap();
    let mut tensors = ckpt_float_tensors();
    // A Dense head: [64, 1] for the project's [1, 1, 64, 1].
    with_tensor(&mut tensors, HEAD_Y0, |t| t.shape = vec![64, 1]);
    let w = import_written(&tensors).expect("reshaped");
    assert_eq!(w, reference);
    assert_eq!(w.tensor("forward.head_y0.kernel").shape, vec![1, 1, 64, 1]);

    // Same number of elements, another last dimension: refused, naming both shapes.
    with_tensor(&mut tensors, HEAD_Y0, |t| t.shape = vec![1, 1, 1, 64]);
    let msg = expect_err(import_written(&tensors), "test.index", Some(HEAD_Y0), |p| {
        matches!(p, CheckpointProblem::WrongTensor(_))
    });
    assert!(msg.contains("[1, 1, 1, 64]"), "{msg}");
    assert!(msg.contains("[1, 1, 64, 1]"), "{msg}");
    assert!(msg.contains("forward.head_y0.kernel"), "{msg}");

    // Another number of elements.
    with_tensor(&mut tensors, HEAD_Y0, |t| {
        t.shape = vec![1, 1, 32, 1];
        t.bytes.truncate(128);
    });
    expect_err(import_written(&tensors), "test.index", Some(HEAD_Y0), |p| {
        matches!(p, CheckpointProblem::WrongTensor(_))
    });
}

#[test]
fn missing_extra_and_ignored_keys() {
    let tensors = ckpt_float_tensors();

    // A key of the mapping is missing: the message names it and the project's name.
    let k = "model/layer_with_weights-1/layer_with_weights-104/bias/.ATTRIBUTES/VARIABLE_VALUE";
    let missing: Vec<BundleTensor> = tensors.iter().filter(|t| t.key != k).cloned().collect();
    let msg = expect_err(import_written(&missing), "test.index", Some(k), |p| {
        *p == CheckpointProblem::MissingKey
    });
    assert!(msg.contains("inverse.head_z2.bias"), "{msg}");

    // An extra float tensor under model/ (another variant): refused.
    let mut extra = tensors.clone();
    let k = "model/layer_with_weights-1/layer_with_weights-106/kernel/.ATTRIBUTES/VARIABLE_VALUE";
    extra.push(BundleTensor {
        key: k.into(),
        dtype: 1,
        shape: vec![2],
        bytes: f32_bytes(&[1.0, 2.0]),
        slices: 0,
    });
    expect_err(import_written(&extra), "test.index", Some(k), |p| {
        *p == CheckpointProblem::UnexpectedKey
    });

    // Optimizer slots, optimizer state and non-model keys are ignored.
    let mut ignored = tensors.clone();
    let scalar = |key: &str, dtype: i32| BundleTensor {
        key: key.into(),
        dtype,
        shape: vec![],
        bytes: vec![0; if dtype == 9 { 8 } else { 4 }],
        slices: 0,
    };
    ignored.push(scalar(
        "model/layer_with_weights-0/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
        1,
    ));
    ignored.push(scalar("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", 9));
    ignored.push(scalar(
        "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE",
        1,
    ));
    ignored.push(scalar("save_counter/.ATTRIBUTES/VARIABLE_VALUE", 9));
    import_written(&ignored).expect("ignored keys do not matter");
}

#[test]
fn wrong_dtype_and_non_finite_values() {
    let mut tensors = ckpt_float_tensors();
    with_tensor(&mut tensors, HEAD_Y0, |t| {
        t.dtype = DataType::DOUBLE.0;
        t.bytes.extend(t.bytes.clone());
    });
    let msg = expect_err(import_written(&tensors), "test.index", Some(HEAD_Y0), |p| {
        matches!(p, CheckpointProblem::WrongTensor(_))
    });
    assert!(msg.contains("float64"), "{msg}");

    let mut tensors = ckpt_float_tensors();
    with_tensor(&mut tensors, HEAD_Y0, |t| {
        t.bytes[8..12].copy_from_slice(&f32::NAN.to_le_bytes())
    });
    let msg = expect_err(import_written(&tensors), "test.index", Some(HEAD_Y0), |p| {
        matches!(p, CheckpointProblem::WrongTensor(_))
    });
    assert!(msg.contains("NaN"), "{msg}");
}

#[test]
fn corrupt_or_unsupported_bundles() {
    let (index, data) = ckpt_bytes();
    let open = |index: &[u8], data: Vec<u8>| {
        TfBundle::from_bytes(index, data, "c.index", "c.data").and_then(|b| import_from_bundle(&b))
    };
    open(&index, data.clone()).expect("the real bundle");

    // A flipped byte in a tensor: checksum error naming the data file and the key.
    let bundle = TfBundle::from_bytes(&index, data.clone(), "c.index", "c.data").unwrap();
    let e = bundle.entry(HEAD_Y0).unwrap();
    let mut bad = data.clone();
    bad[e.offset as usize + 3] ^= 0x10;
    expect_err(open(&index, bad), "c.data", Some("model/"), |p| {
        *p == CheckpointProblem::ChecksumMismatch
    });

    // A truncated data file.
    expect_err(
        open(&index, data[..data.len() / 2].to_vec()),
        "c.data",
        Some("model/"),
        |p| matches!(p, CheckpointProblem::Truncated(_)),
    );

    // A flipped byte in the index: the block checksum catches it.
    let mut bad = index.clone();
    bad[1000] ^= 1;
    expect_err(open(&bad, data.clone()), "c.index", None, |p| {
        *p == CheckpointProblem::ChecksumMismatch
    });

    // Not a table at all; a truncated index.
    expect_err(open(b"hello", vec![]), "c.index", None, |p| {
        matches!(p, CheckpointProblem::NotATable(_))
    });
    expect_err(
        open(&index[..index.len() - 1], data.clone()),
        "c.index",
        None,
        |p| matches!(p, CheckpointProblem::NotATable(_)),
    );

    // A compressed (e.g. Snappy) block with a valid checksum.
    let tensors = vec![BundleTensor {
        key: "model/x".into(),
        dtype: 1,
        shape: vec![1],
        bytes: f32_bytes(&[1.0]),
        slices: 0,
    }];
    let (_, small_data) = write_bundle(&header(), &tensors);
    let crc = crc32c::mask(crc32c::crc32c(&small_data));
    let records = [
        (Vec::new(), header()),
        (b"model/x".to_vec(), entry_proto(1, &[1], 0, 4, crc, 0)),
    ];
    let compressed = table_from_block(&block(&records), 1);
    expect_err(
        TfBundle::from_bytes(&compressed, small_data.clone(), "z.index", "z.data"),
        "z.index",
        None,
        |p| matches!(p, CheckpointProblem::Unsupported(w) if w.contains("compress")),
    );
    let fine = table_from_block(&block(&records), 0);
    let b = TfBundle::from_bytes(&fine, small_data.clone(), "z.index", "z.data").unwrap();
    assert_eq!(b.read_f32("model/x").unwrap().data, vec![1.0]);

    // Several shards; big-endian data; no header; sliced tensors.
    for (h, what) in [
        (header_proto(2, 0), "shards"),
        (header_proto(1, 1), "big-endian"),
    ] {
        let (i, d) = write_bundle(&h, &tensors);
        expect_err(
            TfBundle::from_bytes(&i, d, "s.index", "s.data"),
            "s.index",
            Some(""),
            |p| matches!(p, CheckpointProblem::Unsupported(w) if w.contains(what)),
        );
    }
    let no_header = table_from_block(&block(&records[1..]), 0);
    expect_err(
        TfBundle::from_bytes(&no_header, small_data.clone(), "h.index", "h.data"),
        "h.index",
        None,
        |p| matches!(p, CheckpointProblem::NotATable(w) if w.contains("header")),
    );
    let sliced = [
        (Vec::new(), header()),
        (b"model/x".to_vec(), entry_proto(1, &[1], 0, 4, crc, 2)),
    ];
    let b = TfBundle::from_bytes(
        &table_from_block(&block(&sliced), 0),
        small_data,
        "p.index",
        "p.data",
    )
    .unwrap();
    expect_err(
        b.read_f32("model/x"),
        "p.index",
        Some("model/x"),
        |p| matches!(p, CheckpointProblem::Unsupported(w) if w.contains("slice")),
    );

    // An undecodable record names its key.
    let garbage = [
        (Vec::new(), header()),
        (b"model/y".to_vec(), vec![0x08, 0x01, 0x12, 0x7f]),
    ];
    expect_err(
        TfBundle::from_bytes(
            &table_from_block(&block(&garbage), 0),
            vec![],
            "g.index",
            "g.data",
        ),
        "g.index",
        Some("model/y"),
        |p| matches!(p, CheckpointProblem::BadRecord(_)),
    );

    // A missing file.
    match import_tf_checkpoint(Path::new("/nonexistent/ckpt-1")) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("ckpt-1.index")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn prefix_compression_bomb_is_refused() {
    // Each entry re-uses all but 2 bytes of a 4000-byte key: 8 bytes of input decode to
    // a 4000-byte key.
    let mut b = Vec::new();
    let long = vec![b'k'; 4000];
    let value = [0x08, 0x01]; // dtype float
    put_varint(&mut b, 0);
    put_varint(&mut b, 0);
    put_varint(&mut b, header().len() as u64);
    b.extend(header());
    put_varint(&mut b, 0);
    put_varint(&mut b, long.len() as u64);
    put_varint(&mut b, 2);
    b.extend(&long);
    b.extend(value);
    for i in 1..1000u32 {
        put_varint(&mut b, 3998);
        put_varint(&mut b, 2);
        put_varint(&mut b, 2);
        b.extend([b'l' + (i / 64) as u8, b'0' + (i % 64) as u8]);
        b.extend(value);
    }
    b.extend(0u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    let index = table_from_block(&b, 0);
    expect_err(
        TfBundle::from_bytes(&index, vec![], "bomb.index", "bomb.data"),
        "bomb.index",
        Some("kkk"),
        |p| matches!(p, CheckpointProblem::NotATable(w) if w.contains("times its size")),
    );
}

/// A scratch directory outside the repository, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("mrbcr-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn license_next_to_the_checkpoint() {
    // A synthetic checkpoint with random weights, written under the mapping.
    let weights = random_weights(7);
    let tensors: Vec<BundleTensor> = checkpoint_mapping()
        .into_iter()
        .map(|m| BundleTensor {
            key: m.tf_key,
            dtype: 1,
            shape: m.shape.iter().map(|&d| d as i64).collect(),
            bytes: f32_bytes(&weights.tensor(&m.name).data),
            slices: 0,
        })
        .collect();
    let (index, data) = write_bundle(&header(), &tensors);
    let dir = TempDir::new("license");
    std::fs::write(dir.0.join("ckpt-3.index"), &index).unwrap();
    std::fs::write(dir.0.join("ckpt-3.data-00000-of-00001"), &data).unwrap();
    let prefix = dir.0.join("ckpt-3");

    let (w, meta) = import_tf_checkpoint(&prefix).unwrap();
    assert_eq!(w, weights);
    assert_eq!(meta.license, UNKNOWN_LICENSE);
    assert_eq!(
        meta.provenance,
        "imported from TensorFlow checkpoint ckpt-3"
    );

    std::fs::write(
        dir.0.join("LICENSE"),
        "\n  Apache License\n  Version 2.0\n\nCopyright 2024 Someone\n",
    )
    .unwrap();
    let (_, meta) = import_tf_checkpoint(&prefix).unwrap();
    assert_eq!(meta.license, "Apache License, Copyright 2024 Someone");
}
