//! Convolution of planar feature maps: 2-D `kh x kw` (1x1 dense layers, 3x3, 9x9) and
//! 1-D along the width (`1 x k`), stride 1, zero "same" padding, with bias and an
//! optional fused ReLU.
//!
//! Input channels are given as a list of planes, so a concatenation `[a, b]` is just
//! the planes of `a` followed by those of `b`: nothing is copied.
//!
//! Each output value is `bias`, then one fused multiply-add per (input channel, tap) in
//! that order (channel-major), then the ReLU. Every SIMD level follows this order, so
//! all levels and all thread counts give bit-identical results.
//!
//! The SIMD kernels are register-blocked: a block of `OB` output channels times `NV`
//! vectors of consecutive pixels lives in registers while the kernel walks all input
//! channels and taps, loading `NV` input vectors and broadcasting `OB` weights per step.

use std::ops::Range;

use rayon::prelude::*;

use super::layout::{PlaneGeometry, MAX_BLOCK, MAX_KERNEL};
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use super::vector::F32Vector;
use super::{SimdKind, SimdLevel};

/// The weights of one convolution layer, packed for the kernels:
/// `[c_out / OB][c_in][kh * kw][OB]` with `OB` = 4 when `c_out` is a multiple of 4,
/// else 1.
#[derive(Debug, Clone)]
pub struct ConvWeights {
    c_in: usize,
    c_out: usize,
    kh: usize,
    kw: usize,
    block: usize,
    packed: Vec<f32>,
    bias: Vec<f32>,
}

impl ConvWeights {
    /// Packs a 2-D kernel stored `[kh, kw, c_in, c_out]` (TensorFlow's layout) and its
    /// bias `[c_out]`. A dense layer `[c_in, c_out]` is the case `kh = kw = 1`, a 1-D
    /// convolution along the width `[k, c_in, c_out]` the case `kh = 1, kw = k`.
    ///
    /// # Panics
    /// If the sizes do not match the shape, a kernel dimension is even, or larger than
    /// [`MAX_KERNEL`] (the padding of the planes, so the kernels' reads stay inside
    /// them). The shapes come from the validated architecture, so this is a
    /// programming error.
    pub fn from_hwio(shape: [usize; 4], kernel: &[f32], bias: &[f32]) -> ConvWeights {
        let [kh, kw, c_in, c_out] = shape;
        assert!(
            kh <= MAX_KERNEL && kw <= MAX_KERNEL,
            "a {kh} x {kw} kernel is larger than the {MAX_KERNEL} x {MAX_KERNEL} the plane padding allows"
        );
        assert_eq!(kernel.len(), kh * kw * c_in * c_out, "kernel size");
        assert_eq!(bias.len(), c_out, "bias size");
        assert!(kh % 2 == 1 && kw % 2 == 1, "kernel sizes must be odd");
        let block = if c_out % 4 == 0 { 4 } else { 1 };
        let taps = kh * kw;
        let mut packed = vec![0.0; kernel.len()];
        for o in 0..c_out {
            let (ob, oi) = (o / block, o % block);
            for i in 0..c_in {
                for t in 0..taps {
                    packed[((ob * c_in + i) * taps + t) * block + oi] =
                        kernel[(t * c_in + i) * c_out + o];
                }
            }
        }
        ConvWeights {
            c_in,
            c_out,
            kh,
            kw,
            block,
            packed,
            bias: bias.to_vec(),
        }
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.c_in
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Multiply-adds per output pixel.
    pub fn macs_per_pixel(&self) -> usize {
        self.c_in * self.c_out * self.kh * self.kw
    }
}

/// A pointer that may cross threads: each task writes a disjoint range through it.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to write disjoint pixel ranges from rayon tasks (see `conv2d`).
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

/// Everything a block kernel needs, shared by all blocks of one call.
struct ConvCall<'a> {
    inputs: Vec<*const f32>,
    offsets: Vec<isize>,
    weights: &'a ConvWeights,
    out: SendPtr,
    plane_len: usize,
    interior: *const u32,
    relu: bool,
}
// SAFETY: the raw pointers are read-only inputs and the output, written disjointly.
unsafe impl Sync for ConvCall<'_> {}

/// Pixels per task handed to rayon (rounded to whole blocks).
const TASK_PIXELS: usize = 4096;

