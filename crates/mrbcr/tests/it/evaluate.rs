//! The quality evaluation (`mrbcr::evaluate`): the best-setting searches return the
//! best of their grids, a perfect output scores as the metric defines, the means and
//! the counts below the raw input are those of the cases, and the simulated benchmark
//! reports the best of what it tried.

use mrbcr::classical::psf::{gaussian_psf, PsfParams};
use mrbcr::classical::RichardsonLucyParams;
use mrbcr::classical::{convolve_direct, richardson_lucy, wiener, ConvolutionMode};
use mrbcr::evaluate::simulated::{inputs_and_true_psfs, WIENER_NSR};
use mrbcr::evaluate::{
    best_wiener, mean_scores, richardson_lucy_curve, run_simulated, Method, RealCaseResult,
    SimulatedBenchmark,
};
use mrbcr::simulate::{score, simulate_set, Scores};
use mrbcr::{DeconvolveOptions, Error};
use ndarray::Array2;

/// A 40 x 40 truth of two bright spots and a bar on a dim background, its blurred and
/// slightly noisy image, and the PSF that blurred it.
fn tiny_case() -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    let truth = Array2::from_shape_fn((40, 40), |(y, x)| {
        let spot = |cy: f32, cx: f32| {
            let d2 = (y as f32 - cy).powi(2) + (x as f32 - cx).powi(2);
            100.0 * (-d2 / 2.0).exp()
        };
        let bar = if (25..28).contains(&y) && (8..32).contains(&x) {
            40.0
        } else {
            0.0
        };
        5.0 + spot(12.0, 12.0) + spot(14.0, 27.0) + bar
    });
    let psf = gaussian_psf(&PsfParams {
        numerical_aperture: 0.8,
        width: 15,
        height: 15,
        ..PsfParams::default()
    })
    .unwrap();
    let blurred = convolve_direct(truth.view(), psf.view(), ConvolutionMode::Linear);
    // A fixed pattern of "noise", so that more iterations stop helping at some point.
    let input = Array2::from_shape_fn((40, 40), |(y, x)| {
        let n = ((y * 7919 + x * 104_729) % 97) as f32 / 97.0 - 0.5;
        (blurred[[y, x]] + 3.0 * n).max(0.0)
    });
    (truth, input, psf)
}

#[test]
fn a_perfect_output_scores_infinite_psnr_and_ssim_one() {
    let (truth, _, _) = tiny_case();
    let s = score(truth.view(), truth.view()).unwrap();
    assert_eq!(s.psnr, f64::INFINITY);
    assert_eq!(s.ssim, 1.0);
    // The fit is affine: a scaled and shifted copy is perfect too.
    let scaled = truth.mapv(|v| 3.0 * v + 7.0);
    let s = score(scaled.view(), truth.view()).unwrap();
    assert!(s.psnr > 100.0 && (s.ssim - 1.0).abs() < 1e-9, "{s:?}");
}

#[test]
fn richardson_lucy_search_returns_the_best_of_its_iterations() {
    let (truth, input, psf) = tiny_case();
    let params = RichardsonLucyParams {
        iterations: 12,
        tv_lambda: 0.0,
    };
    let curve = richardson_lucy_curve(input.view(), psf.view(), truth.view(), &params).unwrap();
    assert_eq!(curve.scores.len(), 12);
    // Each point of the curve is the score of a run of exactly that many iterations.
    let mut runs = Vec::new();
    for k in 1..=12 {
        let run = richardson_lucy(
            input.view(),
            psf.view(),
            &RichardsonLucyParams {
                iterations: k,
                tv_lambda: 0.0,
            },
            None,
        )
        .unwrap();
        let s = score(run.view(), truth.view()).unwrap();
        assert_eq!(curve.scores[k - 1], s, "iteration {k}");
        runs.push(run);
    }
    let best = (1..=12)
        .reduce(|a, b| {
            if curve.scores[b - 1].psnr > curve.scores[a - 1].psnr {
                b
            } else {
                a
            }
        })
        .unwrap();
    assert_eq!(curve.best.setting, best);
    assert_eq!(curve.best.scores, curve.scores[best - 1]);
    assert_eq!(curve.best.output, runs[best - 1]);
    assert!(curve.best.scores.psnr > score(input.view(), truth.view()).unwrap().psnr);
}

#[test]
fn wiener_search_returns_the_best_of_its_grid() {
    let (truth, input, psf) = tiny_case();
    let grid = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];
    let best = best_wiener(input.view(), psf.view(), truth.view(), &grid).unwrap();
    let each: Vec<Scores> = grid
        .iter()
        .map(|&nsr| {
            let out = wiener(input.view(), psf.view(), nsr).unwrap();
            score(out.view(), truth.view()).unwrap()
        })
        .collect();
    let top = each
        .iter()
        .map(|s| s.psnr)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(best.scores.psnr, top);
    let k = grid.iter().position(|&g| g == best.setting).unwrap();
    assert_eq!(best.scores, each[k]);
    assert_eq!(
        best.output,
        wiener(input.view(), psf.view(), best.setting).unwrap()
    );
    let none = best_wiener(input.view(), psf.view(), truth.view(), &[]);
    assert!(matches!(none, Err(Error::InvalidInput(_))), "{none:?}");
}

