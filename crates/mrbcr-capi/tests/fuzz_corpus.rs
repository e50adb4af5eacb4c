//! The fuzz corpus as a regular test: every file of `fuzz/corpus/<target>/` (the
//! seeds) and `fuzz/regressions/<target>/` (inputs that once crashed a target) goes
//! through the same body as the cargo-fuzz target (`fuzz/src/lib.rs`, compiled here
//! as a module), on stable Rust without libFuzzer. A body panics when mrbcr
//! misbehaves (see each target's documentation); this test names the files that did.
//!
//! `write_seeds` (ignored) writes the seeds again, deterministically, from the
//! library's own writers: `cargo test --release --test fuzz_corpus -- --ignored
//! write_seeds`. None comes from third-party files.

#[path = "../../../tests/common/mod.rs"]
mod common;

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod bodies;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mrbcr::formats::model_file::model_to_bytes;
use mrbcr::formats::tf_import::checkpoint_mapping;
use mrbcr::formats::tiff::{write_tiff, Resolution, TiffMetadata};
use mrbcr::network::spec;
use mrbcr::network::weights::{Tensor, Weights};
use mrbcr::{ImageStack, ModelMetadata, Pixels};

type Body = fn(&[u8]);

/// The fuzz runs' memory rule (`-rss_limit_mb=2048`, which libFuzzer also applies to
/// every single allocation, `malloc_limit_mb`): no input may make the library ask for
/// more than this at once, even where the request is fallible (`try_reserve`) and the
/// system would grant it lazily.
const MALLOC_LIMIT: usize = 2048 << 20;

/// The largest allocation requested since the last reset, by any thread.
static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, recording the largest request in [`LARGEST_ALLOCATION`].
struct RecordingAllocator;