/// Convolves `inputs` (one plane per input channel, in order) into `out` (`c_out`
/// planes, one after the other), with bias and, if `relu`, a ReLU; padding positions
/// of `out` are set to zero. Runs on the rayon pool; the result does not depend on the
/// number of threads nor on `level` (a [`SimdLevel`] exists only for instruction sets
/// the CPU has, so this is safe at any level).
///
/// # Panics
/// If the number of input planes is not `c_in`, or a plane or `out` has the wrong size.
pub fn conv2d(
    level: SimdLevel,
    geometry: &PlaneGeometry,
    inputs: &[&[f32]],
    weights: &ConvWeights,
    out: &mut [f32],
    relu: bool,
) {
    let n = geometry.plane_len();
    assert_eq!(inputs.len(), weights.c_in, "input channel count");
    assert!(inputs.iter().all(|p| p.len() == n), "input plane size");
    assert_eq!(out.len(), weights.c_out * n, "output size");
    let call = ConvCall {
        inputs: inputs.iter().map(|p| p.as_ptr()).collect(),
        offsets: geometry.tap_offsets(weights.kh, weights.kw),
        weights,
        out: SendPtr(out.as_mut_ptr()),
        plane_len: n,
        interior: geometry.interior_mask().as_ptr(),
        relu,
    };
    let block = block_pixels(level.kind(), weights.block);
    let blocks = geometry.compute_len().div_ceil(block);
    let per_task = (TASK_PIXELS / block).max(1);
    let first = geometry.first();
    (0..blocks.div_ceil(per_task))
        .into_par_iter()
        .for_each(|task| {
            let start = first + task * per_task * block;
            let end = first + ((task + 1) * per_task).min(blocks) * block;
            // SAFETY: the band starts on a block of the compute range and ends at most
            // one block past it; tasks' bands are disjoint.
            unsafe { run_band(level, &call, start..end) }
        });
}

/// Pixels per band of [`dense_chain`]: a multiple of every block size (all divide
/// [`MAX_BLOCK`]), small enough that a band of a 32-channel layer's input and output
/// (2 x 32 x 2304 floats, 590 KB) stays in a 1 MiB L2.
const CHAIN_BAND_PIXELS: usize = 12 * MAX_BLOCK;

/// Runs a chain of dense (1x1) layers, each reading the previous one's output:
/// `inputs` through `layers[0]`, ..., `layers[n - 1]` into the first planes of `out`,
/// with a ReLU after each layer if `relu`. The intermediate maps alternate between the
/// first planes of `hidden` and of `out`. Gives bit for bit what one [`conv2d`] per
/// layer gives, but band by band: each band of pixels goes through every layer while it
/// is in L2, instead of every layer streaming whole maps through memory (one
/// 32-channel map of a 512 x 512 tile is 35 MB).
///
/// # Panics
/// If a layer is not 1x1, a layer's input count is not the previous one's output count
/// (the first's: the number of input planes), an input plane has the wrong size, or
/// `hidden` or `out` is too small for the layers that write into it.
pub fn dense_chain(
    level: SimdLevel,
    geometry: &PlaneGeometry,
    inputs: &[&[f32]],
    layers: &[ConvWeights],
    hidden: &mut [f32],
    out: &mut [f32],
    relu: bool,
) {
    let n = geometry.plane_len();
    assert!(inputs.iter().all(|p| p.len() == n), "input plane size");
    let (hidden, out) = (hidden.as_mut_ptr_range(), out.as_mut_ptr_range());
    let mut source: Vec<*const f32> = inputs.iter().map(|p| p.as_ptr()).collect();
    let mut calls = Vec::with_capacity(layers.len());
    for (k, weights) in layers.iter().enumerate() {
        assert!(weights.kh == 1 && weights.kw == 1, "layer {k} is not 1x1");
        assert_eq!(weights.c_in, source.len(), "input channels of layer {k}");
        let target = if (layers.len() - 1 - k).is_multiple_of(2) {
            &out
        } else {
            &hidden
        };
        let available = (target.end as usize - target.start as usize) / 4;
        assert!(
            weights.c_out * n <= available,
            "no room for layer {k}'s output"
        );
        let base = target.start;
        // SAFETY: the planes lie inside `target`, checked just above.
        let planes = (0..weights.c_out).map(|c| unsafe { base.add(c * n) } as *const f32);
        calls.push(ConvCall {
            inputs: std::mem::replace(&mut source, planes.collect()),
            offsets: geometry.tap_offsets(1, 1),
            weights,
            out: SendPtr(base),
            plane_len: n,
            interior: geometry.interior_mask().as_ptr(),
            relu,
        });
    }
    let (first, len) = (geometry.first(), geometry.compute_len());
    (0..len.div_ceil(CHAIN_BAND_PIXELS))
        .into_par_iter()
        .for_each(|band| {
            let start = first + band * CHAIN_BAND_PIXELS;
            let end = (start + CHAIN_BAND_PIXELS).min(first + len);
            for call in &calls {
                // SAFETY: the band starts on a block (its start is a multiple of every
                // block size from `first`) and its last block ends at most one block past
                // the compute range; bands are disjoint, and each layer reads only the
                // band's own pixels of the previous layer's output (1x1), written by this
                // task just before.
                unsafe { run_band(level, call, start..end) }
            }
        });
}

