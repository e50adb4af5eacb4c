//! Resampling of planar feature maps: bilinear resize as TensorFlow 2 does it by
//! default (half-pixel centres, no antialiasing), and subsampling by an integer step.
//!
//! Bilinear, per axis, for output index `d`: `s = (d + 0.5) * in / out - 0.5` in
//! float32, `lo = max(floor(s), 0)`, `hi = min(ceil(s), in - 1)`, `t = s - floor(s)`;
//! a value is `top + (bottom - top) * ty` with `top = a + (b - a) * tx` (TensorFlow's
//! order of operations). The kernel interpolates every source row horizontally once,
//! then blends rows; the arithmetic per output value is the same as TensorFlow's.

use rayon::prelude::*;

use super::layout::PlaneGeometry;

/// How one output index of a bilinear resize reads its axis: `lo + (hi - lo) * t`.
/// Public so that training can apply the resize's adjoint with the very same weights.
#[derive(Debug, Clone, Copy)]
pub struct Lerp {
    /// The lower source index.
    pub lo: usize,
    /// The upper source index.
    pub hi: usize,
    /// The weight of `hi`.
    pub t: f32,
}

/// The interpolation of every output index along one axis resized from `in_size` to
/// `out_size` (see the module documentation).
pub fn axis_lerps(in_size: usize, out_size: usize) -> Vec<Lerp> {
    let scale = in_size as f32 / out_size as f32;
    (0..out_size)
        .map(|d| {
            let s = (d as f32 + 0.5) * scale - 0.5;
            let floor = s.floor();
            Lerp {
                lo: floor.max(0.0) as usize,
                hi: (s.ceil().max(0.0) as usize).min(in_size - 1),
                t: s - floor,
            }
        })
        .collect()
}

/// Resizes each plane of `src` (geometry `from`) to the matching plane of `dst`
/// (geometry `to`), bilinearly. Only image positions of `dst` are written; its padding
/// stays zero. Planes are processed in parallel.
///
/// # Panics
/// If `src` and `dst` do not hold the same number of whole planes.
pub fn resize_bilinear(from: &PlaneGeometry, src: &[f32], to: &PlaneGeometry, dst: &mut [f32]) {
    let (n_in, n_out) = (from.plane_len(), to.plane_len());
    assert_eq!(src.len() % n_in, 0, "source planes");
    assert_eq!(dst.len() % n_out, 0, "destination planes");
    assert_eq!(src.len() / n_in, dst.len() / n_out, "plane counts differ");
    let ys = axis_lerps(from.height(), to.height());
    let xs = axis_lerps(from.width(), to.width());
    let out_w = to.width();
    dst.par_chunks_mut(n_out)
        .zip(src.par_chunks(n_in))
        .for_each_init(
            || vec![0.0f32; from.height() * out_w],
            |rows, (out, plane)| {
                // Horizontal pass: every source row, resampled to the output width.
                for (r, row) in rows.chunks_exact_mut(out_w).enumerate() {
                    let line = &plane[from.index(r, 0)..from.index(r, 0) + from.width()];
                    for (v, l) in row.iter_mut().zip(&xs) {
                        let (a, b) = (line[l.lo], line[l.hi]);
                        *v = a + (b - a) * l.t;
                    }
                }
                // Vertical pass: blend two resampled rows.
                for (y, l) in ys.iter().enumerate() {
                    let top = &rows[l.lo * out_w..(l.lo + 1) * out_w];
                    let bottom = &rows[l.hi * out_w..(l.hi + 1) * out_w];
                    let start = to.index(y, 0);
                    for ((v, &a), &b) in out[start..start + out_w].iter_mut().zip(top).zip(bottom) {
                        *v = a + (b - a) * l.t;
                    }
                }
            },
        );
}

/// Writes `src[::step, ::step]` of one plane into one plane of geometry `to`, whose
/// size must be the source's divided by `step` (rounded up).
///
/// # Panics
/// If the sizes do not match.
pub fn subsample(
    from: &PlaneGeometry,
    src: &[f32],
    step: usize,
    to: &PlaneGeometry,
    dst: &mut [f32],
) {
    assert_eq!(
        to.height(),
        from.height().div_ceil(step),
        "subsampled height"
    );
    assert_eq!(to.width(), from.width().div_ceil(step), "subsampled width");
    for y in 0..to.height() {
        let line = &src[from.index(y * step, 0)..];
        let start = to.index(y, 0);
        for (x, v) in dst[start..start + to.width()].iter_mut().enumerate() {
            *v = line[x * step];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_is_the_mean_of_2x2_blocks() {
        let l = axis_lerps(8, 4);
        for (d, l) in l.iter().enumerate() {
            assert_eq!((l.lo, l.hi, l.t), (2 * d, 2 * d + 1, 0.5));
        }
    }

    #[test]
    fn doubling_clamps_at_the_borders() {
        let l = axis_lerps(4, 8);
        assert_eq!((l[0].lo, l[0].hi, l[0].t), (0, 0, 0.75));
        assert_eq!((l[1].lo, l[1].hi, l[1].t), (0, 1, 0.25));
        assert_eq!((l[7].lo, l[7].hi), (3, 3));
    }
}
