//! The training network: the forward pass of m-rBCR (`reference/MODEL.md`) keeping
//! every activation the backward pass needs ([`Tape`]), and the backward pass that
//! turns the gradients of `z0`, `z2`, `z4` into gradients of all 296 tensors.
//!
//! The forward pass runs the inference kernels in the order of
//! [`crate::network::Network`], so it computes the same values. Activations are kept
//! as planar feature maps, one per layer output: about 1,150 planes at full resolution
//! and a third as many at the smaller scales, ~110 MB for a 128 x 128 patch, freed when
//! the tape is dropped after the backward pass.

use std::sync::Arc;

use ndarray::{Array2, ArrayView2};

use super::gradients::Gradients;
use super::layers::{
    add_channel_sum, add_into, planes, relu_backward, resize_adjoint, subsample_adjoint, TrainLayer,
};
use super::pool::{self, PooledMap};
use crate::error::{Error, Result};
use crate::kernels::layout::{FeatureMap, PlaneGeometry};
use crate::kernels::resize::{resize_bilinear, subsample};
use crate::kernels::SimdLevel;
use crate::network::spec::{self, LayerSpec, SCALES};
use crate::network::Weights;

/// The layers of one inverse block P_s.
#[derive(Debug, Clone)]
struct InverseLayers {
    conv1d: Vec<TrainLayer>,
    /// Per RDB: a1, b1, a2, b2, a3, b3, fuse.
    rdbs: Vec<Vec<TrainLayer>>,
}

/// m-rBCR packed for training. Built from the weights of one step; immutable, so the
/// samples of a batch run through it in parallel.
#[derive(Debug, Clone)]
pub struct TrainNetwork {
    simd: SimdLevel,
    mlp: [Vec<TrainLayer>; 3],
    fusion_a: [TrainLayer; 2],
    head_y: [TrainLayer; 3],
    inverse: [InverseLayers; 3],
    fusion_b: [TrainLayer; 2],
    head_z: [TrainLayer; 3],
}

/// Activations of one RDB: the hidden ReLU outputs `a`, the new channels `n` and the
/// fused output `r`.
struct RdbActs {
    a: Vec<PooledMap>,
    n: Vec<PooledMap>,
    r: PooledMap,
}

/// Activations of one inverse block: the six conv1d outputs and the four RDBs.
struct InverseActs {
    conv1d: Vec<PooledMap>,
    rdbs: Vec<RdbActs>,
}

impl InverseActs {
    /// The block's features after RDB `done` RDBs: `[r_done, ..., r_1, c6]`.
    fn features(&self, done: usize) -> Vec<&[f32]> {
        let mut out: Vec<&[f32]> = self.rdbs[..done]
            .iter()
            .rev()
            .flat_map(|r| planes(&r.r))
            .collect();
        out.extend(planes(self.conv1d.last().expect("six conv1d layers")));
        out
    }
}

/// A fusion block's activations: the ReLU output of its 1x1 and its result.
struct FusionActs {
    hidden: PooledMap,
    out: PooledMap,
}

/// Everything the forward pass of one sample computed and the backward pass reads.
pub struct Tape {
    g: [Arc<PlaneGeometry>; 3],
    x: [PooledMap; 3],
    mlp: [Vec<PooledMap>; 3],
    up2: PooledMap,
    up4: PooledMap,
    fa0: FusionActs,
    fa2: FusionActs,
    f2: PooledMap,
    y: [PooledMap; 3],
    inverse: [InverseActs; 3],
    /// `resize(xi4)` to half and `resize(xi2)` to full resolution.
    resized: [PooledMap; 2],
    /// FB at half (x42) and full (x20) resolution.
    fb: [FusionActs; 2],
    sums: [PooledMap; 3],
    z: [Array2<f32>; 3],
}

impl Tape {
    /// The outputs `z0`, `z2`, `z4`.
    pub fn outputs(&self) -> [&Array2<f32>; 3] {
        [&self.z[0], &self.z[1], &self.z[2]]
    }
}

fn pack(weights: &Weights, layers: &[LayerSpec], grads: &Gradients) -> Vec<TrainLayer> {
    layers
        .iter()
        .map(|l| TrainLayer::new(weights, l, grads))
        .collect()
}

