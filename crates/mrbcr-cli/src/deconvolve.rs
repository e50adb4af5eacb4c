//! `mrbcr deconvolve`: a TIFF file (a plane or a stack) through the engine into a new
//! TIFF file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use clap::{Args, ValueEnum};
use mrbcr::formats::tiff::{read_tiff, write_tiff};
use mrbcr::{deconvolve, DeconvolveOptions, Error, Normalization, OutputRange, PixelType, Result};

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
    /// Tile side in pixels (a multiple of 4, at least 32), or 0 to run the network on
    /// each whole plane at once.
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_TILE)]
    tile: usize,
    /// Pixels shared by neighbouring tiles, blended smoothly.
    #[arg(long, default_value_t = DeconvolveOptions::DEFAULT_OVERLAP)]
    overlap: usize,
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
    #[arg(long, value_enum, default_value_t = OutputType::F32)]
    output_type: OutputType,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = DeconvolveOptions::default().threads)]
    threads: usize,
    /// Most working memory for the tiles, MiB (0: what the system has available). A
    /// low limit runs fewer tiles at once; a tile that alone needs more is refused.
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
}

/// True if `a` and `b` name the same file (an existing file through any path, or the
/// same path).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Runs `mrbcr deconvolve`.
///
/// # Errors
/// [`Error::InvalidInput`] if the output is the input; the library's errors.
pub fn run(args: &DeconvolveArgs) -> Result<()> {
    if same_file(&args.input, &args.output) {
        return Err(Error::InvalidInput(format!(
            "refusing to overwrite the input file {}: give another output file",
            args.input.display()
        )));
    }
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
    let image = read_tiff(&args.input)?;
    let stack = &image.stack;
    let output_type = match args.output_type {
        OutputType::F32 => PixelType::F32,
        OutputType::Same => stack.pixel_type(),
        OutputType::U8 => PixelType::U8,
        OutputType::U16 => PixelType::U16,
        OutputType::F64 => PixelType::F64,
    };
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
    let result = deconvolve(&model, stack, &options, output_type, Some(&mut report));
    if show {
        eprintln!();
    }
    let result = result?;
    let seconds = start.elapsed().as_secs_f64();
    write_tiff(&args.output, &result, &image.metadata)?;
    let megapixels = (stack.width() * stack.height() * stack.planes()) as f64 / 1e6;
    if !args.quiet {
        println!(
            "wrote {}: {} plane{} of {} x {}, {}, in {seconds:.2} s ({:.2} megapixels/s)",
            args.output.display(),
            stack.planes(),
            if stack.planes() == 1 { "" } else { "s" },
            stack.width(),
            stack.height(),
            output_type.name(),
            megapixels / seconds
        );
    }
    Ok(())
}
