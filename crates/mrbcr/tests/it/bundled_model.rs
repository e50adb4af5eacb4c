//! The default model bundled in the library: what it says about itself (how it was
//! trained, on what, under which licences, and the normalisation it expects, which is
//! the front ends' default), that it does no harm on real specimens held out from
//! training, that bright puncta stay peaks, and that it restores simulated widefield
//! images (a held-out seed, not the training's).

use mrbcr::classical::psf::{born_wolf_psf, PsfParams};
use mrbcr::classical::{planes_to_stack, richardson_lucy, stack_planes, RichardsonLucyParams};
use mrbcr::deconvolve::context::{measure_tile_overlap, TOLERANCE};
use mrbcr::simulate::real::benchmark::benchmark_cases;
use mrbcr::simulate::real::{RealImageList, BENCHMARK_LIST};
use mrbcr::simulate::{score, simulate_set, SimulationParams};
use mrbcr::{deconvolve, DeconvolveOptions, Model, PixelType};
use ndarray::Array2;

#[test]
fn the_bundled_model_records_the_overlap_measured_for_it() {
    let model = Model::bundled();
    let measured = measure_tile_overlap(&model).unwrap();
    eprintln!("{measured:?}");
    assert_eq!(model.metadata().tile_overlap, Some(measured.overlap));
    // The first overlap within the tolerance, and the last one tried.
    let (&(last, within), tried) = measured.differences.split_last().unwrap();
    assert!(
        last == measured.overlap && within <= TOLERANCE,
        "{measured:?}"
    );
    assert!(tried.iter().all(|&(_, d)| d > TOLERANCE), "{measured:?}");
}

