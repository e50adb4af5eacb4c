//! The C ABI (`mrbcr::ffi`, `include/mrbcr.h`) against the Rust API.
//!
//! - `write_fixtures` (ignored; run by .ci/run with `MRBCR_FFI_FIXTURES=<dir>`) writes
//!   what the C and Python tests compare with: a model of random weights, seeded
//!   inputs, and the Rust API's results for them (`cases.txt` lists the cases). The C
//!   tests (tests/c/) and the Python tests (bindings/python/tests/) deconvolve the
//!   same inputs through the ABI and require bit-identical results.
//! - The other tests run with `cargo test`: the header's ABI version, and the ABI
//!   called from Rust with padded strides, against the Rust API.

use std::ffi::c_void;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::ptr;

use mrbcr::formats::model_file::{model_to_bytes, save_model};
use mrbcr::network::Weights;
use mrbcr::rng::SplitMix64;
use mrbcr::{
    deconvolve, DeconvolveOptions, ImageStack, Model, ModelMetadata, OutputRange, PixelType, Pixels,
};
use mrbcr_capi::{
    mrbcr_deconvolve, mrbcr_image_in, mrbcr_image_out, mrbcr_model, mrbcr_model_free,
    mrbcr_model_from_bytes, mrbcr_options, mrbcr_options_free, mrbcr_options_new,
    mrbcr_options_set_normalization, mrbcr_options_set_output_range, mrbcr_options_set_overlap,
    mrbcr_options_set_tile, mrbcr_output_range, mrbcr_pixel_type, mrbcr_status, MRBCR_ABI_VERSION,
};

/// Seed of the random weights of the test model.
const WEIGHTS_SEED: u64 = 7;

/// One comparison: an input, options, and the output pixel type.
struct Case {
    name: &'static str,
    input_type: PixelType,
    output_type: PixelType,
    width: usize,
    height: usize,
    planes: usize,
    tile: usize,
    overlap: usize,
    normalization: &'static str,
    output_range: OutputRange,
}

/// The cases of the C and Python tests: every pixel type in and out, stacks, tiled
/// and whole-plane runs, every normalisation, both output ranges.
const CASES: [Case; 6] = [
    Case {
        name: "u16_stack",
        input_type: PixelType::U16,
        output_type: PixelType::U16,
        width: 80,
        height: 64,
        planes: 2,
        tile: 32,
        overlap: 8,
        normalization: "percentile:1:99.8",
        output_range: OutputRange::Input,
    },
    Case {
        name: "u16_to_f32_minmax",
        input_type: PixelType::U16,
        output_type: PixelType::F32,
        width: 80,
        height: 64,
        planes: 1,
        tile: 32,
        overlap: 8,
        normalization: "minmax",
        output_range: OutputRange::Input,
    },
    Case {
        name: "u8_per_tile_normalized",
        input_type: PixelType::U8,
        output_type: PixelType::F32,
        width: 80,
        height: 64,
        planes: 1,
        tile: 32,
        overlap: 8,
        normalization: "per-tile-minmax",
        output_range: OutputRange::Normalized,
    },
    Case {
        name: "f32_whole_plane",
        input_type: PixelType::F32,
        output_type: PixelType::F32,
        width: 64,
        height: 48,
        planes: 1,
        tile: 0,
        overlap: 0,
        normalization: "percentile:2:98",
        output_range: OutputRange::Input,
    },
    Case {
        name: "f64_none_normalized",
        input_type: PixelType::F64,
        output_type: PixelType::F64,
        width: 44,
        height: 36,
        planes: 2,
        tile: 32,
        overlap: 4,
        normalization: "none",
        output_range: OutputRange::Normalized,
    },
    Case {
        name: "u8_to_u8",
        input_type: PixelType::U8,
        output_type: PixelType::U8,
        width: 40,
        height: 40,
        planes: 3,
        tile: 32,
        overlap: 12,
        normalization: "minmax",
        output_range: OutputRange::Input,
    },
];

/// The name of a pixel type in `cases.txt` (as in `mrbcr_pixel_type`, lower case).
fn type_code(t: PixelType) -> &'static str {
    match t {
        PixelType::U8 => "u8",
        PixelType::U16 => "u16",
        PixelType::F32 => "f32",
        PixelType::F64 => "f64",
    }
}

