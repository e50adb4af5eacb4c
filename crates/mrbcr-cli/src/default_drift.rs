//! Every default of the tool is the core's: each command parsed with no options gives
//! the settings of the core's `Default` (or constant), so that a default changed in
//! the core changes the tool's, and a literal reintroduced here fails.

use clap::Parser;
use mrbcr::classical::psf::PsfParams;
use mrbcr::classical::RichardsonLucyParams;
use mrbcr::evaluate::SimulatedBenchmark;
use mrbcr::simulate::SimulationParams;
use mrbcr::train::{SimulatedTraining, TiffTraining, TrainConfig};
use mrbcr::DeconvolveOptions;

use super::{Cli, Command};

/// The command `args` parse to.
fn parse(args: &[&str]) -> Command {
    match Cli::try_parse_from(std::iter::once("mrbcr").chain(args.iter().copied())) {
        Ok(cli) => cli.command,
        Err(e) => panic!("{args:?}: {e}"),
    }
}

#[test]
fn train_defaults_are_the_cores() {
    let Command::Train(args) = parse(&["train", "-o", "run"]) else {
        panic!("not train");
    };
    assert_eq!(
        super::train::train_config(&args),
        TrainConfig {
            output_dir: "run".into(),
            ..TrainConfig::default()
        }
    );
    assert_eq!(
        super::train::simulated_training(&args),
        SimulatedTraining::default()
    );
    let Command::Train(args) = parse(&["train", "-o", "run", "--low", "a", "--high", "b"]) else {
        panic!("not train");
    };
    let tiff = super::train::tiff_training(&args).expect("--low and --high given");
    assert_eq!(
        tiff.validation_fraction,
        TiffTraining::DEFAULT_VALIDATION_FRACTION
    );
}

#[test]
fn deconvolve_defaults_are_the_cores() {
    let Command::Deconvolve(args) = parse(&["deconvolve", "in.tif", "-o", "out.tif"]) else {
        panic!("not deconvolve");
    };
    assert_eq!(args.options(), DeconvolveOptions::default());
    assert_eq!(
        args.output_type(),
        Some(DeconvolveOptions::DEFAULT_OUTPUT_TYPE)
    );
}

#[test]
fn classical_defaults_are_the_cores() {
    let Command::Psf(args) = parse(&["psf", "-o", "psf.tif"]) else {
        panic!("not psf");
    };
    assert_eq!(args.optics.params(), PsfParams::default());
    let Command::Rl(args) = parse(&["rl", "in.tif", "-o", "out.tif"]) else {
        panic!("not rl");
    };
    assert_eq!(args.params(), RichardsonLucyParams::default());
    assert_eq!(args.input.optics.params(), PsfParams::default());
    let Command::Wiener(args) = parse(&["wiener", "in.tif", "-o", "out.tif"]) else {
        panic!("not wiener");
    };
    assert_eq!(args.nsr, mrbcr::classical::wiener::DEFAULT_NOISE_TO_SIGNAL);
    let Command::Simulate(args) = parse(&["simulate", "-o", "sim"]) else {
        panic!("not simulate");
    };
    assert_eq!(args.params(), SimulationParams::default());
}

#[test]
fn bench_quality_defaults_are_the_cores() {
    let Command::BenchQuality(args) = parse(&["bench-quality"]) else {
        panic!("not bench-quality");
    };
    assert_eq!(args.benchmark(), SimulatedBenchmark::default());
    assert_eq!(args.options(), DeconvolveOptions::default());
}

#[test]
fn typed_values_are_parsed_by_the_core() {
    let Command::Deconvolve(args) = parse(&[
        "deconvolve",
        "in.tif",
        "-o",
        "out.tif",
        "--norm",
        "percentile:2:99",
        "--output-range",
        "normalized",
    ]) else {
        panic!("not deconvolve");
    };
    let options = args.options();
    assert_eq!(
        options.normalization,
        "percentile:2:99".parse::<mrbcr::Normalization>().unwrap()
    );
    assert_eq!(options.output_range, mrbcr::OutputRange::Normalized);
    let refused = Cli::try_parse_from(["mrbcr", "deconvolve", "a", "-o", "b", "--norm", "gauss"]);
    let error = refused.err().expect("--norm gauss is refused");
    assert!(
        matches!(
            super::library_error(&error),
            Some(mrbcr::Error::InvalidInput(m)) if m.contains("unknown normalisation 'gauss'")
        ),
        "{error}"
    );
}