/// Computes the blocks of `call` that start in the flat range `band`, input channel
/// group by input channel group: the band's output stays in L2 while each group's
/// input rows and weights stay in L1.
///
/// # Safety
/// `band.start` is the start of a block of the call's compute range (`first` plus a
/// multiple of the block size) and the band's blocks end at most one block past that
/// range; no other thread writes the band's output or reads it meanwhile.
unsafe fn run_band(level: SimdLevel, call: &ConvCall, band: Range<usize>) {
    let weights = call.weights;
    let block = block_pixels(level.kind(), weights.block);
    debug_assert!(block <= MAX_BLOCK && MAX_BLOCK.is_multiple_of(block));
    let group = channel_group(weights, block);
    for c0 in (0..weights.c_in).step_by(group) {
        let channels = c0..(c0 + group).min(weights.c_in);
        for p in band.clone().step_by(block) {
            // SAFETY: `p` is a block of the compute range; the plane layout guarantees
            // that the block and all its taps stay inside every plane (see layout.rs);
            // the groups come in order, and no other thread touches the band (this
            // function's contract).
            unsafe { run_block(level, call, p, channels.clone()) }
        }
    }
}

/// Bytes of input rows one block may read per channel group: a third of a 48 KiB L1,
/// leaving room for the group's weights.
const L1_INPUT_BUDGET: usize = 16 << 10;

/// Input channels summed per pass over a block.
fn channel_group(weights: &ConvWeights, block: usize) -> usize {
    let bytes_per_channel = weights.kh * (block + weights.kw - 1) * 4;
    (L1_INPUT_BUDGET / bytes_per_channel).clamp(1, weights.c_in)
}

/// Pixels one block kernel computes at once for a level and output-channel block.
fn block_pixels(level: SimdKind, ob: usize) -> usize {
    let lanes = match level {
        SimdKind::Avx512 => 16,
        SimdKind::Avx2 => 8,
        SimdKind::Neon => 4,
        SimdKind::Scalar => 1,
    };
    lanes * vectors_per_block(level, ob)
}

/// Vectors of pixels per block for a level and output-channel block `ob`: the `ob x
/// vectors` accumulators, the vectors of one tap's input and a broadcast weight fill
/// the registers without spilling (32 with AVX-512 and NEON, 16 with AVX2).
const fn vectors_per_block(level: SimdKind, ob: usize) -> usize {
    match (level, ob) {
        (SimdKind::Avx512 | SimdKind::Neon, 4) => 6,
        (SimdKind::Avx512 | SimdKind::Neon, _) => 12,
        (SimdKind::Avx2, 4) => 2,
        (SimdKind::Avx2, _) => 8,
        (SimdKind::Scalar, _) => 16,
    }
}

