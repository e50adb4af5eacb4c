//! Weight and bias gradients of a planar convolution: correlations of the layer's
//! input planes with its output-gradient planes.
//!
//! For a layer `y_o[p] = b_o + sum_{i,t} x_i[p + off_t] K[t, i, o]` (see
//! [`crate::kernels::conv`]), `dK[t, i, o] = sum_p dy_o[p] x_i[p + off_t]` and
//! `db_o = sum_p dy_o[p]`, the sums running over the image's pixels. The gradient
//! planes have zero padding, so each sum runs over the flat compute range of the plane
//! geometry (padding columns included, contributing zeros): one long dot product of
//! `dy_o` with `x_i` shifted by the tap's constant offset.
//!
//! Each dot product is accumulated in 16 partial sums (pixel `p` goes to lane
//! `p mod LANES`, with fused multiply-adds), which are then added in lane order. The
//! work is split into jobs by (block of output channels, fixed segment of pixels); a
//! job always sums its pixels in the same order and segments are added in pixel order,
//! so the result does not depend on the number of threads, nor on the SIMD level
//! (every level performs the same per-lane operations).

use rayon::prelude::*;

use crate::kernels::layout::{PlaneGeometry, MAX_KERNEL};
use crate::kernels::{SimdKind, SimdLevel};

/// Partial sums per dot product.
const LANES: usize = 16;
/// Pixels per pass over a job's planes: the job's slices of `dy` stay in L1.
const CHUNK: usize = 1024;
/// Pixels per job (a multiple of [`CHUNK`]): the split of the pixel range into jobs
/// is fixed, so the order of every sum is too.
const SEGMENT: usize = 16 * CHUNK;

/// Adds the gradients of a `kh x kw` convolution's kernel (`[kh, kw, c_in, c_out]`,
/// checkpoint layout) and bias (`[c_out]`) to `kernel_grad` and `bias_grad`, given the
/// layer's input planes `inputs` (`c_in`, the planes the forward pass read) and the
/// gradient of its output before any activation, `output_grad` (`c_out` planes with
/// zero padding). Runs on the rayon pool; deterministic (see the module documentation).
///
/// # Panics
/// If the plane counts or sizes do not match the geometry and the gradient buffers, or
/// the kernel is larger than [`MAX_KERNEL`] (its taps would read outside the planes).
#[allow(clippy::too_many_arguments)]
pub fn conv_weight_grad(
    level: SimdLevel,
    geometry: &PlaneGeometry,
    inputs: &[&[f32]],
    output_grad: &[&[f32]],
    kh: usize,
    kw: usize,
    kernel_grad: &mut [f32],
    bias_grad: &mut [f32],
) {
    assert!(
        kh <= MAX_KERNEL && kw <= MAX_KERNEL,
        "a {kh} x {kw} kernel is larger than the {MAX_KERNEL} x {MAX_KERNEL} the plane padding allows"
    );
    let (c_in, c_out) = (inputs.len(), output_grad.len());
    let n = geometry.plane_len();
    assert!(inputs.iter().chain(output_grad).all(|p| p.len() == n));
    assert_eq!(
        kernel_grad.len(),
        kh * kw * c_in * c_out,
        "kernel gradient size"
    );
    assert_eq!(bias_grad.len(), c_out, "bias gradient size");
    let offsets = geometry.tap_offsets(kh, kw);
    let taps = offsets.len();
    let start = geometry.first();
    // Rounded up to whole lane groups: the planes' tail slack (zero gradient) covers it.
    let len = geometry.compute_len().next_multiple_of(LANES);
    debug_assert!(start + len + LANES <= n);
    let block = if c_out.is_multiple_of(4) { 4 } else { 1 };
    let jobs: Vec<(usize, usize)> = (0..c_out / block)
        .flat_map(|ob| (0..len).step_by(SEGMENT).map(move |seg| (ob, seg)))
        .collect();
    let results: Vec<Vec<f32>> = jobs
        .par_iter()
        .map(|&(ob, seg)| {
            let dys = &output_grad[ob * block..(ob + 1) * block];
            let job = Job {
                inputs,
                start: start + seg,
                len: SEGMENT.min(len - seg),
                offsets: &offsets,
            };
            if block == 4 {
                job.run::<4>(level, dys.try_into().expect("block of 4"))
            } else {
                job.run::<1>(level, dys.try_into().expect("block of 1"))
            }
        })
        .collect();
    // Segments are added in pixel order, whatever order their jobs ran in.
    for (&(ob, _), sums) in jobs.iter().zip(&results) {
        for i in 0..c_in {
            for t in 0..taps {
                for oi in 0..block {
                    kernel_grad[(t * c_in + i) * c_out + ob * block + oi] +=
                        sums[(i * taps + t) * block + oi];
                }
            }
        }
    }
    for (g, dy) in bias_grad.iter_mut().zip(output_grad) {
        *g += plane_sum(&dy[start..start + len]);
    }
}

