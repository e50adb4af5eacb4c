//! Tests of the classical deconvolution layer: PSF models, FFT
//! convolution, Richardson-Lucy (with and without TV), Wiener, and stacks in parallel.

use mrbcr::classical::psf::{born_wolf_psf, gaussian_psf, gaussian_sigma_nm, PsfParams};
use mrbcr::classical::{
    convolve_direct, map_planes, planes_to_stack, richardson_lucy, stack_planes, wiener,
    ConvolutionMode, Convolver, RichardsonLucyParams,
};
use mrbcr::Error;
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;

fn invalid_message<T: std::fmt::Debug>(result: mrbcr::Result<T>) -> String {
    match result {
        Err(Error::InvalidInput(msg)) => msg,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn rms_difference(a: ArrayView2<f32>, b: ArrayView2<f32>) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b.iter())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    (sum / a.len() as f64).sqrt()
}

fn rms(a: ArrayView2<f32>) -> f64 {
    (a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

fn fine_params(numerical_aperture: f64, wavelength_nm: f64) -> PsfParams {
    PsfParams {
        numerical_aperture,
        wavelength_nm,
        pixel_size_nm: 5.0,
        width: 201,
        height: 201,
        oversampling: 1,
        ..PsfParams::default()
    }
}

#[test]
fn born_wolf_psf_sums_to_one_and_is_radially_symmetric() {
    let psf = born_wolf_psf(&PsfParams::default()).unwrap();
    assert_eq!(psf.dim(), (65, 65));
    let total: f64 = psf.iter().map(|&v| f64::from(v)).sum();
    assert!((total - 1.0).abs() < 1e-5, "sum {total}");
    let c = 32usize;
    let peak = psf[(c, c)];
    assert!(psf.iter().all(|&v| v <= peak && v >= 0.0));
    // The eight symmetries of the square grid hold exactly up to rounding.
    for dy in 0..=10isize {
        for dx in 0..=10isize {
            let at =
                |y: isize, x: isize| psf[((c as isize + y) as usize, (c as isize + x) as usize)];
            let v = at(dy, dx);
            for w in [
                at(-dy, dx),
                at(dy, -dx),
                at(-dy, -dx),
                at(dx, dy),
                at(-dx, -dy),
            ] {
                assert!((v - w).abs() <= 1e-6 * peak, "asymmetric at ({dy}, {dx})");
            }
        }
    }
    // Points at the same radius (5 pixels) on and off the axes agree closely.
    let (on_axis, off_axis) = (psf[(c, c + 5)], psf[(c + 3, c + 4)]);
    assert!(
        (on_axis - off_axis).abs() < 0.05 * on_axis.max(off_axis),
        "{on_axis} vs {off_axis}"
    );
}

#[test]
fn airy_first_dark_ring_is_at_0_61_lambda_over_na() {
    for (na, wavelength) in [(1.4, 520.0), (0.9, 600.0), (1.2, 450.0)] {
        let params = fine_params(na, wavelength);
        let psf = born_wolf_psf(&params).unwrap();
        let row = psf.row(100);
        let first_minimum = (101..200)
            .find(|&x| row[x] < row[x - 1] && row[x] <= row[x + 1])
            .expect("a dark ring inside the PSF");
        let radius = (first_minimum - 100) as f64 * params.pixel_size_nm;
        let expected = 0.61 * wavelength / na;
        assert!(
            (radius - expected).abs() < 0.05 * expected,
            "NA {na}, {wavelength} nm: first minimum at {radius} nm, expected {expected}"
        );
        // It is dark: far below the peak.
        assert!(row[first_minimum] < 1e-3 * row[100]);
    }
}

fn second_moment(psf: &Array2<f32>) -> f64 {
    let (cy, cx) = ((psf.nrows() / 2) as f64, (psf.ncols() / 2) as f64);
    psf.indexed_iter()
        .map(|((y, x), &v)| f64::from(v) * ((y as f64 - cy).powi(2) + (x as f64 - cx).powi(2)))
        .sum()
}

#[test]
fn defocus_broadens_the_psf() {
    let mut previous_peak = f32::INFINITY;
    let mut previous_moment = 0.0;
    for defocus in [0.0, 300.0, 600.0, 1000.0, 1500.0] {
        let psf = born_wolf_psf(&PsfParams {
            defocus_nm: defocus,
            width: 129,
            height: 129,
            oversampling: 3,
            ..PsfParams::default()
        })
        .unwrap();
        let total: f64 = psf.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.0).abs() < 1e-5);
        let peak = psf[(64, 64)];
        let moment = second_moment(&psf);
        assert!(
            peak < previous_peak,
            "peak {peak} at {defocus} nm did not fall"
        );
        assert!(
            moment > previous_moment,
            "second moment {moment} at {defocus} nm"
        );
        previous_peak = peak;
        previous_moment = moment;
    }
    // Defocus is symmetric in its sign in the Born-Wolf model.
    let above = born_wolf_psf(&PsfParams {
        defocus_nm: 700.0,
        ..PsfParams::default()
    })
    .unwrap();
    let below = born_wolf_psf(&PsfParams {
        defocus_nm: -700.0,
        ..PsfParams::default()
    })
    .unwrap();
    assert!(rms_difference(above.view(), below.view()) < 1e-9);
}

