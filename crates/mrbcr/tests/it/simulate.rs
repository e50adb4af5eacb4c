//! Tests of the simulator (determinism, noise statistics, imaging) and of the PSNR /
//! SSIM scores.

use mrbcr::classical::psf::born_wolf_psf;
use mrbcr::classical::{convolve_direct, ConvolutionMode};
use mrbcr::rng::SplitMix64;
use mrbcr::simulate::{
    camera_counts, psnr, score, simulate_pair, simulate_set, ssim, CameraParams, SimulationParams,
    StructureCounts,
};
use mrbcr::Error;
use ndarray::{Array2, ArrayView2};

fn small_params() -> SimulationParams {
    SimulationParams {
        width: 48,
        height: 40,
        psf_size: 33,
        ..SimulationParams::default()
    }
}

fn mean_and_variance(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    let variance = values.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance)
}

#[test]
fn simulation_is_deterministic_per_seed_and_index() {
    let params = small_params();
    let a = simulate_pair(&params, 7, 0).unwrap();
    let b = simulate_pair(&params, 7, 0).unwrap();
    assert_eq!(a, b);
    assert_eq!((a.raw.dim(), a.ground_truth.dim()), ((40, 48), (40, 48)));
    assert_ne!(a.raw, simulate_pair(&params, 8, 0).unwrap().raw);
    assert_ne!(a.raw, simulate_pair(&params, 7, 1).unwrap().raw);
    // The set, made in parallel, is the pairs one by one, at any thread count.
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let set = pool.install(|| simulate_set(&params, 7, 3)).unwrap();
        assert_eq!(set[0], a);
        assert_eq!(set[2], simulate_pair(&params, 7, 2).unwrap());
    }
    // Drawn conditions lie in their ranges.
    let c = &a.conditions;
    assert!((1.1..=1.4).contains(&c.psf.numerical_aperture));
    assert!((500.0..=620.0).contains(&c.psf.wavelength_nm));
    assert!((20.0..=2000.0).contains(&c.peak_photons));
    assert_eq!(c.out_of_focus_defocus_nm.len(), 2);
    assert!(c
        .out_of_focus_defocus_nm
        .iter()
        .all(|d| (500.0..=1500.0).contains(&d.abs())));
    assert!(a.ground_truth.iter().all(|&v| v >= 0.0) && a.ground_truth.sum() > 0.0);
}

