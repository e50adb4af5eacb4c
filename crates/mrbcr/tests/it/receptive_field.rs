//! The receptive field derived in `spec::receptive_field_radius` against the network:
//! changing one input pixel changes no output pixel farther away than the radius, and
//! the radius is nearly reached. (The influence decays along the long paths until
//! float32 rounding swallows it: a change of 1 is seen up to (154, 229), a change of
//! 1000 up to (167, 247); the derived radius is the exact bound in real arithmetic.)

use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::network::spec::receptive_field_radius;
use mrbcr::network::{Network, Workspace};
use mrbcr::rng::SplitMix64;
use ndarray::Array2;

#[test]
fn one_pixel_changes_outputs_exactly_within_the_receptive_field() {
    let (weights, _) = import_tf_checkpoint(&crate::common::ckpt_prefix()).unwrap();
    let mut rng = SplitMix64::new(12);
    let net = Network::new(&weights);
    let (ry, rx) = receptive_field_radius();
    let (h, w) = (2 * ry + 64, 2 * rx + 64);
    let (h, w) = (h.next_multiple_of(4), w.next_multiple_of(4));
    let mut x = Array2::from_shape_fn((h, w), |_| rng.next_f32());
    let mut ws = Workspace::new();
    let before = net.forward(x.view(), &mut ws).unwrap();
    let (cy, cx) = (h / 2 / 4 * 4, w / 2 / 4 * 4);
    x[(cy, cx)] += 1000.0;
    let after = net.forward(x.view(), &mut ws).unwrap();
    let (mut reach_y, mut reach_x) = (0, 0);
    for ((r, c), (a, b)) in before.indexed_iter().map(|(i, a)| (i, (a, after[i]))) {
        if *a != b {
            reach_y = reach_y.max(r.abs_diff(cy));
            reach_x = reach_x.max(c.abs_diff(cx));
        }
    }
    assert!(
        reach_y <= ry && reach_x <= rx,
        "influence reaches ({reach_y}, {reach_x}) beyond the derived radius ({ry}, {rx})"
    );
    // Close to the bound: the derivation is not loose.
    assert!(
        reach_y * 10 >= ry * 9 && reach_x * 10 >= rx * 9,
        "influence reaches only ({reach_y}, {reach_x}), radius says ({ry}, {rx})"
    );
}