// SAFETY: every method forwards to `System` with the caller's own arguments, so it
// keeps `System`'s guarantees; recording a size touches only an atomic.
unsafe impl GlobalAlloc for RecordingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc_zeroed` is `System.alloc_zeroed`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: RecordingAllocator = RecordingAllocator;

const TARGETS: [(&str, Body); 4] = [
    ("tiff_read", bodies::tiff_read),
    ("model_file", bodies::model_file),
    ("tf_bundle", bodies::tf_bundle),
    ("ffi_descriptor", bodies::ffi_descriptor),
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz"))
}

/// The files of a directory, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_file_passes_its_target() {
    let mut failures = Vec::new();
    for (target, body) in TARGETS {
        let seeds = files(&fuzz_dir().join("corpus").join(target));
        assert!(
            !seeds.is_empty(),
            "fuzz/corpus/{target} has no seeds (write_seeds writes them)"
        );
        let regressions = files(&fuzz_dir().join("regressions").join(target));
        for file in seeds.iter().chain(&regressions) {
            let bytes = std::fs::read(file).unwrap();
            LARGEST_ALLOCATION.store(0, Ordering::Relaxed);
            let outcome = catch_unwind(AssertUnwindSafe(|| body(&bytes)));
            let largest = LARGEST_ALLOCATION.load(Ordering::Relaxed);
            if largest > MALLOC_LIMIT {
                failures.push(format!(
                    "{target}: {}: asked for {largest} bytes at once (libFuzzer's limit: {MALLOC_LIMIT})",
                    file.display()
                ));
            }
            if let Err(payload) = outcome {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}: {}: {message}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus files fail their fuzz target:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// What the fuzzers found, each also in fuzz/regressions/

/// tiff_read, seconds into its first run: a strip whose Deflate or LZW stream is
/// corrupt came out as `Error::Io` (the C status MRBCR_STATUS_IO, "a file could not be
/// read") with the decoder's "corrupt deflate stream" or "InvalidCode", although the
/// file was read; it is a broken image file.
#[test]
fn a_corrupt_compressed_strip_is_an_image_file_error() {
    for (name, what) in [
        ("corrupt-deflate-strip.tif", "corrupt deflate stream"),
        ("corrupt-lzw-strip.tif", "invalid code in LZW stream"),
    ] {
        let path = fuzz_dir().join("regressions/tiff_read").join(name);
        match mrbcr::formats::tiff::read_tiff(&path) {
            Err(mrbcr::Error::ImageFile { file, problem }) => {
                assert!(file.ends_with(name), "{file}");
                assert!(problem.contains("not a readable TIFF file"), "{problem}");
                assert!(problem.contains(what), "{problem}");
            }
            other => panic!("{name}: expected Error::ImageFile, got {other:?}"),
        }
    }
}

/// ffi_descriptor, in its first minutes: a one-plane image whose (unused) plane stride
/// is 2^63 bytes passes the header's rules, but the library's view of it needs strides
/// that fit in isize, and `mrbcr_richardson_lucy` returned MRBCR_STATUS_PANIC (the
/// process aborted under the fuzzer's panic hook). The stride of an axis of length 1
/// (one plane, or one row) may be any value the rules allow, up to `usize::MAX`.
#[test]
fn unused_strides_of_any_size_are_accepted() {
    use mrbcr_capi::*;
    let input: Vec<f32> = (0..48).map(|i| (i * 7 % 11) as f32).collect();
    let psf = [1.0f32, 2.0, 1.0];
    let run = |plane_stride: usize, psf_row_stride: usize| {
        let mut output = vec![0f32; 48];
        let image = mrbcr_image_in {
            data: input.as_ptr().cast(),
            pixel_type: mrbcr_pixel_type::F32 as u32,
            width: 8,
            height: 6,
            planes: 1,
            row_stride: 0,
            plane_stride,
        };
        let kernel = mrbcr_image_in {
            data: psf.as_ptr().cast(),
            pixel_type: mrbcr_pixel_type::F32 as u32,
            width: 3,
            height: 1,
            planes: 1,
            row_stride: psf_row_stride,
            plane_stride,
        };
        let out = mrbcr_image_out {
            data: output.as_mut_ptr().cast(),
            pixel_type: mrbcr_pixel_type::F32 as u32,
            width: 8,
            height: 6,
            planes: 1,
            row_stride: 0,
            plane_stride: 0,
        };
        // SAFETY: descriptors of live buffers of the sizes they describe.
        let status = unsafe {
            mrbcr_richardson_lucy(&image, &kernel, 2, 0.0, &out, None, std::ptr::null_mut())
        };
        (status, output)
    };
    let (status, packed) = run(0, 0);
    assert_eq!(status, mrbcr_status::Ok);
    for (plane_stride, row_stride) in [(1 << 63, 0), (usize::MAX - 3, usize::MAX - 3)] {
        assert_eq!(
            run(plane_stride, row_stride),
            (mrbcr_status::Ok, packed.clone())
        );
    }
    let crash = fuzz_dir().join("regressions/ffi_descriptor/rl-plane-stride-2pow63");
    assert!(crash.is_file(), "{}", crash.display());
}

// ---------------------------------------------------------------------------------
// The seeds

fn write_seed(target: &str, name: &str, bytes: &[u8]) {
    assert!(
        bytes.len() <= bodies::MAX_INPUT,
        "{target}/{name}: {} bytes",
        bytes.len()
    );
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mrbcr-seeds-{}-{name}", std::process::id()))
}

/// A TIFF written by the library's writer.
fn written_tiff(stack: &ImageStack, metadata: &TiffMetadata) -> Vec<u8> {
    let path = temp("seed.tif");
    write_tiff(&path, stack, metadata).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// A TIFF written by the `tiff` crate's encoder directly (compressions, signed and
/// 32-bit integer pixels, colour).
fn encoded_tiff<C>(compression: tiff::encoder::Compression, pixels: &[C::Inner]) -> Vec<u8>
where
    C: tiff::encoder::colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut out = std::io::Cursor::new(Vec::new());
    let mut encoder = tiff::encoder::TiffEncoder::new(&mut out)
        .unwrap()
        .with_compression(compression);
    let samples = C::BITS_PER_SAMPLE.len();
    let (width, height) = (6u32, (pixels.len() / samples / 6) as u32);
    encoder.write_image::<C>(width, height, pixels).unwrap();
    out.into_inner()
}

fn write_tiff_seeds() {
    use tiff::encoder::{colortype, Compression, DeflateLevel};
    let ramp = |n: usize| (0..n).map(|i| (i * 37 % 251) as f64).collect::<Vec<_>>();
    let stack = |planes: usize, pixels: Pixels| ImageStack::new(6, 5, planes, pixels).unwrap();
    let imagej = TiffMetadata {
        description: Some("ImageJ=1.54f\nimages=3\nslices=3\nunit=micron\nspacing=0.2\n".into()),
        resolution: Some(Resolution {
            x: (10, 1),
            y: (10, 1),
            unit: 3,
        }),
    };
    let plain = TiffMetadata::default();
    let r = ramp(90);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "u8.tif",
            written_tiff(
                &stack(1, Pixels::U8(r[..30].iter().map(|&v| v as u8).collect())),
                &plain,
            ),
        ),
        (
            "u16-3-planes-imagej.tif",
            written_tiff(
                &stack(3, Pixels::U16(r.iter().map(|&v| v as u16 * 200).collect())),
                &imagej,
            ),
        ),
        (
            "f32.tif",
            written_tiff(
                &stack(
                    1,
                    Pixels::F32(r[..30].iter().map(|&v| v as f32 / 7.0).collect()),
                ),
                &plain,
            ),
        ),
        (
            "f64-2-planes.tif",
            written_tiff(&stack(2, Pixels::F64(r[..60].to_vec())), &plain),
        ),
        (
            "u8-deflate.tif",
            encoded_tiff::<colortype::Gray8>(
                Compression::Deflate(DeflateLevel::Balanced),
                &[7u8; 48],
            ),
        ),
        (
            "u16-lzw.tif",
            encoded_tiff::<colortype::Gray16>(
                Compression::Lzw,
                &r[..42].iter().map(|&v| v as u16).collect::<Vec<_>>(),
            ),
        ),
        (
            "u8-packbits.tif",
            encoded_tiff::<colortype::Gray8>(
                Compression::Packbits,
                &r[..30].iter().map(|&v| v as u8).collect::<Vec<_>>(),
            ),
        ),
        (
            "i16.tif",
            encoded_tiff::<colortype::GrayI16>(
                Compression::Uncompressed,
                &r[..30].iter().map(|&v| v as i16 - 100).collect::<Vec<_>>(),
            ),
        ),
        (
            "u32.tif",
            encoded_tiff::<colortype::Gray32>(
                Compression::Uncompressed,
                &r[..30]
                    .iter()
                    .map(|&v| v as u32 * 100_000)
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "rgb8-refused.tif",
            encoded_tiff::<colortype::RGB8>(
                Compression::Uncompressed,
                &r[..36].iter().map(|&v| v as u8).collect::<Vec<_>>(),
            ),
        ),
    ];
    for (name, bytes) in seeds {
        write_seed("tiff_read", name, &bytes);
    }
}

/// Weights whose every value is 0 (a model whose data a padded seed leaves out).
fn zero_weights() -> Weights {
    let tensors: BTreeMap<String, Tensor> = spec::all_tensors()
        .into_iter()
        .map(|s| {
            let data = vec![0.0; s.len()];
            (
                s.name,
                Tensor {
                    shape: s.shape,
                    data,
                },
            )
        })
        .collect();
    Weights::from_tensors("zero", tensors).unwrap()
}

/// The length of a safetensors file's length field and header.
fn safetensors_header_end(file: &[u8]) -> usize {
    8 + u64::from_le_bytes(file[..8].try_into().unwrap()) as usize
}

fn write_model_seeds() {
    let mut meta = ModelMetadata::new("seed");
    meta.description = "a model of zero weights, for the fuzzer".into();
    meta.input_normalization = "percentile:1:99.8".into();
    meta.extra.insert("training_steps".into(), "0".into());
    let zero = model_to_bytes(&zero_weights(), &meta).unwrap();
    let header_end = safetensors_header_end(&zero);
    // Switch 1: the data is left out and padded with zeros by the target.
    let padded = [&[1u8][..], &zero[..header_end]].concat();
    write_seed("model_file", "zero-weights-padded", &padded);
    // ... with the data of the first tensors random (a model that loads too).
    let random = model_to_bytes(&random_weights(7), &meta).unwrap();
    let end = safetensors_header_end(&random) + 4096;
    write_seed(
        "model_file",
        "random-start-padded",
        &[&[1u8][..], &random[..end]].concat(),
    );
    // Switch 0: read as is, so truncated.
    write_seed(
        "model_file",
        "truncated",
        &[&[0u8][..], &zero[..header_end + 64]].concat(),
    );
    // A small valid safetensors file that is not a model (one tensor).
    let tensor = RawTensor {
        name: "forward.mlp0.dense1.kernel".into(),
        dtype: safetensors::Dtype::F32,
        shape: vec![2, 2],
        bytes: f32_bytes(&[1.0, -2.0, 0.5, 3.0]),
    };
    let meta_map: std::collections::HashMap<String, String> = [
        ("format", "mrbcr-model"),
        ("format_version", "1"),
        ("architecture", "m-rBCR"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let small = join_safetensors(&[tensor], Some(meta_map));
    write_seed(
        "model_file",
        "one-tensor",
        &[&[0u8][..], &small[..]].concat(),
    );
}

/// A LevelDB block with prefix compression and a restart point every `interval`
/// records, as TensorFlow writes its index.
fn compressed_block(records: &[(Vec<u8>, Vec<u8>)], interval: usize) -> Vec<u8> {
    let mut b = Vec::new();
    let mut restarts = Vec::new();
    let mut last: &[u8] = &[];
    for (i, (k, v)) in records.iter().enumerate() {
        let shared = if i % interval == 0 {
            restarts.push(b.len() as u32);
            0
        } else {
            k.iter().zip(last).take_while(|(a, b)| a == b).count()
        };
        put_varint(&mut b, shared as u64);
        put_varint(&mut b, (k.len() - shared) as u64);
        put_varint(&mut b, v.len() as u64);
        b.extend_from_slice(&k[shared..]);
        b.extend_from_slice(v);
        last = k;
    }
    for r in &restarts {
        b.extend_from_slice(&r.to_le_bytes());
    }
    b.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    b
}

/// A bundle input of the `tf_bundle` target: index length, index, data.
fn bundle_input(index: &[u8], data: &[u8]) -> Vec<u8> {
    [&(index.len() as u32).to_le_bytes()[..], index, data].concat()
}

fn write_tf_seeds() {
    // Every tensor of the model, zero-valued (their CRCs those of zeros), with the
    // checkpoint's keys; the data is left out and padded with zeros by the target.
    let tensors: Vec<BundleTensor> = checkpoint_mapping()
        .into_iter()
        .map(|m| BundleTensor {
            key: m.tf_key,
            dtype: 1,
            shape: m.shape.iter().map(|&d| d as i64).collect(),
            bytes: vec![0; m.shape.iter().product::<usize>() * 4],
            slices: 0,
        })
        .chain([BundleTensor {
            key: "save_counter/.ATTRIBUTES/VARIABLE_VALUE".into(),
            dtype: 9, // int64
            shape: vec![],
            bytes: 24i64.to_le_bytes().to_vec(),
            slices: 0,
        }])
        .collect();
    let (index, _) = write_bundle(&header_proto(1, 0), &tensors);
    write_seed("tf_bundle", "zero-model-padded", &bundle_input(&index, &[]));

    // The same, prefix-compressed with restart points, the first tensor random.
    let mut sorted = tensors.clone();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut rng = Prng(11);
    sorted[0].bytes = f32_bytes(
        &(0..sorted[0].bytes.len() / 4)
            .map(|_| rng.next_f32())
            .collect::<Vec<_>>(),
    );
    let mut records = vec![(Vec::new(), header_proto(1, 0))];
    let mut data = Vec::new();
    for t in &sorted {
        let crc = crc32c::mask(crc32c::crc32c(&t.bytes));
        let entry = entry_proto(
            t.dtype,
            &t.shape,
            data.len() as u64,
            t.bytes.len() as u64,
            crc,
            0,
        );
        data.extend_from_slice(&t.bytes);
        records.push((t.key.clone().into_bytes(), entry));
    }
    let index = table_from_block(&compressed_block(&records, 16), 0);
    let first = sorted[0].bytes.len();
    write_seed(
        "tf_bundle",
        "compressed-random-first",
        &bundle_input(&index, &data[..first]),
    );

    // A small bundle of two tensors, whole.
    let small = vec![
        tensors[0].clone(),
        BundleTensor {
            key: "model/extra/.ATTRIBUTES/VARIABLE_VALUE".into(),
            dtype: 1,
            shape: vec![2],
            bytes: f32_bytes(&[1.0, 2.0]),
            slices: 1,
        },
    ];
    let (index, data) = write_bundle(&header_proto(1, 0), &small);
    write_seed("tf_bundle", "two-tensors", &bundle_input(&index, &data));
}

/// The input encoding of the `ffi_descriptor` target (see its `Reader`).
struct FfiSeed(Vec<u8>);

/// A descriptor: flags, pixel type, arena offset, width, height, (planes,) strides.
#[derive(Clone, Copy)]
struct D {
    flags: u8,
    pixel_type: u8,
    offset: u16,
    width: u16,
    height: u16,
    planes: Option<u16>,
    row_stride: Option<u16>,
    plane_stride: Option<u16>,
}

const fn d(pixel_type: u8, offset: u16, width: u16, height: u16) -> D {
    D {
        flags: 0,
        pixel_type,
        offset,
        width,
        height,
        planes: None,
        row_stride: None,
        plane_stride: None,
    }
}

impl FfiSeed {
    fn new(function: u8) -> FfiSeed {
        // The arena repeats f32 1.0 (as f64, about 0.0078; as integers, small values).
        FfiSeed(vec![function, 0x00, 0x00, 0x80, 0x3f])
    }
    fn size(&mut self, v: u16) {
        self.0.extend([4u8]);
        self.0.extend(v.to_le_bytes());
    }
    fn stride(&mut self, v: Option<u16>) {
        match v {
            None => self.0.push(1),
            Some(v) => {
                self.0.push(0);
                self.size(v);
            }
        }
    }
    fn desc(mut self, d: D) -> FfiSeed {
        let flags = d.flags | if d.planes.is_some() { 0x20 } else { 0 };
        self.0.extend([flags, d.pixel_type]);
        self.0.extend(d.offset.to_le_bytes());
        self.size(d.width);
        self.size(d.height);
        if let Some(p) = d.planes {
            self.size(p);
        }
        self.stride(d.row_stride);
        self.stride(d.plane_stride);
        self
    }
    fn tail(mut self, bytes: &[u8]) -> Vec<u8> {
        self.0.extend_from_slice(bytes);
        self.0
    }
}

fn write_ffi_seeds() {
    const F32: u8 = 2;
    let input = d(F32, 0, 16, 12);
    let psf = d(F32, 1024, 5, 5);
    let output = d(1, 2048, 16, 12);
    // float64, rows padded to 160 bytes.
    let padded = D {
        row_stride: Some(160),
        ..d(3, 4096, 16, 12)
    };
    let stack = D {
        planes: Some(3),
        plane_stride: Some(1024),
        ..d(0, 8192, 20, 10)
    };
    // Each tail starts with the progress countdown and the progress switch. Wiener:
    // then the noise-to-signal ratio 0.01.
    let nsr = [&[0u8, 0][..], &0.01f64.to_le_bytes()].concat();
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "wiener",
            FfiSeed::new(0)
                .desc(input)
                .desc(psf)
                .desc(output)
                .tail(&nsr),
        ),
        (
            "wiener-stack",
            FfiSeed::new(0)
                .desc(stack)
                .desc(psf)
                .desc(D {
                    offset: 12288,
                    ..stack
                })
                .tail(&nsr),
        ),
        (
            "wiener-overlap",
            FfiSeed::new(0)
                .desc(input)
                .desc(psf)
                .desc(D {
                    offset: 64,
                    ..output
                })
                .tail(&nsr),
        ),
        (
            "rl-progress",
            FfiSeed::new(1)
                .desc(input)
                .desc(psf)
                .desc(padded)
                .tail(&[2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
        ),
        (
            "score",
            FfiSeed::new(2)
                .desc(d(0, 0, 16, 12))
                .desc(d(1, 4096, 16, 12))
                .desc(psf)
                .tail(&[0, 0]),
        ),
        (
            "psf-compute",
            FfiSeed::new(3)
                .desc(d(F32, 0, 33, 33))
                .desc(psf)
                .desc(psf)
                .tail(&[0, 0, 0, 33, 33, 0]),
        ),
        (
            "deconvolve",
            FfiSeed::new(4)
                .desc(input)
                .desc(output)
                .desc(psf)
                .tail(&[0, 0, 0, 0]),
        ),
        (
            "deconvolve-cancelled",
            FfiSeed::new(4)
                .desc(input)
                .desc(D {
                    offset: 8192,
                    ..input
                })
                .desc(psf)
                .tail(&[0, 1, 0, 0]),
        ),
        (
            "simulate",
            FfiSeed::new(5)
                .desc(d(1, 0, 32, 32))
                .desc(d(F32, 4096, 32, 32))
                .desc(psf)
                .tail(&[&[0u8, 0, 1][..], &3u64.to_le_bytes(), &5u64.to_le_bytes()].concat()),
        ),
        (
            "misaligned",
            FfiSeed::new(0)
                .desc(D { offset: 3, ..input })
                .desc(psf)
                .desc(output)
                .tail(&nsr),
        ),
        (
            "row-stride-too-small",
            FfiSeed::new(4)
                .desc(D {
                    row_stride: Some(60),
                    ..input
                })
                .desc(output)
                .desc(psf)
                .tail(&[0, 0]),
        ),
        (
            "null-data",
            FfiSeed::new(2)
                .desc(D {
                    flags: 0x1e,
                    ..input
                })
                .desc(input)
                .desc(psf)
                .tail(&[0, 0]),
        ),
    ];
    for (name, bytes) in seeds {
        write_seed("ffi_descriptor", name, &bytes);
    }
}

#[test]
#[ignore = "writes fuzz/corpus/*/ (the seeds); run by hand"]
fn write_seeds() {
    write_tiff_seeds();
    write_model_seeds();
    write_tf_seeds();
    write_ffi_seeds();
}
