//! `mrbcr bench`: speed of the network on this machine, as tile latency and batch
//! throughput, at one thread and at all threads.

use std::cell::RefCell;
use std::time::Instant;

use mrbcr::network::{Network, Workspace};
use mrbcr::Result;
use ndarray::Array2;
use rayon::prelude::*;

/// GFLOP of one 128x128 forward pass of m-rBCR (2.322 G multiply-adds), the figure the
/// project reports against.
pub const GFLOP_PER_128_TILE: f64 = 4.645;

thread_local! {
    /// One workspace per worker thread, kept across batches.
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::new());
}

/// Options of the benchmark.
pub struct BenchOptions {
    pub tiles: Vec<usize>,
    pub repeats: usize,
    pub batch: usize,
    pub threads: Vec<usize>,
}

/// The median of some timings.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The process's peak resident memory (VmHWM) in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn test_image(size: usize) -> Array2<f32> {
    Array2::from_shape_fn((size, size), |(r, c)| {
        let (x, y) = (c as f32 / size as f32, r as f32 / size as f32);
        0.5 + 0.25 * (40.0 * x * y).sin() + 0.25 * (23.0 * (x - y)).cos()
    })
}

/// Runs the benchmark and prints one line per configuration.
pub fn run(network: &Network, opts: &BenchOptions) -> Result<()> {
    println!(
        "m-rBCR forward pass, {} kernels, medians of {} runs; GFLOP/s counts {GFLOP_PER_128_TILE} GFLOP per 128x128 tile",
        network.simd().name(),
        opts.repeats
    );
    println!(
        "{:>6} {:>7} {:>22} {:>11} {:>9} {:>9} {:>12}",
        "tile", "threads", "mode", "s/tile", "MP/s", "GFLOP/s", "peak RSS MiB"
    );
    for &size in &opts.tiles {
        let image = test_image(size);
        for &threads in &opts.threads {
            mrbcr::threads::with_worker_pool(threads, |pool| {
                run_configuration(network, opts, &image, size, pool)
            })??;
        }
    }
    Ok(())
}

/// One tile size on one pool: the latency of one tile and, with several threads, the
/// throughput of a batch.
fn run_configuration(
    network: &Network,
    opts: &BenchOptions,
    image: &Array2<f32>,
    size: usize,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let threads = pool.current_num_threads();
    let gflop = GFLOP_PER_128_TILE * (size * size) as f64 / (128.0 * 128.0);
    let report = |mode: &str, secs: f64| {
        println!(
            "{size:>6} {threads:>7} {mode:>22} {secs:>11.4} {:>9.3} {:>9.1} {:>12.0}",
            (size * size) as f64 / 1e6 / secs,
            gflop / secs,
            peak_rss_mib()
        );
    };
    // Latency: one tile at a time, the threads sharing each layer.
    let secs = pool.install(|| -> Result<f64> {
        let mut ws = Workspace::new();
        network.forward(image.view(), &mut ws)?;
        let mut times = Vec::new();
        for _ in 0..opts.repeats {
            let t = Instant::now();
            network.forward(image.view(), &mut ws)?;
            times.push(t.elapsed().as_secs_f64());
        }
        Ok(median(times))
    })?;
    report("one tile", secs);
    if threads == 1 {
        return Ok(());
    }
    // Throughput: a batch of tiles, one per thread at a time, each thread with its
    // own workspace (warmed up by a first batch).
    let batch = opts.batch.max(threads);
    let secs = pool.install(|| -> Result<f64> {
        let mut times = Vec::new();
        for _ in 0..=opts.repeats.div_ceil(2).max(1) {
            let t = Instant::now();
            (0..batch)
                .into_par_iter()
                .map(|_| {
                    WORKSPACE.with(|ws| {
                        network
                            .forward(image.view(), &mut ws.borrow_mut())
                            .map(|_| ())
                    })
                })
                .collect::<Result<Vec<()>, _>>()?;
            times.push(t.elapsed().as_secs_f64() / batch as f64);
        }
        times.remove(0);
        Ok(median(times))
    })?;
    report(&format!("batch of {batch}"), secs);
    Ok(())
}
