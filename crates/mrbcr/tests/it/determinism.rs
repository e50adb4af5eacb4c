//! The whole network gives bit-identical results whatever the number of rayon threads
//! and whatever SIMD level runs the kernels.

use mrbcr::kernels::SimdLevel;
use mrbcr::network::{ForwardOutputs, Network, Weights, Workspace};
use mrbcr::rng::SplitMix64;
use ndarray::Array2;

fn network() -> Network {
    let mut w = Weights::initialize(7);
    // Non-zero biases, so that every bias path is exercised.
    let mut rng = SplitMix64::new(8);
    for (name, values) in w.values_mut() {
        if name.ends_with(".bias") {
            values.iter_mut().for_each(|v| *v = rng.uniform(-0.1, 0.1));
        }
    }
    Network::new(&w)
}

fn image(h: usize, w: usize) -> Array2<f32> {
    let mut rng = SplitMix64::new(3);
    Array2::from_shape_fn((h, w), |_| rng.next_f32())
}

fn run(net: &Network, x: &Array2<f32>, threads: usize) -> ForwardOutputs {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        net.forward_all(x.view(), &mut Workspace::new(), None)
            .unwrap()
    })
}

fn assert_bit_identical(a: &ForwardOutputs, b: &ForwardOutputs, what: &str) {
    let pairs = [
        (Some(&a.z0), Some(&b.z0), "z0"),
        (a.z2.as_ref(), b.z2.as_ref(), "z2"),
        (a.z4.as_ref(), b.z4.as_ref(), "z4"),
    ];
    for (x, y, name) in pairs {
        let (x, y) = (x.unwrap(), y.unwrap());
        let same = x
            .iter()
            .zip(y.iter())
            .all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same, "{name} differs: {what}");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let net = network();
    let x = image(96, 160);
    let one = run(&net, &x, 1);
    assert!(one.z0.iter().any(|v| *v != 0.0) && one.z0.iter().all(|v| v.is_finite()));
    for threads in [2, 3, 8] {
        assert_bit_identical(
            &one,
            &run(&net, &x, threads),
            &format!("1 vs {threads} threads"),
        );
    }
}

#[test]
fn results_do_not_depend_on_the_simd_level() {
    let x = image(32, 48);
    let reference = run(&network().with_simd(SimdLevel::scalar()).unwrap(), &x, 1);
    for level in SimdLevel::supported() {
        let got = run(&network().with_simd(level).unwrap(), &x, 2);
        assert_bit_identical(&reference, &got, &format!("scalar vs {level:?}"));
    }
}

#[test]
fn a_reused_workspace_gives_the_same_results() {
    let net = network();
    let (a, b) = (image(64, 64), image(32, 96));
    let mut ws = Workspace::new();
    let first = net.forward(a.view(), &mut ws).unwrap();
    net.forward(b.view(), &mut ws).unwrap();
    let again = net.forward(a.view(), &mut ws).unwrap();
    assert!(ws.retained_bytes() > 0);
    assert_eq!(first, again);
    assert_eq!(first, net.forward(a.view(), &mut Workspace::new()).unwrap());
}

#[test]
fn sizes_that_are_not_multiples_of_4_are_refused() {
    let net = network();
    for (h, w) in [(30, 32), (32, 6), (0, 8)] {
        let err = net
            .forward(Array2::zeros((h, w)).view(), &mut Workspace::new())
            .unwrap_err();
        assert!(err.to_string().contains("multiples of 4"), "{err}");
        assert!(err.to_string().contains(&format!("{h} x {w}")), "{err}");
    }
}
