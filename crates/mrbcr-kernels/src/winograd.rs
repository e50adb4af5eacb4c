//! 3x3 convolution of planar feature maps by Winograd's minimal filtering F(4, 3) along
//! the columns, with bias and an optional fused ReLU: the same function as
//! [`crate::conv::conv2d`] with a 3x3 kernel, in fewer multiply-adds.
//!
//! The output is computed in tiles of [`TILE_ROWS`] rows. For each input channel the
//! [`ALPHA`] input rows a tile reads are transformed (`B^T d`, along the columns); then,
//! for each of the `ALPHA` transformed rows `k`, a 1 x 3 convolution along the row sums
//! the input channels with the transformed kernel (`G g`); the output transform (`A^T`)
//! turns the `ALPHA` sums into the tile's rows. Per output pixel and (input, output)
//! channel pair that is `3 x ALPHA / TILE_ROWS` = 4.5 multiply-adds instead of 9. Along
//! the rows the convolution stays direct, so every step works on consecutive pixels of
//! a plane, vectors at a time, with no gather. (In one dimension F(4, 3) is well
//! conditioned in `f32`: on random layers its results differ from the direct
//! convolution's by less than 1e-6 of the sum of the absolute products; the tests allow
//! 1e-5.)
//!
//! Each output value is: its column's transformed inputs (fixed fused multiply-adds per
//! row), then one sum per transformed row `k`, starting at zero, of one fused
//! multiply-add per (input channel, tap) in that order, then `bias` plus the output
//! transform's terms in order, then the ReLU. The body is written once, generic over
//! [`F32Vector`], and the scalar reference is the same body on one-lane `f32` vectors,
//! so every SIMD level and every thread count gives bit-identical results.

use std::cell::RefCell;

use rayon::prelude::*;

use super::layout::PlaneGeometry;
use super::vector::F32Vector;
use super::{SimdKind, SimdLevel};

/// Output rows per tile (the `m` of F(m, 3)).
pub const TILE_ROWS: usize = 4;
/// Input rows per tile, and transformed rows: `TILE_ROWS + 2`.
pub const ALPHA: usize = TILE_ROWS + 2;
/// Output channels computed together (the register block); `c_out` must be a multiple.
pub const OUTPUT_BLOCK: usize = 4;
/// Input channels from which the Winograd convolution is faster than the direct one
/// (see [`WinogradWeights::pays_off`]).
pub const MIN_INPUT_CHANNELS: usize = 16;
/// Taps along the row.
const TAPS: usize = 3;

/// `B^T`: the `ALPHA` input rows of a tile to its transformed rows.
const INPUT_TRANSFORM: [[f32; ALPHA]; ALPHA] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];

/// `G`: a kernel column (its 3 rows) to its `ALPHA` transformed taps, applied in `f64`
/// when the weights are packed.
const KERNEL_TRANSFORM: [[f64; 3]; ALPHA] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `A^T`: the `ALPHA` sums to the tile's output rows.
const OUTPUT_TRANSFORM: [[f32; ALPHA]; TILE_ROWS] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// The weights of one 3x3 layer, transformed and packed for [`conv3x3`]:
/// `[c_out / OUTPUT_BLOCK][ALPHA][c_in][3 taps along the row][OUTPUT_BLOCK]`.
#[derive(Debug, Clone)]
pub struct WinogradWeights {
    c_in: usize,
    c_out: usize,
    packed: Vec<f32>,
    bias: Vec<f32>,
}

impl WinogradWeights {
    /// Transforms and packs a 3x3 kernel stored `[3, 3, c_in, c_out]` (TensorFlow's
    /// layout) and its bias `[c_out]`.
    ///
    /// # Panics
    /// If the kernel is not 3x3, `c_out` is not a multiple of [`OUTPUT_BLOCK`] (see
    /// [`WinogradWeights::supports`]), or the sizes do not match the shape: the shapes
    /// come from the validated architecture, so this is a programming error.
    pub fn from_hwio(shape: [usize; 4], kernel: &[f32], bias: &[f32]) -> WinogradWeights {
        assert!(
            Self::supports(shape),
            "no Winograd kernel for shape {shape:?}"
        );
        let [_, _, c_in, c_out] = shape;
        assert_eq!(kernel.len(), 9 * c_in * c_out, "kernel size");
        assert_eq!(bias.len(), c_out, "bias size");
        let mut packed = vec![0.0; ALPHA * kernel.len() / 3];
        for o in 0..c_out {
            let (ob, oi) = (o / OUTPUT_BLOCK, o % OUTPUT_BLOCK);
            for i in 0..c_in {
                for dx in 0..TAPS {
                    let column =
                        |dy: usize| f64::from(kernel[((dy * 3 + dx) * c_in + i) * c_out + o]);
                    for (k, g) in KERNEL_TRANSFORM.iter().enumerate() {
                        let u = g[0] * column(0) + g[1] * column(1) + g[2] * column(2);
                        let at = (((ob * ALPHA + k) * c_in + i) * TAPS + dx) * OUTPUT_BLOCK + oi;
                        packed[at] = u as f32;
                    }
                }
            }
        }
        WinogradWeights {
            c_in,
            c_out,
            packed,
            bias: bias.to_vec(),
        }
    }