fn pair(weights: &Weights, layers: [LayerSpec; 2], grads: &Gradients) -> [TrainLayer; 2] {
    layers.map(|l| TrainLayer::new(weights, &l, grads))
}

/// A one-plane map holding `image`.
fn image_map(g: &Arc<PlaneGeometry>, image: ArrayView2<f32>) -> PooledMap {
    let mut map = pool::overwritten(g, 1);
    let owned = image.as_standard_layout();
    map.write_plane(0, owned.as_slice().expect("standard layout"));
    map
}

/// Plane 0 of a map as an image.
fn map_image(map: &FeatureMap) -> Array2<f32> {
    let g = map.geometry();
    let mut image = Array2::zeros((g.height(), g.width()));
    map.read_plane(0, image.as_slice_mut().expect("standard layout"));
    image
}

impl TrainNetwork {
    /// Packs `weights` for training, at the best SIMD level of this CPU.
    pub fn new(weights: &Weights) -> TrainNetwork {
        let grads = Gradients::zeros();
        let g = &grads;
        TrainNetwork {
            simd: SimdLevel::detect(),
            mlp: SCALES.map(|s| pack(weights, &spec::mlp_layers(s), g)),
            fusion_a: pair(weights, spec::fusion_a_layers(), g),
            head_y: SCALES.map(|s| TrainLayer::new(weights, &spec::head_y_layer(s), g)),
            inverse: SCALES.map(|s| InverseLayers {
                conv1d: pack(weights, &spec::conv1d_layers(s), g),
                rdbs: (1..=spec::RDB_BLOCKS)
                    .map(|r| pack(weights, &spec::rdb_layers(s, r), g))
                    .collect(),
            }),
            fusion_b: pair(weights, spec::fusion_b_layers(), g),
            head_z: SCALES.map(|s| TrainLayer::new(weights, &spec::head_z_layer(s), g)),
        }
    }

