//! A chain of dense layers run band by band against one convolution per layer:
//! bit-identical, at every SIMD level and thread count, on random chains and sizes.

use mrbcr_kernels::conv::{conv2d, dense_chain, ConvWeights};
use mrbcr_kernels::layout::{FeatureMap, PlaneGeometry};
use mrbcr_kernels::SimdLevel;
use proptest::prelude::*;

/// Uniform values in [lo, hi) from a seed (xorshift64*), so that cases are reproducible.
fn values(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
            lo + (hi - lo) * (bits as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// Dense layers `widths[0] -> widths[1] -> ...`.
fn chain(widths: &[usize], seed: u64) -> Vec<ConvWeights> {
    widths
        .windows(2)
        .enumerate()
        .map(|(k, pair)| {
            let (c_in, c_out) = (pair[0], pair[1]);
            let s = seed.wrapping_add(k as u64 * 101);
            ConvWeights::from_hwio(
                [1, 1, c_in, c_out],
                &values(c_in * c_out, s, -0.6, 0.6),
                &values(c_out, s ^ 0xb1a5, -0.3, 0.3),
            )
        })
        .collect()
}

/// One `conv2d` per layer.
fn layer_by_layer(
    level: SimdLevel,
    input: &FeatureMap,
    layers: &[ConvWeights],
    relu: bool,
) -> Vec<f32> {
    let g = input.geometry().clone();
    let mut current = input.as_slice().to_vec();
    for layer in layers {
        let planes: Vec<&[f32]> = current.chunks_exact(g.plane_len()).collect();
        let mut next = vec![0.0; layer.c_out() * g.plane_len()];
        conv2d(level, &g, &planes, layer, &mut next, relu);
        current = next;
    }
    current
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_chain_equals_one_convolution_per_layer(
        h in 1usize..60, w in 1usize..90,
        widths in prop::collection::vec(1usize..13, 2..6),
        relu: bool, seed: u64,
    ) {
        let g = PlaneGeometry::new(h, w);
        let mut input = FeatureMap::zeros(g.clone(), widths[0]);
        for c in 0..widths[0] {
            input.write_plane(c, &values(h * w, seed.wrapping_add(c as u64), -2.0, 2.0));
        }
        let layers = chain(&widths, seed ^ 0x77);
        let want = layer_by_layer(SimdLevel::scalar(), &input, &layers, relu);
        let widest = widths.iter().max().unwrap() + 1;
        for level in SimdLevel::supported() {
            for threads in [1, 3] {
                // Buffers larger than the layers need, holding earlier values.
                let mut hidden = vec![5.0; widest * g.plane_len()];
                let mut out = vec![7.0; widest * g.plane_len()];
                let planes: Vec<&[f32]> = input.as_slice().chunks_exact(g.plane_len()).collect();
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| dense_chain(level, &g, &planes, &layers, &mut hidden, &mut out, relu));
                let got = &out[..want.len()];
                // Positions before the first image row and after the last one are not
                // computed (they keep the buffer's zero padding in a feature map).
                let computed = g.first()..g.first() + g.compute_len();
                for c in 0..*widths.last().unwrap() {
                    let plane = c * g.plane_len();
                    let range = plane + computed.start..plane + computed.end;
                    let same = got[range.clone()].iter().zip(&want[range]).all(|(a, b)| a.to_bits() == b.to_bits());
                    prop_assert!(same, "{} on {threads} threads, channel {c}", level.name());
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "is not 1x1")]
fn a_chain_takes_only_dense_layers() {
    let g = PlaneGeometry::new(4, 4);
    let input = FeatureMap::zeros(g.clone(), 2);
    let layers = [ConvWeights::from_hwio([3, 3, 2, 4], &[0.0; 72], &[0.0; 4])];
    let (mut hidden, mut out) = (vec![0.0; 4 * g.plane_len()], vec![0.0; 4 * g.plane_len()]);
    let planes: Vec<&[f32]> = input.as_slice().chunks_exact(g.plane_len()).collect();
    dense_chain(
        SimdLevel::scalar(),
        &g,
        &planes,
        &layers,
        &mut hidden,
        &mut out,
        true,
    );
}