/// A pixel type's `mrbcr_pixel_type` value.
fn abi_type(t: PixelType) -> u32 {
    (match t {
        PixelType::U8 => mrbcr_pixel_type::U8,
        PixelType::U16 => mrbcr_pixel_type::U16,
        PixelType::F32 => mrbcr_pixel_type::F32,
        PixelType::F64 => mrbcr_pixel_type::F64,
    }) as u32
}

/// The size of a pixel in bytes.
fn pixel_size(t: PixelType) -> usize {
    match t {
        PixelType::U8 => 1,
        PixelType::U16 => 2,
        PixelType::F32 => 4,
        PixelType::F64 => 8,
    }
}

/// The test model's weights and metadata (with an extra key, for the metadata tests).
fn test_model() -> (Weights, ModelMetadata) {
    let mut meta = ModelMetadata::new("ffi-test");
    meta.description = format!("random weights (seed {WEIGHTS_SEED}) for the C ABI tests");
    meta.train_patch_size = Some(128);
    meta.license = "MIT".to_string();
    meta.extra
        .insert("test_key".to_string(), "test value".to_string());
    (Weights::initialize(WEIGHTS_SEED), meta)
}

/// A seeded image like a fluorescence micrograph: a dim background, a few blurred
/// bright spots and noise, with values in `[0, peak]`.
fn seeded_input(case: &Case, seed: u64) -> ImageStack {
    let mut rng = SplitMix64::new(seed);
    let (w, h, p) = (case.width, case.height, case.planes);
    let peak = match case.input_type {
        PixelType::U8 => 255.0,
        PixelType::U16 => 4000.0,
        PixelType::F32 | PixelType::F64 => 1.0,
    };
    let mut values = vec![0.0f64; w * h * p];
    for plane in values.chunks_mut(w * h) {
        let spots: Vec<(f64, f64, f64)> = (0..6)
            .map(|_| {
                (
                    f64::from(rng.uniform(0.0, w as f32)),
                    f64::from(rng.uniform(0.0, h as f32)),
                    f64::from(rng.uniform(1.5, 4.0)),
                )
            })
            .collect();
        for (i, v) in plane.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let light: f64 = spots
                .iter()
                .map(|&(sx, sy, r)| (-((x - sx).powi(2) + (y - sy).powi(2)) / (2.0 * r * r)).exp())
                .sum();
            let noise = f64::from(rng.uniform(0.0, 0.08));
            *v = (0.1 + 0.8 * light.min(1.0) + noise).min(1.0) * peak;
        }
    }
    let pixels = match case.input_type {
        PixelType::U8 => Pixels::U8(values.iter().map(|&v| v.round() as u8).collect()),
        PixelType::U16 => Pixels::U16(values.iter().map(|&v| v.round() as u16).collect()),
        PixelType::F32 => Pixels::F32(values.iter().map(|&v| v as f32).collect()),
        PixelType::F64 => Pixels::F64(values),
    };
    ImageStack::new(w, h, p, pixels).unwrap()
}

/// The options of a case.
fn options(case: &Case) -> DeconvolveOptions {
    DeconvolveOptions {
        tile: case.tile,
        overlap: Some(case.overlap),
        normalization: case.normalization.parse().unwrap(),
        output_range: case.output_range,
        threads: 0,
        memory_limit: 0,
    }
}

