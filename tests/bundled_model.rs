//! The default model bundled in the library: what it says about itself, and that it
//! really restores simulated widefield images (a held-out seed, not the training's).

use mrbcr::classical::psf::born_wolf_psf;
use mrbcr::classical::{planes_to_stack, richardson_lucy, stack_planes, RichardsonLucyParams};
use mrbcr::simulate::{score, simulate_set, SimulationParams};
use mrbcr::{deconvolve, DeconvolveOptions, Model, PixelType};

#[test]
fn the_bundled_model_records_how_it_was_made() {
    let model = Model::bundled();
    let m = model.metadata();
    assert!(
        m.provenance.starts_with("trained by mrbcr train"),
        "{}",
        m.provenance
    );
    assert_eq!(m.input_normalization, "per-tile-minmax");
    let extra = |key: &str| {
        m.extra
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in the metadata"))
            .clone()
    };
    assert!(extra("data.source").contains("simulator"));
    for key in [
        "data.numerical_aperture",
        "data.wavelength_nm",
        "data.pixel_size_nm",
        "data.peak_photons",
        "data.images",
        "train.seed",
        "train.loss",
        "train.learning_rate",
    ] {
        assert!(!extra(key).is_empty(), "{key} is empty");
    }
    let steps: u64 = extra("train.steps").parse().unwrap();
    assert!(
        steps >= 1000,
        "a real training run, not a smoke run: {steps} steps"
    );
    assert!(extra("train.best_val_loss")
        .parse::<f64>()
        .unwrap()
        .is_finite());
}

#[test]
fn the_bundled_model_restores_held_out_simulated_images_better_than_richardson_lucy() {
    // Seed 77 is neither a training seed (1000 + 100 k) nor a validation seed; the
    // images are 192 x 192, a size the model never trained on. Richardson-Lucy gets the
    // true PSF of each image and 40 iterations (near its best on these images).
    let params = SimulationParams {
        width: 192,
        height: 192,
        ..SimulationParams::default()
    };
    let set = simulate_set(&params, 77, 4).unwrap();
    let model = Model::bundled();
    let offset = params.camera.offset as f32;
    let rl = RichardsonLucyParams {
        iterations: 40,
        tv_lambda: 0.0,
    };
    let mut mean = [Score::default(); 3]; // raw, Richardson-Lucy, m-rBCR
    for pair in &set {
        let raw = pair.raw.mapv(|c| f32::from(c) - offset);
        let stack = planes_to_stack(std::slice::from_ref(&raw)).unwrap();
        let restored = deconvolve(
            &model,
            &stack,
            &DeconvolveOptions::default(),
            PixelType::F32,
            None,
        )
        .unwrap();
        let restored = stack_planes(&restored).swap_remove(0);
        let psf = born_wolf_psf(&pair.conditions.psf).unwrap();
        let classical = richardson_lucy(raw.view(), psf.view(), &rl, None).unwrap();
        for (m, image) in mean.iter_mut().zip([&raw, &classical, &restored]) {
            let s = score(image.view(), pair.ground_truth.view()).unwrap();
            m.psnr += s.psnr / set.len() as f64;
            m.ssim += s.ssim / set.len() as f64;
        }
    }
    let [raw, classical, restored] = mean;
    let report = format!(
        "PSNR/SSIM: raw {:.2}/{:.4}, Richardson-Lucy {:.2}/{:.4}, m-rBCR {:.2}/{:.4}",
        raw.psnr, raw.ssim, classical.psnr, classical.ssim, restored.psnr, restored.ssim
    );
    assert!(restored.psnr > classical.psnr + 1.0, "{report}");
    assert!(restored.ssim > classical.ssim + 0.05, "{report}");
}

/// Mean scores of a method.
#[derive(Clone, Copy, Default)]
struct Score {
    psnr: f64,
    ssim: f64,
}