    /// True if a layer of `shape` (`[kh, kw, c_in, c_out]`) can run as [`conv3x3`]: a
    /// 3x3 kernel with a multiple of [`OUTPUT_BLOCK`] output channels.
    pub fn supports(shape: [usize; 4]) -> bool {
        let [kh, kw, c_in, c_out] = shape;
        kh == 3 && kw == 3 && c_in > 0 && c_out > 0 && c_out % OUTPUT_BLOCK == 0
    }

    /// True if a layer of `shape` is faster as [`conv3x3`] than as the direct
    /// convolution: it is [supported](WinogradWeights::supports) and has at least
    /// [`MIN_INPUT_CHANNELS`] input channels. With fewer, the input transform, done per
    /// input channel, costs more than the multiply-adds saved (4 -> 4 channels ran at
    /// 0.84 to 0.93 times the direct convolution's speed; 40 -> 4 at 1.1 times, 32 ->
    /// 32 and 48 -> 48 at 1.35 to 1.8 times).
    pub fn pays_off(shape: [usize; 4]) -> bool {
        Self::supports(shape) && shape[2] >= MIN_INPUT_CHANNELS
    }

    /// Input channels.
    pub fn c_in(&self) -> usize {
        self.c_in
    }

    /// Output channels.
    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Multiply-adds per output pixel of the direct convolution this one replaces (the
    /// figure speeds are counted against).
    pub fn macs_per_pixel(&self) -> usize {
        9 * self.c_in * self.c_out
    }
}

/// A pointer that may cross threads: each task writes disjoint rows through it.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to write disjoint row tiles from rayon tasks (see `conv3x3`).
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

/// Everything a tile needs, shared by all tiles of one call.
struct Call<'a> {
    inputs: Vec<*const f32>,
    weights: &'a WinogradWeights,
    out: SendPtr,
    stride: usize,
    plane_len: usize,
    interior: *const u32,
    relu: bool,
}
// SAFETY: the raw pointers are read-only inputs and the output, written disjointly.
unsafe impl Sync for Call<'_> {}

thread_local! {
    /// Each thread's transformed inputs and sums of the block it is computing.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Convolves `inputs` (one plane per input channel, in order) with a 3x3 kernel into
/// `out` (`c_out` planes, one after the other), with bias and, if `relu`, a ReLU;
/// padding positions of the image rows of `out` are set to zero. Runs on the rayon
/// pool; the result does not depend on the number of threads nor on `level`.
///
/// # Panics
/// If the number of input planes is not `c_in`, or a plane or `out` has the wrong size.
pub fn conv3x3(
    level: SimdLevel,
    geometry: &PlaneGeometry,
    inputs: &[&[f32]],
    weights: &WinogradWeights,
    out: &mut [f32],
    relu: bool,
) {
    let n = geometry.plane_len();
    assert_eq!(inputs.len(), weights.c_in, "input channel count");
    assert!(inputs.iter().all(|p| p.len() == n), "input plane size");
    assert_eq!(out.len(), weights.c_out * n, "output size");
    let call = Call {
        inputs: inputs.iter().map(|p| p.as_ptr()).collect(),
        weights,
        out: SendPtr(out.as_mut_ptr()),
        stride: geometry.stride(),
        plane_len: n,
        interior: geometry.interior_mask().as_ptr(),
        relu,
    };
    let (lanes, vectors) = block_shape(level.kind());
    let scratch_len = scratch_len(weights, lanes, vectors);
    let first = geometry.first();
    (0..geometry.height().div_ceil(TILE_ROWS))
        .into_par_iter()
        .for_each(|tile| {
            SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                if scratch.len() < scratch_len {
                    scratch.resize(scratch_len, 0.0);
                }
                let start = first + tile * TILE_ROWS * call.stride;
                // SAFETY: `start` is the first position of an image row (padding column
                // included); the plane layout keeps every read of the tile inside the
                // planes (see `block`), each task writes only its own tile's rows, and
                // the scratch holds `scratch_len` floats.
                unsafe { run_tile(level, &call, start, scratch.as_mut_ptr()) }
            })
        });
}

