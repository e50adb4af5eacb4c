//! Whole-image deconvolution: the untiled mode against the published network, tiled
//! results against untiled ones (convergence, default deviation, seams), sizes and
//! pixel types, stacks, threads, normalisation, progress, cancellation, bad input.

use std::sync::OnceLock;

use crate::common::*;
use mrbcr::deconvolve::context::measure_tile_overlap;
use mrbcr::deconvolve::tiling::AxisPlan;
use mrbcr::deconvolve::SMALLEST_BUDGET_TILE;
use mrbcr::network::Workspace;
use mrbcr::*;
use ndarray::{Array2, ArrayD, Ix4};
use safetensors::SafeTensors;

/// The authors' model as `mrbcr import-tf` writes it: with its overlap measured.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (weights, mut meta) =
            mrbcr::formats::tf_import::import_tf_checkpoint(&ckpt_prefix()).unwrap();
        let measured = measure_tile_overlap(&Model::from_weights(&weights, meta.clone())).unwrap();
        eprintln!("the authors' model: {measured:?}");
        meta.tile_overlap = Some(measured.overlap);
        Model::from_weights(&weights, meta)
    })
}

fn options(tile: usize, overlap: usize, normalization: Normalization) -> DeconvolveOptions {
    DeconvolveOptions {
        tile,
        overlap: Some(overlap),
        normalization,
        output_range: OutputRange::Normalized,
        threads: 0,
        memory_limit: 0,
    }
}

fn f32_stack(width: usize, height: usize, planes: usize, v: Vec<f32>) -> ImageStack {
    ImageStack::new(width, height, planes, Pixels::F32(v)).unwrap()
}

fn values(s: &ImageStack) -> &[f32] {
    match s.pixels() {
        Pixels::F32(v) => v,
        other => panic!("expected f32, got {:?}", other.pixel_type()),
    }
}

fn run(image: &ImageStack, o: &DeconvolveOptions) -> ImageStack {
    deconvolve(model(), image, o, PixelType::F32, None).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn range(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::MIN, f32::max) - v.iter().copied().fold(f32::MAX, f32::min)
}

#[test]
fn whole_image_mode_is_the_published_network() {
    let path = reference_dir().join("golden/official_mrbcr_golden.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let tensor = |name: &str| {
        let t = st.tensor(name).unwrap();
        let v: Vec<f32> = t
            .data()
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        ArrayD::from_shape_vec(t.shape(), v)
            .unwrap()
            .into_dimensionality::<Ix4>()
            .unwrap()
    };
    let (x0, z0) = (tensor("x0"), tensor("z0"));
    let o = options(0, 0, Normalization::None);
    let mut ws = Workspace::new();
    for n in 0..x0.dim().0 {
        let x: Array2<f32> = x0.slice(ndarray::s![n, .., .., 0]).to_owned();
        let out = run(&f32_stack(128, 128, 1, x.iter().copied().collect()), &o);
        let direct = model().network().forward(x.view(), &mut ws).unwrap();
        assert!(
            values(&out) == direct.as_slice().unwrap(),
            "input {n}: not the network's output"
        );
        let golden: Vec<f32> = z0
            .slice(ndarray::s![n, .., .., 0])
            .iter()
            .copied()
            .collect();
        let err = max_abs_diff(values(&out), &golden);
        assert!(
            err <= 1e-4,
            "input {n}: max error {err} against TensorFlow's z0"
        );
    }
}

#[test]
fn tiled_results_converge_to_the_untiled_network() {
    let (h, w) = (512, 1024);
    let image = f32_stack(w, h, 1, structured_image(h, w, 3));
    let whole = run(&image, &options(0, 0, Normalization::MinMax));
    let mut previous = f32::INFINITY;
    for overlap in [32, 96, 320] {
        let tiled = run(&image, &options(512, overlap, Normalization::MinMax));
        let dev = max_abs_diff(values(&tiled), values(&whole));
        eprintln!("tile 512, overlap {overlap}: largest deviation {dev:.3e}");
        assert!(
            dev < previous,
            "overlap {overlap}: deviation {dev} did not fall below {previous}"
        );
        previous = dev;
    }
    // The last handover lies 3/8 x 320 = 120 pixels from every tile edge.
    assert!(previous <= 1e-4, "deviation {previous} with overlap 320");
}