#[test]
fn gaussian_psf_has_the_documented_sigma() {
    let params = PsfParams {
        pixel_size_nm: 10.0,
        width: 101,
        height: 101,
        ..PsfParams::default()
    };
    let psf = gaussian_psf(&params).unwrap();
    let sigma_px = gaussian_sigma_nm(&params) / params.pixel_size_nm;
    assert!((sigma_px * 10.0 - 0.21 * 520.0 / 1.4).abs() < 1e-9);
    // Per axis, the variance of the pixel-averaged Gaussian is sigma^2 + 1/12.
    let moment = second_moment(&psf) / 2.0;
    let expected = sigma_px * sigma_px + 1.0 / 12.0;
    assert!(
        (moment - expected).abs() < 0.01 * expected,
        "{moment} vs {expected}"
    );
    // Roughly the Airy core: its FWHM is near 0.51 lambda / NA.
    let row = psf.row(50);
    let half = row[50] / 2.0;
    let width = row.iter().filter(|&&v| v >= half).count() as f64 * 10.0;
    assert!((width - 0.51 * 520.0 / 1.4).abs() < 25.0, "FWHM {width}");
}

#[test]
fn psf_parameters_are_checked_with_clear_messages() {
    let bad = |change: &dyn Fn(&mut PsfParams)| {
        let mut p = PsfParams::default();
        change(&mut p);
        invalid_message(born_wolf_psf(&p))
    };
    assert!(bad(&|p| p.numerical_aperture = 0.0)
        .contains("numerical aperture must be a positive number, got 0"));
    let msg = bad(&|p| p.numerical_aperture = 1.6);
    assert!(msg.contains("1.6") && msg.contains("1.515"), "{msg}");
    assert!(bad(&|p| p.wavelength_nm = f64::NAN).contains("wavelength"));
    assert!(bad(&|p| p.pixel_size_nm = -65.0)
        .contains("pixel size (nm) must be a positive number, got -65"));
    assert!(
        bad(&|p| p.refractive_index = 0.5).contains("refractive index must be at least 1, got 0.5")
    );
    assert!(bad(&|p| p.width = 0).contains("width must be between 1 and 1024 pixels, got 0"));
    assert!(bad(&|p| p.oversampling = 40).contains("got 40"));
    assert!(bad(&|p| p.defocus_nm = f64::INFINITY).contains("defocus"));
    // Out of any microscope's range: refused at once, not a panic or minutes of work.
    let msg = bad(&|p| p.defocus_nm = 1e300);
    assert!(
        msg.contains("between -1000000 and 1000000, got 1e300"),
        "{msg}"
    );
    assert!(bad(&|p| p.defocus_nm = -1e8).contains("got -1e8"));
    let msg = bad(&|p| p.wavelength_nm = 1e-300);
    assert!(
        msg.contains("wavelength must be between 200 and 2000 nm"),
        "{msg}"
    );
    assert!(bad(&|p| p.wavelength_nm = 5000.0).contains("got 5000 nm"));
    assert!(bad(&|p| p.pixel_size_nm = 1e9).contains("at most 100000 nm, got 1e9 nm"));
    // Each within range, together too much work.
    let msg = bad(&|p| {
        p.width = 1024;
        p.height = 1024;
        p.oversampling = 16;
        p.defocus_nm = 500_000.0;
    });
    assert!(
        msg.contains("evaluations") && msg.contains("oversampling 16"),
        "{msg}"
    );
    // Deep but physical defocus still works.
    let mut deep = PsfParams {
        defocus_nm: 50_000.0,
        ..PsfParams::default()
    };
    assert!(born_wolf_psf(&deep).is_ok());
    deep.defocus_nm = -50_000.0;
    assert!(born_wolf_psf(&deep).is_ok());
    let msg = invalid_message(gaussian_psf(&PsfParams {
        defocus_nm: 200.0,
        ..PsfParams::default()
    }));
    assert!(msg.contains("200 nm"), "{msg}");
}