/// Adds input channels `channels` into all output channels of the block starting at
/// flat position `p`. The first group starts from the bias, later groups from the
/// partial sums in `out`; the last group applies the ReLU and clears the padding.
///
/// # Safety
/// `p` must be a block start inside the compute range of the geometry the call was
/// made for, and groups must come in order (`level` is supported by the CPU: a
/// [`SimdLevel`] cannot be made otherwise).
unsafe fn run_block(level: SimdLevel, call: &ConvCall, p: usize, channels: Range<usize>) {
    use SimdKind::*;
    let w = call.weights;
    for ob in 0..w.c_out / w.block {
        let g = Group {
            ob,
            p,
            channels: channels.clone(),
        };
        // SAFETY: every kernel below needs what this function's contract gives (a block
        // start of the compute range, groups in order); the SIMD ones also need their
        // instruction set, which `level` proves the CPU has (a `SimdLevel` of a kind
        // exists only then), and each block's pixel count is the one `block_pixels`
        // gives that kind, so the block is the one `p` starts.
        unsafe {
            match (level.kind(), w.block) {
                #[cfg(target_arch = "x86_64")]
                (Avx512, 4) => x86::block_avx512::<4, { vectors_per_block(Avx512, 4) }>(call, g),
                #[cfg(target_arch = "x86_64")]
                (Avx512, _) => x86::block_avx512::<1, { vectors_per_block(Avx512, 1) }>(call, g),
                #[cfg(target_arch = "x86_64")]
                (Avx2, 4) => x86::block_avx2::<4, { vectors_per_block(Avx2, 4) }>(call, g),
                #[cfg(target_arch = "x86_64")]
                (Avx2, _) => x86::block_avx2::<1, { vectors_per_block(Avx2, 1) }>(call, g),
                #[cfg(target_arch = "aarch64")]
                (Neon, 4) => arm::block_neon::<4, { vectors_per_block(Neon, 4) }>(call, g),
                #[cfg(target_arch = "aarch64")]
                (Neon, _) => arm::block_neon::<1, { vectors_per_block(Neon, 1) }>(call, g),
                _ => block_scalar(call, g, block_pixels(Scalar, w.block)),
            }
        }
    }
}

/// One unit of kernel work: output-channel block `ob`, the pixel block at `p`, and the
/// input channels to add.
struct Group {
    ob: usize,
    p: usize,
    channels: Range<usize>,
}

impl Group {
    fn is_first(&self) -> bool {
        self.channels.start == 0
    }

    fn is_last(&self, call: &ConvCall) -> bool {
        self.channels.end == call.weights.c_in
    }

    /// Offset of this group's first weight in the packed kernel.
    fn weight_offset(&self, call: &ConvCall, ob_size: usize) -> usize {
        let taps = call.offsets.len();
        (self.ob * call.weights.c_in + self.channels.start) * taps * ob_size
    }
}

/// The scalar reference: one group for `len` pixels from the group's `p`.
///
/// # Safety
/// As [`run_block`].
unsafe fn block_scalar(call: &ConvCall, g: Group, len: usize) {
    let w = call.weights;
    let taps = call.offsets.len();
    let last = g.is_last(call);
    for oi in 0..w.block {
        let o = g.ob * w.block + oi;
        // SAFETY: output plane `o` (below `c_out`) starts `o * plane_len` floats into
        // the call's output of `c_out` planes.
        let out = unsafe { call.out.0.add(o * call.plane_len) };
        for q in g.p..g.p + len {
            let mut acc = if g.is_first() {
                w.bias[o]
            } else {
                // SAFETY: `q` is a pixel of the block, inside the plane (this
                // function's contract), written only by this task.
                unsafe { *out.add(q) }
            };
            for i in g.channels.clone() {
                let plane = call.inputs[i];
                let kernel = &w.packed[(g.ob * w.c_in + i) * taps * w.block..];
                for (t, &off) in call.offsets.iter().enumerate() {
                    // SAFETY: a tap of a pixel of the compute range: the plane's
                    // padding keeps it inside the input plane (see layout.rs).
                    let x = unsafe { *plane.offset(q as isize + off) };
                    acc = x.mul_add(kernel[t * w.block + oi], acc);
                }
            }
            if last {
                if call.relu {
                    acc = if acc > 0.0 { acc } else { 0.0 };
                }
                // SAFETY: the interior mask has a word per plane position, `q` among them.
                if unsafe { *call.interior.add(q) } == 0 {
                    acc = 0.0;
                }
            }
            // SAFETY: as the read of `out` above.
            unsafe { *out.add(q) = acc };
        }
    }
}

