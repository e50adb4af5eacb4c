//! Helpers shared by the format tests: where the reference checkpoint is, a tiny
//! deterministic PRNG, random weights, and writers for safetensors files and TensorFlow
//! tensor bundles (to build broken variants of valid files) with their own CRC-32C.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use mrbcr::network::spec;
use mrbcr::network::weights::{Tensor, Weights};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// The reference directory (`../shared/reference` from the crate root). Panics with a
/// clear message if the authors' checkpoint is not there: the tests that need it must
/// fail, not skip.
pub fn reference_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference"
    ));
    let index = dir.join("official-m-rBCR/ckpt-24.index");
    assert!(
        index.is_file(),
        "the authors' m-rBCR checkpoint is missing: expected {} (and the .data-00000-of-00001 \
         beside it). These tests read it from ../shared/reference relative to the crate root; \
         it is test data that is not part of the repository.",
        index.display()
    );
    dir
}

/// The sharp real images (`../shared/data/real-sharp` from the crate root). Panics with
/// a clear message if they are not there: the tests that need them must fail, not skip.
pub fn real_sharp_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/real-sharp"
    ));
    assert!(
        dir.join("neuron_4ch.tif").is_file(),
        "the sharp real images are missing: expected {} with the files of \
         models/real-benchmark.tsv. They are test data that is not part of the repository.",
        dir.display()
    );
    dir
}

/// The prefix of the authors' checkpoint (`.../ckpt-24`).
pub fn ckpt_prefix() -> PathBuf {
    reference_dir().join("official-m-rBCR/ckpt-24")
}

/// The bytes of the checkpoint's index and data files.
pub fn ckpt_bytes() -> (Vec<u8>, Vec<u8>) {
    let p = ckpt_prefix();
    let read = |suffix: &str| {
        let mut s = p.clone().into_os_string();
        s.push(suffix);
        std::fs::read(&s).unwrap_or_else(|e| panic!("cannot read {s:?}: {e}"))
    };
    (read(".index"), read(".data-00000-of-00001"))
}

/// SplitMix64: a tiny deterministic PRNG.
pub struct Prng(pub u64);

impl Prng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-0.5, 0.5).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A complete, valid set of m-rBCR weights with random values.
pub fn random_weights(seed: u64) -> Weights {
    let mut rng = Prng(seed);
    let tensors: BTreeMap<String, Tensor> = spec::all_tensors()
        .into_iter()
        .map(|s| {
            let data = (0..s.len()).map(|_| rng.next_f32()).collect();
            (
                s.name,
                Tensor {
                    shape: s.shape,
                    data,
                },
            )
        })
        .collect();
    Weights::from_tensors("random", tensors).expect("random weights are valid")
}

/// One tensor of a safetensors file as raw parts.
#[derive(Debug, Clone)]
pub struct RawTensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// The tensors and metadata of a safetensors file.
pub fn split_safetensors(bytes: &[u8]) -> (Vec<RawTensor>, HashMap<String, String>) {
    let st = SafeTensors::deserialize(bytes).expect("a valid safetensors file");
    let (_, meta) = SafeTensors::read_metadata(bytes).unwrap();
    let mut tensors: Vec<RawTensor> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| RawTensor {
            name,
            dtype: v.dtype(),
            shape: v.shape().to_vec(),
            bytes: v.data().to_vec(),
        })
        .collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    (tensors, meta.metadata().clone().unwrap_or_default())
}

/// A safetensors file with these tensors and metadata (`None`: no `__metadata__`).
pub fn join_safetensors(tensors: &[RawTensor], meta: Option<HashMap<String, String>>) -> Vec<u8> {
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("consistent tensor"),
            )
        })
        .collect();
    safetensors::serialize(views, meta).expect("serialisable")
}

/// Little-endian bytes of float32 values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

// ---------------------------------------------------------------------------------
// A minimal TensorFlow tensor-bundle writer (uncompressed, one data block, no prefix
// compression), to build variants of the authors' checkpoint.