/// The sum of `values` (a multiple of [`LANES`] long), in lanes then in lane order.
fn plane_sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for chunk in values.chunks_exact(LANES) {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum()
}

/// One job: every input plane and tap against a block of output-gradient planes,
/// over one segment of pixels. The segment is swept in chunks; each chunk's slice of
/// the output gradients stays in L1 while all input planes and taps pass over it.
struct Job<'a> {
    inputs: &'a [&'a [f32]],
    start: usize,
    len: usize,
    offsets: &'a [isize],
}

/// Lane accumulators of `TB` taps times `OB` output channels.
type Acc<const TB: usize, const OB: usize> = [[[f32; LANES]; OB]; TB];

impl Job<'_> {
    /// The `c_in x taps x OB` sums of this job, in that order.
    fn run<const OB: usize>(&self, level: SimdLevel, dys: [&[f32]; OB]) -> Vec<f32> {
        let taps = self.offsets.len();
        // One row per (input plane, tap), input-major: the shifted planes that are
        // correlated with the block's output gradients.
        let rows = self.inputs.len() * taps;
        let mut acc = vec![[[0.0f32; LANES]; OB]; rows];
        let d: [*const f32; OB] = dys.map(|p| p.as_ptr());
        let wide = level.kind() == SimdKind::Avx512;
        for c0 in (0..self.len).step_by(CHUNK) {
            let count = CHUNK.min(self.len - c0);
            let p = self.start + c0;
            let d = d.map(|ptr| ptr.wrapping_add(p));
            // Rows are blocked so that the block's accumulators stay in registers: with
            // one output channel by 4 (4 loads of x share one load of dy; 8 spill the
            // accumulators and run 25x slower); with four by 4 with AVX-512 (16
            // accumulators of its 32 registers: 4 loads of x share 4 loads of dy) and by
            // 2 with the 16 registers of AVX2. The block runs across input planes, so a
            // 1x1 layer is blocked as well as a 3x3 one.
            let mut r = 0;
            while r < rows {
                if (OB == 1 || wide) && r + 4 <= rows {
                    self.block::<4, OB>(level, r, &mut acc[r..r + 4], d, p, count);
                    r += 4;
                } else if OB > 1 && r + 2 <= rows {
                    self.block::<2, OB>(level, r, &mut acc[r..r + 2], d, p, count);
                    r += 2;
                } else {
                    self.block::<1, OB>(level, r, &mut acc[r..r + 1], d, p, count);
                    r += 1;
                }
            }
        }
        acc.iter()
            .flat_map(|per_o| per_o.iter().map(|lanes| lanes.iter().sum::<f32>()))
            .collect()
    }

    /// Adds pixels `p..p + count` of rows `row0..row0 + TB` (row `r`: input plane `r /
    /// taps` shifted by tap `r % taps`) into `acc`.
    fn block<const TB: usize, const OB: usize>(
        &self,
        level: SimdLevel,
        row0: usize,
        acc: &mut [[[f32; LANES]; OB]],
        d: [*const f32; OB],
        p: usize,
        count: usize,
    ) {
        let taps = self.offsets.len();
        let mut local: Acc<TB, OB> = (&*acc).try_into().expect("row block");
        let x: [*const f32; TB] = std::array::from_fn(|k| {
            let row = row0 + k;
            let off = self.offsets[row % taps];
            // In bounds: every tap of every compute position lies inside the plane (the
            // layout's guarantee for the forward convolution's reads).
            self.inputs[row / taps]
                .as_ptr()
                .wrapping_offset(p as isize + off)
        });
        // SAFETY: `x` and `d` point into planes of the geometry, and the `count` values
        // read from each stay inside them (see `conv_weight_grad`); the CPU supports
        // `level` (a `SimdLevel` exists only for instruction sets the CPU has).
        unsafe {
            match level.kind() {
                #[cfg(target_arch = "x86_64")]
                SimdKind::Avx512 => correlate_avx512(x, d, count, &mut local),
                #[cfg(target_arch = "x86_64")]
                SimdKind::Avx2 => correlate_avx2(x, d, count, &mut local),
                // NEON belongs to the aarch64 baseline: the portable body compiles to it.
                _ => correlate(x, d, count, &mut local),
            }
        }
        acc.copy_from_slice(&local);
    }
}

