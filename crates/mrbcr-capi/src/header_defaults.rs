//! The defaults the header's prose names are the core's: every phrase of
//! `include/mrbcr.h` that gives a default is rebuilt here from the core's values (and
//! the handles' own, for what only the C ABI has) and must be in the doc comment of its
//! function, so that a default changed in the core without its prose fails, and so
//! does prose edited to a value the core does not have. (The header is generated from
//! this crate's doc comments; `.ci/run` checks that it is up to date.)

use std::collections::HashMap;
use std::path::PathBuf;

use mrbcr::classical::psf::PsfParams;
use mrbcr::deconvolve::{DeconvolveOptions, Normalization, OutputRange};
use mrbcr::simulate::SimulationParams;
use mrbcr::threads::EVERY_CORE;
use mrbcr::train::{BatchLoss, Initialization, SimulatedTraining, TrainConfig};

use super::mrbcr_pixel_type;
use super::train_options::TrainRequest;

/// Each function's doc comment in `include/mrbcr.h`, its lines joined by single spaces.
fn function_docs() -> HashMap<String, String> {
    let header = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/mrbcr.h");
    let text =
        std::fs::read_to_string(&header).unwrap_or_else(|e| panic!("{}: {e}", header.display()));
    let mut docs = HashMap::new();
    let mut comment: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(doc) = line.strip_prefix("//") {
            comment.push(doc.trim());
            continue;
        }
        if !comment.is_empty() {
            // A declaration: the identifier before its first parenthesis.
            let before = line.split('(').next().unwrap_or("");
            let name = before
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next();
            if let Some(name) = name.filter(|n| line.contains('(') && n.starts_with("mrbcr_")) {
                docs.insert(name.to_string(), comment.join(" "));
            }
        }
        comment.clear();
    }
    docs
}

/// Asserts that the doc comment of `function` contains each phrase.
fn assert_documents(docs: &HashMap<String, String>, function: &str, phrases: &[String]) {
    let doc = docs
        .get(function)
        .unwrap_or_else(|| panic!("no doc comment of {function} in include/mrbcr.h"));
    for phrase in phrases {
        assert!(
            doc.contains(phrase.as_str()),
            "the doc of {function} does not say \"{phrase}\" (the core's default): {doc}"
        );
    }
}

#[test]
fn deconvolution_defaults_in_the_header_are_the_core_s() {
    let docs = function_docs();
    let d = DeconvolveOptions::default();
    assert_eq!(d.output_range, OutputRange::Input);
    assert_eq!((d.threads, d.memory_limit), (EVERY_CORE, 0));
    assert_eq!(d.normalization, Normalization::DEFAULT_PERCENTILE);
    assert_documents(
        &docs,
        "mrbcr_options_new",
        &[format!(
            "tiles of {} pixels overlapping by the model's own overlap \
             (`MRBCR_OVERLAP_OF_MODEL`: the one its file records, else {}), normalisation `{}`",
            d.tile,
            DeconvolveOptions::DEFAULT_OVERLAP,
            d.normalization
        )],
    );
    assert_documents(
        &docs,
        "mrbcr_options_set_normalization",
        &[format!(
            "`percentile` (= `{}`, the default)",
            d.normalization
        )],
    );
    assert_documents(
        &docs,
        "mrbcr_options_set_output_range",
        &["Default `MRBCR_OUTPUT_RANGE_INPUT`".into()],
    );
    let output_type = mrbcr_pixel_type::from(DeconvolveOptions::DEFAULT_OUTPUT_TYPE);
    assert_documents(
        &docs,
        "mrbcr_deconvolve_defaults",
        &[format!("`MRBCR_PIXEL_TYPE_{output_type:?}`")],
    );
    assert_documents(
        &docs,
        "mrbcr_options_set_memory_limit",
        &["0 (the default) is what the system has available".into()],
    );
    assert_documents(
        &docs,
        "mrbcr_options_set_threads",
        &[format!("{EVERY_CORE} (the default) uses every core")],
    );
}

