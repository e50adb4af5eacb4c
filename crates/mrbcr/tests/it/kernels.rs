//! The kernels' SIMD versions against the scalar reference, and parallel against
//! serial: bit-identical, on random shapes, sizes and values.

use mrbcr::kernels::conv::{conv2d, ConvWeights};
use mrbcr::kernels::layout::{FeatureMap, PlaneGeometry};
use mrbcr::kernels::resize::resize_bilinear;
use mrbcr::kernels::SimdLevel;
use mrbcr::rng::SplitMix64;
use proptest::prelude::*;

fn random_map(h: usize, w: usize, c: usize, seed: u64) -> FeatureMap {
    let mut rng = SplitMix64::new(seed);
    let mut map = FeatureMap::zeros(PlaneGeometry::new(h, w), c);
    for ch in 0..c {
        let img: Vec<f32> = (0..h * w).map(|_| rng.uniform(-2.0, 2.0)).collect();
        map.write_plane(ch, &img);
    }
    map
}

fn random_conv(shape: [usize; 4], seed: u64) -> ConvWeights {
    let mut rng = SplitMix64::new(seed);
    let n: usize = shape.iter().product();
    let kernel: Vec<f32> = (0..n).map(|_| rng.uniform(-0.5, 0.5)).collect();
    let bias: Vec<f32> = (0..shape[3]).map(|_| rng.uniform(-0.5, 0.5)).collect();
    ConvWeights::from_hwio(shape, &kernel, &bias)
}

fn run_conv(
    level: SimdLevel,
    threads: usize,
    input: &FeatureMap,
    w: &ConvWeights,
    relu: bool,
) -> Vec<f32> {
    let g = input.geometry().clone();
    let planes: Vec<&[f32]> = input.as_slice().chunks_exact(g.plane_len()).collect();
    let mut out = FeatureMap::zeros(g.clone(), w.c_out());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| conv2d(level, &g, &planes, w, out.as_mut_slice(), relu));
    out.as_slice().to_vec()
}

/// Direct convolution from the definition (zero padding, cross-correlation), in f64.
fn naive(input: &FeatureMap, shape: [usize; 4], kernel_seed: u64, relu: bool) -> Vec<Vec<f64>> {
    let [kh, kw, ci, co] = shape;
    let mut rng = SplitMix64::new(kernel_seed);
    let n: usize = shape.iter().product();
    let k: Vec<f32> = (0..n).map(|_| rng.uniform(-0.5, 0.5)).collect();
    let b: Vec<f32> = (0..co).map(|_| rng.uniform(-0.5, 0.5)).collect();
    let g = input.geometry();
    let (h, w) = (g.height(), g.width());
    let planes: Vec<Vec<f32>> = (0..ci)
        .map(|c| {
            let mut p = vec![0.0; h * w];
            input.read_plane(c, &mut p);
            p
        })
        .collect();
    (0..co)
        .map(|o| {
            (0..h * w)
                .map(|q| {
                    let (r, c) = ((q / w) as isize, (q % w) as isize);
                    let mut acc = b[o] as f64;
                    for i in 0..ci {
                        for y in 0..kh {
                            for x in 0..kw {
                                let (rr, cc) = (
                                    r + y as isize - (kh / 2) as isize,
                                    c + x as isize - (kw / 2) as isize,
                                );
                                if rr >= 0 && cc >= 0 && (rr as usize) < h && (cc as usize) < w {
                                    let v = planes[i][rr as usize * w + cc as usize] as f64;
                                    acc += v * k[((y * kw + x) * ci + i) * co + o] as f64;
                                }
                            }
                        }
                    }
                    if relu {
                        acc.max(0.0)
                    } else {
                        acc
                    }
                })
                .collect()
        })
        .collect()
}

fn kernel_shape() -> impl Strategy<Value = [usize; 4]> {
    (
        prop_oneof![Just((1, 1)), Just((3, 3)), Just((1, 5)), Just((9, 9))],
        1usize..12,
        prop_oneof![Just(1usize), Just(4), Just(8), Just(3)],
    )
        .prop_map(|((kh, kw), ci, co)| [kh, kw, ci, co])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_simd_level_and_thread_count_equals_the_scalar_reference(
        h in 1usize..40, w in 1usize..70, shape in kernel_shape(), relu: bool, seed: u64,
    ) {
        let input = random_map(h, w, shape[2], seed);
        let weights = random_conv(shape, seed ^ 1);
        let reference = run_conv(SimdLevel::scalar(), 1, &input, &weights, relu);
        for level in SimdLevel::supported() {
            for threads in [1, 3] {
                let got = run_conv(level, threads, &input, &weights, relu);
                prop_assert!(got.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{level:?} with {threads} threads differs from the scalar reference");
            }
        }
    }

    #[test]
    fn convolution_matches_its_definition(
        h in 1usize..24, w in 1usize..40, shape in kernel_shape(), relu: bool, seed: u64,
    ) {
        let input = random_map(h, w, shape[2], seed);
        let got = run_conv(SimdLevel::detect(), 2, &input, &random_conv(shape, seed ^ 1), relu);
        let want = naive(&input, shape, seed ^ 1, relu);
        let g = input.geometry();
        // Float32 sums of `terms` products (and the bias): rounding grows with their count.
        let terms = (shape[0] * shape[1] * shape[2] + 1) as f64;
        let tolerance = f64::from(f32::EPSILON) * terms.max(64.0);
        for (o, plane) in want.iter().enumerate() {
            for r in 0..h {
                for c in 0..w {
                    let v = got[o * g.plane_len() + g.index(r, c)] as f64;
                    let e = plane[r * w + c];
                    prop_assert!((v - e).abs() <= tolerance * (1.0 + e.abs()), "out {o} ({r},{c}): {v} vs {e}");
                }
            }
        }
        // The padding stays zero.
        let interior = g.interior_mask();
        for (q, v) in got.iter().enumerate() {
            prop_assert!(interior[q % g.plane_len()] != 0 || *v == 0.0, "padding written at {q}");
        }
    }

    #[test]
    fn resize_is_thread_count_independent_and_exact_on_halving(
        h2 in 1usize..20, w2 in 1usize..20, c in 1usize..5, seed: u64,
    ) {
        let (h, w) = (2 * h2, 2 * w2);
        let input = random_map(h, w, c, seed);
        let to = PlaneGeometry::new(h2, w2);
        let mut outs = Vec::new();
        for threads in [1, 2] {
            let mut out = FeatureMap::zeros(to.clone(), c);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| resize_bilinear(input.geometry(), input.as_slice(), &to, out.as_mut_slice()));
            outs.push(out);
        }
        prop_assert_eq!(outs[0].as_slice(), outs[1].as_slice());
        let g = input.geometry();
        for ch in 0..c {
            let p = input.plane(ch);
            for r in 0..h2 {
                for col in 0..w2 {
                    let mean = (p[g.index(2 * r, 2 * col)] + p[g.index(2 * r, 2 * col + 1)]
                        + p[g.index(2 * r + 1, 2 * col)] + p[g.index(2 * r + 1, 2 * col + 1)]) / 4.0;
                    let v = outs[0].plane(ch)[to.index(r, col)];
                    prop_assert!((v - mean).abs() <= 1e-6, "({r},{col}): {v} vs mean {mean}");
                }
            }
        }
    }
}