    /// Runs the network on one normalised `H x W` input (sides multiples of 4),
    /// keeping the activations for [`TrainNetwork::backward`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if a side is not a positive multiple of 4.
    pub fn forward(&self, x0: ArrayView2<f32>) -> Result<Tape> {
        let (h, w) = x0.dim();
        if h == 0 || w == 0 || h % 4 != 0 || w % 4 != 0 {
            return Err(Error::InvalidInput(format!(
                "training patches must have sides that are positive multiples of 4, got {h} x {w}"
            )));
        }
        let lv = self.simd;
        let g = [
            PlaneGeometry::new(h, w),
            PlaneGeometry::new(h / 2, w / 2),
            PlaneGeometry::new(h / 4, w / 4),
        ];
        let x0m = image_map(&g[0], x0);
        let mut x2m = pool::overwritten(&g[1], 1);
        let mut x4m = pool::overwritten(&g[2], 1);
        subsample(&g[0], x0m.as_slice(), 2, &g[1], x2m.as_mut_slice());
        subsample(&g[0], x0m.as_slice(), 4, &g[2], x4m.as_mut_slice());
        let x = [x0m, x2m, x4m];

        let mlp: [Vec<PooledMap>; 3] = [0, 1, 2].map(|si| {
            let mut acts: Vec<PooledMap> = Vec::with_capacity(spec::MLP_LAYERS);
            for layer in &self.mlp[si] {
                let input = acts.last().unwrap_or(&x[si]);
                let out = layer.forward(lv, &g[si], &planes(input), true);
                acts.push(out);
            }
            acts
        });
        let u = |si: usize| mlp[si].last().expect("twelve layers");
        let fc = spec::FORWARD_CHANNELS;
        let mut up2 = pool::overwritten(&g[0], fc);
        resize_bilinear(&g[1], u(1).as_slice(), &g[0], up2.as_mut_slice());
        let mut up4 = pool::overwritten(&g[0], fc);
        resize_bilinear(&g[2], u(2).as_slice(), &g[0], up4.as_mut_slice());

        let fa0 = self.fusion(&self.fusion_a, &g[0], &[&planes(u(0)), &planes(&up2)]);
        let y0 =
            self.head_y[0].forward(lv, &g[0], &[planes(u(0)), planes(&fa0.out)].concat(), false);
        let fa2 = self.fusion(&self.fusion_a, &g[0], &[&planes(&up2), &planes(&up4)]);
        let mut f2 = pool::overwritten(&g[1], fc);
        resize_bilinear(&g[0], fa2.out.as_slice(), &g[1], f2.as_mut_slice());
        let y2 = self.head_y[1].forward(lv, &g[1], &[planes(u(1)), planes(&f2)].concat(), false);
        let y4 = self.head_y[2].forward(lv, &g[2], &planes(u(2)), false);

        let feat = spec::FEATURE_CHANNELS;
        let p4 = self.inverse_forward(2, &g[2], &planes(&y4));
        let sum4 = broadcast_add(&g[2], &p4.features(spec::RDB_BLOCKS), &y4);
        let mut r4 = pool::overwritten(&g[1], feat);
        resize_bilinear(
            &g[2],
            &p4.features(spec::RDB_BLOCKS).concat(),
            &g[1],
            r4.as_mut_slice(),
        );
        let fb1 = self.fusion(&self.fusion_b, &g[1], &[&planes(&y2), &planes(&r4)]);
        let p2 = self.inverse_forward(1, &g[1], &planes(&fb1.out));
        let sum2 = broadcast_add(&g[1], &p2.features(spec::RDB_BLOCKS), &y2);
        let mut r2 = pool::overwritten(&g[0], feat);
        resize_bilinear(
            &g[1],
            &p2.features(spec::RDB_BLOCKS).concat(),
            &g[0],
            r2.as_mut_slice(),
        );
        let fb0 = self.fusion(&self.fusion_b, &g[0], &[&planes(&y0), &planes(&r2)]);
        let p0 = self.inverse_forward(0, &g[0], &planes(&fb0.out));
        let sum0 = broadcast_add(&g[0], &p0.features(spec::RDB_BLOCKS), &y0);
        let sums = [sum0, sum2, sum4];
        let z = [0, 1, 2]
            .map(|si| map_image(&self.head_z[si].forward(lv, &g[si], &planes(&sums[si]), false)));
        Ok(Tape {
            g,
            x,
            mlp,
            up2,
            up4,
            fa0,
            fa2,
            f2,
            y: [y0, y2, y4],
            inverse: [p0, p2, p4],
            resized: [r4, r2],
            fb: [fb1, fb0],
            sums,
            z,
        })
    }

    /// A fusion block: 3x3 of ReLU of 1x1 of the concatenation of `inputs`.
    fn fusion(
        &self,
        layers: &[TrainLayer; 2],
        g: &Arc<PlaneGeometry>,
        inputs: &[&Vec<&[f32]>],
    ) -> FusionActs {
        let cat: Vec<&[f32]> = inputs.iter().flat_map(|p| p.iter().copied()).collect();
        let hidden = layers[0].forward(self.simd, g, &cat, true);
        let out = layers[1].forward(self.simd, g, &planes(&hidden), false);
        FusionActs { hidden, out }
    }

    /// P_s on `input` (the planes of its input map).
    fn inverse_forward(&self, si: usize, g: &Arc<PlaneGeometry>, input: &[&[f32]]) -> InverseActs {
        let lv = self.simd;
        let block = &self.inverse[si];
        let mut conv1d: Vec<PooledMap> = Vec::with_capacity(spec::CONV1D_LAYERS);
        for layer in &block.conv1d {
            let out = match conv1d.last() {
                Some(prev) => layer.forward(lv, g, &planes(prev), true),
                None => layer.forward(lv, g, input, true),
            };
            conv1d.push(out);
        }
        let mut acts = InverseActs {
            conv1d,
            rdbs: Vec::with_capacity(spec::RDB_BLOCKS),
        };
        for (r, layers) in block.rdbs.iter().enumerate() {
            let t = acts.features(r);
            let mut a: Vec<PooledMap> = Vec::with_capacity(spec::RDB_DEPTH);
            let mut n: Vec<PooledMap> = Vec::with_capacity(spec::RDB_DEPTH);
            for d in 0..spec::RDB_DEPTH {
                let s = rdb_inputs(&t, &n);
                a.push(layers[2 * d].forward(lv, g, &s, true));
                n.push(layers[2 * d + 1].forward(lv, g, &planes(&a[d]), false));
            }
            let r_out = layers[2 * spec::RDB_DEPTH].forward(lv, g, &rdb_inputs(&t, &n), false);
            acts.rdbs.push(RdbActs { a, n, r: r_out });
        }
        acts
    }

