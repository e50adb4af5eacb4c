//! The layers of m-rBCR with their backward passes, over planar feature maps.
//!
//! - Convolutions (dense = 1x1, conv1d = `1 x 5`, 3x3, 9x9): the forward pass is the
//!   inference's kernel for the layer ([`conv3x3`], Winograd, for the 3x3 layers where
//!   it pays off, as [`crate::network::Network`] does; [`conv2d`] for the others). The
//!   input gradient is a convolution of the output gradient with the kernel transposed
//!   (`c_in` and `c_out` swapped) and flipped in space, `dx_i[q] = sum_{o,t} dy_o[q -
//!   off_t] K[t, i, o]`, run by the same choice of kernel. The weight and bias
//!   gradients come from [`conv_weight_grad`]. (Winograd's results differ from the
//!   direct convolution's by rounding, below 1e-6 of the sum of the absolute products:
//!   the gradient checks against the float64 reference hold.)
//! - ReLU: the forward pass is fused into the convolution; its backward multiplies the
//!   output gradient by `activation > 0`.
//! - Concatenation: lists of planes (see [`crate::kernels::conv`]), so its backward is
//!   the routing of gradient planes.
//! - Bilinear resize and subsampling: their adjoints, [`resize_adjoint`] and
//!   [`subsample_adjoint`], which scatter each output gradient back to the source
//!   values it was interpolated (or copied) from, with the forward pass's weights.
//! - The broadcast add `xi + y` (`y` one channel): `dxi = ds` and `dy = sum_c ds_c`
//!   ([`add_channel_sum`]).

use std::sync::Arc;

use rayon::prelude::*;

use super::gradients::{Gradients, LayerSlots};
use super::pool::{self, PooledMap};
use super::weight_grad::conv_weight_grad;
use crate::kernels::conv::{conv2d, ConvWeights};
use crate::kernels::layout::{FeatureMap, PlaneGeometry};
use crate::kernels::resize::axis_lerps;
use crate::kernels::winograd::{conv3x3, WinogradWeights};
use crate::kernels::SimdLevel;
use crate::network::spec::LayerSpec;
use crate::network::Weights;

/// A convolution's weights packed for the kernel that runs it: Winograd F(4, 3) for a
/// 3x3 convolution where it is faster ([`WinogradWeights::pays_off`]), else direct.
#[derive(Debug, Clone)]
enum PackedConv {
    Direct(ConvWeights),
    Winograd(WinogradWeights),
}

impl PackedConv {
    /// Packs a kernel stored `[kh, kw, c_in, c_out]` and its bias.
    fn new(shape: [usize; 4], kernel: &[f32], bias: &[f32]) -> PackedConv {
        if WinogradWeights::pays_off(shape) {
            PackedConv::Winograd(WinogradWeights::from_hwio(shape, kernel, bias))
        } else {
            PackedConv::Direct(ConvWeights::from_hwio(shape, kernel, bias))
        }
    }

    fn c_out(&self) -> usize {
        match self {
            PackedConv::Direct(w) => w.c_out(),
            PackedConv::Winograd(w) => w.c_out(),
        }
    }

    /// A new map holding the convolution of `inputs`, with a ReLU if `relu`.
    fn run(
        &self,
        level: SimdLevel,
        geometry: &Arc<PlaneGeometry>,
        inputs: &[&[f32]],
        relu: bool,
    ) -> PooledMap {
        let mut out = pool::overwritten(geometry, self.c_out());
        match self {
            PackedConv::Direct(w) => conv2d(level, geometry, inputs, w, out.as_mut_slice(), relu),
            PackedConv::Winograd(w) => {
                conv3x3(level, geometry, inputs, w, out.as_mut_slice(), relu)
            }
        }
        out
    }
}

/// One convolution layer ready for training: its weights packed for the forward pass
/// and, transposed and flipped, for the input gradient.
#[derive(Debug, Clone)]
pub struct TrainLayer {
    kh: usize,
    kw: usize,
    forward: PackedConv,
    transposed: PackedConv,
    slots: LayerSlots,
}

impl TrainLayer {
    /// Packs `layer` of `weights`; `gradients` tells where its gradients go.
    pub fn new(weights: &Weights, layer: &LayerSpec, gradients: &Gradients) -> TrainLayer {
        let (kernel, bias) = weights.layer(layer);
        let [kh, kw, c_in, c_out] = layer.hwio();
        let mut flipped = vec![0.0; kernel.len()];
        for ty in 0..kh {
            for tx in 0..kw {
                let t = ty * kw + tx;
                let ft = (kh - 1 - ty) * kw + (kw - 1 - tx);
                for i in 0..c_in {
                    for o in 0..c_out {
                        flipped[(ft * c_out + o) * c_in + i] = kernel[(t * c_in + i) * c_out + o];
                    }
                }
            }
        }
        TrainLayer {
            kh,
            kw,
            forward: PackedConv::new([kh, kw, c_in, c_out], kernel, bias),
            transposed: PackedConv::new([kh, kw, c_out, c_in], &flipped, &vec![0.0; c_in]),
            slots: gradients.slots(layer),
        }
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.forward.c_out()
    }