/// One tensor of a bundle to write.
#[derive(Debug, Clone)]
pub struct BundleTensor {
    pub key: String,
    /// TensorFlow DataType enum (1 = float).
    pub dtype: i32,
    pub shape: Vec<i64>,
    pub bytes: Vec<u8>,
    /// Number of (empty) slice records to add.
    pub slices: usize,
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, field << 3 | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    put_varint(out, field << 3);
    put_varint(out, v);
}

/// A serialised BundleHeaderProto.
pub fn header_proto(num_shards: i32, endianness: i32) -> Vec<u8> {
    let mut h = Vec::new();
    put_varint_field(&mut h, 1, num_shards as i64 as u64);
    if endianness != 0 {
        put_varint_field(&mut h, 2, endianness as u64);
    }
    put_bytes_field(&mut h, 3, &[0x08, 0x01]);
    h
}

/// A serialised BundleEntryProto.
pub fn entry_proto(
    dtype: i32,
    shape: &[i64],
    offset: u64,
    size: u64,
    crc: u32,
    slices: usize,
) -> Vec<u8> {
    let mut shape_msg = Vec::new();
    for &d in shape {
        let mut dim = Vec::new();
        put_varint_field(&mut dim, 1, d as u64);
        put_bytes_field(&mut shape_msg, 2, &dim);
    }
    let mut e = Vec::new();
    put_varint_field(&mut e, 1, dtype as i64 as u64);
    put_bytes_field(&mut e, 2, &shape_msg);
    if offset != 0 {
        put_varint_field(&mut e, 4, offset);
    }
    put_varint_field(&mut e, 5, size);
    put_varint(&mut e, 6 << 3 | 5);
    e.extend_from_slice(&crc.to_le_bytes());
    for _ in 0..slices {
        put_bytes_field(&mut e, 7, &[]);
    }
    e
}

