//! The receptive field derived in `spec::receptive_field_radius` against the network:
//! changing one input pixel changes no output pixel farther away than the radius by
//! more than float32 rounding, and the radius is nearly reached. (The influence decays
//! along the long paths until rounding swallows it: with the direct convolution a
//! change of 1000 was seen up to (167, 247). The Winograd 3x3 layers compute 4 output
//! rows from 6 input rows with transforms that cancel exactly only in real arithmetic,
//! so their rounding reaches up to 2 rows past a window per layer: beyond the radius
//! the output moves by at most 3.6e-7 (on outputs of order 1; a change of up to 100
//! inside), seen out to (216, 262). The derived radius is the exact bound in real
//! arithmetic.)

use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::network::spec::receptive_field_radius;
use mrbcr::network::{Network, Workspace};
use mrbcr::rng::SplitMix64;
use ndarray::Array2;

#[test]
fn one_pixel_changes_outputs_only_within_the_receptive_field() {
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
    let (mut outside, mut largest) = (0f32, 0f32);
    for ((r, c), (a, b)) in before.indexed_iter().map(|(i, a)| (i, (a, after[i]))) {
        let change = (b - *a).abs();
        largest = largest.max(change);
        if r.abs_diff(cy) > ry || c.abs_diff(cx) > rx {
            outside = outside.max(change);
        }
        if *a != b {
            reach_y = reach_y.max(r.abs_diff(cy));
            reach_x = reach_x.max(c.abs_diff(cx));
        }
    }
    // Rounding of outputs of this scale: a few units in the last place.
    let scale = before.iter().fold(0f32, |m, v| m.max(v.abs()));
    let rounding = 8.0 * f32::EPSILON * scale;
    assert!(
        outside <= rounding,
        "beyond the derived radius ({ry}, {rx}) an output moves by {outside:e}, more than \
         rounding ({rounding:e}; the largest change is {largest:e})"
    );
    // Close to the bound: the derivation is not loose (any change, rounding included,
    // reaches at least 90% of it).
    assert!(
        reach_y * 10 >= ry * 9 && reach_x * 10 >= rx * 9,
        "influence reaches only ({reach_y}, {reach_x}), radius says ({ry}, {rx})"
    );
}
