//! The default model bundled in the library: what it says about itself, and that it
//! really restores simulated widefield images (a held-out seed, not the training's).

use mrbcr::classical::{planes_to_stack, stack_planes};
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
fn the_bundled_model_restores_held_out_simulated_images() {
    // Seed 77 is neither a training seed (1000 + 100 k) nor a validation seed.
    let params = SimulationParams {
        width: 192,
        height: 192,
        ..SimulationParams::default()
    };
    let set = simulate_set(&params, 77, 4).unwrap();
    let model = Model::bundled();
    let offset = params.camera.offset as f32;
    let (mut raw_psnr, mut restored_psnr, mut raw_ssim, mut restored_ssim) = (0.0, 0.0, 0.0, 0.0);
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
        let before = score(raw.view(), pair.ground_truth.view()).unwrap();
        let after = score(restored.view(), pair.ground_truth.view()).unwrap();
        raw_psnr += before.psnr / 4.0;
        raw_ssim += before.ssim / 4.0;
        restored_psnr += after.psnr / 4.0;
        restored_ssim += after.ssim / 4.0;
    }
    assert!(
        restored_psnr > raw_psnr + 2.0,
        "PSNR {raw_psnr:.2} dB raw, {restored_psnr:.2} dB restored"
    );
    assert!(
        restored_ssim > raw_ssim + 0.03,
        "SSIM {raw_ssim:.4} raw, {restored_ssim:.4} restored"
    );
}
