//! Speed of training, on demand (ignored by default; the machine's load decides the
//! numbers):
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo test --release --test train_speed -- --ignored --nocapture
//! ```

use mrbcr::kernels::conv::{conv2d, ConvWeights};
use mrbcr::kernels::layout::{FeatureMap, PlaneGeometry};
use mrbcr::kernels::SimdLevel;
use mrbcr::network::{Network, Weights, Workspace};
use mrbcr::train::weight_grad::conv_weight_grad;
use mrbcr::train::{batch_gradients, Adam, AdamConfig, BatchLoss, Sample, TrainNetwork};
use ndarray::Array2;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore = "a measurement, not a check"]
fn seconds_per_training_step() {
    let weights = Weights::initialize(1);
    for size in [64usize, 128] {
        let batch: Vec<Sample> = (0..8)
            .map(|i| Sample {
                input: Array2::from_shape_fn((size, size), |(r, c)| {
                    ((r * 7 + c * 3 + i) % 13) as f32 / 13.0
                }),
                truth: Array2::from_shape_fn((size, size), |(r, c)| ((r + c) % 5) as f32 / 5.0),
            })
            .collect();
        let inference = Network::new(&weights);
        let mut ws = Workspace::new();
        let mut times = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let t = std::time::Instant::now();
            for s in &batch {
                inference
                    .forward_all(s.input.view(), &mut ws, None)
                    .unwrap();
            }
            times.0.push(t.elapsed().as_secs_f64());
            let t = std::time::Instant::now();
            let network = TrainNetwork::new(&weights);
            let (_, grads) = batch_gradients(&network, &batch, BatchLoss::Mean).unwrap();
            let mut w = weights.clone();
            Adam::new(AdamConfig::default(), &w)
                .update(&mut w, &grads)
                .unwrap();
            times.1.push(t.elapsed().as_secs_f64());
        }
        eprintln!(
            "batch 8 of {size}x{size}: training step {:.3} s (inference forward of the batch {:.3} s), medians of 5",
            median(times.1),
            median(times.0)
        );
    }
}

#[test]
#[ignore = "a measurement, not a check"]
fn weight_gradient_kernel_speed() {
    let g = PlaneGeometry::new(128, 128);
    let lv = SimdLevel::detect();
    for (kh, kw, ci, co) in [
        (3, 3, 48, 48),
        (1, 1, 32, 32),
        (1, 5, 32, 32),
        (3, 3, 40, 4),
        (9, 9, 48, 1),
    ] {
        let x = FeatureMap::zeros(g.clone(), ci);
        let dy = FeatureMap::zeros(g.clone(), co);
        let xp: Vec<&[f32]> = x.as_slice().chunks_exact(g.plane_len()).collect();
        let dp: Vec<&[f32]> = dy.as_slice().chunks_exact(g.plane_len()).collect();
        let w = ConvWeights::from_hwio(
            [kh, kw, ci, co],
            &vec![0.1; kh * kw * ci * co],
            &vec![0.0; co],
        );
        let mut out = FeatureMap::zeros(g.clone(), co);
        let t = std::time::Instant::now();
        for _ in 0..10 {
            conv2d(lv, &g, &xp, &w, out.as_mut_slice(), false);
        }
        let forward = t.elapsed().as_secs_f64() / 10.0;
        let (mut k, mut b) = (vec![0.0; kh * kw * ci * co], vec![0.0; co]);
        let t = std::time::Instant::now();
        for _ in 0..10 {
            conv_weight_grad(lv, &g, &xp, &dp, kh, kw, &mut k, &mut b);
        }
        let grad = t.elapsed().as_secs_f64() / 10.0;
        let gmac = (kh * kw * ci * co * 128 * 128) as f64 / 1e9;
        eprintln!(
            "{kh}x{kw} {ci}->{co} at 128x128: convolution {:.1} GMAC/s, weight gradient {:.1} GMAC/s",
            gmac / forward,
            gmac / grad
        );
    }
}
