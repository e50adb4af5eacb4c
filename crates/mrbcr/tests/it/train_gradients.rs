//! Gradient checks of training: every layer type against finite differences or its
//! adjoint identity, the loss against finite differences, the whole network against
//! finite differences of the float64 reference, the training forward against the
//! inference forward, Adam against a hand-computed step, and determinism.

use std::sync::Arc;

use mrbcr::kernels::layout::{FeatureMap, PlaneGeometry};
use mrbcr::kernels::resize::{resize_bilinear, subsample};
use mrbcr::kernels::SimdLevel;
use mrbcr::network::spec::{self, LayerSpec};
use mrbcr::network::{Network, Weights, Workspace};
use mrbcr::rng::SplitMix64;
use mrbcr::train::gradients::Gradients;
use mrbcr::train::layers::{
    add_channel_sum, planes, relu_backward, resize_adjoint, subsample_adjoint, TrainLayer,
};
use mrbcr::train::loss::scale_loss;
use mrbcr::train::reference::ReferenceWeights;
use mrbcr::train::weight_grad::conv_weight_grad;
use mrbcr::train::{
    batch_gradients, sample_gradients, train_step, Adam, AdamConfig, BatchLoss, Sample,
    TrainNetwork,
};
use ndarray::{Array2, ArrayView2};

fn random_map(g: &Arc<PlaneGeometry>, channels: usize, rng: &mut SplitMix64) -> FeatureMap {
    let mut m = FeatureMap::zeros(g.clone(), channels);
    let img: Vec<f32> = (0..g.height() * g.width()).map(|_| 0.0).collect();
    for c in 0..channels {
        let v: Vec<f32> = img.iter().map(|_| rng.uniform(-1.0, 1.0)).collect();
        m.write_plane(c, &v);
    }
    m
}

fn random_image(h: usize, w: usize, rng: &mut SplitMix64, lo: f32, hi: f32) -> Array2<f32> {
    Array2::from_shape_fn((h, w), |_| rng.uniform(lo, hi))
}

/// `sum_p a[p] b[p]` over whole planes (padding is zero) in f64.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// Weights with every tensor (biases too) drawn at random, so that no gradient is
/// trivially zero.
fn random_weights(seed: u64) -> Weights {
    let mut w = Weights::initialize(seed);
    let mut rng = SplitMix64::new(seed ^ 0xABCD);
    for (name, values) in w.values_mut() {
        if name.ends_with(".bias") {
            values
                .iter_mut()
                .for_each(|v| *v = rng.uniform(-0.05, 0.05));
        }
    }
    w
}

fn find_layer(prefix: &str) -> LayerSpec {
    spec::all_layers()
        .into_iter()
        .find(|l| l.prefix == prefix)
        .expect("a layer of the architecture")
}

