//! Tests of the 3-D specimen simulator: determinism, filled nuclei stay filled,
//! out-of-focus light, camera units, settings validation, raw vs blurred truth.

use mrbcr::classical::psf::{born_wolf_psf, PsfParams};
use mrbcr::classical::{convolve_direct, ConvolutionMode};
use mrbcr::simulate::specimen::{
    specimen_pair, specimen_set, FixedScene, SceneKind, SceneWeights, SpecimenPair,
    SpecimenSettings,
};
use mrbcr::Error;
use ndarray::{Array2, ArrayView2};

fn small_settings() -> SpecimenSettings {
    SpecimenSettings {
        height: 96,
        width: 96,
        ..SpecimenSettings::default()
    }
}

/// Bright, low-background acquisitions so that shapes are not lost in noise.
fn bright(settings: SpecimenSettings) -> SpecimenSettings {
    let mut settings = settings;
    settings.acquisition.peak_photons = (5000.0, 10000.0);
    settings.acquisition.background_fraction = (0.0, 0.02);
    settings
}

fn fixed(scene: FixedScene) -> SpecimenSettings {
    bright(SpecimenSettings {
        fixed_scene: Some(scene),
        ..small_settings()
    })
}

fn correlation(a: ArrayView2<f32>, b: ArrayView2<f32>) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b.iter()) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt()
}

/// Mean of `image` over the pixels within `fraction` of the radius `radius_px` of
/// the image's centre.
fn disc_mean(image: ArrayView2<f32>, radius_px: f64, fraction: f64) -> f64 {
    let (cy, cx) = (image.nrows() as f64 / 2.0, image.ncols() as f64 / 2.0);
    let (mut sum, mut n) = (0.0, 0.0);
    for ((y, x), &v) in image.indexed_iter() {
        let r = (y as f64 + 0.5 - cy).hypot(x as f64 + 0.5 - cx);
        if r <= fraction * radius_px {
            sum += f64::from(v);
            n += 1.0;
        }
    }
    sum / n
}

fn raw_f32(pair: &SpecimenPair) -> Array2<f32> {
    pair.raw.mapv(f32::from)
}

/// The counts of an empty pixel of the truth: the camera offset plus the background.
fn empty_level(pair: &SpecimenPair) -> f32 {
    let a = &pair.acquisition;
    (a.camera.offset + a.camera.gain * a.background_photons) as f32
}

#[test]
fn pairs_are_deterministic_at_any_thread_count() {
    let settings = small_settings();
    let a = specimen_pair(&settings, 11, 3).unwrap();
    let b = specimen_pair(&settings, 11, 3).unwrap();
    assert_eq!(a, b);
    assert_eq!((a.raw.dim(), a.truth.dim()), ((96, 96), (96, 96)));
    assert_ne!(a.raw, specimen_pair(&settings, 12, 3).unwrap().raw);
    assert_ne!(a.raw, specimen_pair(&settings, 11, 4).unwrap().raw);
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| specimen_set(&settings, 11, 6).unwrap())
    };
    let one = in_pool(1);
    let two = in_pool(2);
    assert_eq!(one, two);
    assert_eq!(one[3], a);
}

#[test]
fn every_scene_kind_makes_a_non_empty_pair() {
    for kind in SceneKind::ALL {
        let settings = bright(SpecimenSettings {
            scenes: SceneWeights::only(kind),
            ..small_settings()
        });
        for index in 0..2 {
            let pair = specimen_pair(&settings, 5, index).unwrap();
            assert!(
                pair.scene.starts_with(kind.name()),
                "{} for {kind:?}",
                pair.scene
            );
            let offset = empty_level(&pair);
            let raw_max = pair.raw.iter().copied().max().unwrap();
            assert!(
                f64::from(raw_max) > pair.acquisition.camera.offset + 100.0,
                "{kind:?}: raw max {raw_max}"
            );
            assert!(pair
                .truth
                .iter()
                .all(|v| v.is_finite() && *v >= offset - 1e-3));
        }
    }
}