#[test]
fn camera_noise_matches_the_configured_statistics() {
    for (photons, gain, read_noise) in [(100.0f32, 1.0, 2.0), (4.0, 2.0, 1.0), (1500.0, 0.5, 3.0)] {
        let camera = CameraParams {
            offset: 100.0,
            gain,
            read_noise,
        };
        let flat = Array2::from_elem((256, 256), photons);
        let counts = camera_counts(flat.view(), &camera, &mut SplitMix64::new(11)).unwrap();
        let (mean, variance) = mean_and_variance(counts.iter().map(|&c| f64::from(c) - 100.0));
        let expected_mean = gain * f64::from(photons);
        let expected_var = gain * gain * f64::from(photons) + read_noise * read_noise + 1.0 / 12.0;
        let n = counts.len() as f64;
        assert!(
            (mean - expected_mean).abs() < 5.0 * (expected_var / n).sqrt(),
            "{photons} photons: mean {mean}, expected {expected_mean}"
        );
        assert!(
            (variance - expected_var).abs() < 5.0 * expected_var * (2.0 / n).sqrt(),
            "{photons} photons: variance {variance}, expected {expected_var}"
        );
    }
    let bad = CameraParams {
        gain: 0.0,
        ..CameraParams::default()
    };
    match camera_counts(Array2::zeros((2, 2)).view(), &bad, &mut SplitMix64::new(1)) {
        Err(Error::InvalidInput(msg)) => {
            assert!(msg.contains("gain") && msg.contains('0'), "{msg}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_scene_gives_the_background_photon_statistics() {
    let none = StructureCounts {
        filaments: (0, 0),
        puncta: (0, 0),
        rings: (0, 0),
        blobs: (0, 0),
    };
    let params = SimulationParams {
        width: 128,
        height: 128,
        in_focus: none,
        out_of_focus: none,
        background_photons: (50.0, 50.0),
        ..small_params()
    };
    let pair = simulate_pair(&params, 1, 0).unwrap();
    assert!(pair.ground_truth.iter().all(|&v| v == 0.0));
    let (mean, variance) = mean_and_variance(pair.raw.iter().map(|&c| f64::from(c) - 100.0));
    let expected_var = 50.0 + 1.5 * 1.5 + 1.0 / 12.0;
    let n = pair.raw.len() as f64;
    assert!(
        (mean - 50.0).abs() < 5.0 * (expected_var / n).sqrt(),
        "mean {mean}"
    );
    assert!(
        (variance - expected_var).abs() < 5.0 * expected_var * (2.0 / n).sqrt(),
        "variance {variance}"
    );
}

#[test]
fn the_raw_image_is_the_ground_truth_seen_through_the_psf() {
    // Bright, no background, no out-of-focus light: raw - offset ~ truth (*) PSF.
    let params = SimulationParams {
        width: 64,
        height: 64,
        psf_size: 65,
        peak_photons: (1e6, 1e6),
        background_photons: (0.0, 0.0),
        out_of_focus_layers: 0,
        camera: CameraParams {
            offset: 100.0,
            gain: 0.01,
            read_noise: 0.0,
        },
        ..SimulationParams::default()
    };
    let pair = simulate_pair(&params, 5, 0).unwrap();
    let psf = born_wolf_psf(&pair.conditions.psf).unwrap();
    let expected = convolve_direct(
        pair.ground_truth.view(),
        psf.view(),
        ConvolutionMode::Linear,
    );
    // Compare away from the border (light from outside the field is in `raw` only).
    let inner = ndarray::s![24..40, 24..40];
    let observed = pair.raw.mapv(|c| (f64::from(c) - 100.0) / 0.01);
    let (mut diff, mut norm) = (0.0, 0.0);
    for (&o, &e) in observed
        .slice(inner)
        .iter()
        .zip(expected.slice(inner).iter())
    {
        diff += (o - f64::from(e)).powi(2);
        norm += f64::from(e).powi(2);
    }
    let relative = (diff / norm).sqrt();
    assert!(norm > 0.0);
    assert!(relative < 0.03, "relative difference {relative}");
    // The brightest pixel got the peak photons (to quantisation).
    let brightest = observed.iter().fold(0.0f64, |m, &v| m.max(v));
    assert!((brightest - 1e6).abs() < 0.01 * 1e6, "{brightest}");
}

#[test]
fn simulation_settings_are_checked() {
    let message = |params: SimulationParams| match simulate_pair(&params, 0, 0) {
        Err(Error::InvalidInput(msg)) => msg,
        other => panic!("{other:?}"),
    };
    let msg = message(SimulationParams {
        pixel_size_nm: 120.0,
        ..small_params()
    });
    assert!(msg.contains("120 nm undersamples"), "{msg}");
    let msg = message(SimulationParams {
        numerical_aperture: (1.4, 1.2),
        ..small_params()
    });
    assert!(msg.contains("(1.4, 1.2)"), "{msg}");
    assert!(message(SimulationParams {
        width: 0,
        ..small_params()
    })
    .contains("got 0"));
    assert!(message(SimulationParams {
        psf_size: 32,
        ..small_params()
    })
    .contains("odd"));
    let msg = message(SimulationParams {
        peak_photons: (0.0, 10.0),
        ..small_params()
    });
    assert!(msg.contains("peak photons"), "{msg}");
}

/// SSIM from its definition, window by window (11 x 11 Gaussian, sigma 1.5), on
/// images already fitted.
fn ssim_by_definition(x: ArrayView2<f64>, y: ArrayView2<f64>, range: f64) -> f64 {
    let g: Vec<f64> = (0..11)
        .map(|i| (-((i as f64 - 5.0).powi(2)) / 4.5).exp())
        .collect();
    let gs: f64 = g.iter().sum();
    let (c1, c2) = ((0.01 * range).powi(2), (0.03 * range).powi(2));
    let (h, w) = x.dim();
    let mut total = 0.0;
    for y0 in 0..=h - 11 {
        for x0 in 0..=w - 11 {
            let (mut mx, mut my, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for i in 0..11 {
                for j in 0..11 {
                    let wgt = g[i] * g[j] / (gs * gs);
                    let (a, b) = (x[(y0 + i, x0 + j)], y[(y0 + i, x0 + j)]);
                    mx += wgt * a;
                    my += wgt * b;
                    sxx += wgt * a * a;
                    syy += wgt * b * b;
                    sxy += wgt * a * b;
                }
            }
            let (vx, vy, cxy) = (sxx - mx * mx, syy - my * my, sxy - mx * my);
            total += (2.0 * mx * my + c1) * (2.0 * cxy + c2)
                / ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
    }
    total / ((h - 10) * (w - 10)) as f64
}

#[test]
fn psnr_and_ssim_follow_their_definitions_after_the_affine_fit() {
    let truth = Array2::from_shape_fn((32, 40), |(y, x)| {
        ((y as f32 * 0.3).sin() + (x as f32 * 0.2).cos()) * 50.0 + 80.0
    });
    let pattern = Array2::from_shape_fn((32, 40), |(y, x)| ((y * 7 + x * 13) % 11) as f32 - 5.0);
    let output = &truth * 0.5 + &pattern + 3.0;
    // Least-squares fit of the output to the truth, computed independently.
    let (o, t) = (output.mapv(f64::from), truth.mapv(f64::from));
    let n = o.len() as f64;
    let (so, st) = (o.sum(), t.sum());
    let (soo, sot) = ((&o * &o).sum(), (&o * &t).sum());
    let a = (n * sot - so * st) / (n * soo - so * so);
    let b = (st - a * so) / n;
    let fitted = o.mapv(|v| a * v + b);
    let range =
        t.iter().cloned().fold(f64::MIN, f64::max) - t.iter().cloned().fold(f64::MAX, f64::min);
    let mse = (&fitted - &t).mapv(|d| d * d).sum() / n;
    let expected_psnr = 10.0 * (range * range / mse).log10();
    let got = psnr(output.view(), truth.view()).unwrap();
    assert!(
        (got - expected_psnr).abs() < 1e-9,
        "{got} vs {expected_psnr}"
    );
    let expected_ssim = ssim_by_definition(fitted.view(), t.view(), range);
    let got = ssim(output.view(), truth.view()).unwrap();
    assert!(
        (got - expected_ssim).abs() < 1e-9,
        "{got} vs {expected_ssim}"
    );
    assert!(got < 0.99 && got > 0.0);
    // Scale and offset do not matter; a perfect match scores 1 and infinity.
    let scaled = truth.mapv(|v| 3.0 * v - 7.0);
    let perfect = score(scaled.view(), truth.view()).unwrap();
    assert!(perfect.psnr > 100.0, "{}", perfect.psnr);
    assert!((perfect.ssim - 1.0).abs() < 1e-9);
    let both = score(output.view(), truth.view()).unwrap();
    assert_eq!(
        (both.psnr, both.ssim),
        (psnr(output.view(), truth.view()).unwrap(), got)
    );
    // Errors name the problem.
    let flat = Array2::from_elem((16, 16), 2.0f32);
    assert!(
        matches!(psnr(flat.view(), flat.view()), Err(Error::InvalidInput(m)) if m.contains("constant"))
    );
    assert!(
        matches!(ssim(truth.slice(ndarray::s![..8, ..]), truth.slice(ndarray::s![..8, ..])), Err(Error::InvalidInput(m)) if m.contains("11 x 11"))
    );
    assert!(
        matches!(psnr(output.view(), flat.view()), Err(Error::InvalidInput(m)) if m.contains("32 x 40"))
    );
}