#[test]
fn default_tiling_stays_within_one_percent_of_the_untiled_output() {
    let (h, w) = (640, 900);
    for (name, pixels) in [
        ("structured", structured_image(h, w, 8)),
        ("smooth", smooth_image(h, w)),
    ] {
        let image = f32_stack(w, h, 1, pixels);
        let norm = Normalization::default();
        let whole = run(&image, &options(0, 0, norm));
        // The default overlap in the smallest tiles a memory budget gives (the
        // default tile holds the whole image).
        let defaults = DeconvolveOptions {
            tile: SMALLEST_BUDGET_TILE,
            output_range: OutputRange::Normalized,
            ..DeconvolveOptions::default()
        };
        let tiled = run(&image, &defaults);
        let dev = max_abs_diff(values(&tiled), values(&whole)) / range(values(&whole));
        eprintln!(
            "{name}: largest deviation {:.4}% of the output range",
            dev * 100.0
        );
        assert!(dev < 0.01, "{name}: deviation {dev} of the range");
    }
}

/// Mean absolute difference between neighbouring columns `x` and `x + 1`, per `x`.
fn column_steps(v: &[f32], h: usize, w: usize) -> Vec<f64> {
    (0..w - 1)
        .map(|x| {
            (0..h)
                .map(|y| f64::from((v[y * w + x + 1] - v[y * w + x]).abs()))
                .sum::<f64>()
                / h as f64
        })
        .collect()
}

