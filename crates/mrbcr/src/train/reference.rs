//! A plain float64 implementation of m-rBCR's forward pass and training loss, written
//! straight from `reference/MODEL.md` (channels-last arrays, loops over the formulas).
//! It is slow and simple: the yardstick of the gradient checks, whose finite
//! differences need more precision than float32 gives.

use std::collections::BTreeMap;

use ndarray::{concatenate, Array2, Array3, ArrayView2, Axis};

use super::loss::sample_loss;
use crate::network::spec::{self, LayerSpec};
use crate::network::Weights;

/// The weights of m-rBCR in float64, by tensor name.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceWeights {
    tensors: BTreeMap<String, Vec<f64>>,
}

/// A feature map `H x W x C`.
type Map = Array3<f64>;

impl ReferenceWeights {
    /// The float32 weights, widened.
    pub fn from_weights(weights: &Weights) -> ReferenceWeights {
        ReferenceWeights {
            tensors: weights
                .tensors()
                .iter()
                .map(|(k, t)| (k.clone(), t.data.iter().map(|&v| f64::from(v)).collect()))
                .collect(),
        }
    }

    /// The values of tensor `name`, mutably (to perturb them).
    ///
    /// # Panics
    /// If `name` is not a tensor of m-rBCR.
    pub fn tensor_mut(&mut self, name: &str) -> &mut Vec<f64> {
        self.tensors
            .get_mut(name)
            .unwrap_or_else(|| panic!("'{name}' is not a tensor of m-rBCR"))
    }

    /// A convolution (dense, conv1d or conv2d: all are `kh x kw` with zero "same"
    /// padding), optionally followed by ReLU.
    fn conv(&self, x: &Map, layer: &LayerSpec, relu: bool) -> Map {
        let [kh, kw, ci, co] = layer.hwio();
        let k = &self.tensors[&layer.kernel_name()];
        let b = &self.tensors[&layer.bias_name()];
        let (h, w, c) = x.dim();
        assert_eq!(c, ci, "{}: input channels", layer.prefix);
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let mut out = Array3::zeros((h, w, co));
        let os = out.as_slice_mut().expect("standard layout");
        for r in 0..h {
            for col in 0..w {
                let acc = &mut os[(r * w + col) * co..(r * w + col + 1) * co];
                acc.copy_from_slice(b);
                for ty in 0..kh {
                    let Some(sr) = (r + ty).checked_sub(kh / 2).filter(|&v| v < h) else {
                        continue;
                    };
                    for tx in 0..kw {
                        let Some(sc) = (col + tx).checked_sub(kw / 2).filter(|&v| v < w) else {
                            continue;
                        };
                        let px = &xs[(sr * w + sc) * ci..(sr * w + sc + 1) * ci];
                        let kt = &k[(ty * kw + tx) * ci * co..];
                        for (i, &xv) in px.iter().enumerate() {
                            for (a, &kv) in acc.iter_mut().zip(&kt[i * co..(i + 1) * co]) {
                                *a += xv * kv;
                            }
                        }
                    }
                }
                if relu {
                    acc.iter_mut().for_each(|v| *v = v.max(0.0));
                }
            }
        }
        out
    }

    fn fusion(&self, layers: &[LayerSpec; 2], a: &Map, b: &Map) -> Map {
        self.conv(&self.conv(&cat(a, b), &layers[0], true), &layers[1], false)
    }

    fn inverse(&self, scale: usize, input: &Map) -> Map {
        let mut x = input.clone();
        for l in spec::conv1d_layers(scale) {
            x = self.conv(&x, &l, true);
        }
        for r in 1..=spec::RDB_BLOCKS {
            let layers = spec::rdb_layers(scale, r);
            let t = x.clone();
            let mut s = t.clone();
            for d in 0..spec::RDB_DEPTH {
                let a = self.conv(&s, &layers[2 * d], true);
                s = cat(&s, &self.conv(&a, &layers[2 * d + 1], false));
            }
            x = cat(&self.conv(&s, &layers[2 * spec::RDB_DEPTH], false), &t);
        }
        x
    }

    /// The outputs `z0`, `z2`, `z4` of the network for the input `x0` (sides
    /// multiples of 4).
    pub fn outputs(&self, x0: ArrayView2<f64>) -> [Array2<f64>; 3] {
        let (h, w) = x0.dim();
        let x = [1, 2, 4].map(|step| {
            let sub = x0.slice(ndarray::s![..;step, ..;step]).to_owned();
            sub.insert_axis(Axis(2))
        });
        let u = [0, 1, 2].map(|si| {
            let mut a = x[si].clone();
            for l in spec::mlp_layers(spec::SCALES[si]) {
                a = self.conv(&a, &l, true);
            }
            a
        });
        let fa = spec::fusion_a_layers();
        let up2 = resize(&u[1], h, w);
        let up4 = resize(&u[2], h, w);
        let f0 = self.fusion(&fa, &u[0], &up2);
        let f2 = resize(&self.fusion(&fa, &up2, &up4), h / 2, w / 2);
        let y0 = self.conv(&cat(&u[0], &f0), &spec::head_y_layer(0), false);
        let y2 = self.conv(&cat(&u[1], &f2), &spec::head_y_layer(2), false);
        let y4 = self.conv(&u[2], &spec::head_y_layer(4), false);
        let fb = spec::fusion_b_layers();
        let xi4 = self.inverse(4, &y4);
        let xi2 = self.inverse(2, &self.fusion(&fb, &y2, &resize(&xi4, h / 2, w / 2)));
        let xi0 = self.inverse(0, &self.fusion(&fb, &y0, &resize(&xi2, h, w)));
        let head = |xi: &Map, y: &Map, s: usize| {
            let sum = xi + y; // y has one channel: broadcast over xi's channels
            let z = self.conv(&sum, &spec::head_z_layer(s), false);
            z.index_axis(Axis(2), 0).to_owned()
        };
        [head(&xi0, &y0, 0), head(&xi2, &y2, 2), head(&xi4, &y4, 4)]
    }

    /// The training loss of one sample (see [`super::loss`]).
    pub fn loss(&self, x0: ArrayView2<f64>, gt: ArrayView2<f64>) -> f64 {
        let z = self.outputs(x0);
        sample_loss([z[0].view(), z[1].view(), z[2].view()], gt).0
    }
}

fn cat(a: &Map, b: &Map) -> Map {
    concatenate(Axis(2), &[a.view(), b.view()]).expect("same image size")
}

/// Bilinear resize with half-pixel centres (TensorFlow 2), per `reference/MODEL.md`.
fn resize(x: &Map, out_h: usize, out_w: usize) -> Map {
    let (h, w, c) = x.dim();
    let axis = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f64)> {
        (0..n_out)
            .map(|d| {
                let s = (d as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5;
                let lo = s.floor().max(0.0) as usize;
                let hi = (s.ceil().max(0.0) as usize).min(n_in - 1);
                (lo, hi, s - s.floor())
            })
            .collect()
    };
    let (ys, xs) = (axis(h, out_h), axis(w, out_w));
    Array3::from_shape_fn((out_h, out_w, c), |(r, col, ch)| {
        let (y0, y1, ty) = ys[r];
        let (x0, x1, tx) = xs[col];
        let top = x[[y0, x0, ch]] * (1.0 - tx) + x[[y0, x1, ch]] * tx;
        let bottom = x[[y1, x0, ch]] * (1.0 - tx) + x[[y1, x1, ch]] * tx;
        top * (1.0 - ty) + bottom * ty
    })
}