/// Lanes per vector and vectors per block at a level: the block's `OUTPUT_BLOCK x
/// vectors` sums, the vectors of one tap's input and a broadcast weight fill the
/// registers without spilling (32 with AVX-512 and NEON, 16 with AVX2).
const fn block_shape(level: SimdKind) -> (usize, usize) {
    match level {
        SimdKind::Avx512 => (16, 6),
        SimdKind::Avx2 => (8, 2),
        SimdKind::Neon => (4, 6),
        SimdKind::Scalar => (1, 16),
    }
}

/// Vectors of transformed input a block of `vectors` vectors reads: one more per two
/// lanes of the taps' reach (one pixel on each side).
const fn transformed_vectors(lanes: usize, vectors: usize) -> usize {
    vectors + (TAPS - 1).div_ceil(lanes)
}

/// Floats of scratch a block needs: the transformed input rows of every channel, then
/// the `ALPHA` sums of every output channel.
fn scratch_len(weights: &WinogradWeights, lanes: usize, vectors: usize) -> usize {
    let width = transformed_vectors(lanes, vectors) * lanes;
    ALPHA * weights.c_in * width + ALPHA * weights.c_out * vectors * lanes
}

/// Computes the row tile whose first output row starts at flat position `start`.
///
/// # Safety
/// As [`tile`]; `level` is supported by the CPU (a [`SimdLevel`] cannot be made
/// otherwise).
unsafe fn run_tile(level: SimdLevel, call: &Call, start: usize, scratch: *mut f32) {
    #[cfg(target_arch = "x86_64")]
    const AVX512: (usize, usize) = block_shape(SimdKind::Avx512);
    #[cfg(target_arch = "x86_64")]
    const AVX2: (usize, usize) = block_shape(SimdKind::Avx2);
    #[cfg(target_arch = "aarch64")]
    const NEON: (usize, usize) = block_shape(SimdKind::Neon);
    const SCALAR: (usize, usize) = block_shape(SimdKind::Scalar);
    // SAFETY: each tile function needs what this function's contract gives, the
    // scratch sized for its block shape (`conv3x3` sizes it with `block_shape` of this
    // level's kind, the shape chosen here) and its instruction set, which `level`
    // proves the CPU has (one-lane `f32` needs none).
    unsafe {
        match level.kind() {
            #[cfg(target_arch = "x86_64")]
            SimdKind::Avx512 => x86::tile_avx512::<{ AVX512.1 }>(call, start, scratch),
            #[cfg(target_arch = "x86_64")]
            SimdKind::Avx2 => x86::tile_avx2::<{ AVX2.1 }>(call, start, scratch),
            #[cfg(target_arch = "aarch64")]
            SimdKind::Neon => arm::tile_neon::<{ NEON.1 }>(call, start, scratch),
            _ => tile::<f32, { SCALAR.1 }>(call, start, scratch),
        }
    }
}

/// One row tile: the image row starting at `start` and the `TILE_ROWS - 1` after it,
/// in blocks of `NV` vectors, then single vectors for the rest of the row.
///
/// # Safety
/// `start` is the first flat position of an image row of the call's geometry, the CPU
/// has `V`'s instruction set, and `scratch` holds [`scratch_len`] floats for `NV`.
#[inline(always)]
unsafe fn tile<V: F32Vector, const NV: usize>(call: &Call, start: usize, scratch: *mut f32) {
    let end = start + call.stride;
    let mut x = start;
    while x + NV * V::LANES <= end {
        // SAFETY: `x < end`, the end of the tile's first row, and this function's
        // contract is the rest of `block`'s.
        unsafe { block::<V, NV>(call, x, end, scratch) };
        x += NV * V::LANES;
    }
    while x < end {
        // SAFETY: as above; a block of one vector needs less scratch than one of `NV`.
        unsafe { block::<V, 1>(call, x, end, scratch) };
        x += V::LANES;
    }
}

