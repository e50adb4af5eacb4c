//! Edge handling of the deconvolution methods: mirrored margins, blended where they
//! meet.
//!
//! FFT deconvolution treats the image as periodic, so a jump between its opposite
//! edges would ring through the whole result. Before deconvolving, the image is
//! therefore extended on every side, then cropped back afterwards:
//!
//! - next to each edge, by its mirror image (half-sample symmetric: the edge pixel is
//!   repeated, `... c b a | a b c ...`), over the PSF's size, so the data
//!   stay continuous across the edge and consistent with the blur of a mirrored
//!   object;
//! - in the middle of the margin (where the plane wraps around from one edge to the
//!   opposite one), the two mirror images are cross-faded with a raised-cosine
//!   weight, over at least the PSF's size, so the padded plane has no jump anywhere.
//!
//! The padded size is rounded up to a fast FFT length. Rows are extended first, then
//! columns. Where a margin exceeds the image, the reflection repeats.

use ndarray::{Array2, ArrayView2};

use super::fft::fast_fft_len;

/// Index into `0..n` of position `i` (any integer) of the half-sample symmetric
/// extension of a line of `n` values.
fn mirror_index(i: isize, n: usize) -> usize {
    let period = 2 * n as isize;
    let m = i.rem_euclid(period);
    if m < n as isize {
        m as usize
    } else {
        (period - 1 - m) as usize
    }
}

/// How one axis of `len` values is extended to `padded` values, the image starting
/// at `start`, with pure mirror bands of `mirror` values next to each edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AxisPadding {
    len: usize,
    padded: usize,
    start: usize,
    mirror: usize,
}

impl AxisPadding {
    fn new(len: usize, kernel: usize) -> AxisPadding {
        let mirror = kernel.max(1);
        let padded = fast_fft_len(len + 3 * mirror);
        AxisPadding {
            len,
            padded,
            start: mirror,
            mirror,
        }
    }

    /// Writes the extension of `line` (`len` values, every `stride`-th of `source`
    /// from `offset`) into `out` (`padded` values).
    fn extend(&self, source: &[f64], offset: usize, stride: usize, out: &mut [f64]) {
        let at = |i: isize| source[offset + mirror_index(i, self.len) * stride];
        let margin = self.padded - self.len;
        let blend = (margin - 2 * self.mirror) as f64;
        for (i, o) in out.iter_mut().enumerate() {
            let t = (i + self.padded - self.start) % self.padded;
            if t < self.len {
                *o = source[offset + t * stride];
                continue;
            }
            // d: distance past the last value; the first value lies margin - d ahead.
            let d = t - self.len;
            let after_end = at((self.len + d) as isize);
            let before_start = at(d as isize - margin as isize);
            let weight = if d < self.mirror {
                0.0
            } else if d >= margin - self.mirror {
                1.0
            } else {
                let phase = (d - self.mirror) as f64 + 0.5;
                0.5 - 0.5 * (std::f64::consts::PI * phase / blend).cos()
            };
            *o = (1.0 - weight) * after_end + weight * before_start;
        }
    }
}

/// The geometry of an image extended by mirrored, blended margins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MirrorPadding {
    rows: AxisPadding,
    columns: AxisPadding,
}

impl MirrorPadding {
    /// Padding of a `height x width` image for a `kernel_height x kernel_width` PSF:
    /// mirror bands of the PSF's size next to each edge, a blend of at least the
    /// PSF's size between them, the padded size rounded up to a fast FFT length.
    pub(crate) fn for_kernel(
        height: usize,
        width: usize,
        kernel_height: usize,
        kernel_width: usize,
    ) -> MirrorPadding {
        MirrorPadding {
            rows: AxisPadding::new(height, kernel_height),
            columns: AxisPadding::new(width, kernel_width),
        }
    }

    /// Height of the padded plane.
    pub(crate) fn padded_height(&self) -> usize {
        self.rows.padded
    }

    /// Width of the padded plane.
    pub(crate) fn padded_width(&self) -> usize {
        self.columns.padded
    }

    /// The padded plane, row-major, from the image's values mapped by `value`.
    pub(crate) fn pad(&self, image: ArrayView2<f32>, value: impl Fn(f32) -> f64) -> Vec<f64> {
        let (height, width) = (self.rows.len, self.columns.len);
        let (padded_height, padded_width) = (self.rows.padded, self.columns.padded);
        let values: Vec<f64> = image.iter().map(|&v| value(v)).collect();
        let mut wide = vec![0.0; height * padded_width];
        for (y, out) in wide.chunks_exact_mut(padded_width).enumerate() {
            self.columns.extend(&values, y * width, 1, out);
        }
        let mut padded = vec![0.0; padded_height * padded_width];
        let mut column = vec![0.0; padded_height];
        for x in 0..padded_width {
            self.rows.extend(&wide, x, padded_width, &mut column);
            for (y, &v) in column.iter().enumerate() {
                padded[y * padded_width + x] = v;
            }
        }
        padded
    }

    /// The image's part of a padded plane.
    pub(crate) fn crop(&self, padded: &[f64]) -> Array2<f32> {
        let (top, left) = (self.rows.start, self.columns.start);
        let padded_width = self.columns.padded;
        Array2::from_shape_fn((self.rows.len, self.columns.len), |(y, x)| {
            padded[(y + top) * padded_width + x + left] as f32
        })
    }
}
