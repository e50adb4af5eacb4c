//! Speed of the convolution kernels on the layer shapes of m-rBCR, on a 128 x 128
//! plane at the best SIMD level of this CPU (`MRBCR_SIMD` lowers it):
//!
//! ```sh
//! cargo bench -p mrbcr-kernels --bench convolution
//! ```
//!
//! `conv2d` is the direct convolution every layer can run; `winograd` the F(4, 3)
//! Winograd convolution the network uses for the 3 x 3 layers where it pays off.
//! Throughput is in multiply-adds of the direct convolution per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mrbcr_kernels::conv::{conv2d, ConvWeights};
use mrbcr_kernels::layout::{FeatureMap, PlaneGeometry};
use mrbcr_kernels::winograd::{conv3x3, WinogradWeights};
use mrbcr_kernels::SimdLevel;

/// Side of the plane every layer runs on.
const SIDE: usize = 128;

/// The distinct kinds of layer of the network (`mrbcr::network::spec`), as
/// `[kh, kw, c_in, c_out]` with the layer they stand for.
const LAYER_SHAPES: [(&str, [usize; 4]); 11] = [
    ("mlp first dense", [1, 1, 1, 32]),
    ("mlp dense", [1, 1, 32, 32]),
    ("fusion_a", [1, 1, 64, 32]),
    ("fusion_a", [3, 3, 32, 32]),
    ("conv1d first", [1, 5, 48, 32]),
    ("conv1d", [1, 5, 32, 32]),
    ("rdb a", [3, 3, 40, 4]),
    ("rdb b", [3, 3, 4, 4]),
    ("rdb fuse", [1, 1, 44, 4]),
    ("fusion_b", [3, 3, 48, 48]),
    ("head_z", [9, 9, 48, 1]),
];

/// `n` values in [-0.5, 0.5) from a fixed sequence (the speed does not depend on them).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
            bits as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// A kernel and bias of `shape`.
fn layer(shape: [usize; 4]) -> (Vec<f32>, Vec<f32>) {
    let [kh, kw, c_in, c_out] = shape;
    (values(kh * kw * c_in * c_out, 1), values(c_out, 2))
}

/// An input map of `channels` planes.
fn input(geometry: &std::sync::Arc<PlaneGeometry>, channels: usize) -> FeatureMap {
    let mut map = FeatureMap::zeros(geometry.clone(), channels);
    for c in 0..channels {
        map.write_plane(c, &values(SIDE * SIDE, 3 + c as u64));
    }
    map
}

fn convolution(c: &mut Criterion) {
    let level = SimdLevel::detect();
    let geometry = PlaneGeometry::new(SIDE, SIDE);
    let mut group = c.benchmark_group(format!("conv {SIDE}x{SIDE} {}", level.name()));
    for (name, shape) in LAYER_SHAPES {
        let [kh, kw, c_in, c_out] = shape;
        let (kernel, bias) = layer(shape);
        let map = input(&geometry, c_in);
        let planes: Vec<&[f32]> = (0..c_in).map(|ch| map.plane(ch)).collect();
        let mut out = FeatureMap::zeros(geometry.clone(), c_out);
        let shape_name = format!("{name} {kh}x{kw} {c_in}->{c_out}");
        group.throughput(Throughput::Elements(
            (SIDE * SIDE * kh * kw * c_in * c_out) as u64,
        ));

        let direct = ConvWeights::from_hwio(shape, &kernel, &bias);
        group.bench_function(format!("conv2d {shape_name}"), |b| {
            b.iter(|| conv2d(level, &geometry, &planes, &direct, out.as_mut_slice(), true))
        });
        if WinogradWeights::supports(shape) {
            let winograd = WinogradWeights::from_hwio(shape, &kernel, &bias);
            group.bench_function(format!("winograd {shape_name}"), |b| {
                b.iter(|| {
                    conv3x3(
                        level,
                        &geometry,
                        &planes,
                        &winograd,
                        out.as_mut_slice(),
                        true,
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, convolution);
criterion_main!(benches);