#[test]
fn psf_and_simulation_defaults_in_the_header_are_the_core_s() {
    let docs = function_docs();
    let p = PsfParams::default();
    assert_eq!(p.width, p.height);
    assert_documents(
        &docs,
        "mrbcr_psf_params_new",
        &[format!(
            "NA {}, emission wavelength {} nm, refractive index {} (oil), pixels of {} nm, \
             defocus {} nm, {} x {} pixels, oversampling {}",
            p.numerical_aperture,
            p.wavelength_nm,
            p.refractive_index,
            p.pixel_size_nm,
            p.defocus_nm,
            p.width,
            p.height,
            p.oversampling
        )],
    );
    let s = SimulationParams::default();
    assert_documents(
        &docs,
        "mrbcr_simulation_params_new",
        &[format!(
            "{} x {} pixels of {} nm, drawn on a grid {} times finer; NA {} to {}, emission \
             {} to {} nm, refractive index {}; PSFs of {} pixels; {} to {} photons at the \
             brightest pixel over {} to {} background photons; camera offset {} counts, gain \
             {}, read noise {} counts; {} out-of-focus layers {} to {} nm away",
            s.width,
            s.height,
            s.pixel_size_nm,
            s.oversampling,
            s.numerical_aperture.0,
            s.numerical_aperture.1,
            s.wavelength_nm.0,
            s.wavelength_nm.1,
            s.refractive_index,
            s.psf_size,
            s.peak_photons.0,
            s.peak_photons.1,
            s.background_photons.0,
            s.background_photons.1,
            s.camera.offset,
            s.camera.gain,
            s.camera.read_noise,
            s.out_of_focus_layers,
            s.defocus_nm.0,
            s.defocus_nm.1,
        )],
    );
}

#[test]
fn training_defaults_in_the_header_are_the_core_s() {
    let docs = function_docs();
    let c = TrainConfig::default();
    let request = TrainRequest::new("run".into());
    assert_eq!(c.final_learning_rate, None);
    assert!(c.flips && c.noise);
    assert!(!request.resume);
    assert_eq!(request.threads, EVERY_CORE);
    assert_eq!(request.fresh_seed, Some(Initialization::DEFAULT_SEED));
    assert_documents(
        &docs,
        "mrbcr_train_options_new",
        &[format!(
            "patches of {} x {}, batches of {}, {} steps, Adam with a constant learning rate \
             of {:e}, seed {}, random flips and rotations and the authors' noise \
             augmentation, the {}, a progress call every {} steps, validation every {} steps with \
             early stopping after {} validations without a new best, a checkpoint every {} \
             steps, fresh Glorot-uniform weights (seed {}), no resume, every core",
            c.patch_size,
            c.patch_size,
            c.batch_size,
            c.max_steps,
            c.adam.learning_rate,
            c.seed,
            c.batch_loss.description(),
            c.log_every,
            c.validate_every,
            c.patience,
            c.checkpoint_every,
            Initialization::DEFAULT_SEED,
        )],
    );
    assert_documents(
        &docs,
        "mrbcr_train_options_set_learning_rate",
        &[format!(
            "(the default: {:e}, constant)",
            c.adam.learning_rate
        )],
    );
    assert_documents(
        &docs,
        "mrbcr_train_options_set_augmentation",
        &["Both are on by default.".into()],
    );
    assert_eq!(c.batch_loss, BatchLoss::Mean);
    assert_documents(
        &docs,
        "mrbcr_train_options_set_log_loss",
        &["0 for their mean (the default".into()],
    );
    assert_documents(
        &docs,
        "mrbcr_train_options_set_resume",
        &["(0, the default)".into()],
    );
    assert_documents(
        &docs,
        "mrbcr_train_options_set_threads",
        &[format!("({EVERY_CORE}: every core, the default)")],
    );
    assert_documents(
        &docs,
        "mrbcr_train_options_set_init_seed",
        &[format!(
            "(the default, with seed {})",
            Initialization::DEFAULT_SEED
        )],
    );
    let t = SimulatedTraining::default();
    let sizes: Vec<String> = t.pixel_sizes_nm.iter().map(f64::to_string).collect();
    assert_documents(
        &docs,
        "mrbcr_train_simulated",
        &[
            format!(
                "(NULL: the training defaults of `mrbcr train`, {} x {} images, NA {} to {}, \
                 emission {} to {} nm, {} to {} photons at the brightest pixel over {} to {} \
                 background photons, otherwise the simulator's defaults)",
                t.params.width,
                t.params.height,
                t.params.numerical_aperture.0,
                t.params.numerical_aperture.1,
                t.params.wavelength_nm.0,
                t.params.wavelength_nm.1,
                t.params.peak_photons.0,
                t.params.peak_photons.1,
                t.params.background_photons.0,
                t.params.background_photons.1,
            ),
            format!(
                "or with `params` NULL the training defaults' pixel sizes, {} nm)",
                sizes.join(", ")
            ),
        ],
    );
    let simulator = SimulationParams::default();
    let training_changes = SimulationParams {
        width: simulator.width,
        height: simulator.height,
        numerical_aperture: simulator.numerical_aperture,
        wavelength_nm: simulator.wavelength_nm,
        peak_photons: simulator.peak_photons,
        background_photons: simulator.background_photons,
        ..t.params.clone()
    };
    assert_eq!(
        training_changes, simulator,
        "the training defaults change more of the simulator's than the header says"
    );
}
