//! The Winograd 3x3 convolution against the scalar direct convolution (within 1e-5 of
//! the sum of the absolute products, what `f32` rounding allows), and its SIMD levels
//! and thread counts against each other (bit-identical), on random shapes, sizes and
//! values.

use mrbcr_kernels::conv::{conv2d, ConvWeights};
use mrbcr_kernels::layout::{FeatureMap, PlaneGeometry, PAD};
use mrbcr_kernels::winograd::{conv3x3, WinogradWeights, OUTPUT_BLOCK};
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

/// A layer: kernel `[3, 3, c_in, c_out]` and bias.
struct Layer {
    shape: [usize; 4],
    kernel: Vec<f32>,
    bias: Vec<f32>,
}

impl Layer {
    fn random(c_in: usize, c_out: usize, seed: u64) -> Layer {
        let shape = [3, 3, c_in, c_out];
        Layer {
            shape,
            kernel: values(9 * c_in * c_out, seed, -0.5, 0.5),
            bias: values(c_out, seed ^ 0x5eed, -0.5, 0.5),
        }
    }
}

fn random_map(h: usize, w: usize, c: usize, seed: u64) -> FeatureMap {
    let mut map = FeatureMap::zeros(PlaneGeometry::new(h, w), c);
    for ch in 0..c {
        map.write_plane(ch, &values(h * w, seed + ch as u64, -2.0, 2.0));
    }
    map
}

fn planes(map: &FeatureMap) -> Vec<&[f32]> {
    map.as_slice()
        .chunks_exact(map.geometry().plane_len())
        .collect()
}

/// Runs the Winograd convolution on `threads` threads into an output prefilled with
/// `fill` (to see that every image row is written).
fn winograd(
    level: SimdLevel,
    threads: usize,
    input: &FeatureMap,
    layer: &Layer,
    relu: bool,
    fill: f32,
) -> Vec<f32> {
    let g = input.geometry().clone();
    let weights = WinogradWeights::from_hwio(layer.shape, &layer.kernel, &layer.bias);
    let mut out = vec![fill; layer.shape[3] * g.plane_len()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| conv3x3(level, &g, &planes(input), &weights, &mut out, relu));
    out
}

/// The scalar direct convolution.
fn direct(input: &FeatureMap, layer: &Layer, relu: bool) -> Vec<f32> {
    let g = input.geometry().clone();
    let weights = ConvWeights::from_hwio(layer.shape, &layer.kernel, &layer.bias);
    let mut out = vec![0.0; layer.shape[3] * g.plane_len()];
    conv2d(
        SimdLevel::scalar(),
        &g,
        &planes(input),
        &weights,
        &mut out,
        relu,
    );
    out
}

/// Per output value: the bias and the absolute values of all the products summed into
/// it, the scale of its rounding error.
fn magnitude(input: &FeatureMap, layer: &Layer) -> Vec<f64> {
    let g = input.geometry();
    let [_, _, c_in, c_out] = layer.shape;
    let (h, w) = (g.height() as isize, g.width() as isize);
    let mut out = vec![0.0; c_out * g.plane_len()];
    for o in 0..c_out {
        for r in 0..h {
            for c in 0..w {
                let mut sum = f64::from(layer.bias[o].abs());
                for i in 0..c_in {
                    let plane = input.plane(i);
                    for dy in 0..3 {
                        for dx in 0..3 {
                            let (y, x) = (r + dy - 1, c + dx - 1);
                            if y < 0 || y >= h || x < 0 || x >= w {
                                continue;
                            }
                            let v = plane[g.index(y as usize, x as usize)];
                            let k = layer.kernel
                                [((dy as usize * 3 + dx as usize) * c_in + i) * c_out + o];
                            sum += f64::from(v * k).abs();
                        }
                    }
                }
                out[o * g.plane_len() + g.index(r as usize, c as usize)] = sum;
            }
        }
    }
    out
}

/// Checks every image row of `got` (image pixels against `want` within 1e-5 of their
/// magnitude, padding columns zero).
fn assert_close(input: &FeatureMap, layer: &Layer, got: &[f32], want: &[f32]) {
    let g = input.geometry();
    let scale = magnitude(input, layer);
    let mut worst = 0.0f64;
    for o in 0..layer.shape[3] {
        for r in 0..g.height() {
            let row = o * g.plane_len() + g.index(r, 0);
            for q in row - PAD..row + g.stride() - PAD {
                let inside = q >= row && q < row + g.width();
                if inside {
                    let err = f64::from((got[q] - want[q]).abs()) / scale[q].max(f64::MIN_POSITIVE);
                    worst = worst.max(err);
                } else {
                    assert_eq!(
                        got[q].to_bits(),
                        0,
                        "padding at row {r}, flat {q}, channel {o}"
                    );
                }
            }
        }
    }
    assert!(worst <= 1e-5, "largest error {worst:e} of the magnitude");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn winograd_matches_the_direct_convolution(
        h in 1usize..23, w in 1usize..71, c_in in 1usize..11, blocks in 1usize..4,
        relu: bool, seed: u64,
    ) {
        let c_out = blocks * OUTPUT_BLOCK;
        let input = random_map(h, w, c_in, seed);
        let layer = Layer::random(c_in, c_out, seed.wrapping_add(7));
        let want = direct(&input, &layer, relu);
        let got = winograd(SimdLevel::scalar(), 1, &input, &layer, relu, f32::NAN);
        assert_close(&input, &layer, &got, &want);
    }

    #[test]
    fn winograd_is_bit_identical_at_every_level_and_thread_count(
        h in 1usize..30, w in 1usize..90, c_in in 1usize..9, blocks in 1usize..3,
        relu: bool, seed: u64,
    ) {
        let c_out = blocks * OUTPUT_BLOCK;
        let input = random_map(h, w, c_in, seed);
        let layer = Layer::random(c_in, c_out, seed.wrapping_add(3));
        let reference = winograd(SimdLevel::scalar(), 1, &input, &layer, relu, 0.0);
        for level in SimdLevel::supported() {
            for threads in [1, 3] {
                let got = winograd(level, threads, &input, &layer, relu, 0.0);
                let same = got.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits());
                prop_assert!(same, "{} on {threads} threads differs from scalar", level.name());
            }
        }
    }
}

#[test]
fn winograd_handles_the_networks_layer_shapes() {
    // Fusion blocks (32 and 48 channels) and the residual dense blocks (c -> 4, 4 -> 4),
    // on a tile whose sides are not multiples of the Winograd tile.
    for (c_in, c_out) in [(32, 32), (48, 48), (44, 4), (4, 4)] {
        let input = random_map(37, 29, c_in, 11);
        let layer = Layer::random(c_in, c_out, 12);
        let want = direct(&input, &layer, true);
        for level in SimdLevel::supported() {
            let got = winograd(level, 2, &input, &layer, true, 1.0);
            assert_close(&input, &layer, &got, &want);
        }
    }
}

#[test]
fn only_3x3_kernels_with_whole_output_blocks_are_supported() {
    assert!(WinogradWeights::supports([3, 3, 5, 8]));
    assert!(!WinogradWeights::supports([3, 3, 5, 6]));
    assert!(!WinogradWeights::supports([1, 5, 32, 32]));
    assert!(!WinogradWeights::supports([9, 9, 48, 4]));
}