#[test]
fn the_bundled_model_records_how_it_was_made() {
    let model = Model::bundled();
    let m = model.metadata();
    assert!(
        m.provenance.starts_with("trained by mrbcr train"),
        "{}",
        m.provenance
    );
    // What it expects is what every front end does by default.
    assert_eq!(m.input_normalization, "percentile:1:99.8");
    assert_eq!(
        m.input_normalization,
        DeconvolveOptions::default().normalization.to_string()
    );
    // Fine-tuned from the authors' MIT-licensed weights: their notice goes along.
    assert!(
        m.license
            .contains("MIT License, Copyright (c) 2023 RoyLeeLee"),
        "{}",
        m.license
    );
    let extra = |key: &str| {
        m.extra
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in the metadata"))
            .clone()
    };
    assert!(extra("data.source").contains("real-image pairs"));
    // Every real source with its licence.
    let sources = extra("data.real_sources");
    for needle in [
        "partseg_nuclei_stack_4ch.tif",
        "flim_drosophila_seminal_receptacle.tif",
        "BSD-3-Clause",
    ] {
        assert!(sources.contains(needle), "{needle} not in {sources}");
    }
    for key in [
        "data.real_generator",
        "data.specimen.acquisition",
        "data.simulated.numerical_aperture",
        "data.simulated.pixel_size_nm",
        "data.simulated.images",
        "train.seed",
        "train.loss",
        "train.learning_rate",
    ] {
        assert!(!extra(key).is_empty(), "{key} is empty");
    }
    // Its weights' checksum, verified whenever it is loaded.
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/default.safetensors"
    ))
    .unwrap();
    let length = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let text = String::from_utf8_lossy(&file[8..8 + length]);
    assert!(
        text.contains("\"weights_crc32c\":\""),
        "no checksum in the header"
    );
    // A real training run, not a smoke run. The metadata records the last stage of the
    // chain in models/README.md: hundreds of steps of 256-pixel patches, started from
    // the previous stage's model file.
    let steps: u64 = extra("train.steps").parse().unwrap();
    let patch: u64 = extra("train.patch_size").parse().unwrap();
    assert!(
        steps >= 500 && patch >= 256,
        "a real training run, not a smoke run: {steps} steps of {patch}-pixel patches"
    );
    assert!(
        extra("train.init").starts_with("model file "),
        "{}",
        extra("train.init")
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
        let restored = restore(&model, &raw);
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

/// The real-specimen benchmark (`mrbcr bench-quality --real`): every held-out image
/// under every microscope, the model run with deconvolve's defaults. What it asserts
/// is what the model achieves today: 4 dB and 0.095 SSIM above the raw input on the
/// mean (4.21 dB and 0.100 measured), and never below it, in PSNR or SSIM, on any
/// image. Issue 11 asks for more (1.5 dB above Richardson-Lucy at its oracle setting):
/// not yet met.
#[test]
fn the_bundled_model_improves_held_out_real_specimens_and_harms_none_much() {
    let images = RealImageList::parse(BENCHMARK_LIST, "benchmark list")
        .unwrap()
        .load(&crate::common::real_sharp_dir())
        .unwrap();
    let cases = benchmark_cases(&images, 2024).unwrap();
    assert_eq!(cases.len(), 30);
    let model = Model::bundled();
    let mut mean = [Score::default(); 2]; // raw, m-rBCR
    let mut harmed = Vec::new();
    for case in &cases {
        let counts = case.raw.mapv(f32::from);
        let restored = restore(&model, &counts);
        let raw = score(counts.view(), case.truth.view()).unwrap();
        let ours = score(restored.view(), case.truth.view()).unwrap();
        let line = format!(
            "{} / {}: raw {:.2} dB {:.3}, model {:.2} dB {:.3}",
            case.image, case.condition, raw.psnr, raw.ssim, ours.psnr, ours.ssim
        );
        if ours.psnr < raw.psnr || ours.ssim < raw.ssim {
            harmed.push(line);
        }
        for (m, s) in mean.iter_mut().zip([raw, ours]) {
            m.psnr += s.psnr / cases.len() as f64;
            m.ssim += s.ssim / cases.len() as f64;
        }
    }
    let [raw, ours] = mean;
    let report = format!(
        "mean PSNR/SSIM: raw {:.2}/{:.4}, m-rBCR {:.2}/{:.4}",
        raw.psnr, raw.ssim, ours.psnr, ours.ssim
    );
    assert!(
        harmed.is_empty(),
        "harmed:\n{}\n{report}",
        harmed.join("\n")
    );
    assert!(ours.psnr > raw.psnr + 4.0, "{report}");
    assert!(ours.ssim > raw.ssim + 0.095, "{report}");
}

#[test]
fn bright_puncta_on_a_dark_background_stay_peaks() {
    // A dim filament network and a few puncta far brighter than the 99.8th percentile
    // (the default normalisation maps them well above 1), widefield-blurred.
    let size = 128;
    let mut object = Array2::<f32>::zeros((size, size));
    for k in 0..size {
        object[(k, (k * 3 / 4 + 10) % size)] += 30.0;
        object[((k * 2 / 3 + 40) % size, k)] += 30.0;
    }
    let puncta = [(30, 90), (64, 64), (100, 30)];
    for &(y, x) in &puncta {
        object[(y, x)] += 2000.0;
    }
    let psf = born_wolf_psf(&PsfParams {
        numerical_aperture: 1.4,
        wavelength_nm: 520.0,
        refractive_index: 1.515,
        pixel_size_nm: 65.0,
        defocus_nm: 0.0,
        width: 33,
        height: 33,
        oversampling: 3,
    })
    .unwrap();
    let blurred = mrbcr::classical::Convolver::new(
        psf.view(),
        size,
        size,
        mrbcr::classical::ConvolutionMode::Linear,
    )
    .unwrap()
    .convolve(object.view())
    .unwrap()
    .mapv(|v| v + 100.0);
    let restored = restore(&Model::bundled(), &blurred);
    for &(y, x) in &puncta {
        let centre = restored[(y, x)];
        // The centre is the brightest pixel around it (no ring), and well above the
        // ring two pixels out.
        let mut around_max = f32::NEG_INFINITY;
        let mut ring = 0.0f32;
        for dy in -4i32..=4 {
            for dx in -4i32..=4 {
                let v = restored[((y as i32 + dy) as usize, (x as i32 + dx) as usize)];
                around_max = around_max.max(v);
                if dy.abs().max(dx.abs()) == 2 {
                    ring = ring.max(v);
                }
            }
        }
        assert!(
            centre >= 0.95 * around_max,
            "punctum at ({y}, {x}): centre {centre}, brightest around {around_max}"
        );
        assert!(
            centre - 100.0 > 2.0 * (ring - 100.0),
            "punctum at ({y}, {x}): centre {centre}, ring {ring}"
        );
    }
}

/// `plane` restored by `model` as `mrbcr deconvolve` does by default.
fn restore(model: &Model, plane: &Array2<f32>) -> Array2<f32> {
    let stack = planes_to_stack(std::slice::from_ref(plane)).unwrap();
    let restored = deconvolve(
        model,
        &stack,
        &DeconvolveOptions::default(),
        PixelType::F32,
        None,
    )
    .unwrap();
    stack_planes(&restored).swap_remove(0)
}

/// Mean scores of a method.
#[derive(Clone, Copy, Default)]
struct Score {
    psnr: f64,
    ssim: f64,
}