#[test]
fn means_and_counts_below_the_raw_input_are_those_of_the_cases() {
    let case = |raw: (f64, f64), method: (f64, f64)| RealCaseResult {
        scores: vec![
            Scores {
                psnr: raw.0,
                ssim: raw.1,
            },
            Scores {
                psnr: method.0,
                ssim: method.1,
            },
        ],
        wiener_nsr: 0.01,
        rl_iterations: 1,
        outputs: Vec::new(),
    };
    let means = mean_scores(&[
        case((30.0, 0.8), (32.0, 0.7)),
        case((20.0, 0.5), (19.0, 0.9)),
    ]);
    assert_eq!(means.len(), 2);
    assert_eq!((means[0].psnr, means[0].ssim), (25.0, 0.65));
    assert_eq!((means[0].below_raw_psnr, means[0].below_raw_ssim), (0, 0));
    assert_eq!((means[1].psnr, means[1].ssim), (25.5, 0.8));
    assert_eq!((means[1].below_raw_psnr, means[1].below_raw_ssim), (1, 1));
    assert!(mean_scores(&[]).is_empty());
}

#[test]
fn simulated_benchmark_reports_the_best_settings_it_tried() {
    let bench = SimulatedBenchmark {
        images: 2,
        size: 48,
        max_iterations: 4,
        tv_lambda: 0.0,
        ..SimulatedBenchmark::default()
    };
    let results = run_simulated(&bench, &[], &DeconvolveOptions::default()).unwrap();
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].method, Method::RawInput);
    assert_eq!(results[0].seconds_per_megapixel, 0.0);
    let Method::Wiener { nsr } = results[1].method else {
        panic!("{:?}", results[1]);
    };
    assert!(WIENER_NSR.contains(&nsr));
    let Method::RichardsonLucy {
        iterations,
        tv_lambda,
    } = results[2].method
    else {
        panic!("{:?}", results[2]);
    };
    assert!((1..=4).contains(&iterations) && tv_lambda == 0.0);
    // Recomputed here: the best mean of each method's grid.
    let set = simulate_set(&bench.simulation(), bench.seed, bench.images).unwrap();
    let (inputs, psfs) = inputs_and_true_psfs(&bench.simulation(), &set).unwrap();
    let mean_psnr = |outputs: &[Array2<f32>]| {
        outputs
            .iter()
            .zip(&set)
            .map(|(o, p)| score(o.view(), p.ground_truth.view()).unwrap().psnr)
            .sum::<f64>()
            / 2.0
    };
    let wiener_means: Vec<f64> = WIENER_NSR
        .iter()
        .map(|&nsr| {
            let outputs: Vec<Array2<f32>> = (0..2)
                .map(|i| wiener(inputs[i].view(), psfs[i].view(), nsr).unwrap())
                .collect();
            mean_psnr(&outputs)
        })
        .collect();
    let best_wiener_mean = wiener_means
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (results[1].psnr - best_wiener_mean).abs() < 1e-9,
        "{results:?}"
    );
    assert_eq!(
        wiener_means[WIENER_NSR.iter().position(|&g| g == nsr).unwrap()],
        best_wiener_mean
    );
    let rl_means: Vec<f64> = (1..=4)
        .map(|k| {
            let outputs: Vec<Array2<f32>> = (0..2)
                .map(|i| {
                    let params = RichardsonLucyParams {
                        iterations: k,
                        tv_lambda: 0.0,
                    };
                    richardson_lucy(inputs[i].view(), psfs[i].view(), &params, None).unwrap()
                })
                .collect();
            mean_psnr(&outputs)
        })
        .collect();
    let best_rl_mean = rl_means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!((results[2].psnr - best_rl_mean).abs() < 1e-9, "{results:?}");
    assert_eq!(rl_means[iterations - 1], best_rl_mean);
    assert!((results[0].psnr - mean_psnr(&inputs)).abs() < 1e-9);
    for r in &results {
        assert!(r.psnr.is_finite() && r.ssim > 0.0 && r.ssim <= 1.0, "{r:?}");
    }
    // The same run gives the same figures (the searches are deterministic).
    let again = run_simulated(&bench, &[], &DeconvolveOptions::default()).unwrap();
    for (a, b) in results.iter().zip(&again) {
        assert_eq!((&a.method, a.psnr, a.ssim), (&b.method, b.psnr, b.ssim));
    }

    let refused = run_simulated(
        &SimulatedBenchmark {
            images: 0,
            ..bench.clone()
        },
        &[],
        &DeconvolveOptions::default(),
    );
    assert!(
        matches!(&refused, Err(Error::InvalidInput(m)) if m.contains("at least 1 image")),
        "{refused:?}"
    );
}