#[test]
fn a_filled_nucleus_in_focus_is_filled_in_truth_and_raw() {
    let settings = fixed(FixedScene::Nucleus { depth_nm: 0.0 });
    for index in 0..3 {
        let pair = specimen_pair(&settings, 1, index).unwrap();
        let offset = empty_level(&pair);
        let truth = pair.truth.mapv(|v| v - offset);
        let radius = 0.3 * 96.0;
        let centre = disc_mean(truth.view(), radius, 0.2);
        let inside = disc_mean(truth.view(), radius, 0.9);
        assert!(inside > 0.0);
        assert!(
            centre > 0.85 * inside && centre < 1.15 * inside,
            "truth centre {centre} vs mean inside {inside}"
        );
        let raw = raw_f32(&pair).mapv(|v| v - offset);
        let raw_centre = disc_mean(raw.view(), radius, 0.2);
        let raw_inside = disc_mean(raw.view(), radius, 0.9);
        assert!(
            raw_centre > 0.85 * raw_inside,
            "raw centre {raw_centre} vs mean inside {raw_inside}"
        );
        // Outside the nucleus the truth is empty.
        assert!((pair.truth[(2, 2)] - offset).abs() < 1e-3);
    }
}

#[test]
fn a_nucleus_far_from_focus_gives_blurred_light_and_no_truth() {
    let settings = fixed(FixedScene::Nucleus { depth_nm: 3500.0 });
    let pair = specimen_pair(&settings, 2, 0).unwrap();
    let offset = empty_level(&pair);
    // The nucleus spans 1500..5500 nm: nothing of it in the in-focus slab.
    assert!(pair.truth.iter().all(|&v| (v - offset).abs() < 1e-3));
    let gain = pair.acquisition.camera.gain as f32;
    let photons = raw_f32(&pair).mapv(|v| (v - offset) / gain);
    let peak = pair.acquisition.peak_photons;
    assert!(disc_mean(photons.view(), 0.3 * 96.0, 0.5) > 0.3 * peak);
    // Blurred: no sharp edge at the nucleus's outline; the field's mean is a large
    // part of its peak.
    let mean = photons.mean().unwrap() as f64;
    assert!(mean > 0.2 * peak, "mean {mean} vs peak {peak}");
}

#[test]
fn truth_is_in_camera_units() {
    let settings = fixed(FixedScene::InFocusFilaments);
    for index in 0..3 {
        let pair = specimen_pair(&settings, 4, index).unwrap();
        let c = &pair.acquisition.camera;
        let min = pair.truth.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        let empty = empty_level(&pair);
        assert!(
            (min - empty).abs() < 1e-3,
            "empty truth pixels should be at the offset plus the background, {empty}, got {min}"
        );
        // The raw image's peak (photons) is the drawn peak plus background: the
        // truth's scale is the raw's.
        let max = pair.truth.iter().fold(0f32, |m, &v| m.max(v));
        assert!(f64::from(max) > c.offset + c.gain * 0.5 * pair.acquisition.peak_photons);
    }
}

#[test]
fn raw_is_the_truth_blurred_for_an_in_focus_thin_specimen() {
    let settings = fixed(FixedScene::InFocusFilaments);
    for index in 0..3 {
        let pair = specimen_pair(&settings, 9, index).unwrap();
        let offset = empty_level(&pair);
        let truth = pair.truth.mapv(|v| v - offset);
        let psf = born_wolf_psf(&PsfParams {
            oversampling: 1,
            ..pair.acquisition.psf.clone()
        })
        .unwrap();
        let blurred = convolve_direct(truth.view(), psf.view(), ConvolutionMode::Linear);
        // Away from the edges (light from outside the field is not in the truth).
        let inner = ndarray::s![16..80, 16..80];
        let raw = raw_f32(&pair);
        let r = correlation(raw.slice(inner), blurred.slice(inner));
        assert!(r > 0.9, "correlation {r}");
        // The truth itself is much sharper than the raw image.
        let r_truth = correlation(raw.slice(inner), truth.slice(inner));
        assert!(r_truth < r, "{r_truth} vs {r}");
    }
}