/// The pixels as native-endian bytes.
fn pixel_bytes(pixels: &Pixels) -> Vec<u8> {
    match pixels {
        Pixels::U8(v) => v.clone(),
        Pixels::U16(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        Pixels::F32(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        Pixels::F64(v) => v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
    }
}

#[test]
#[ignore = "writes the fixtures of the C and Python tests into $MRBCR_FFI_FIXTURES; run by .ci/run"]
fn write_fixtures() {
    let dir = PathBuf::from(
        std::env::var_os("MRBCR_FFI_FIXTURES")
            .expect("set MRBCR_FFI_FIXTURES to the directory to write the fixtures into"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let (weights, meta) = test_model();
    let model_path = dir.join("model.safetensors");
    save_model(&model_path, &weights, &meta).unwrap();
    // The reference results come from the model as the C side loads it.
    let model = Model::load(&model_path).unwrap();
    let mut manifest = String::from(
        "# name input_type output_type width height planes tile overlap normalization output_range\n",
    );
    for (seed, case) in (1..).zip(&CASES) {
        let input = seeded_input(case, seed);
        let output = deconvolve(&model, &input, &options(case), case.output_type, None).unwrap();
        write_file(
            &dir.join(format!("{}.in", case.name)),
            &pixel_bytes(input.pixels()),
        );
        write_file(
            &dir.join(format!("{}.out", case.name)),
            &pixel_bytes(output.pixels()),
        );
        writeln!(
            manifest,
            "{} {} {} {} {} {} {} {} {} {}",
            case.name,
            type_code(case.input_type),
            type_code(case.output_type),
            case.width,
            case.height,
            case.planes,
            case.tile,
            case.overlap,
            case.normalization,
            case.output_range
        )
        .unwrap();
    }
    write_file(&dir.join("cases.txt"), manifest.as_bytes());
    // The bundled default model's result on the first case.
    let first = &CASES[0];
    let output = deconvolve(
        &Model::bundled(),
        &seeded_input(first, 1),
        &options(first),
        first.output_type,
        None,
    )
    .unwrap();
    write_file(&dir.join("default.out"), &pixel_bytes(output.pixels()));
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
fn the_header_declares_the_abi_version_of_the_library() {
    let header = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/mrbcr.h");
    let text = std::fs::read_to_string(header).unwrap();
    let define = format!("#define MRBCR_ABI_VERSION {MRBCR_ABI_VERSION}\n");
    assert!(
        text.contains(&define),
        "{header} must contain '{}' (set in cbindgen.toml's after_includes)",
        define.trim()
    );
}

#[test]
fn the_header_declares_the_overlap_that_stands_for_the_model_s() {
    let header = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/mrbcr.h");
    let text = std::fs::read_to_string(header).unwrap();
    // What mrbcr_options_get reports for unset options: the C tests check it.
    assert!(text.contains("#define MRBCR_OVERLAP_OF_MODEL SIZE_MAX\n"));
}

#[test]
fn the_header_declares_the_version_of_the_release() {
    let header = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/mrbcr.h");
    let text = std::fs::read_to_string(header).unwrap();
    for define in [
        format!("#define MRBCR_VERSION \"{}\"\n", env!("CARGO_PKG_VERSION")),
        format!(
            "#define MRBCR_VERSION_MAJOR {}\n",
            env!("CARGO_PKG_VERSION_MAJOR")
        ),
        format!(
            "#define MRBCR_VERSION_MINOR {}\n",
            env!("CARGO_PKG_VERSION_MINOR")
        ),
        format!(
            "#define MRBCR_VERSION_PATCH {}\n",
            env!("CARGO_PKG_VERSION_PATCH")
        ),
    ] {
        assert!(
            text.contains(&define),
            "{header} must contain '{}', the workspace's version (set in cbindgen.toml's after_includes)",
            define.trim()
        );
    }
}

/// An image copied into memory with padded rows and planes apart.
struct Padded {
    bytes: Vec<u64>,
    row_stride: usize,
    plane_stride: usize,
}

impl Padded {
    /// Room for `planes x height x width` pixels of `size` bytes, with 3 pixels of
    /// padding per row and a gap of 5 rows between planes (u64 storage: aligned for
    /// every pixel type).
    fn new(size: usize, width: usize, height: usize, planes: usize) -> Padded {
        let row_stride = (width + 3) * size;
        let plane_stride = (height + 5) * row_stride;
        Padded {
            bytes: vec![0; (plane_stride * planes).div_ceil(8)],
            row_stride,
            plane_stride,
        }
    }

    fn as_bytes_mut(&mut self) -> &mut [u8] {
        let len = self.bytes.len() * 8;
        // SAFETY: u64 storage viewed as bytes, same length in bytes.
        unsafe { std::slice::from_raw_parts_mut(self.bytes.as_mut_ptr().cast(), len) }
    }

    /// Copies packed pixel rows in (`pack = false`) or out (`pack = true`).
    fn copy(&mut self, packed: &mut [u8], size: usize, width: usize, height: usize, pack: bool) {
        let (row_stride, plane_stride) = (self.row_stride, self.plane_stride);
        let row = width * size;
        for (r, packed_row) in packed.chunks_mut(row).enumerate() {
            let at = (r / height) * plane_stride + (r % height) * row_stride;
            let padded_row = &mut self.as_bytes_mut()[at..at + row];
            if pack {
                packed_row.copy_from_slice(padded_row);
            } else {
                padded_row.copy_from_slice(packed_row);
            }
        }
    }
}

#[test]
fn the_abi_with_padded_strides_gives_the_rust_api_results() {
    let (weights, meta) = test_model();
    let bytes = model_to_bytes(&weights, &meta).unwrap();
    let model = Model::from_bytes(&bytes, "test").unwrap();
    let mut handle: *mut mrbcr_model = ptr::null_mut();
    // SAFETY: valid bytes and out-pointer.
    let status = unsafe { mrbcr_model_from_bytes(bytes.as_ptr(), bytes.len(), &mut handle) };
    assert_eq!(status, mrbcr_status::Ok);
    let mut opts: *mut mrbcr_options = ptr::null_mut();
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { mrbcr_options_new(&mut opts) }, mrbcr_status::Ok);
    for (seed, case) in (1..).zip(&CASES).filter(|(_, c)| c.planes > 1) {
        let input = seeded_input(case, seed);
        let expected = deconvolve(&model, &input, &options(case), case.output_type, None).unwrap();
        let (w, h, p) = (case.width, case.height, case.planes);
        let (in_size, out_size) = (pixel_size(case.input_type), pixel_size(case.output_type));
        let mut padded_in = Padded::new(in_size, w, h, p);
        padded_in.copy(&mut pixel_bytes(input.pixels()), in_size, w, h, false);
        let mut padded_out = Padded::new(out_size, w, h, p);
        let normalization = std::ffi::CString::new(case.normalization).unwrap();
        // SAFETY: valid options and a NUL-terminated string.
        unsafe {
            assert_eq!(mrbcr_options_set_tile(opts, case.tile), mrbcr_status::Ok);
            assert_eq!(
                mrbcr_options_set_overlap(opts, case.overlap),
                mrbcr_status::Ok
            );
            let set = mrbcr_options_set_normalization(opts, normalization.as_ptr());
            assert_eq!(set, mrbcr_status::Ok);
        }
        let range = match case.output_range {
            OutputRange::Input => mrbcr_output_range::Input,
            OutputRange::Normalized => mrbcr_output_range::Normalized,
        };
        // SAFETY: valid options.
        let set = unsafe { mrbcr_options_set_output_range(opts, range as u32) };
        assert_eq!(set, mrbcr_status::Ok);
        let abi_in = mrbcr_image_in {
            data: padded_in.bytes.as_ptr().cast(),
            pixel_type: abi_type(case.input_type),
            width: w,
            height: h,
            planes: p,
            row_stride: padded_in.row_stride,
            plane_stride: padded_in.plane_stride,
        };
        let abi_out = mrbcr_image_out {
            data: padded_out.bytes.as_mut_ptr().cast::<c_void>(),
            pixel_type: abi_type(case.output_type),
            width: w,
            height: h,
            planes: p,
            row_stride: padded_out.row_stride,
            plane_stride: padded_out.plane_stride,
        };
        // SAFETY: the descriptors describe the padded buffers, which outlive the call.
        let status =
            unsafe { mrbcr_deconvolve(handle, opts, &abi_in, &abi_out, None, ptr::null_mut()) };
        assert_eq!(status, mrbcr_status::Ok, "{}", case.name);
        let mut result = vec![0u8; w * h * p * out_size];
        padded_out.copy(&mut result, out_size, w, h, true);
        assert!(
            result == pixel_bytes(expected.pixels()),
            "{}: the ABI's result differs from the Rust API's",
            case.name
        );
    }
    // SAFETY: handles made above, freed once.
    unsafe {
        mrbcr_options_free(opts);
        mrbcr_model_free(handle);
    }
}
