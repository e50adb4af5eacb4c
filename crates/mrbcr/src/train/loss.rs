//! The training loss of m-rBCR and its gradient.
//!
//! Per scale `s` in {0, 2, 4}: `MSE(z_s, gt_s) + 0.5 * mean_k |FFT2(z_s)_k - FFT2(gt_s)_k|`,
//! summed over the three scales, with `gt_2 = gt[::2, ::2]` and `gt_4 = gt[::4, ::4]`.
//!
//! **The FFT is a true 2-D FFT.** The authors called `tf.signal.rfft2d` on `[B, H, W, 1]`
//! tensors, which transforms the last two axes (`W` and the channel axis of size 1):
//! in effect a 1-D FFT along each row. A 2-D transform of the image is the evident
//! intent and is what this loss uses: the full complex `H x W` spectrum (the mean over
//! all bins; by the Hermitian symmetry of a real image's spectrum this is the mean of
//! `rfft2d`'s half spectrum up to the weight of its first and last columns).
//!
//! Gradients: `d MSE / dz = 2 (z - gt) / N`; with `D = FFT2(z - gt)` (the transform is
//! linear) and `c = 0.5 / N`, `d (c sum_k |D_k|) / dz = c Re(sum_k (D_k / |D_k|)
//! e^{+2 pi i k.p / N})`, the unnormalised inverse transform of the unit phasors, with
//! the subgradient 0 where `D_k = 0`. Computed in f64.

use ndarray::{s, Array2, ArrayView2};
use rustfft::num_complex::Complex64;

use crate::classical::fft::Fft2d;

/// Weight of the Fourier term.
pub const FOURIER_WEIGHT: f64 = 0.5;

/// The loss of one scale, `MSE + 0.5 mean|FFT2 difference|`, and its gradient with
/// respect to `z`.
///
/// # Panics
/// If `z` and `gt` differ in shape or are empty.
pub fn scale_loss(z: ArrayView2<f64>, gt: ArrayView2<f64>) -> (f64, Array2<f64>) {
    assert_eq!(z.dim(), gt.dim(), "output and ground truth sizes differ");
    let (h, w) = z.dim();
    let n = (h * w) as f64;
    let mut fft = Fft2d::new(h, w).expect("loss planes have valid sizes");
    let diff: Vec<f64> = z.iter().zip(gt.iter()).map(|(a, b)| a - b).collect();
    let mse = diff.iter().map(|d| d * d).sum::<f64>() / n;
    let mut spectrum: Vec<Complex64> = diff.iter().map(|&d| Complex64::new(d, 0.0)).collect();
    fft.forward(&mut spectrum);
    let mut magnitude_sum = 0.0;
    for v in spectrum.iter_mut() {
        let m = v.norm();
        magnitude_sum += m;
        *v = if m > 0.0 {
            *v / m
        } else {
            Complex64::new(0.0, 0.0)
        };
    }
    let c = FOURIER_WEIGHT / n;
    let loss = mse + c * magnitude_sum;
    // `inverse` is normalised by 1 / N; the gradient needs the unnormalised sum.
    fft.inverse(&mut spectrum);
    let grad = Array2::from_shape_fn((h, w), |(y, x)| {
        let i = y * w + x;
        2.0 * diff[i] / n + c * n * spectrum[i].re
    });
    (loss, grad)
}

/// The ground truth at the three scales: `gt`, `gt[::2, ::2]`, `gt[::4, ::4]`.
pub fn truth_scales(gt: ArrayView2<f64>) -> [ArrayView2<f64>; 3] {
    [
        gt,
        gt.slice_move(s![..;2, ..;2]),
        gt.slice_move(s![..;4, ..;4]),
    ]
}

/// The loss of one sample over the three scales (outputs `z0`, `z2`, `z4`) and its
/// gradients with respect to them.
///
/// # Panics
/// If the outputs are not the full, half and quarter size of `gt`.
pub fn sample_loss(z: [ArrayView2<f64>; 3], gt: ArrayView2<f64>) -> (f64, [Array2<f64>; 3]) {
    let truth = truth_scales(gt);
    let mut total = 0.0;
    let grads = [0, 1, 2].map(|si| {
        let (l, g) = scale_loss(z[si], truth[si]);
        total += l;
        g
    });
    (total, grads)
}

/// [`sample_loss`] for float32 outputs and ground truth, the gradients as float32.
pub fn sample_loss_f32(z: [&Array2<f32>; 3], gt: ArrayView2<f32>) -> (f64, [Array2<f32>; 3]) {
    let z64 = z.map(|a| a.mapv(f64::from));
    let gt64 = gt.mapv(f64::from);
    let (loss, grads) = sample_loss([z64[0].view(), z64[1].view(), z64[2].view()], gt64.view());
    (loss, grads.map(|g| g.mapv(|v| v as f32)))
}