/// One convolution layer with an optional ReLU, scored by `L = sum R * y`: its weight,
/// bias and input gradients against central differences in float32 (without ReLU the
/// layer is linear in each of them, so only rounding separates the two).
fn check_conv_layer(prefix: &str, relu: bool, h: usize, w: usize) {
    let layer = find_layer(prefix);
    let weights = random_weights(5);
    let mut rng = SplitMix64::new(11);
    let g = PlaneGeometry::new(h, w);
    let [c_in, c_out] = [
        layer.kernel_shape[layer.kernel_shape.len() - 2],
        layer.out_channels(),
    ];
    let x = random_map(&g, c_in, &mut rng);
    let r = random_map(&g, c_out, &mut rng);
    let lv = SimdLevel::detect();
    let score = |weights: &Weights, x: &FeatureMap| {
        let grads = Gradients::zeros();
        let l = TrainLayer::new(weights, &layer, &grads);
        let y = l.forward(lv, &g, &planes(x), relu);
        dot(y.as_slice(), r.as_slice())
    };
    // Analytic gradients.
    let mut grads = Gradients::zeros();
    let l = TrainLayer::new(&weights, &layer, &grads);
    let y = l.forward(lv, &g, &planes(&x), relu);
    let mut dy = FeatureMap::zeros(g.clone(), c_out);
    dy.as_mut_slice().copy_from_slice(r.as_slice());
    if relu {
        relu_backward(&y, &mut dy);
    }
    let dx = l
        .backward(lv, &g, &planes(&x), &planes(&dy), &mut grads, true)
        .expect("asked for");
    let kernel_grad = grads.tensor(&layer.kernel_name()).unwrap().to_vec();
    let bias_grad = grads.tensor(&layer.bias_name()).unwrap().to_vec();
    // With a ReLU, a step must be small enough not to cross many kinks.
    let eps = if relu { 1e-4 } else { 0.25 };
    let tol = if relu { 2e-2 } else { 2e-4 };
    let close = |fd: f64, an: f32, what: &str| {
        let an = f64::from(an);
        assert!(
            (fd - an).abs() <= tol * (1.0 + an.abs().max(fd.abs())),
            "{prefix} {what}: finite difference {fd}, backward {an}"
        );
    };
    for (name, analytic) in [
        (layer.kernel_name(), &kernel_grad),
        (layer.bias_name(), &bias_grad),
    ] {
        let n = analytic.len();
        for k in 0..6.min(n) {
            let j = (k * 7919 + 13) % n;
            let perturbed = |delta: f32| {
                let mut w2 = weights.clone();
                let v = w2.values_mut().find(|(nm, _)| *nm == name).unwrap().1;
                v[j] += delta;
                score(&w2, &x)
            };
            let fd = (perturbed(eps) - perturbed(-eps)) / (2.0 * f64::from(eps));
            close(fd, analytic[j], &format!("{name}[{j}]"));
        }
    }
    for k in 0..6 {
        let (c, row, col) = (k % c_in, (k * 5) % h, (k * 3 + 1) % w);
        let perturbed = |delta: f32| {
            let mut x2 = FeatureMap::zeros(g.clone(), c_in);
            x2.as_mut_slice().copy_from_slice(x.as_slice());
            x2.planes_mut(c..c + 1)[g.index(row, col)] += delta;
            score(&weights, &x2)
        };
        let fd = (perturbed(eps) - perturbed(-eps)) / (2.0 * f64::from(eps));
        close(
            fd,
            dx.plane(c)[g.index(row, col)],
            &format!("input ({c}, {row}, {col})"),
        );
    }
}

#[test]
fn dense_layer_gradients() {
    check_conv_layer("forward.mlp0.dense2", false, 12, 16);
    check_conv_layer("forward.mlp0.dense1", true, 12, 16);
    check_conv_layer("forward.mlp2.dense5", true, 8, 8);
}

#[test]
fn conv1d_layer_gradients() {
    check_conv_layer("inverse.p0.conv1d2", false, 8, 20);
    check_conv_layer("inverse.p4.conv1d1", true, 8, 12);
}

#[test]
fn conv2d_layer_gradients() {
    check_conv_layer("inverse.p2.rdb1.a1", false, 10, 12);
    check_conv_layer("inverse.p2.rdb3.b2", true, 10, 12);
    check_conv_layer("inverse.fusion_b.conv1x1", false, 8, 8);
    check_conv_layer("forward.fusion_a.conv3x3", false, 8, 12);
    check_conv_layer("inverse.head_z0", false, 12, 16);
    check_conv_layer("forward.head_y4", false, 8, 8);
}