/// The SIMD block kernel: `OB` output channels x `NV` vectors `V` of consecutive
/// pixels, the accumulators in registers. Per output value it performs the scalar
/// reference's operations in its order: the bias (or the partial sum), one fused
/// multiply-add per (input channel, tap), then the ReLU and the padding mask.
///
/// Written once; each instruction set compiles it through a `#[target_feature]`
/// wrapper (modules `x86` and `arm`), into which it and `V`'s operations inline.
///
/// # Safety
/// As [`run_block`], and the CPU must have `V`'s instruction set.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
unsafe fn block_simd<V: F32Vector, const OB: usize, const NV: usize>(call: &ConvCall, g: Group) {
    let w = call.weights;
    let p = g.p;
    let (first, last) = (g.is_first(), g.is_last(call));
    // In every block below, the vector operations need `V`'s instruction set, which
    // the CPU has (this function's contract); the pointer steps and accesses are the
    // ones each comment gives.
    // SAFETY: no memory is touched.
    let mut acc = [[unsafe { V::splat(0.0) }; NV]; OB];
    for (o, row) in acc.iter_mut().enumerate() {
        // SAFETY: the block's pixels from `p` of output plane `g.ob * OB + o` (below
        // `c_out`): inside the call's output of `c_out` planes.
        let out = unsafe { call.out.0.add((g.ob * OB + o) * call.plane_len + p) };
        for (v, a) in row.iter_mut().enumerate() {
            // SAFETY: vector `v` of the block (`NV * LANES` pixels from `p`, inside the
            // plane by this function's contract), written only by this task.
            *a = unsafe {
                if first {
                    V::splat(w.bias[g.ob * OB + o])
                } else {
                    V::load(out.add(V::LANES * v))
                }
            };
        }
    }
    // SAFETY: the group's first weight, inside the packed kernel (`weight_offset`).
    let mut wp = unsafe { w.packed.as_ptr().add(g.weight_offset(call, OB)) };
    for &plane in &call.inputs[g.channels.clone()] {
        // SAFETY: `p` is a position of the input plane (the planes share the output's
        // geometry).
        let base = unsafe { plane.add(p) };
        for &off in &call.offsets {
            // SAFETY: the block's pixels moved by a tap offset: the plane's padding and
            // tail slack keep every one of them inside the input plane (see layout.rs).
            let src = unsafe { base.offset(off) };
            // SAFETY: no memory is touched.
            let mut x = [unsafe { V::splat(0.0) }; NV];
            for (v, xv) in x.iter_mut().enumerate() {
                // SAFETY: vector `v` of those pixels, inside the plane (above).
                *xv = unsafe { V::load(src.add(V::LANES * v)) };
            }
            for row in acc.iter_mut() {
                // SAFETY: the packed weights of the group hold one weight per (input
                // channel, tap, output of the block), read in that order: `wp` stays
                // inside them, and one past the last after the last read.
                let wv = unsafe {
                    let wv = V::splat(*wp);
                    wp = wp.add(1);
                    wv
                };
                for (a, xv) in row.iter_mut().zip(&x) {
                    // SAFETY: registers only.
                    *a = unsafe { xv.mul_add(wv, *a) };
                }
            }
        }
    }
    for (o, row) in acc.iter().enumerate() {
        // SAFETY: as for the first loop.
        let out = unsafe { call.out.0.add((g.ob * OB + o) * call.plane_len + p) };
        for (v, a) in row.iter().enumerate() {
            let mut r = *a;
            // SAFETY: vector `v` of the block, inside the plane and written only by this
            // task (this function's contract); the interior mask has a word per plane
            // position, these among them.
            unsafe {
                if last {
                    if call.relu {
                        r = r.relu();
                    }
                    r = r.and_mask(call.interior.add(p + V::LANES * v));
                }
                r.store(out.add(V::LANES * v));
            }
        }
    }
}

/// [`block_simd`] compiled for AVX-512 and for AVX2 with FMA.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{block_simd, ConvCall, Group};
    use std::arch::x86_64::{__m256, __m512};

    /// [`block_simd`] on 16-lane AVX-512 vectors.
    ///
    /// # Safety
    /// As `run_block`, and the CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn block_avx512<const OB: usize, const NV: usize>(call: &ConvCall, g: Group) {
        // SAFETY: this function's contract is `block_simd`'s for `__m512`.
        unsafe { block_simd::<__m512, OB, NV>(call, g) }
    }

    /// [`block_simd`] on 8-lane AVX2 vectors.
    ///
    /// # Safety
    /// As `run_block`, and the CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block_avx2<const OB: usize, const NV: usize>(call: &ConvCall, g: Group) {
        // SAFETY: this function's contract is `block_simd`'s for `__m256`.
        unsafe { block_simd::<__m256, OB, NV>(call, g) }
    }
}

/// [`block_simd`] compiled for NEON.
#[cfg(target_arch = "aarch64")]
mod arm {
    use super::{block_simd, ConvCall, Group};
    use std::arch::aarch64::float32x4_t;

    /// [`block_simd`] on 4-lane NEON vectors.
    ///
    /// # Safety
    /// As `run_block`, and the CPU must have NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn block_neon<const OB: usize, const NV: usize>(call: &ConvCall, g: Group) {
        // SAFETY: this function's contract is `block_simd`'s for `float32x4_t`.
        unsafe { block_simd::<float32x4_t, OB, NV>(call, g) }
    }
}
