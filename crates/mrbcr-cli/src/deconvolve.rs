//! `mrbcr deconvolve`: a TIFF file (a plane or a stack) through the engine into a new
//! TIFF file.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use clap::{Args, ValueEnum};
use mrbcr::deconvolve::deconvolve_tiff_file;
use mrbcr::{DeconvolveOptions, Normalization, OutputRange, PixelType, Result};

/// The pixel type of the output file.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputType {
    /// 32-bit float (nothing rounded or clipped).
    F32,
    /// The input's own type (integers rounded and clipped to their range).
    Same,
    /// 8-bit unsigned.
    U8,
    /// 16-bit unsigned.
    U16,
    /// 64-bit float.
    F64,
}

impl OutputType {
    /// The choice that writes `pixel_type`.
    fn of(pixel_type: PixelType) -> OutputType {
        match pixel_type {
            PixelType::F32 => OutputType::F32,
            PixelType::U8 => OutputType::U8,
            PixelType::U16 => OutputType::U16,
            PixelType::F64 => OutputType::F64,
        }
    }

    /// The pixel type it writes (`None`: the input's).
    fn pixel_type(self) -> Option<PixelType> {
        match self {
            OutputType::F32 => Some(PixelType::F32),
            OutputType::Same => None,
            OutputType::U8 => Some(PixelType::U8),
            OutputType::U16 => Some(PixelType::U16),
            OutputType::F64 => Some(PixelType::F64),
        }
    }
}

/// Arguments of `mrbcr deconvolve`.
#[derive(Args)]
pub struct DeconvolveArgs {
    /// The image to restore: a TIFF file, one plane or a stack (8/16-bit, 32-bit float).
    input: PathBuf,
    /// The TIFF file to write (never the input file).
    #[arg(short, long)]
    output: PathBuf,
    /// The model file (.safetensors); without it, the bundled default model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Largest tile side in pixels (a multiple of 4, at least 32; halved down to 512
    /// when half the memory budget cannot hold one), or 0 to run the network on each
    /// whole plane at once.
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_TILE)]
    tile: usize,
    /// Pixels shared by neighbouring tiles, blended smoothly (default: the overlap the
    /// model's file records as measured for it, else 128).
    #[arg(long)]
    overlap: Option<usize>,
    /// Normalisation: percentile (1 and 99.8), percentile:LOW:HIGH, minmax,
    /// per-tile-minmax (the authors' scheme) or none.
    #[arg(long, default_value_t = DeconvolveOptions::default().normalization,
          value_parser = Normalization::from_str)]
    norm: Normalization,
    /// Intensity scale of the result: input (mapped back to the input's values) or
    /// normalized (the network's range, float outputs only).
    #[arg(long, default_value_t = DeconvolveOptions::default().output_range,
          value_parser = OutputRange::from_str)]
    output_range: OutputRange,
    /// Pixel type of the output.
    #[arg(long, value_enum, default_value_t = OutputType::of(DeconvolveOptions::DEFAULT_OUTPUT_TYPE))]
    output_type: OutputType,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = DeconvolveOptions::default().threads)]
    threads: usize,
    /// Most working memory for the tiles, MiB (0: what the system has available). A
    /// low limit runs fewer tiles at once, then smaller ones; a tile that alone needs
    /// more is refused.
    #[arg(long, default_value_t = DeconvolveOptions::default().memory_limit >> 20)]
    memory_limit: u64,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
}

impl DeconvolveArgs {
    /// The options the arguments ask for.
    pub fn options(&self) -> DeconvolveOptions {
        DeconvolveOptions {
            tile: self.tile,
            overlap: self.overlap,
            normalization: self.norm,
            output_range: self.output_range,
            threads: self.threads,
            memory_limit: self.memory_limit.saturating_mul(1 << 20),
        }
    }

    /// The pixel type of the output file (`None`: the input's).
    pub fn output_type(&self) -> Option<PixelType> {
        self.output_type.pixel_type()
    }
}

/// Runs `mrbcr deconvolve`.
///
/// # Errors
/// The library's errors (the output being the input is one).
pub fn run(args: &DeconvolveArgs) -> Result<()> {
    let options = args.options();
    options.validate()?;
    let model = crate::load_model(args.model.as_deref())?;
    if let Ok(expected) = model
        .metadata()
        .input_normalization
        .parse::<Normalization>()
    {
        if expected != options.normalization && !args.quiet {
            eprintln!(
                "mrbcr: note: this model was trained for '{expected}' normalisation (its metadata), \
                 running with '{}': give --norm {expected} to match",
                options.normalization
            );
        }
    }
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut last_percent = None;
    let mut report = |fraction: f64| {
        let percent = (fraction * 100.0).floor() as u32;
        if show && last_percent != Some(percent) {
            last_percent = Some(percent);
            eprint!("\rdeconvolving {}: {percent:3}%", args.input.display());
            let _ = std::io::stderr().flush();
        }
        true
    };
    let start = Instant::now();
    let result = deconvolve_tiff_file(
        &model,
        &args.input,
        &args.output,
        &options,
        args.output_type(),
        Some(&mut report),
    );
    if show {
        eprintln!();
    }
    let written = result?;
    let seconds = start.elapsed().as_secs_f64();
    let megapixels = (written.width * written.height * written.planes) as f64 / 1e6;
    if !args.quiet {
        println!(
            "wrote {}: {} plane{} of {} x {}, {}, in {seconds:.2} s ({:.2} megapixels/s)",
            args.output.display(),
            written.planes,
            if written.planes == 1 { "" } else { "s" },
            written.width,
            written.height,
            written.pixel_type.name(),
            megapixels / seconds
        );
    }
    Ok(())
}