#[test]
fn weight_gradient_is_the_same_at_every_simd_level() {
    let mut rng = SplitMix64::new(3);
    let g = PlaneGeometry::new(20, 24);
    let x = random_map(&g, 5, &mut rng);
    for (kh, kw, c_out) in [(1, 1, 8), (1, 5, 4), (3, 3, 4), (9, 9, 1), (3, 3, 3)] {
        let dy = random_map(&g, c_out, &mut rng);
        let results: Vec<(Vec<f32>, Vec<f32>)> = SimdLevel::supported()
            .into_iter()
            .map(|lv| {
                let mut k = vec![0.0; kh * kw * 5 * c_out];
                let mut b = vec![0.0; c_out];
                conv_weight_grad(lv, &g, &planes(&x), &planes(&dy), kh, kw, &mut k, &mut b);
                (k, b)
            })
            .collect();
        assert!(results.windows(2).all(|p| p[0] == p[1]), "{kh}x{kw}");
        // And equal to the definition, in f64.
        let (k, b) = &results[0];
        for o in 0..c_out {
            assert!((f64::from(b[o]) - dot(dy.plane(o), &vec![1.0; g.plane_len()])).abs() < 1e-4);
            for i in 0..5 {
                for ty in 0..kh {
                    for tx in 0..kw {
                        let mut sum = 0.0;
                        for r in 0..20isize {
                            for c in 0..24isize {
                                let (sr, sc) = (
                                    r + ty as isize - (kh / 2) as isize,
                                    c + tx as isize - (kw / 2) as isize,
                                );
                                if sr < 0 || sc < 0 || sr >= 20 || sc >= 24 {
                                    continue;
                                }
                                sum += f64::from(dy.plane(o)[g.index(r as usize, c as usize)])
                                    * f64::from(x.plane(i)[g.index(sr as usize, sc as usize)]);
                            }
                        }
                        let got = f64::from(k[((ty * kw + tx) * 5 + i) * c_out + o]);
                        assert!(
                            (got - sum).abs() < 1e-4 * (1.0 + sum.abs()),
                            "{kh}x{kw} {got} {sum}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn resize_adjoint_satisfies_the_dot_product_identity() {
    let mut rng = SplitMix64::new(4);
    for ((h, w), (oh, ow)) in [
        ((4, 4), (8, 8)),
        ((8, 8), (4, 4)),
        ((4, 6), (16, 24)),
        ((6, 10), (12, 20)),
        ((12, 20), (6, 10)),
    ] {
        let (from, to) = (PlaneGeometry::new(h, w), PlaneGeometry::new(oh, ow));
        let a = random_map(&from, 3, &mut rng);
        let b = random_map(&to, 3, &mut rng);
        let mut ra = FeatureMap::zeros(to.clone(), 3);
        resize_bilinear(&from, a.as_slice(), &to, ra.as_mut_slice());
        let mut atb = FeatureMap::zeros(from.clone(), 3);
        resize_adjoint(&from, atb.as_mut_slice(), &to, b.as_slice());
        let (lhs, rhs) = (
            dot(ra.as_slice(), b.as_slice()),
            dot(a.as_slice(), atb.as_slice()),
        );
        assert!(
            (lhs - rhs).abs() < 1e-5 * (1.0 + lhs.abs()),
            "{h}x{w}->{oh}x{ow}: {lhs} {rhs}"
        );
    }
}

#[test]
fn subsample_and_broadcast_adjoints_satisfy_the_dot_product_identity() {
    let mut rng = SplitMix64::new(6);
    let from = PlaneGeometry::new(16, 12);
    for step in [2, 4] {
        let to = PlaneGeometry::new(16 / step, 12 / step);
        let a = random_map(&from, 1, &mut rng);
        let b = random_map(&to, 1, &mut rng);
        let mut sa = FeatureMap::zeros(to.clone(), 1);
        subsample(&from, a.as_slice(), step, &to, sa.as_mut_slice());
        let mut atb = FeatureMap::zeros(from.clone(), 1);
        subsample_adjoint(&from, atb.as_mut_slice(), step, &to, b.as_slice());
        let (lhs, rhs) = (
            dot(sa.as_slice(), b.as_slice()),
            dot(a.as_slice(), atb.as_slice()),
        );
        assert!((lhs - rhs).abs() < 1e-5, "step {step}: {lhs} {rhs}");
    }
    // s = xi + y (y broadcast): <s, d> = <xi, d> + <y, sum_c d>.
    let xi = random_map(&from, 5, &mut rng);
    let y = random_map(&from, 1, &mut rng);
    let d = random_map(&from, 5, &mut rng);
    let mut dy = FeatureMap::zeros(from.clone(), 1);
    add_channel_sum(&d, &mut dy);
    let n = from.plane_len();
    let lhs: f64 = (0..5)
        .map(|c| {
            let s: Vec<f32> = xi
                .plane(c)
                .iter()
                .zip(y.plane(0))
                .map(|(a, b)| a + b)
                .collect();
            dot(&s, &d.as_slice()[c * n..(c + 1) * n])
        })
        .sum();
    let rhs = dot(xi.as_slice(), d.as_slice()) + dot(y.as_slice(), dy.as_slice());
    assert!((lhs - rhs).abs() < 1e-4);
}

#[test]
fn loss_gradient_matches_finite_differences() {
    let mut rng = SplitMix64::new(9);
    let z = Array2::from_shape_fn((12, 8), |_| f64::from(rng.uniform(0.0, 1.0)));
    let gt = Array2::from_shape_fn((12, 8), |_| f64::from(rng.uniform(0.0, 1.0)));
    let (_, grad) = scale_loss(z.view(), gt.view());
    let eps = 1e-6;
    for (r, c) in [(0, 0), (3, 5), (11, 7), (6, 2)] {
        let mut zp = z.clone();
        zp[[r, c]] += eps;
        let mut zm = z.clone();
        zm[[r, c]] -= eps;
        let fd =
            (scale_loss(zp.view(), gt.view()).0 - scale_loss(zm.view(), gt.view()).0) / (2.0 * eps);
        assert!(
            (fd - grad[[r, c]]).abs() < 1e-7,
            "({r}, {c}): {fd} {}",
            grad[[r, c]]
        );
    }
    // At z == gt every spectral difference is 0: loss 0 and subgradient 0, no NaN.
    let (loss, grad) = scale_loss(gt.view(), gt.view());
    assert_eq!(loss, 0.0);
    assert!(grad.iter().all(|&g| g == 0.0));
    // A 2-D FFT: a pattern varying only along the height is seen by the Fourier term.
    let stripes = Array2::from_shape_fn((8, 8), |(r, _)| if r % 2 == 0 { 1.0 } else { 0.0 });
    let zero = Array2::zeros((8, 8));
    let (l, _) = scale_loss(stripes.view(), zero.view());
    // MSE 0.5; |FFT| has 32 at DC and 32 at (4, 0): 0.5 * 64 / 64.
    assert!((l - 1.0).abs() < 1e-12, "{l}");
}

fn sample(h: usize, w: usize, seed: u64) -> Sample {
    let mut rng = SplitMix64::new(seed);
    Sample {
        input: random_image(h, w, &mut rng, 0.0, 1.0),
        truth: random_image(h, w, &mut rng, 0.0, 1.0),
    }
}

#[test]
fn training_forward_equals_inference_forward() {
    let weights = random_weights(21);
    let s = sample(32, 48, 1);
    let tape = TrainNetwork::new(&weights).forward(s.input.view()).unwrap();
    let net = Network::new(&weights);
    let out = net
        .forward_all(s.input.view(), &mut Workspace::new(), None)
        .unwrap();
    let expected = [&out.z0, out.z2.as_ref().unwrap(), out.z4.as_ref().unwrap()];
    for (got, want) in tape.outputs().iter().zip(expected) {
        let diff = got
            .iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff <= 1e-5, "largest difference {diff}");
    }
    // The float64 reference computes the same network.
    let reference = ReferenceWeights::from_weights(&weights);
    let z = reference.outputs(s.input.mapv(f64::from).view());
    for (got, want) in tape.outputs().iter().zip(&z) {
        let diff = got
            .iter()
            .zip(want.iter())
            .map(|(&a, &b)| (f64::from(a) - b).abs())
            .fold(0.0, f64::max);
        assert!(diff <= 1e-4, "reference differs by {diff}");
    }
}

/// Directional finite difference of the float64 reference loss along `direction` in
/// tensor `name`.
fn reference_directional(
    reference: &ReferenceWeights,
    name: &str,
    direction: &[f64],
    x: ArrayView2<f64>,
    gt: ArrayView2<f64>,
) -> f64 {
    let eps = 1e-6;
    let at = |sign: f64| {
        let mut r = reference.clone();
        for (v, d) in r.tensor_mut(name).iter_mut().zip(direction) {
            *v += sign * eps * d;
        }
        r.loss(x, gt)
    };
    (at(1.0) - at(-1.0)) / (2.0 * eps)
}

#[test]
fn the_log_batch_loss_weighs_each_sample_by_its_own_loss() {
    let weights = random_weights(8);
    let network = TrainNetwork::new(&weights);
    let samples = [sample(16, 16, 2), sample(16, 16, 5)];
    let floor = 0.5;
    let parts: Vec<(f64, Gradients)> = samples
        .iter()
        .map(|s| sample_gradients(&network, s).unwrap())
        .collect();
    assert!(
        (parts[0].0 - parts[1].0).abs() > 1e-3 * parts[0].0,
        "the two samples' losses should differ: {} and {}",
        parts[0].0,
        parts[1].0
    );
    let (loss, gradients) =
        batch_gradients(&network, &samples, BatchLoss::MeanLog { floor }).unwrap();
    let expected_loss = parts.iter().map(|(l, _)| (l + floor).ln()).sum::<f64>() / 2.0;
    assert!(
        (loss - expected_loss).abs() < 1e-12,
        "{loss} against {expected_loss}"
    );
    // The same operations in the same order as the step: bit-identical.
    let mut expected = parts[0].1.clone();
    expected.scale((1.0 / (parts[0].0 + floor)) as f32);
    let mut second = parts[1].1.clone();
    second.scale((1.0 / (parts[1].0 + floor)) as f32);
    expected.add(&second);
    expected.scale(0.5);
    assert_eq!(gradients, expected);
    let (mean_loss, mean_gradients) = batch_gradients(&network, &samples, BatchLoss::Mean).unwrap();
    assert!((mean_loss - (parts[0].0 + parts[1].0) / 2.0).abs() < 1e-12);
    assert_ne!(mean_gradients, gradients);
}

#[test]
fn network_gradients_match_finite_differences_of_the_reference() {
    let weights = random_weights(8);
    let s = sample(8, 8, 2);
    let network = TrainNetwork::new(&weights);
    let (_, grads) = batch_gradients(&network, std::slice::from_ref(&s), BatchLoss::Mean).unwrap();
    let reference = ReferenceWeights::from_weights(&weights);
    let (x, gt) = (s.input.mapv(f64::from), s.truth.mapv(f64::from));
    let mut rng = SplitMix64::new(77);
    let mut worst: (f64, String) = (0.0, String::new());
    let names: Vec<(String, Vec<f32>)> = grads
        .iter()
        .map(|(n, _, g)| (n.to_string(), g.to_vec()))
        .collect();
    let scale = names
        .iter()
        .map(|(_, g)| g.iter().map(|&v| f64::from(v).abs()).fold(0.0, f64::max))
        .fold(0.0, f64::max);
    for (name, g) in &names {
        let direction: Vec<f64> = (0..g.len())
            .map(|_| f64::from(rng.uniform(-1.0, 1.0)))
            .collect();
        let analytic: f64 = g
            .iter()
            .zip(&direction)
            .map(|(&a, &d)| f64::from(a) * d)
            .sum();
        let fd = reference_directional(&reference, name, &direction, x.view(), gt.view());
        let err = (fd - analytic).abs() / (fd.abs() + 1e-3 * scale);
        if err > worst.0 {
            worst = (
                err,
                format!("{name}: finite difference {fd}, backward {analytic}"),
            );
        }
        assert!(
            err < 2e-3,
            "{name}: finite difference {fd}, backward {analytic}"
        );
    }
    eprintln!("worst relative error {:.2e} ({})", worst.0, worst.1);
}

#[test]
fn input_gradient_matches_finite_differences_of_the_reference() {
    let weights = random_weights(12);
    let s = sample(16, 16, 4);
    let network = TrainNetwork::new(&weights);
    let tape = network.forward(s.input.view()).unwrap();
    let (_, dz) = mrbcr::train::loss::sample_loss_f32(tape.outputs(), s.truth.view());
    let mut grads = Gradients::zeros();
    let dx = network
        .backward(&tape, [&dz[0], &dz[1], &dz[2]], &mut grads, true)
        .unwrap();
    let reference = ReferenceWeights::from_weights(&weights);
    let (x, gt) = (s.input.mapv(f64::from), s.truth.mapv(f64::from));
    // Pixels on the x2 and x4 grids too (rows/columns multiples of 4) and off them.
    for (r, c) in [(0, 0), (4, 8), (2, 6), (7, 3)] {
        let eps = 1e-6;
        let at = |d: f64| {
            let mut xp = x.clone();
            xp[[r, c]] += d;
            reference.loss(xp.view(), gt.view())
        };
        let fd = (at(eps) - at(-eps)) / (2.0 * eps);
        let an = f64::from(dx[[r, c]]);
        assert!(
            (fd - an).abs() < 2e-3 * (fd.abs() + 1e-3),
            "pixel ({r}, {c}): {fd} {an}"
        );
    }
}

#[test]
fn adam_matches_a_hand_computed_step() {
    let mut weights = Weights::initialize(1);
    let before = weights.clone();
    let mut adam = Adam::new(AdamConfig::default(), &weights);
    // Gradient 0.5 for every weight, twice. Step 1: m = 0.05, v = 0.00025; step 2:
    // m = 0.095, v = 0.00049975; alpha_t = 1e-3 sqrt(1 - 0.999^t) / (1 - 0.9^t);
    // each step moves a weight by alpha_t m / (sqrt(v) + 1e-7).
    let mut half = Gradients::zeros();
    half.fill(0.5);
    let mut expected = 0.0;
    let (mut m, mut v) = (0.0f64, 0.0f64);
    for t in 1..=2 {
        adam.update(&mut weights, &half).unwrap();
        m += (0.5 - m) * 0.1;
        v += (0.25 - v) * 0.001;
        let alpha = 1e-3 * (1.0 - 0.999f64.powi(t)).sqrt() / (1.0 - 0.9f64.powi(t));
        expected += alpha * m / (v.sqrt() + 1e-7);
    }
    for ((_, a), (_, b)) in before.tensors().iter().zip(weights.tensors()) {
        for (x, y) in a.data.iter().zip(&b.data) {
            let moved = f64::from(*x) - f64::from(*y);
            assert!(
                (moved - expected).abs() < 1e-7 * (1.0 + x.abs() as f64) + 1e-9,
                "{moved} {expected}"
            );
        }
    }
    assert_eq!(adam.step, 2);
}

#[test]
fn a_step_is_bit_identical_at_any_thread_count() {
    let batch: Vec<Sample> = (0..3).map(|i| sample(16, 16, 30 + i)).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut w = random_weights(3);
            let mut adam = Adam::new(AdamConfig::default(), &w);
            let l1 = train_step(&mut w, &mut adam, &batch, BatchLoss::Mean).unwrap();
            let l2 = train_step(&mut w, &mut adam, &batch, BatchLoss::Mean).unwrap();
            (w, l1, l2)
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