/// The block of `NV` vectors of pixels from flat position `x0` of the tile's first
/// row, in all its `TILE_ROWS` rows and all output channels; pixels from `row_end` on
/// (the next row's) are computed but not stored.
///
/// # Safety
/// As [`tile`], and `x0 < row_end`, the end of the tile's first row. The reads reach
/// one row above the tile and `ALPHA - 2` below its first row, one pixel before `x0`
/// and [`transformed_vectors`] vectors after it: inside the plane, whose padding rows
/// and tail slack (at least `MAX_BLOCK` floats) cover them.
#[inline(always)]
unsafe fn block<V: F32Vector, const NV: usize>(
    call: &Call,
    x0: usize,
    row_end: usize,
    scratch: *mut f32,
) {
    let w = call.weights;
    let (c_in, stride, lanes) = (w.c_in, call.stride, V::LANES);
    let vectors = transformed_vectors(lanes, NV);
    let width = vectors * lanes;
    // In every block below, the vector operations need `V`'s instruction set, which
    // the CPU has (this function's contract); the pointer steps and accesses are the
    // ones each comment gives.
    let transformed = scratch;
    // SAFETY: the scratch holds the transformed rows (`ALPHA * c_in * width` floats)
    // and then the sums (`scratch_len`).
    let sums = unsafe { scratch.add(ALPHA * c_in * width) };

    // The input transform: `transformed[k][c][j]` is row k of B^T applied to the
    // column of input channel c at flat position x0 - 1 + j.
    for (c, &plane) in call.inputs.iter().enumerate() {
        // SAFETY: one row above the tile and one pixel before `x0`: inside the plane
        // (its padding rows and columns, this function's contract).
        let src = unsafe { plane.add(x0 - 1 - stride) };
        for v in 0..vectors {
            // SAFETY: no memory is touched.
            let mut column = [unsafe { V::splat(0.0) }; ALPHA];
            for (i, d) in column.iter_mut().enumerate() {
                // SAFETY: row `i` (of `ALPHA`) from the row above the tile, vector `v`
                // of the `transformed_vectors` this function's contract allows.
                *d = unsafe { V::load(src.add(i * stride + v * lanes)) };
            }
            for (k, coefficients) in INPUT_TRANSFORM.iter().enumerate() {
                // SAFETY: registers only, then a store into row (k, c) of the
                // transformed rows, vector `v` of their `width / lanes`: inside the
                // scratch's first part.
                unsafe {
                    let mut t = V::splat(0.0);
                    for (d, &b) in column.iter().zip(coefficients) {
                        if b != 0.0 {
                            t = d.mul_add(V::splat(b), t);
                        }
                    }
                    t.store(transformed.add((k * c_in + c) * width + v * lanes));
                }
            }
        }
    }

    // The sums: for each transformed row k and output channel, a 1 x 3 convolution
    // along the row over all input channels.
    let blocks = w.c_out / OUTPUT_BLOCK;
    for k in 0..ALPHA {
        // SAFETY: transformed row `k` of the first channel, inside the scratch.
        let rows = unsafe { transformed.add(k * c_in * width) };
        for ob in 0..blocks {
            // SAFETY: no memory is touched.
            let mut acc = [[unsafe { V::splat(0.0) }; NV]; OUTPUT_BLOCK];
            // SAFETY: the weights of output block `ob` and transformed row `k`, inside
            // the packed weights (`[c_out / OUTPUT_BLOCK][ALPHA][c_in][TAPS][OUTPUT_BLOCK]`).
            let mut wp = unsafe {
                w.packed
                    .as_ptr()
                    .add((ob * ALPHA + k) * c_in * TAPS * OUTPUT_BLOCK)
            };
            for c in 0..c_in {
                // SAFETY: transformed row (k, c), inside the scratch.
                let row = unsafe { rows.add(c * width) };
                for dx in 0..TAPS {
                    // SAFETY: no memory is touched.
                    let mut xs = [unsafe { V::splat(0.0) }; NV];
                    for (v, xv) in xs.iter_mut().enumerate() {
                        // SAFETY: `dx + v * lanes + lanes <= width`: the transformed row
                        // has `transformed_vectors` vectors, enough for the taps' reach.
                        *xv = unsafe { V::load(row.add(dx + v * lanes)) };
                    }
                    for out_row in acc.iter_mut() {
                        // SAFETY: `wp` walks the `c_in * TAPS * OUTPUT_BLOCK` weights of
                        // (ob, k) in order, each read once: inside the packed weights.
                        let wv = unsafe {
                            let wv = V::splat(*wp);
                            wp = wp.add(1);
                            wv
                        };
                        for (a, xv) in out_row.iter_mut().zip(&xs) {
                            // SAFETY: registers only.
                            *a = unsafe { xv.mul_add(wv, *a) };
                        }
                    }
                }
            }
            // SAFETY: the sums of (ob, k), `OUTPUT_BLOCK * NV` vectors inside the
            // scratch's second part, which holds `ALPHA * c_out * NV * lanes` floats.
            unsafe {
                let dst = sums.add((ob * ALPHA + k) * OUTPUT_BLOCK * NV * lanes);
                for (o, out_row) in acc.iter().enumerate() {
                    for (v, a) in out_row.iter().enumerate() {
                        a.store(dst.add((o * NV + v) * lanes));
                    }
                }
            }
        }
    }

    // The output transform, bias first, then the ReLU and the padding mask.
    for o in 0..w.c_out {
        let (ob, oi) = (o / OUTPUT_BLOCK, o % OUTPUT_BLOCK);
        // SAFETY: no memory is touched.
        let bias = unsafe { V::splat(w.bias[o]) };
        // SAFETY: output plane `o` (below `c_out`), inside the call's output.
        let out = unsafe { call.out.0.add(o * call.plane_len) };
        for v in 0..NV {
            let p = x0 + v * lanes;
            if p >= row_end {
                break;
            }
            // SAFETY: no memory is touched.
            let mut m = [unsafe { V::splat(0.0) }; ALPHA];
            for (k, mk) in m.iter_mut().enumerate() {
                let at = ((ob * ALPHA + k) * OUTPUT_BLOCK + oi) * NV + v;
                // SAFETY: the sum of (ob, k, oi, v), written above, inside the scratch.
                *mk = unsafe { V::load(sums.add(at * lanes)) };
            }
            for (i, coefficients) in OUTPUT_TRANSFORM.iter().enumerate() {
                let q = p + i * stride;
                // SAFETY: registers only; then the mask word of each lane's position
                // and the store of the tile's row `i` from `p`: the interior mask has a
                // word per plane position, and the tile's rows are inside the plane
                // (the tail slack covers a vector running past the last row's end).
                // A full vector is stored only if it ends in this row; otherwise only
                // this row's `row_end - p` pixels are copied (fewer than `lanes`, at
                // most 16). The rows are this task's own.
                unsafe {
                    let mut y = bias;
                    for (mk, &a) in m.iter().zip(coefficients) {
                        if a != 0.0 {
                            y = mk.mul_add(V::splat(a), y);
                        }
                    }
                    if call.relu {
                        y = y.relu();
                    }
                    y = y.and_mask(call.interior.add(q));
                    if p + lanes <= row_end {
                        y.store(out.add(q));
                    } else {
                        // The vector runs into the next row: store only this row's pixels.
                        let mut lanes_out = [0.0f32; 16];
                        y.store(lanes_out.as_mut_ptr());
                        std::ptr::copy_nonoverlapping(lanes_out.as_ptr(), out.add(q), row_end - p);
                    }
                }
            }
        }
    }
}

