//! Speed of the network's forward pass (the inference engine, without tiling), at the
//! best SIMD level of this CPU (`MRBCR_SIMD` lowers it) on rayon's pool
//! (`RAYON_NUM_THREADS` sets its size):
//!
//! ```sh
//! cargo bench -p mrbcr --bench forward
//! ```
//!
//! - `tile 128 batch 8`: eight 128 x 128 tiles one after the other, a training batch's
//!   forward passes;
//! - `tile 512`: one 512 x 512 tile, the size whole-image deconvolution tiles by.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mrbcr::network::{Network, Weights, Workspace};
use ndarray::Array2;

/// A `side` x `side` image with structure at several scales, values in [0, 1).
fn image(side: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((side, side), |(r, c)| {
        ((r * 7 + c * 3 + seed) % 13) as f32 / 13.0
    })
}

fn forward(c: &mut Criterion) {
    let network = Network::new(&Weights::initialize(1));
    let mut workspace = Workspace::new();
    let mut group = c.benchmark_group(format!("forward {}", network.simd().name()));

    let batch: Vec<Array2<f32>> = (0..8).map(|i| image(128, i)).collect();
    group.throughput(Throughput::Elements(8 * 128 * 128));
    group.bench_function("tile 128 batch 8", |b| {
        b.iter(|| {
            for tile in &batch {
                network.forward(tile.view(), &mut workspace).unwrap();
            }
        })
    });

    let tile = image(512, 0);
    group.sample_size(10);
    group.throughput(Throughput::Elements(512 * 512));
    group.bench_function("tile 512", |b| {
        b.iter(|| network.forward(tile.view(), &mut workspace).unwrap())
    });
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