    /// The backward pass of one sample: adds the gradients of all weights to
    /// `gradients`, given the gradients of `z0`, `z2`, `z4` (shapes of
    /// [`Tape::outputs`]). Returns the gradient of the input image if `input_grad`.
    pub fn backward(
        &self,
        tape: &Tape,
        z_grads: [&Array2<f32>; 3],
        gradients: &mut Gradients,
        input_grad: bool,
    ) -> Option<Array2<f32>> {
        let lv = self.simd;
        let g = &tape.g;
        let fc = spec::FORWARD_CHANNELS;
        let mut dy = [0, 1, 2].map(|si| pool::zeroed(&g[si], 1));
        // Heads z_s: dxi_s is the gradient of the broadcast sum, dy_s its channel sum.
        let mut dxi = [0, 1, 2].map(|si| {
            let dz = image_map(&g[si], z_grads[si].view());
            let dsum = self.head_z[si]
                .backward(
                    lv,
                    &g[si],
                    &planes(&tape.sums[si]),
                    &planes(&dz),
                    gradients,
                    true,
                )
                .expect("input gradient asked for");
            add_channel_sum(&dsum, &mut dy[si]);
            dsum
        });

        // P_0, then FB at full resolution: x20 = FB(y0, resize(xi2)).
        let [dxi0, dxi2, dxi4] = &mut dxi;
        let dx20 = self.inverse_backward(0, g, tape, dxi0, gradients);
        let dcat = self.fusion_backward(
            &self.fusion_b,
            &g[0],
            &[planes(&tape.y[0]), planes(&tape.resized[1])].concat(),
            &tape.fb[1],
            &dx20,
            gradients,
        );
        let n0 = g[0].plane_len();
        add_into(dy[0].as_mut_slice(), &dcat.as_slice()[..n0]);
        resize_adjoint(&g[1], dxi2.as_mut_slice(), &g[0], &dcat.as_slice()[n0..]);

        // P_2, then FB at half resolution: x42 = FB(y2, resize(xi4)).
        let dx42 = self.inverse_backward(1, g, tape, dxi2, gradients);
        let dcat = self.fusion_backward(
            &self.fusion_b,
            &g[1],
            &[planes(&tape.y[1]), planes(&tape.resized[0])].concat(),
            &tape.fb[0],
            &dx42,
            gradients,
        );
        let n1 = g[1].plane_len();
        add_into(dy[1].as_mut_slice(), &dcat.as_slice()[..n1]);
        resize_adjoint(&g[2], dxi4.as_mut_slice(), &g[1], &dcat.as_slice()[n1..]);

        // P_4, whose input is y4.
        let dp4 = self.inverse_backward(2, g, tape, dxi4, gradients);
        add_into(dy[2].as_mut_slice(), dp4.as_slice());

        // Heads y_s and the forward stage.
        let u = |si: usize| tape.mlp[si].last().expect("twelve layers");
        let mut du4 = self.head_y[2]
            .backward(lv, &g[2], &planes(u(2)), &planes(&dy[2]), gradients, true)
            .expect("input gradient asked for");
        let dcat2 = self.head_y[1]
            .backward(
                lv,
                &g[1],
                &[planes(u(1)), planes(&tape.f2)].concat(),
                &planes(&dy[1]),
                gradients,
                true,
            )
            .expect("input gradient asked for");
        let fc1 = fc * n1;
        let mut du2 = pool::overwritten(&g[1], fc);
        du2.as_mut_slice().copy_from_slice(&dcat2.as_slice()[..fc1]);
        let mut df2_full = pool::zeroed(&g[0], fc);
        resize_adjoint(
            &g[0],
            df2_full.as_mut_slice(),
            &g[1],
            &dcat2.as_slice()[fc1..],
        );
        let dcat_fa2 = self.fusion_backward(
            &self.fusion_a,
            &g[0],
            &[planes(&tape.up2), planes(&tape.up4)].concat(),
            &tape.fa2,
            &df2_full,
            gradients,
        );
        let fc0 = fc * n0;
        let mut dup2 = pool::overwritten(&g[0], fc);
        dup2.as_mut_slice()
            .copy_from_slice(&dcat_fa2.as_slice()[..fc0]);
        let dup4 = &dcat_fa2.as_slice()[fc0..];

        let dcat0 = self.head_y[0]
            .backward(
                lv,
                &g[0],
                &[planes(u(0)), planes(&tape.fa0.out)].concat(),
                &planes(&dy[0]),
                gradients,
                true,
            )
            .expect("input gradient asked for");
        let mut du0 = pool::overwritten(&g[0], fc);
        du0.as_mut_slice().copy_from_slice(&dcat0.as_slice()[..fc0]);
        let mut df0 = pool::overwritten(&g[0], fc);
        df0.as_mut_slice().copy_from_slice(&dcat0.as_slice()[fc0..]);
        let dcat_fa0 = self.fusion_backward(
            &self.fusion_a,
            &g[0],
            &[planes(u(0)), planes(&tape.up2)].concat(),
            &tape.fa0,
            &df0,
            gradients,
        );
        add_into(du0.as_mut_slice(), &dcat_fa0.as_slice()[..fc0]);
        add_into(dup2.as_mut_slice(), &dcat_fa0.as_slice()[fc0..]);
        resize_adjoint(&g[1], du2.as_mut_slice(), &g[0], dup2.as_slice());
        resize_adjoint(&g[2], du4.as_mut_slice(), &g[0], dup4);

        // The MLPs; the first layer's input gradient only if the input's is wanted.
        let dx = [du0, du2, du4]
            .into_iter()
            .enumerate()
            .map(|(si, du)| {
                let mut d = du;
                let acts = &tape.mlp[si];
                for k in (0..spec::MLP_LAYERS).rev() {
                    relu_backward(&acts[k], &mut d);
                    let input = if k == 0 { &tape.x[si] } else { &acts[k - 1] };
                    let want = k > 0 || input_grad;
                    match self.mlp[si][k].backward(
                        lv,
                        &g[si],
                        &planes(input),
                        &planes(&d),
                        gradients,
                        want,
                    ) {
                        Some(next) => d = next,
                        None => return None,
                    }
                }
                Some(d)
            })
            .collect::<Vec<_>>();
        if !input_grad {
            return None;
        }
        let mut dx0 = dx[0].as_ref().expect("asked for").as_slice().to_vec();
        for (si, step) in [(1, 2), (2, 4)] {
            let d = dx[si].as_ref().expect("asked for");
            subsample_adjoint(&g[0], &mut dx0, step, &g[si], d.as_slice());
        }
        let mut out = pool::overwritten(&g[0], 1);
        out.as_mut_slice().copy_from_slice(&dx0);
        Some(map_image(&out))
    }