/// [`tile`] compiled for AVX-512 and for AVX2 with FMA.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{tile, Call};
    use std::arch::x86_64::{__m256, __m512};

    /// [`tile`] on 16-lane AVX-512 vectors.
    ///
    /// # Safety
    /// As `tile`, and the CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn tile_avx512<const NV: usize>(
        call: &Call,
        start: usize,
        scratch: *mut f32,
    ) {
        // SAFETY: this function's contract is `tile`'s for `__m512`.
        unsafe { tile::<__m512, NV>(call, start, scratch) }
    }

    /// [`tile`] on 8-lane AVX2 vectors.
    ///
    /// # Safety
    /// As `tile`, and the CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_avx2<const NV: usize>(call: &Call, start: usize, scratch: *mut f32) {
        // SAFETY: this function's contract is `tile`'s for `__m256`.
        unsafe { tile::<__m256, NV>(call, start, scratch) }
    }
}

/// [`tile`] compiled for NEON.
#[cfg(target_arch = "aarch64")]
mod arm {
    use super::{tile, Call};
    use std::arch::aarch64::float32x4_t;

    /// [`tile`] on 4-lane NEON vectors.
    ///
    /// # Safety
    /// As `tile`, and the CPU must have NEON.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn tile_neon<const NV: usize>(call: &Call, start: usize, scratch: *mut f32) {
        // SAFETY: this function's contract is `tile`'s for `float32x4_t`.
        unsafe { tile::<float32x4_t, NV>(call, start, scratch) }
    }
}