/// `acc[t][o][l] += x[t][q] * d[o][q]` for `q = l, l + LANES, ...` below `count`, one
/// fused multiply-add at a time.
///
/// # Safety
/// Every pointer must be valid for `count` reads (`count` a multiple of [`LANES`]).
#[inline(always)]
unsafe fn correlate<const TB: usize, const OB: usize>(
    x: [*const f32; TB],
    d: [*const f32; OB],
    count: usize,
    acc: &mut Acc<TB, OB>,
) {
    let mut a = *acc;
    let mut q = 0;
    while q < count {
        // SAFETY: `q + LANES <= count` (`count` is a multiple of LANES), and every
        // pointer is valid for `count` reads (this function's contract); the reads are
        // unaligned.
        let dv: [[f32; LANES]; OB] =
            d.map(|p| unsafe { p.add(q).cast::<[f32; LANES]>().read_unaligned() });
        for (at, &xp) in a.iter_mut().zip(&x) {
            // SAFETY: as for `dv` above.
            let xv = unsafe { xp.add(q).cast::<[f32; LANES]>().read_unaligned() };
            for (ao, dvo) in at.iter_mut().zip(&dv) {
                for l in 0..LANES {
                    ao[l] = xv[l].mul_add(dvo[l], ao[l]);
                }
            }
        }
        q += LANES;
    }
    *acc = a;
}

/// [`correlate`] compiled for AVX-512.
///
/// # Safety
/// As [`correlate`], and the CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn correlate_avx512<const TB: usize, const OB: usize>(
    x: [*const f32; TB],
    d: [*const f32; OB],
    count: usize,
    acc: &mut Acc<TB, OB>,
) {
    // SAFETY: this function's contract is `correlate`'s, which it passes on unchanged
    // (the instruction set it adds is what this wrapper is compiled for).
    unsafe { correlate(x, d, count, acc) }
}

/// [`correlate`] compiled for AVX2 with FMA.
///
/// # Safety
/// As [`correlate`], and the CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn correlate_avx2<const TB: usize, const OB: usize>(
    x: [*const f32; TB],
    d: [*const f32; OB],
    count: usize,
    acc: &mut Acc<TB, OB>,
) {
    // SAFETY: this function's contract is `correlate`'s, which it passes on unchanged
    // (the instruction set it adds is what this wrapper is compiled for).
    unsafe { correlate(x, d, count, acc) }
}