    /// The layer's output for the concatenated `inputs`, with a fused ReLU if `relu`.
    pub fn forward(
        &self,
        level: SimdLevel,
        geometry: &Arc<PlaneGeometry>,
        inputs: &[&[f32]],
        relu: bool,
    ) -> PooledMap {
        self.forward.run(level, geometry, inputs, relu)
    }

    /// Adds the layer's weight and bias gradients to `gradients` and returns the
    /// gradient of its (concatenated) input if `want_input_grad`. `inputs` are the
    /// planes the forward pass read, `output_grad` the gradient of the output before
    /// the activation (apply [`relu_backward`] first for a layer with ReLU).
    pub fn backward(
        &self,
        level: SimdLevel,
        geometry: &Arc<PlaneGeometry>,
        inputs: &[&[f32]],
        output_grad: &[&[f32]],
        gradients: &mut Gradients,
        want_input_grad: bool,
    ) -> Option<PooledMap> {
        let (kernel_grad, bias_grad) = gradients.layer_mut(self.slots);
        conv_weight_grad(
            level,
            geometry,
            inputs,
            output_grad,
            self.kh,
            self.kw,
            kernel_grad,
            bias_grad,
        );
        want_input_grad.then(|| self.transposed.run(level, geometry, output_grad, false))
    }
}

/// The planes of a map, in order.
pub fn planes(map: &FeatureMap) -> Vec<&[f32]> {
    map.as_slice()
        .chunks_exact(map.geometry().plane_len())
        .collect()
}

/// The backward pass of a ReLU: `grad *= (activation > 0)`, plane by plane.
pub fn relu_backward(activation: &FeatureMap, grad: &mut FeatureMap) {
    for (g, &a) in grad.as_mut_slice().iter_mut().zip(activation.as_slice()) {
        if a <= 0.0 {
            *g = 0.0;
        }
    }
}

/// `dst += src`, value by value (padding stays zero: both have zero padding).
pub fn add_into(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "gradient sizes differ");
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// The backward pass of the broadcast add `s = xi + y` (`y` one channel): adds the
/// sum over the channels of `sum_grad` to `y_grad` (the gradient of `xi` is
/// `sum_grad` itself).
pub fn add_channel_sum(sum_grad: &FeatureMap, y_grad: &mut FeatureMap) {
    let n = sum_grad.geometry().plane_len();
    let dy = y_grad.as_mut_slice();
    for plane in sum_grad.as_slice().chunks_exact(n) {
        add_into(dy, plane);
    }
}

/// The adjoint of [`crate::kernels::resize::resize_bilinear`] from geometry `from`
/// to `to`: adds to each plane of `src_grad` (geometry `from`) the gradient that the
/// matching plane of `dst_grad` (geometry `to`) sends back through the interpolation.
///
/// The forward value is `top + (bottom - top) ty` with `top = a + (b - a) tx`, i.e.
/// `(1 - ty)((1 - tx) a + tx b) + ty(...)`; each of the four source values receives
/// the output gradient times its weight (a source index appearing as both `lo` and
/// `hi`, at a clamped border, receives both shares).
///
/// # Panics
/// If the plane counts differ.
pub fn resize_adjoint(
    from: &PlaneGeometry,
    src_grad: &mut [f32],
    to: &PlaneGeometry,
    dst_grad: &[f32],
) {
    let (n_in, n_out) = (from.plane_len(), to.plane_len());
    assert_eq!(
        src_grad.len() / n_in,
        dst_grad.len() / n_out,
        "plane counts"
    );
    let ys = axis_lerps(from.height(), to.height());
    let xs = axis_lerps(from.width(), to.width());
    let out_w = to.width();
    src_grad
        .par_chunks_mut(n_in)
        .zip(dst_grad.par_chunks(n_out))
        .for_each_init(
            || vec![0.0f32; from.height() * out_w],
            |rows, (src, dst)| {
                // Vertical adjoint: gradient of the horizontally resampled source rows.
                rows.fill(0.0);
                for (y, l) in ys.iter().enumerate() {
                    let line = &dst[to.index(y, 0)..to.index(y, 0) + out_w];
                    for (x, &g) in line.iter().enumerate() {
                        rows[l.lo * out_w + x] += g * (1.0 - l.t);
                        rows[l.hi * out_w + x] += g * l.t;
                    }
                }
                // Horizontal adjoint, into the source rows.
                for (r, row) in rows.chunks_exact(out_w).enumerate() {
                    let start = from.index(r, 0);
                    let line = &mut src[start..start + from.width()];
                    for (&g, l) in row.iter().zip(&xs) {
                        line[l.lo] += g * (1.0 - l.t);
                        line[l.hi] += g * l.t;
                    }
                }
            },
        );
}

/// The adjoint of [`crate::kernels::resize::subsample`] by `step`: adds each value of
/// the subsampled plane's gradient `dst_grad` (geometry `to`) to the source pixel it
/// was copied from, in `src_grad` (geometry `from`).
pub fn subsample_adjoint(
    from: &PlaneGeometry,
    src_grad: &mut [f32],
    step: usize,
    to: &PlaneGeometry,
    dst_grad: &[f32],
) {
    for y in 0..to.height() {
        for x in 0..to.width() {
            src_grad[from.index(y * step, x * step)] += dst_grad[to.index(y, x)];
        }
    }
}
