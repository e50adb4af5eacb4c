//! Training data: the user's TIFF pairs (matching, and clear errors when they do not
//! match), the patches drawn from them (same transform for input and truth,
//! normalised to [0, 1]), and whole training sets as `mrbcr train` assembles them
//! (simulated over several pixel sizes, or TIFF pairs with a validation split).

use std::path::Path;

use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::rng::SplitMix64;
use mrbcr::simulate::{simulate_set, SimulationParams};
use mrbcr::train::data::{
    grid_samples, minmax_normalize, random_sample, simulated_pairs, tiff_pairs, ImagePair,
    InputScaling, PatchOptions, TruthScaling,
};
use mrbcr::train::{SimulatedTraining, TiffTraining};
use mrbcr::{ImageStack, Pixels};
use ndarray::Array2;

fn write(path: &Path, width: usize, height: usize, planes: usize) {
    let values: Vec<u16> = (0..width * height * planes)
        .map(|i| (i % 251) as u16)
        .collect();
    let stack = ImageStack::new(width, height, planes, Pixels::U16(values)).unwrap();
    write_tiff(path, &stack, &TiffMetadata::default()).unwrap();
}

#[test]
fn tiff_pairs_match_files_and_pages_and_refuse_mismatches() {
    let dir = std::env::temp_dir().join(format!("mrbcr-train-data-{}", std::process::id()));
    let (low, high) = (dir.join("low"), dir.join("high"));
    std::fs::create_dir_all(&low).unwrap();
    std::fs::create_dir_all(&high).unwrap();
    write(&low.join("a.tif"), 32, 24, 2);
    write(&low.join("b.tif"), 40, 40, 1);
    write(&high.join("a.tif"), 32, 24, 2);
    write(&high.join("b.tif"), 40, 40, 1);
    let pairs = tiff_pairs(&low, &high).unwrap();
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs[2].input.dim(), (40, 40));
    // A stack against a folder works too, plane by plane.
    assert_eq!(
        tiff_pairs(&low.join("a.tif"), &high.join("a.tif"))
            .unwrap()
            .len(),
        2
    );

    write(&high.join("b.tif"), 40, 36, 1);
    let e = tiff_pairs(&low, &high).unwrap_err().to_string();
    assert!(
        e.contains("b.tif") && e.contains("(40, 40)") && e.contains("(36, 40)"),
        "{e}"
    );

    write(&high.join("c.tif"), 40, 40, 1);
    let e = tiff_pairs(&low, &high).unwrap_err().to_string();
    assert!(e.contains("3 images") && e.contains("4"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn patches_transform_input_and_truth_alike_and_are_normalised() {
    // Truth = 2 * input + 5: after each is min-max normalised they are equal, whatever
    // flip or rotation was drawn, as long as both got the same one.
    let input = Array2::from_shape_fn((40, 48), |(r, c)| {
        (r * 48 + c) as f32 + ((r * c) % 7) as f32
    });
    let pair = ImagePair {
        truth: input.mapv(|v| 2.0 * v + 5.0),
        input,
    };
    let options = PatchOptions {
        size: 16,
        flips: true,
        noise: false,
        truth_scaling: TruthScaling::OwnMinMax,
        input_scaling: InputScaling::PerPatchMinMax,
    };
    let mut rng = SplitMix64::new(3);
    for _ in 0..20 {
        let s = random_sample(std::slice::from_ref(&pair), &options, &mut rng);
        assert_eq!(s.input.dim(), (16, 16));
        for (a, b) in s.input.iter().zip(&s.truth) {
            assert!((a - b).abs() < 1e-5);
        }
        let (lo, hi) = s
            .input
            .iter()
            .fold((1.0f32, 0.0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(lo == 0.0 && hi == 1.0);
    }
    // With noise the input stays in [0, 1] and differs from the truth.
    let noisy = PatchOptions {
        noise: true,
        ..options
    };
    let s = random_sample(std::slice::from_ref(&pair), &noisy, &mut rng);
    assert!(s.input.iter().all(|v| (0.0..=1.0).contains(v)));
    // Validation: every whole non-overlapping patch, 2 x 3 here.
    assert_eq!(
        grid_samples(
            std::slice::from_ref(&pair),
            16,
            TruthScaling::OwnMinMax,
            InputScaling::PerPatchMinMax
        )
        .len(),
        6
    );
    assert!(minmax_normalize(Array2::from_elem((4, 4), 7.0f32).view())
        .iter()
        .all(|&v| v == 0.0));
}

#[test]
fn a_truth_in_the_input_units_is_scaled_by_the_input_transform() {
    // Truth = 2 * input + 5 in the input's units: scaled like its input, it is
    // 2 x the normalised input plus one constant, and not in [0, 1] (its own minimum
    // and maximum would map it to exactly the input).
    let input = Array2::from_shape_fn((40, 48), |(r, c)| {
        (r * 48 + c) as f32 + ((r * c) % 7) as f32
    });
    let pair = ImagePair {
        truth: input.mapv(|v| 2.0 * v + 5.0),
        input: input.clone(),
    };
    let options = PatchOptions {
        size: 16,
        flips: true,
        noise: false,
        truth_scaling: TruthScaling::LikeInput,
        input_scaling: InputScaling::PerPatchMinMax,
    };
    let mut rng = SplitMix64::new(3);
    for _ in 0..20 {
        let s = random_sample(std::slice::from_ref(&pair), &options, &mut rng);
        let offsets: Vec<f32> = s
            .input
            .iter()
            .zip(&s.truth)
            .map(|(x, t)| t - 2.0 * x)
            .collect();
        assert!(offsets.iter().all(|o| (o - offsets[0]).abs() < 1e-4));
        let top = s.truth.iter().fold(f32::MIN, |a, &b| a.max(b));
        assert!(
            top >= 2.0,
            "the truth reaches {top}, not twice the input's 1"
        );
    }
    // The same units exactly: the truth is the input, also after the noise
    // augmentation's second normalisation (the truth is not noisy).
    let same = ImagePair {
        truth: input.clone(),
        input,
    };
    let noisy = PatchOptions {
        noise: true,
        flips: false,
        ..options
    };
    // The same generator state, so the same patch: the noise is drawn after it.
    let s = random_sample(
        std::slice::from_ref(&same),
        &noisy,
        &mut SplitMix64::new(11),
    );
    let clean = random_sample(
        std::slice::from_ref(&same),
        &PatchOptions {
            noise: false,
            ..noisy
        },
        &mut SplitMix64::new(11),
    );
    assert_eq!(clean.input, clean.truth);
    assert!(s.input != s.truth, "the noise reached the input");
    let (lo, hi) = s
        .input
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    assert!(lo == 0.0 && hi == 1.0);
    // The truth stays an affine image of the clean patch.
    let (t0, t1) = (s.truth[[0, 0]], s.truth[[15, 15]]);
    let (c0, c1) = (clean.truth[[0, 0]], clean.truth[[15, 15]]);
    let gain = (t1 - t0) / (c1 - c0);
    for (t, c) in s.truth.iter().zip(&clean.truth) {
        assert!((t - (t0 + gain * (c - c0))).abs() < 1e-4);
    }
}

#[test]
fn simulated_sets_share_images_over_pixel_sizes_with_their_seeds() {
    let set = SimulatedTraining {
        params: SimulationParams {
            width: 32,
            height: 32,
            psf_size: 15,
            oversampling: 2,
            out_of_focus_layers: 0,
            ..SimulatedTraining::default().params
        },
        pixel_sizes_nm: vec![60.0, 70.0],
        images: 3,
        validation_images: 1,
        seed: 40,
    };
    let data = set.training_set(16).unwrap();
    // 3 images over 2 sizes: 2 of 60 nm (seed 40), 1 of 70 nm (seed 140); the one
    // validation image is of 60 nm (seed 41), 4 patches of 16.
    let sized = |pixel_size_nm| SimulationParams {
        pixel_size_nm,
        ..set.params.clone()
    };
    let mut expected = simulated_pairs(&sized(60.0), 40, 2).unwrap();
    expected.extend(simulated_pairs(&sized(70.0), 140, 1).unwrap());
    assert_eq!(data.train, expected);
    let validation = simulated_pairs(&sized(60.0), 41, 1).unwrap();
    assert_eq!(
        data.validation,
        grid_samples(
            &validation,
            16,
            TruthScaling::LikeInput,
            InputScaling::PerPatchMinMax
        )
    );
    assert_eq!(data.truth_scaling, TruthScaling::LikeInput);
    // The truth is in the raw image's units: the counts the camera would record of
    // it, background included.
    let camera = set.params.camera;
    let raw = simulate_set(&sized(60.0), 40, 1).unwrap().swap_remove(0);
    let background = raw.conditions.background_photons;
    let counts = raw
        .ground_truth
        .mapv(|v| ((f64::from(v) + background) * camera.gain + camera.offset) as f32);
    assert_eq!(data.train[0].truth, counts);
    assert_eq!(data.train[0].input, raw.raw.mapv(f32::from));
    assert_eq!(data.validation.len(), 4);
    // The texts `mrbcr train` has always recorded (checkpoints compare them).
    let d = &data.description;
    assert_eq!(
        d["images"],
        "3 of 32 x 32, seed 40 (+100 per further pixel size)"
    );
    assert_eq!(d["validation_images"], "1, seed 41");
    assert_eq!(
        d["pixel_size_nm"],
        "[60.0, 70.0] (images shared out evenly)"
    );
    assert_eq!(d["numerical_aperture"], "(1.1, 1.4)");
    assert_eq!(d["peak_photons"], "(10.0, 5000.0) log-uniform");
    assert_eq!(d["background_photons"], "(0.0, 20.0)");
    assert_eq!(d["out_of_focus_layers"], "0");
    // Settings `mrbcr train` does not set show only when they are not the defaults.
    assert!(d["other_simulation_settings"].contains("psf_size: 15"));
    let plain = SimulatedTraining::default().description();
    assert!(!plain.contains_key("other_simulation_settings"));
    assert_eq!(
        plain["images"],
        "192 of 256 x 256, seed 1000 (+100 per further pixel size)"
    );
    assert_eq!(
        plain["source"],
        "mrbcr simulator (widefield, Born-Wolf PSF, Poisson + camera noise)"
    );
    assert_eq!(plain["wavelength_nm"], "(500.0, 620.0)");
    assert_eq!(plain["out_of_focus_layers"], "2");

    let none = SimulatedTraining {
        pixel_sizes_nm: vec![],
        ..set.clone()
    };
    let e = none.training_set(16).unwrap_err().to_string();
    assert!(e.contains("pixel size"), "{e}");
    let undersampled = SimulatedTraining {
        pixel_sizes_nm: vec![60.0, 200.0],
        ..set
    };
    let e = undersampled.training_set(16).unwrap_err().to_string();
    assert!(e.contains("200 nm"), "{e}");
}

#[test]
fn tiff_sets_hold_the_last_pairs_out_for_validation() {
    let dir = std::env::temp_dir().join(format!("mrbcr-train-sets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (low, high) = (dir.join("low.tif"), dir.join("high.tif"));
    write(&low, 40, 32, 5);
    write(&high, 40, 32, 5);
    let set = |validation_fraction| TiffTraining {
        low: low.clone(),
        high: high.clone(),
        validation_fraction,
        truth_scaling: TruthScaling::OwnMinMax,
    };
    // round(5 x 0.3) = 2 held out, each 2 x 2 patches of 16.
    let data = set(0.3).training_set(16, true).unwrap();
    assert_eq!((data.train.len(), data.validation.len()), (3, 8));
    assert_eq!(data.description["pairs"], "3 training, 2 validation");
    assert_eq!(data.description["source"], "tiff pairs");
    // At least one, at most all but one; none without validation.
    assert_eq!(set(0.0).training_set(16, true).unwrap().train.len(), 4);
    assert_eq!(set(1.0).training_set(16, true).unwrap().train.len(), 1);
    let all = set(0.3).training_set(16, false).unwrap();
    assert_eq!((all.train.len(), all.validation.len()), (5, 0));
    let e = set(1.5).training_set(16, true).unwrap_err().to_string();
    assert!(
        e.contains("validation fraction") && e.contains("1.5"),
        "{e}"
    );
    write(&low, 40, 32, 1);
    write(&high, 40, 32, 1);
    let e = set(0.1).training_set(16, true).unwrap_err().to_string();
    assert!(e.contains("at least 2 image pairs"), "{e}");
    assert_eq!(set(0.1).training_set(16, false).unwrap().train.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