/// A LevelDB block of these (key, value) records, without prefix compression.
pub fn block(records: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in records {
        put_varint(&mut b, 0);
        put_varint(&mut b, k.len() as u64);
        put_varint(&mut b, v.len() as u64);
        b.extend_from_slice(k);
        b.extend_from_slice(v);
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b
}

/// Appends a block and its trailer (compression type, masked CRC) to `file`; returns
/// its handle (offset, size).
pub fn put_block(file: &mut Vec<u8>, contents: &[u8], compression: u8) -> (u64, u64) {
    let offset = file.len() as u64;
    file.extend_from_slice(contents);
    file.push(compression);
    let crc = crc32c::extend(crc32c::crc32c(contents), &[compression]);
    file.extend_from_slice(&crc32c::mask(crc).to_le_bytes());
    (offset, contents.len() as u64)
}

/// A LevelDB table whose single data block is `data_block` (already encoded).
pub fn table_from_block(data_block: &[u8], compression: u8) -> Vec<u8> {
    let mut file = Vec::new();
    let (doff, dsize) = put_block(&mut file, data_block, compression);
    let (moff, msize) = put_block(&mut file, &block(&[]), 0);
    let mut handle = Vec::new();
    put_varint(&mut handle, doff);
    put_varint(&mut handle, dsize);
    let (ioff, isize) = put_block(&mut file, &block(&[(b"\xff".to_vec(), handle)]), 0);
    let mut footer = Vec::new();
    for v in [moff, msize, ioff, isize] {
        put_varint(&mut footer, v);
    }
    footer.resize(40, 0);
    footer.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// Writes a bundle (index, data) holding `tensors` (sorted here by key) after the
/// header `header`.
pub fn write_bundle(header: &[u8], tensors: &[BundleTensor]) -> (Vec<u8>, Vec<u8>) {
    let mut sorted: Vec<&BundleTensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut data = Vec::new();
    let mut records = vec![(Vec::new(), header.to_vec())];
    for t in sorted {
        let crc = crc32c::mask(crc32c::crc32c(&t.bytes));
        let e = entry_proto(
            t.dtype,
            &t.shape,
            data.len() as u64,
            t.bytes.len() as u64,
            crc,
            t.slices,
        );
        data.extend_from_slice(&t.bytes);
        records.push((t.key.clone().into_bytes(), e));
    }
    (table_from_block(&block(&records), 0), data)
}

/// The float tensors of the authors' checkpoint, as [`BundleTensor`]s (the string and
/// int64 entries are left out).
pub fn ckpt_float_tensors() -> Vec<BundleTensor> {
    use mrbcr::formats::tf_bundle::{DataType, TfBundle};
    let b = TfBundle::open(&ckpt_prefix()).expect("the reference checkpoint opens");
    b.keys()
        .filter(|k| b.entry(k).unwrap().dtype == DataType::FLOAT)
        .map(|k| {
            let e = b.entry(k).unwrap();
            BundleTensor {
                key: k.to_string(),
                dtype: e.dtype.0,
                shape: e.shape.clone().unwrap(),
                bytes: b.tensor_bytes(k).unwrap().to_vec(),
                slices: 0,
            }
        })
        .collect()
}

/// The authors' official model, imported from the reference checkpoint.
pub fn official_model() -> mrbcr::Model {
    let (weights, meta) = mrbcr::formats::tf_import::import_tf_checkpoint(&ckpt_prefix())
        .expect("importing the official checkpoint");
    mrbcr::Model::from_weights(&weights, meta)
}

/// A fluorescence-like test image, `height x width` row-major: Gaussian spots and
/// short bright filaments of several sizes over a background of 100, up to about 1100,
/// with uniform noise of 30. Deterministic per seed.
pub fn structured_image(height: usize, width: usize, seed: u64) -> Vec<f32> {
    let mut rng = mrbcr::rng::SplitMix64::new(seed);
    let mut img = vec![0f32; height * width];
    let spot = |img: &mut [f32], cy: f32, cx: f32, s: f32, a: f32| {
        let reach = (4.5 * s) as isize + 1;
        for y in (cy as isize - reach).max(0)..(cy as isize + reach).min(height as isize) {
            for x in (cx as isize - reach).max(0)..(cx as isize + reach).min(width as isize) {
                let d = ((y as f32 - cy).powi(2) + (x as f32 - cx).powi(2)) / (2.0 * s * s);
                img[y as usize * width + x as usize] += a * (-d).exp();
            }
        }
    };
    let area = (height * width) as f32;
    for _ in 0..(area / 4000.0) as usize + 4 {
        let (cy, cx) = (
            rng.uniform(0.0, height as f32),
            rng.uniform(0.0, width as f32),
        );
        spot(
            &mut img,
            cy,
            cx,
            rng.uniform(1.2, 5.0),
            rng.uniform(0.2, 1.0),
        );
    }
    for _ in 0..(area / 20000.0) as usize + 2 {
        let (mut y, mut x) = (
            rng.uniform(0.0, height as f32),
            rng.uniform(0.0, width as f32),
        );
        let angle = rng.uniform(0.0, std::f32::consts::TAU);
        let a = rng.uniform(0.2, 0.6);
        for _ in 0..80 {
            spot(&mut img, y, x, 1.5, a);
            y += angle.sin();
            x += angle.cos();
        }
    }
    for v in img.iter_mut() {
        *v = *v * 1000.0 + 100.0 + rng.uniform(0.0, 30.0);
    }
    img
}

/// A smooth image: slow waves from 200 to about 2200, no noise.
pub fn smooth_image(height: usize, width: usize) -> Vec<f32> {
    (0..height * width)
        .map(|i| {
            let (y, x) = ((i / width) as f32, (i % width) as f32);
            1200.0 + 500.0 * (x / 37.0).sin() * (y / 53.0).cos() + 400.0 * ((x + y) / 90.0).sin()
        })
        .collect()
}

/// CRC-32C as TensorFlow bundles store it, for the bundles the tests write: a
/// bit-at-a-time implementation of its own, independent of the library's (which
/// verifies what these write).
pub mod crc32c {
    /// The CRC-32C (Castagnoli, reflected polynomial `0x82F63B78`) of `data`.
    pub fn crc32c(data: &[u8]) -> u32 {
        extend(0, data)
    }

    /// The CRC-32C of the bytes whose CRC is `crc` followed by `data`.
    pub fn extend(crc: u32, data: &[u8]) -> u32 {
        let mut c = !crc;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    /// The masked form TensorFlow (and LevelDB) store: rotated right 15 bits plus
    /// `0xa282ead8`.
    pub fn mask(crc: u32) -> u32 {
        crc.rotate_right(15).wrapping_add(0xa282_ead8)
    }
}