fn transpose(v: &[f32], h: usize, w: usize) -> Vec<f32> {
    (0..w * h).map(|i| v[(i % h) * w + i / h]).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether the step from column `x` to `x + 1` lies in a handover of the tiles
/// [`AxisPlan`] plans along `length` columns: the middle quarter of each shared strip,
/// and the steps into and out of it.
fn handover_columns(length: usize, tile: usize, overlap: usize) -> Vec<bool> {
    let plan = AxisPlan::new(length, tile, overlap);
    let mut handover = vec![false; length];
    for &start in &plan.starts[1..] {
        let end = (start + 5 * overlap / 8 + 1).min(length);
        handover[(start + 3 * overlap / 8).saturating_sub(1)..end].fill(true);
    }
    handover
}

/// What tiling adds to the steps between neighbouring columns where tiles hand over:
/// the largest, over the handover columns of tiles of `tile` overlapping by `overlap`,
/// of the mean absolute change tiling makes to the step (the step of `tiled - untiled`),
/// as a fraction of the untiled output's local step level (the median of its steps over
/// the 16 nearest columns outside handovers on either side).
fn added_step(
    tiled: &[f32],
    untiled: &[f32],
    rows: usize,
    cols: usize,
    tile: usize,
    overlap: usize,
) -> f64 {
    let handover = handover_columns(cols, tile, overlap);
    let steps = column_steps(untiled, rows, cols);
    let difference: Vec<f32> = tiled.iter().zip(untiled).map(|(t, u)| t - u).collect();
    let added = column_steps(&difference, rows, cols);
    let ordinary = |n: &usize| !handover[*n];
    (0..steps.len())
        .filter(|&x| handover[x])
        .map(|x| {
            let left = (0..x).rev().filter(ordinary).take(16);
            let right = (x + 1..steps.len()).filter(ordinary).take(16);
            added[x] / median(left.chain(right).map(|n| steps[n]).collect())
        })
        .fold(0.0, f64::max)
}

/// The most a handover may add to the step between neighbouring columns, as a fraction
/// of the untiled output's local step level. Measured with the authors' weights at their
/// overlap (192), on the images of [`no_seam_can_be_found_at_tile_boundaries`]: the
/// handovers add at most 0.013 (smooth image; 0.0001 on the structured one), while real
/// seams add at least 2.6 (a planted step of 1% of the range: 3.3 and 2.6; tiles cut
/// without overlap: 328 and 14). The limit is about 4 times the first and 50 times
/// below the second.
const SEAM_TOLERANCE: f64 = 0.05;

#[test]
fn no_seam_can_be_found_at_tile_boundaries() {
    // A seam is a step tiling adds: the untiled output's own steps vary too, as much
    // at the handover columns as elsewhere, so the tiled output is compared with it.
    // The model's own overlap, tiles 128 pixels longer: handovers on both axes of
    // 472 x 600.
    let (h, w) = (472, 600);
    let overlap = model().metadata().tile_overlap.unwrap();
    let tile = overlap + 128;
    assert!(AxisPlan::new(h, tile, overlap).count() >= 2);
    let both_axes = |tiled: &[f32], untiled: &[f32], overlap: usize| {
        let by_columns = added_step(tiled, untiled, h, w, tile, overlap);
        let (tiled, untiled) = (transpose(tiled, h, w), transpose(untiled, h, w));
        by_columns.max(added_step(&tiled, &untiled, w, h, tile, overlap))
    };
    for (name, pixels) in [
        ("smooth", smooth_image(h, w)),
        ("structured", structured_image(h, w, 5)),
    ] {
        let image = f32_stack(w, h, 1, pixels);
        let untiled = run(&image, &options(0, 0, Normalization::MinMax));
        let tiled = run(&image, &options(tile, overlap, Normalization::MinMax));
        let added = both_axes(values(&tiled), values(&untiled), overlap);
        // The statistic finds real seams: tiles cut without overlap, and a step of 1%
        // of the range planted at the first handover.
        let cut = run(&image, &options(tile, 0, Normalization::MinMax));
        let hard_cut = both_axes(values(&cut), values(&untiled), 0);
        let mut planted = values(&tiled).to_vec();
        let at = AxisPlan::new(w, tile, overlap).starts[1] + overlap / 2;
        let step = 0.01 * range(&planted);
        for row in planted.chunks_mut(w) {
            row[at..].iter_mut().for_each(|v| *v += step);
        }
        let planted = both_axes(&planted, values(&untiled), overlap);
        eprintln!(
            "{name}: handovers add {added:.4} of the local step level; a hard cut \
             {hard_cut:.4}, a planted 1% step {planted:.4}"
        );
        assert!(
            added <= SEAM_TOLERANCE,
            "{name}: a seam: handovers add {added} of the local step level"
        );
        assert!(
            hard_cut > SEAM_TOLERANCE && planted > SEAM_TOLERANCE,
            "{name}: a seam went unnoticed: hard cut {hard_cut}, planted {planted}"
        );
    }
}

#[test]
fn any_size_and_tiny_images() {
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    for (w, h) in [(1, 1), (3, 5), (2, 9), (61, 37), (130, 67)] {
        let pixels: Vec<u8> = (0..w * h).map(|i| (i * 37 % 251) as u8).collect();
        let image = ImageStack::new(w, h, 1, Pixels::U8(pixels)).unwrap();
        let out = deconvolve(model(), &image, &o, PixelType::F32, None).unwrap();
        assert_eq!((out.width(), out.height(), out.planes()), (w, h, 1));
        assert!(values(&out).iter().all(|v| v.is_finite()), "{w} x {h}");
    }
}

#[test]
fn a_constant_image_comes_back_constant() {
    for norm in ["percentile", "minmax", "per-tile-minmax"] {
        let o = DeconvolveOptions {
            tile: 64,
            overlap: Some(16),
            normalization: norm.parse().unwrap(),
            ..DeconvolveOptions::default()
        };
        let image = ImageStack::new(70, 50, 1, Pixels::U16(vec![412; 3500])).unwrap();
        let out = deconvolve(model(), &image, &o, PixelType::U16, None).unwrap();
        assert_eq!(out.pixels(), &Pixels::U16(vec![412; 3500]), "{norm}");
    }
}

#[test]
fn pixel_types_give_the_same_result_for_the_same_values() {
    let (w, h) = (90, 70);
    let v: Vec<u16> = structured_image(h, w, 2)
        .iter()
        .map(|&x| x.round() as u16)
        .collect();
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    let from = |p: Pixels| {
        deconvolve(
            model(),
            &ImageStack::new(w, h, 1, p).unwrap(),
            &o,
            PixelType::F32,
            None,
        )
        .unwrap()
    };
    let reference = from(Pixels::U16(v.clone()));
    assert_eq!(
        from(Pixels::F32(v.iter().map(|&x| f32::from(x)).collect())),
        reference
    );
    assert_eq!(
        from(Pixels::F64(v.iter().map(|&x| f64::from(x)).collect())),
        reference
    );
    let small: Vec<u8> = v.iter().map(|&x| (x / 8) as u8).collect();
    assert_eq!(
        from(Pixels::U8(small.clone())),
        from(Pixels::F32(small.iter().map(|&x| f32::from(x)).collect()))
    );
    // Integer outputs are the float output rounded and clamped.
    let as_u16 = deconvolve(
        model(),
        &ImageStack::new(w, h, 1, Pixels::U16(v)).unwrap(),
        &o,
        PixelType::U16,
        None,
    )
    .unwrap();
    let expected: Vec<u16> = values(&reference)
        .iter()
        .map(|&x| x.round().clamp(0.0, 65535.0) as u16)
        .collect();
    assert_eq!(as_u16.pixels(), &Pixels::U16(expected));
}

#[test]
fn output_follows_the_input_intensity_scale() {
    // With percentile or min-max normalisation mapped back, a*x + b deconvolves to
    // a*f(x) + b.
    let (w, h) = (100, 80);
    let x = structured_image(h, w, 4);
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    let base = run(&f32_stack(w, h, 1, x.clone()), &o);
    let scaled = run(
        &f32_stack(w, h, 1, x.iter().map(|v| 3.0 * v + 250.0).collect()),
        &o,
    );
    for (a, b) in values(&base).iter().zip(values(&scaled)) {
        assert!(
            (3.0 * a + 250.0 - b).abs() <= 1e-3 * b.abs().max(1.0),
            "{a} -> {b}"
        );
    }
}

#[test]
fn a_stack_gives_exactly_its_planes_one_by_one_at_any_thread_count() {
    let (w, h, planes) = (150, 110, 3);
    let plane_values: Vec<Vec<f32>> = (0..planes)
        .map(|p| structured_image(h, w, 10 + p as u64))
        .collect();
    let stack = f32_stack(w, h, planes, plane_values.concat());
    for norm in ["percentile", "per-tile-minmax"] {
        let mut o = DeconvolveOptions {
            tile: 64,
            overlap: Some(16),
            normalization: norm.parse().unwrap(),
            ..DeconvolveOptions::default()
        };
        o.threads = 2;
        let together = run(&stack, &o);
        o.threads = 1;
        let serial = run(&stack, &o);
        assert!(
            together == serial,
            "{norm}: thread count changed the result"
        );
        for (p, v) in plane_values.iter().enumerate() {
            let alone = run(&f32_stack(w, h, 1, v.clone()), &o);
            assert!(
                values(&alone) == &values(&together)[p * w * h..(p + 1) * w * h],
                "{norm}: plane {p} differs from the plane alone"
            );
        }
    }
}

#[test]
fn progress_is_reported_per_tile_and_ends_at_one() {
    let (w, h) = (200, 130);
    let image = f32_stack(
        w,
        h,
        2,
        [structured_image(h, w, 1), structured_image(h, w, 2)].concat(),
    );
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    let mut seen = Vec::new();
    let mut report = |f: f64| {
        seen.push(f);
        true
    };
    deconvolve(model(), &image, &o, PixelType::F32, Some(&mut report)).unwrap();
    // 200 -> 4 tiles of 64 with step 48, 130 -> 3; two planes.
    assert_eq!(seen.len(), 2 * 4 * 3);
    assert!(seen.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(*seen.last().unwrap(), 1.0);
}

#[test]
fn cancelling_stops_the_run_and_leaves_no_result() {
    let (w, h) = (300, 300);
    let image = f32_stack(w, h, 1, structured_image(h, w, 6));
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    let mut output = ImageStack::zeros(w, h, 1, PixelType::F32).unwrap();
    let mut calls = 0;
    let mut cancel_at_third = |_: f64| {
        calls += 1;
        calls < 3
    };
    let err = deconvolve_into(
        model(),
        image.view(),
        output.view_mut(),
        &o,
        Some(&mut cancel_at_third),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert_eq!(err.to_string(), "cancelled: no result was produced");
    assert_eq!(calls, 3, "progress was reported after the cancel");
    assert!(
        values(&output).iter().all(|&v| v == 0.0),
        "a partial result was left in the output"
    );
}

#[test]
fn bad_input_is_named() {
    let msg = |image: &ImageStack, o: &DeconvolveOptions, t: PixelType| {
        deconvolve(model(), image, o, t, None)
            .unwrap_err()
            .to_string()
    };
    let o = DeconvolveOptions {
        tile: 64,
        overlap: Some(16),
        ..DeconvolveOptions::default()
    };
    let mut v = vec![1.0f32; 2 * 40 * 30];
    v[40 * 30 + 5 * 40 + 7] = f32::NAN;
    let m = msg(&f32_stack(40, 30, 2, v.clone()), &o, PixelType::F32);
    assert!(
        m.contains("plane 2 holds a non-finite value (NaN) at row 5, column 7"),
        "{m}"
    );
    v[40 * 30 + 5 * 40 + 7] = f32::INFINITY;
    assert!(msg(&f32_stack(40, 30, 2, v), &o, PixelType::F32).contains("(inf)"));

    let fine = f32_stack(40, 30, 1, vec![1.0; 1200]);
    let normalized = DeconvolveOptions {
        output_range: OutputRange::Normalized,
        ..o.clone()
    };
    assert!(msg(&fine, &normalized, PixelType::U16)
        .contains("a 16-bit output needs the output range 'input'"));
    let bad_tile = DeconvolveOptions {
        tile: 50,
        ..o.clone()
    };
    assert!(msg(&fine, &bad_tile, PixelType::F32)
        .contains("tile size 50 must be 0 (whole image) or a multiple of 4 of at least 32"));
    let bad_percentiles = DeconvolveOptions {
        normalization: Normalization::Percentile {
            low: 50.0,
            high: 10.0,
        },
        ..o.clone()
    };
    assert!(msg(&fine, &bad_percentiles, PixelType::F32).contains("low 50 and high 10"));

    let mut wrong = ImageStack::zeros(41, 30, 1, PixelType::F32).unwrap();
    let e = deconvolve_into(model(), fine.view(), wrong.view_mut(), &o, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("must have the input's dimensions (1 planes of 40 x 30)"),
        "{e}"
    );
}

#[test]
fn strided_views_are_read_and_written_in_place() {
    // A plane stored with padded rows, read through a strided view, written into the
    // columns of a wider buffer: the same result as the compact stack.
    let (w, h) = (70, 50);
    let v = structured_image(h, w, 9);
    let o = DeconvolveOptions {
        tile: 32,
        overlap: Some(8),
        ..DeconvolveOptions::default()
    };
    let compact = run(&f32_stack(w, h, 1, v.clone()), &o);
    let mut padded = Array2::<f32>::from_elem((h, w + 10), -1.0);
    padded
        .slice_mut(ndarray::s![.., ..w])
        .assign(&Array2::from_shape_vec((h, w), v).unwrap());
    let input = padded
        .slice(ndarray::s![.., ..w])
        .insert_axis(ndarray::Axis(0));
    let mut out = Array2::<f32>::from_elem((h, w + 3), 7.0);
    let output = out
        .slice_mut(ndarray::s![.., 3..])
        .insert_axis(ndarray::Axis(0));
    deconvolve_into(
        model(),
        StackView::F32(input),
        StackViewMut::F32(output),
        &o,
        None,
    )
    .unwrap();
    let got: Vec<f32> = out.slice(ndarray::s![.., 3..]).iter().copied().collect();
    assert!(got == values(&compact));
    assert!(
        out.column(0).iter().all(|&x| x == 7.0),
        "wrote outside the view"
    );
}

#[test]
fn results_beyond_float32_are_an_error_naming_the_plane_never_infinite_pixels() {
    let o = DeconvolveOptions {
        output_range: OutputRange::Input,
        ..options(64, 16, Normalization::default())
    };
    // A first plane of ordinary values, a second one near 1e302 (finite in f64).
    let n = 48 * 40;
    let mut v: Vec<f64> = (0..n).map(|i| 100.0 + (i % 17) as f64).collect();
    v.extend((0..n).map(|i| 1e302 * (1.0 + (i % 13) as f64)));
    let image = ImageStack::new(48, 40, 2, Pixels::F64(v)).unwrap();
    let e = deconvolve(model(), &image, &o, PixelType::F32, None).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(msg.contains("plane 2 gives a non-finite result"), "{msg}");
    // Float32 values at the type's limits: the affine way back overflows.
    let v: Vec<f32> = (0..n)
        .map(|i| if i % 2 == 0 { -3.4e38 } else { 3.4e38 })
        .collect();
    let msg = deconvolve(model(), &f32_stack(48, 40, 1, v), &o, PixelType::F32, None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("plane 1 gives a non-finite result"), "{msg}");
}

#[test]
fn thread_counts_beyond_the_limit_are_refused_with_the_limit() {
    let image = f32_stack(40, 40, 1, (0..1600).map(|i| (i % 31) as f32).collect());
    let mut o = options(32, 8, Normalization::default());
    o.threads = 10_000;
    let msg = deconvolve(model(), &image, &o, PixelType::F32, None)
        .unwrap_err()
        .to_string();
    let limit = mrbcr::threads::max_worker_threads();
    assert!(
        msg.contains("10000 worker threads is too many")
            && msg.contains(&format!("at most {limit}")),
        "{msg}"
    );
    o.threads = limit;
    assert!(deconvolve(model(), &image, &o, PixelType::F32, None).is_ok());
}

#[test]
fn a_tile_that_needs_more_than_the_memory_limit_is_refused_before_it_starts() {
    let image = f32_stack(
        256,
        256,
        2,
        (0..2 * 65536).map(|i| (i % 97) as f32).collect(),
    );
    let limited = |tile: usize, overlap: usize| DeconvolveOptions {
        memory_limit: 12 << 20,
        ..options(tile, overlap, Normalization::default())
    };
    let e = deconvolve(model(), &image, &limited(0, 0), PixelType::F32, None).unwrap_err();
    let msg = e.to_string();
    match &e {
        Error::OutOfMemory {
            needed, available, ..
        } => {
            // 256 x 256 pixels at about 1.4 kB each, against the 12 MiB limit.
            assert!((80 << 20..100 << 20).contains(needed), "{msg}");
            assert_eq!(*available, Some(12 << 20), "{msg}");
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    assert!(
        msg.contains("not enough memory") && msg.contains("tile 0"),
        "{msg}"
    );
    assert!(msg.contains("and the system has 12 MiB available"), "{msg}");
    // Tiles that fit run under the same limit, one at a time, with the same result.
    let small = run(&image, &limited(64, 16));
    let free = run(&image, &options(64, 16, Normalization::default()));
    assert!(values(&small) == values(&free));
}

#[test]
fn normalization_and_output_range_text_round_trips() {
    for text in [
        "percentile",
        "percentile:2:99.5",
        "minmax",
        "per-tile-minmax",
        "none",
    ] {
        let n: Normalization = text.parse().unwrap();
        assert_eq!(n.to_string().parse::<Normalization>().unwrap(), n, "{text}");
        assert_eq!(n.short_form(), text);
    }
    assert_eq!(
        Normalization::DEFAULT_PERCENTILE.to_string(),
        "percentile:1:99.8"
    );
    assert_eq!(
        "percentile:1:99.8"
            .parse::<Normalization>()
            .unwrap()
            .short_form(),
        "percentile"
    );
    for range in [OutputRange::Input, OutputRange::Normalized] {
        assert_eq!(range.to_string().parse::<OutputRange>().unwrap(), range);
    }
}