fn values_from(seed: &[f32], len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| seed[i % seed.len()] * (1.0 + (i % 7) as f32 * 0.1))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fft_convolution_matches_the_definition(
        h in 1usize..18,
        w in 1usize..18,
        kh in 1usize..10,
        kw in 1usize..10,
        seed in proptest::collection::vec(-1.0f32..1.0, 16..32),
        linear in any::<bool>(),
    ) {
        let image = Array2::from_shape_vec((h, w), values_from(&seed, h * w)).unwrap();
        let kernel = Array2::from_shape_vec((kh, kw), values_from(&seed[3..], kh * kw)).unwrap();
        let mode = if linear { ConvolutionMode::Linear } else { ConvolutionMode::Circular };
        let mut convolver = Convolver::new(kernel.view(), h, w, mode).unwrap();
        let fast = convolver.convolve(image.view()).unwrap();
        let direct = convolve_direct(image.view(), kernel.view(), mode);
        for (a, b) in fast.iter().zip(direct.iter()) {
            prop_assert!((a - b).abs() < 1e-5, "{} vs {}", a, b);
        }
        // Correlation is the adjoint: <K x, y> == <x, K^T y>.
        let other = Array2::from_shape_fn((h, w), |(y, x)| ((y * 7 + x * 3) % 5) as f32 - 2.0);
        let correlated = convolver.correlate(other.view()).unwrap();
        let lhs: f64 = fast.iter().zip(other.iter()).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
        let rhs: f64 = image.iter().zip(correlated.iter()).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
        prop_assert!((lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }
}

#[test]
fn convolver_rejects_the_wrong_image() {
    let kernel = Array2::from_elem((3, 3), 1.0f32);
    let mut convolver = Convolver::new(kernel.view(), 8, 8, ConvolutionMode::Linear).unwrap();
    let msg = invalid_message(convolver.convolve(Array2::zeros((8, 9)).view()));
    assert!(msg.contains("8 x 9") && msg.contains("8 x 8"), "{msg}");
    let mut with_nan = Array2::zeros((8, 8));
    with_nan[(2, 5)] = f32::NAN;
    let msg = invalid_message(convolver.convolve(with_nan.view()));
    assert!(msg.contains("row 2, column 5"), "{msg}");
}

/// A positive test object: spots and a ridge on a low background, all at least 12
/// pixels from the border.
fn test_object(size: usize) -> Array2<f32> {
    let spots = [
        (16.0, 20.0, 1.0),
        (30.0, 40.0, 1.5),
        (44.0, 26.0, 0.8),
        (40.0, 48.0, 1.2),
    ];
    Array2::from_shape_fn((size, size), |(y, x)| {
        let (y, x) = (y as f64, x as f64);
        let mut v = 0.05;
        for (sy, sx, a) in spots {
            v += a * (-((y - sy).powi(2) + (x - sx).powi(2)) / 2.0).exp();
        }
        if (14.0..50.0).contains(&x) {
            v += 0.6 * (-((y - 0.4 * x - 14.0).powi(2)) / 1.0).exp();
        }
        v as f32
    })
}

fn small_psf() -> Array2<f32> {
    born_wolf_psf(&PsfParams {
        width: 21,
        height: 21,
        pixel_size_nm: 80.0,
        ..PsfParams::default()
    })
    .unwrap()
}

#[test]
fn richardson_lucy_converges_towards_the_truth_on_noiseless_data() {
    let truth = test_object(64);
    let psf = small_psf();
    let blurred = convolve_direct(truth.view(), psf.view(), ConvolutionMode::Circular);
    for tv_lambda in [0.0, 0.002] {
        let mut errors = Vec::new();
        let mut record = |_: usize, estimate: ArrayView2<f32>| {
            errors.push(rms_difference(estimate, truth.view()));
            true
        };
        let params = RichardsonLucyParams {
            iterations: 25,
            tv_lambda,
        };
        let result =
            richardson_lucy(blurred.view(), psf.view(), &params, Some(&mut record)).unwrap();
        assert_eq!(errors.len(), 25);
        for (i, pair) in errors.windows(2).enumerate() {
            assert!(
                pair[1] < pair[0],
                "lambda {tv_lambda}: error rose at iteration {}: {errors:?}",
                i + 2
            );
        }
        let blurred_error = rms_difference(blurred.view(), truth.view());
        assert!(
            errors[24] < 0.5 * blurred_error,
            "lambda {tv_lambda}: {} after 25 iterations vs {blurred_error} blurred",
            errors[24]
        );
        assert_eq!(rms_difference(result.view(), truth.view()), errors[24]);
        assert!(result.iter().all(|&v| v >= 0.0));
        // Flux is kept (H^T 1 = 1).
        let ratio = result.sum() / truth.sum();
        assert!((ratio - 1.0).abs() < 0.02, "flux ratio {ratio}");
    }
}

#[test]
fn richardson_lucy_stays_positive_and_stops_when_told() {
    // Noisy data with negative values (offset subtracted too far).
    let truth = test_object(48);
    let psf = small_psf();
    let blurred = convolve_direct(truth.view(), psf.view(), ConvolutionMode::Circular);
    let noisy = Array2::from_shape_fn(blurred.dim(), |(y, x)| {
        blurred[(y, x)] + 0.2 * (((y * 31 + x * 17) % 13) as f32 / 6.0 - 1.0)
    });
    assert!(noisy.iter().any(|&v| v < 0.0));
    let mut calls = Vec::new();
    let mut last_seen = Array2::zeros((1, 1));
    let mut stop_at_three = |iteration: usize, estimate: ArrayView2<f32>| {
        calls.push(iteration);
        last_seen = estimate.to_owned();
        iteration < 3
    };
    let params = RichardsonLucyParams {
        iterations: 50,
        tv_lambda: 0.01,
    };
    let result =
        richardson_lucy(noisy.view(), psf.view(), &params, Some(&mut stop_at_three)).unwrap();
    assert_eq!(calls, vec![1, 2, 3]);
    assert_eq!(result, last_seen);
    assert!(result.iter().all(|&v| v >= 0.0 && v.is_finite()));
    let three = richardson_lucy(
        noisy.view(),
        psf.view(),
        &RichardsonLucyParams {
            iterations: 3,
            ..params
        },
        None,
    )
    .unwrap();
    assert_eq!(result, three);
}

#[test]
fn deconvolution_settings_are_checked() {
    let image = test_object(32);
    let psf = small_psf();
    let rl = |iterations, tv_lambda| {
        invalid_message(richardson_lucy(
            image.view(),
            psf.view(),
            &RichardsonLucyParams {
                iterations,
                tv_lambda,
            },
            None,
        ))
    };
    assert!(rl(0, 0.0).contains("at least 1 iteration, got 0"));
    assert!(rl(10, 0.3).contains("below 0.25, got 0.3"));
    assert!(rl(10, -0.1).contains("got -0.1"));
    let mut negative_psf = psf.clone();
    negative_psf[(3, 4)] = -0.5;
    let msg = invalid_message(wiener(image.view(), negative_psf.view(), 0.01));
    assert!(
        msg.contains("-0.5") && msg.contains("row 3, column 4"),
        "{msg}"
    );
    assert!(invalid_message(wiener(image.view(), psf.view(), -1.0)).contains("got -1"));
    assert!(
        invalid_message(wiener(image.view(), Array2::zeros((5, 5)).view(), 0.1))
            .contains("sums to zero")
    );
    let mut bad_image = image.clone();
    bad_image[(1, 1)] = f32::INFINITY;
    assert!(invalid_message(wiener(bad_image.view(), psf.view(), 0.1)).contains("row 1, column 1"));
}

/// A band-limited image whose mirror extension is smooth: a sum of DCT-II basis
/// functions of low frequency.
fn band_limited(size: usize, period: usize) -> Array2<f32> {
    let terms = [
        (0usize, 0usize, 1.0f64),
        (1, 2, 0.5),
        (3, 1, -0.4),
        (12, 9, 0.3),
        (18, 4, 0.25),
        (7, 16, -0.2),
    ];
    Array2::from_shape_fn((size, size), |(y, x)| {
        let n = period as f64;
        terms
            .iter()
            .map(|&(ky, kx, a)| {
                a * (std::f64::consts::PI * ky as f64 * (y as f64 + 0.5) / n).cos()
                    * (std::f64::consts::PI * kx as f64 * (x as f64 + 0.5) / n).cos()
            })
            .sum::<f64>() as f32
    })
}

#[test]
fn wiener_without_noise_inverts_a_band_limited_blur() {
    let n = 64;
    let psf = gaussian_psf(&PsfParams {
        width: 15,
        height: 15,
        pixel_size_nm: 50.0,
        ..PsfParams::default()
    })
    .unwrap();
    // Blur the 2n-periodic extension, then keep the image's n x n.
    let extended = band_limited(2 * n, n);
    let blurred_extended = convolve_direct(extended.view(), psf.view(), ConvolutionMode::Circular);
    let blurred = blurred_extended.slice(ndarray::s![..n, ..n]).to_owned();
    let truth = band_limited(n, n);
    let blur_error = rms_difference(blurred.view(), truth.view());
    let restored = wiener(blurred.view(), psf.view(), 1e-5).unwrap();
    let error = rms_difference(restored.view(), truth.view());
    assert!(
        blur_error > 0.03 * rms(truth.view()),
        "the blur is too weak to test: {blur_error}"
    );
    assert!(
        error < 1e-3 * rms(truth.view()),
        "Wiener error {error} (blurred {blur_error})"
    );
    // A strong regularisation leaves it blurred.
    let smoothed = wiener(blurred.view(), psf.view(), 1.0).unwrap();
    assert!(rms_difference(smoothed.view(), truth.view()) > 10.0 * error);
}

#[test]
fn planes_in_parallel_equal_planes_one_by_one() {
    let psf = small_psf();
    let planes: Vec<Array2<f32>> = (0..5)
        .map(|i| {
            let t = test_object(40 + 4 * i);
            convolve_direct(t.view(), psf.view(), ConvolutionMode::Circular)
        })
        .collect();
    let params = RichardsonLucyParams {
        iterations: 8,
        tv_lambda: 0.002,
    };
    let rl = |plane: ArrayView2<f32>| richardson_lucy(plane, psf.view(), &params, None);
    let sequential: Vec<Array2<f32>> = planes.iter().map(|p| rl(p.view()).unwrap()).collect();
    for threads in [1, 2, 3] {
        let parallel = map_planes(&planes, threads, 0, None, |p, _| rl(p)).unwrap();
        assert_eq!(parallel, sequential, "{threads} threads");
        let wiener_parallel = map_planes(&planes, threads, 0, None, |p, _| {
            wiener(p, psf.view(), 0.01)
        })
        .unwrap();
        for (p, w) in planes.iter().zip(&wiener_parallel) {
            assert_eq!(*w, wiener(p.view(), psf.view(), 0.01).unwrap());
        }
    }
    // An error in one plane is reported.
    let mut broken = planes.clone();
    broken[3][(0, 0)] = f32::NAN;
    assert!(invalid_message(map_planes(&broken, 0, 0, None, |p, _| rl(p))).contains("non-finite"));
}

/// The per-plane scheduler reports progress on the calling thread, in order, up to
/// the whole run, and a progress callback that returns false cancels the run: the
/// methods are told to stop and no result comes back.
#[test]
fn plane_runs_report_progress_and_can_be_cancelled() {
    let psf = small_psf();
    let planes: Vec<Array2<f32>> = (0..4).map(|i| test_object(32 + 4 * i)).collect();
    let params = RichardsonLucyParams {
        iterations: 6,
        tv_lambda: 0.0,
    };
    let rl = |plane: ArrayView2<f32>, step: &mut dyn FnMut() -> bool| {
        let mut on_iteration = |_: usize, _: ArrayView2<f32>| step();
        richardson_lucy(plane, psf.view(), &params, Some(&mut on_iteration))
    };
    let caller = std::thread::current().id();
    let mut fractions = Vec::new();
    let mut record = |fraction: f64| {
        assert_eq!(
            std::thread::current().id(),
            caller,
            "progress off the calling thread"
        );
        fractions.push(fraction);
        true
    };
    let restored = map_planes(&planes, 2, 6, Some(&mut record), rl).unwrap();
    assert_eq!(fractions.len(), 4 * 6);
    assert!(fractions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*fractions.last().unwrap(), 1.0);
    for (plane, result) in planes.iter().zip(&restored) {
        assert_eq!(*result, rl(plane.view(), &mut || true).unwrap());
    }

    let mut calls = 0;
    let mut cancel_after_three = |_: f64| {
        calls += 1;
        calls < 3
    };
    let cancelled = map_planes(&planes, 2, 6, Some(&mut cancel_after_three), rl);
    assert!(matches!(cancelled, Err(Error::Cancelled)), "{cancelled:?}");
    assert_eq!(calls, 3, "progress is not called after it cancelled");
}

#[test]
fn stacks_convert_to_planes_and_back() {
    let planes: Vec<Array2<f32>> = (0..3)
        .map(|i| Array2::from_shape_fn((4, 6), |(y, x)| (i * 100 + y * 6 + x) as f32))
        .collect();
    let stack = planes_to_stack(&planes).unwrap();
    assert_eq!((stack.width(), stack.height(), stack.planes()), (6, 4, 3));
    assert_eq!(stack_planes(&stack), planes);
    let mixed = vec![planes[0].clone(), Array2::zeros((4, 5))];
    assert!(invalid_message(planes_to_stack(&mixed)).contains("plane 1 is 4 x 5"));
    assert!(planes_to_stack(&[]).is_err());
}