    /// Backward through a fusion block; returns the gradient of its concatenated
    /// input.
    fn fusion_backward(
        &self,
        layers: &[TrainLayer; 2],
        g: &Arc<PlaneGeometry>,
        inputs: &[&[f32]],
        acts: &FusionActs,
        out_grad: &FeatureMap,
        gradients: &mut Gradients,
    ) -> PooledMap {
        let lv = self.simd;
        let mut dh = layers[1]
            .backward(
                lv,
                g,
                &planes(&acts.hidden),
                &planes(out_grad),
                gradients,
                true,
            )
            .expect("input gradient asked for");
        relu_backward(&acts.hidden, &mut dh);
        layers[0]
            .backward(lv, g, inputs, &planes(&dh), gradients, true)
            .expect("input gradient asked for")
    }

    /// Backward through P_s given the gradient of its 48 output channels (consumed as
    /// scratch); returns the gradient of its input.
    fn inverse_backward(
        &self,
        si: usize,
        g: &[Arc<PlaneGeometry>; 3],
        tape: &Tape,
        dfeat: &mut FeatureMap,
        gradients: &mut Gradients,
    ) -> PooledMap {
        let lv = self.simd;
        let gs = &g[si];
        let n = gs.plane_len();
        let f = spec::RDB_FILTERS;
        let acts = &tape.inverse[si];
        let layers = &self.inverse[si];
        for r in (0..spec::RDB_BLOCKS).rev() {
            // Output [r_r, t] occupies channels lo.. of dfeat; t starts at lo + f.
            let lo = (spec::RDB_BLOCKS - 1 - r) * f;
            let t = acts.features(r);
            let c = t.len();
            let rdb = &acts.rdbs[r];
            let rl = &layers.rdbs[r];
            let (head, tail) = dfeat.as_mut_slice().split_at_mut((lo + f) * n);
            let dr: Vec<&[f32]> = head[lo * n..].chunks_exact(n).collect();
            let dt = tail; // c planes
            let ds = rl[2 * spec::RDB_DEPTH]
                .backward(lv, gs, &rdb_inputs(&t, &rdb.n), &dr, gradients, true)
                .expect("input gradient asked for");
            add_into(dt, &ds.as_slice()[..c * n]);
            let mut dn: Vec<Vec<f32>> = (0..spec::RDB_DEPTH)
                .map(|d| ds.as_slice()[(c + d * f) * n..(c + (d + 1) * f) * n].to_vec())
                .collect();
            for d in (0..spec::RDB_DEPTH).rev() {
                let dnd: Vec<&[f32]> = dn[d].chunks_exact(n).collect();
                let mut da = rl[2 * d + 1]
                    .backward(lv, gs, &planes(&rdb.a[d]), &dnd, gradients, true)
                    .expect("input gradient asked for");
                relu_backward(&rdb.a[d], &mut da);
                let dsd = rl[2 * d]
                    .backward(
                        lv,
                        gs,
                        &rdb_inputs(&t, &rdb.n[..d]),
                        &planes(&da),
                        gradients,
                        true,
                    )
                    .expect("input gradient asked for");
                add_into(dt, &dsd.as_slice()[..c * n]);
                for (e, dne) in dn.iter_mut().enumerate().take(d) {
                    add_into(dne, &dsd.as_slice()[(c + e * f) * n..(c + (e + 1) * f) * n]);
                }
            }
        }
        // The conv1d layers, last first; dfeat's channels RDB_BLOCKS * f.. are dc6.
        let start = spec::RDB_BLOCKS * f;
        let mut d = pool::overwritten(gs, spec::INVERSE_CHANNELS);
        d.as_mut_slice()
            .copy_from_slice(&dfeat.as_slice()[start * n..]);
        let input: Vec<&[f32]> = match si {
            2 => planes(&tape.y[2]),
            1 => planes(&tape.fb[0].out),
            _ => planes(&tape.fb[1].out),
        };
        for k in (0..spec::CONV1D_LAYERS).rev() {
            relu_backward(&acts.conv1d[k], &mut d);
            let inp = if k == 0 {
                input.clone()
            } else {
                planes(&acts.conv1d[k - 1])
            };
            d = layers.conv1d[k]
                .backward(lv, gs, &inp, &planes(&d), gradients, true)
                .expect("input gradient asked for");
        }
        d
    }
}

/// The input of an RDB layer: `t` then the new channels so far.
fn rdb_inputs<'a>(t: &[&'a [f32]], n: &'a [PooledMap]) -> Vec<&'a [f32]> {
    let mut s = t.to_vec();
    for m in n {
        s.extend(planes(m));
    }
    s
}

/// `xi + y` with the one-channel `y` added to every plane of `xi`.
fn broadcast_add(g: &Arc<PlaneGeometry>, xi: &[&[f32]], y: &FeatureMap) -> PooledMap {
    let mut sum = pool::overwritten(g, xi.len());
    let yp = y.plane(0);
    for (out, plane) in sum.as_mut_slice().chunks_exact_mut(g.plane_len()).zip(xi) {
        for ((o, &a), &b) in out.iter_mut().zip(plane.iter()).zip(yp) {
            *o = a + b;
        }
    }
    sum
}
