//! `mrbcr bench-train`: speed of a training step (forward, backward and Adam over a
//! batch of patches) on this machine.

use std::time::Instant;

use mrbcr::network::Weights;
use mrbcr::train::{train_step, Adam, AdamConfig, BatchLoss, Sample};
use mrbcr::{Error, Result};
use ndarray::Array2;

use crate::bench::{median, peak_rss_mib, GFLOP_PER_128_TILE};

/// A batch shape: `count` square patches of side `side`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Patches per batch.
    pub count: usize,
    /// Side of each patch (a multiple of 4).
    pub side: usize,
}

impl std::str::FromStr for BatchShape {
    type Err = Error;

    /// `COUNTxSIDE`, e.g. `8x128`.
    fn from_str(text: &str) -> Result<BatchShape> {
        let bad = || {
            Error::InvalidInput(format!(
                "'{text}' is not a batch shape: COUNTxSIDE with a count of at least 1 and a side that is a positive multiple of 4, e.g. 8x128"
            ))
        };
        let (count, side) = text.split_once('x').ok_or_else(bad)?;
        let (count, side): (usize, usize) = (
            count.trim().parse().map_err(|_| bad())?,
            side.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || side == 0 || side % 4 != 0 {
            return Err(bad());
        }
        Ok(BatchShape { count, side })
    }
}

/// Options of the benchmark.
pub struct TrainBenchOptions {
    /// The batches to time.
    pub batches: Vec<BatchShape>,
    /// Timed steps per batch shape (the median is reported).
    pub repeats: usize,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

/// A batch of `shape`: smooth varying inputs and a patterned truth (the speed does not
/// depend on the values).
fn test_batch(shape: BatchShape) -> Vec<Sample> {
    let n = shape.side;
    (0..shape.count)
        .map(|i| Sample {
            input: Array2::from_shape_fn((n, n), |(r, c)| {
                let (x, y) = (c as f32 / n as f32, r as f32 / n as f32);
                0.5 + 0.25 * (40.0 * x * y + i as f32).sin() + 0.25 * (23.0 * (x - y)).cos()
            }),
            truth: Array2::from_shape_fn((n, n), |(r, c)| ((r + c + i) % 5) as f32 / 5.0),
        })
        .collect()
}

/// Runs the benchmark and prints one line per batch shape.
pub fn run(opts: &TrainBenchOptions) -> Result<()> {
    let threads = mrbcr::threads::worker_threads(opts.threads)?;
    println!(
        "m-rBCR training step (forward, backward, Adam), {threads} threads, medians of {} steps after one warm-up step",
        opts.repeats
    );
    println!(
        "GFLOP/s-equivalent counts forward + backward as 3 x {GFLOP_PER_128_TILE} GFLOP per 128x128 of patch"
    );
    println!(
        "{:>8} {:>10} {:>10} {:>22} {:>12}",
        "batch", "s/step", "s/patch", "GFLOP/s-equivalent", "peak RSS MiB"
    );
    for &shape in &opts.batches {
        let batch = test_batch(shape);
        let secs = mrbcr::threads::with_worker_pool(threads, |pool| {
            pool.install(|| -> Result<f64> {
                let mut weights = Weights::initialize(1);
                let mut adam = Adam::new(AdamConfig::default(), &weights);
                let mut times = Vec::with_capacity(opts.repeats);
                for step in 0..=opts.repeats {
                    let start = Instant::now();
                    train_step(&mut weights, &mut adam, &batch, BatchLoss::Mean)?;
                    if step > 0 {
                        times.push(start.elapsed().as_secs_f64());
                    }
                }
                Ok(median(times))
            })
        })??;
        let gflop = 3.0 * GFLOP_PER_128_TILE * (shape.count * shape.side * shape.side) as f64
            / (128.0 * 128.0);
        println!(
            "{:>8} {secs:>10.3} {:>10.4} {:>22.1} {:>12.0}",
            format!("{}x{}", shape.count, shape.side),
            secs / shape.count as f64,
            gflop / secs,
            peak_rss_mib()
        );
    }
    Ok(())
}
