//! `mrbcr bench-images`: whole-image deconvolution speed and memory, as users meet it:
//! a 16-bit image of each size, default tiling, every core.

use std::time::Instant;

use mrbcr::deconvolve::tiling::AxisPlan;
use mrbcr::{deconvolve, DeconvolveOptions, ImageStack, Model, PixelType, Pixels, Result};

use crate::bench::{median, peak_rss_mib, GFLOP_PER_128_TILE};

/// Options of the benchmark.
pub struct ImageBenchOptions {
    /// Square image sides.
    pub sizes: Vec<usize>,
    /// Timed runs per size (the median is reported).
    pub repeats: usize,
    /// The deconvolution settings.
    pub deconvolve: DeconvolveOptions,
}

/// A 16-bit fluorescence-like test image: bright spots on a background, with noise.
fn test_image(size: usize) -> ImageStack {
    let pixels = (0..size * size)
        .map(|i| {
            let (y, x) = ((i / size) as f32, (i % size) as f32);
            let spots = ((x / 7.3).sin() * (y / 5.1).cos()).max(0.0).powi(8);
            let noise = ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as f32;
            (200.0 + 3000.0 * spots + 8.0 * noise) as u16
        })
        .collect();
    ImageStack::new(size, size, 1, Pixels::U16(pixels)).expect("valid size")
}

/// Forgets the peak resident memory so far (Linux `clear_refs`), so that each size's
/// peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs the benchmark and prints one line per size.
pub fn run(model: &Model, opts: &ImageBenchOptions) -> Result<()> {
    let o = &opts.deconvolve;
    let overlap = o.overlap_for(model.metadata());
    let threads = o.worker_threads()?;
    println!(
        "whole-image deconvolution of 16-bit images to 32-bit float, tile {} overlap {}, {} threads, medians of {} runs",
        o.tile,
        overlap,
        threads,
        opts.repeats
    );
    println!(
        "GFLOP/s counts the network work done (tiles overlap); 'paper GFLOP/s' counts {GFLOP_PER_128_TILE} GFLOP per 128x128 of image"
    );
    println!(
        "{:>6} {:>8} {:>9} {:>9} {:>9} {:>13} {:>13}",
        "size", "tiles", "s", "s/MP", "MP/s", "GFLOP/s", "paper GFLOP/s"
    );
    for &size in &opts.sizes {
        let image = test_image(size);
        let (rows, cols) = (
            AxisPlan::new(size, o.tile, overlap),
            AxisPlan::new(size, o.tile, overlap),
        );
        let tiles = rows.count() * cols.count();
        let flop = 2.0 * tiles as f64 * model.network().macs(rows.tile, cols.tile) as f64;
        let megapixels = (size * size) as f64 / 1e6;
        reset_peak_rss();
        let mut times = Vec::new();
        for _ in 0..opts.repeats {
            let start = Instant::now();
            let out = deconvolve(model, &image, o, PixelType::F32, None)?;
            times.push(start.elapsed().as_secs_f64());
            drop(out);
        }
        let secs = median(times);
        println!(
            "{size:>6} {tiles:>8} {secs:>9.2} {:>9.3} {:>9.3} {:>13.1} {:>13.1}   peak RSS {:.0} MiB (input {:.0} MiB, output {:.0} MiB)",
            secs / megapixels,
            megapixels / secs,
            flop / 1e9 / secs,
            GFLOP_PER_128_TILE * (size * size) as f64 / (128.0 * 128.0) / secs,
            peak_rss_mib(),
            (size * size * 2) as f64 / 1048576.0,
            (size * size * 4) as f64 / 1048576.0,
        );
        drop(image);
    }
    Ok(())
}