#[test]
fn bad_settings_are_refused_naming_the_setting() {
    let cases: Vec<(SpecimenSettings, &str)> = vec![
        (
            SpecimenSettings {
                width: 0,
                ..SpecimenSettings::default()
            },
            "width",
        ),
        (
            SpecimenSettings {
                psf_size: 64,
                ..SpecimenSettings::default()
            },
            "PSF size",
        ),
        (
            SpecimenSettings {
                half_depth_nm: f64::NAN,
                ..SpecimenSettings::default()
            },
            "half depth",
        ),
        (
            SpecimenSettings {
                plane_spacing_fraction: 0.0,
                ..SpecimenSettings::default()
            },
            "plane spacing",
        ),
        (
            SpecimenSettings {
                scenes: SceneWeights {
                    tissue: -1.0,
                    ..SceneWeights::default()
                },
                ..SpecimenSettings::default()
            },
            "tissue",
        ),
        (
            SpecimenSettings {
                scenes: SceneWeights {
                    nuclei: 0.0,
                    ..SceneWeights::only(SceneKind::Nuclei)
                },
                ..SpecimenSettings::default()
            },
            "scene weights",
        ),
        (
            SpecimenSettings {
                fixed_scene: Some(FixedScene::Nucleus {
                    depth_nm: f64::INFINITY,
                }),
                ..SpecimenSettings::default()
            },
            "fixed nucleus",
        ),
    ];
    for (settings, name) in cases {
        match specimen_pair(&settings, 0, 0) {
            Err(Error::InvalidInput(message)) => {
                assert!(message.contains(name), "{message:?} should name {name}")
            }
            other => panic!("{name}: expected InvalidInput, got {other:?}"),
        }
        assert!(specimen_set(&settings, 0, 2).is_err());
    }
    let mut bad_acquisition = SpecimenSettings::default();
    bad_acquisition.acquisition.gain = (0.0, 1.0);
    let Err(Error::InvalidInput(message)) = specimen_pair(&bad_acquisition, 0, 0) else {
        panic!("a zero gain must be refused");
    };
    assert!(message.contains("gain"), "{message}");
}

#[test]
fn description_lists_every_setting() {
    let description = SpecimenSettings::default().description();
    for key in [
        "height",
        "width",
        "psf_size",
        "half_depth_nm",
        "plane_spacing_fraction",
        "scene_weights",
        "fixed_scene",
        "acquisition",
    ] {
        assert!(description.contains_key(key), "{key} missing");
    }
}

/// Writes pairs of every scene kind as `.npy` into `/tmp/specimen_look/` and times
/// 256 x 256 pairs on one thread: `cargo test --release --test specimen -- --ignored
/// --nocapture look`.
#[test]
#[ignore]
fn look_at_pairs() {
    let dir = std::path::Path::new("/tmp/specimen_look");
    std::fs::create_dir_all(dir).unwrap();
    let settings = SpecimenSettings::default();
    let start = std::time::Instant::now();
    let mut made = 0;
    for kind in SceneKind::ALL {
        let settings = SpecimenSettings {
            scenes: SceneWeights::only(kind),
            ..settings.clone()
        };
        for index in 0..3u64 {
            let t = std::time::Instant::now();
            let pair = specimen_pair(&settings, 77, index).unwrap();
            made += 1;
            println!(
                "{:>12} {index}: {:6.1} ms, pixel {:5.1} nm, NA {:.2}, n {:.3}, {}",
                kind.name(),
                t.elapsed().as_secs_f64() * 1e3,
                pair.acquisition.psf.pixel_size_nm,
                pair.acquisition.psf.numerical_aperture,
                pair.acquisition.psf.refractive_index,
                pair.scene
            );
            let name = format!("{}_{index}", kind.name());
            write_npy(&dir.join(format!("{name}_raw.npy")), &raw_f32(&pair));
            write_npy(&dir.join(format!("{name}_truth.npy")), &pair.truth);
        }
    }
    println!(
        "mean {:.1} ms per pair",
        start.elapsed().as_secs_f64() * 1e3 / made as f64
    );
}

fn write_npy(path: &std::path::Path, image: &Array2<f32>) {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        image.nrows(),
        image.ncols()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in image.iter() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}
