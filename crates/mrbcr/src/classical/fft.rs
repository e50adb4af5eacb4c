//! Two-dimensional complex FFTs of one size, planned once and reused.
//!
//! An [`Fft2d`] holds the row and column plans of `rustfft` for one `height x width`
//! and the scratch memory they need, so that the many transforms of an iterative
//! deconvolution allocate nothing. Data are row-major `height * width` slices of
//! [`Complex64`]; spectra use the same layout, frequency index `(ky, kx)` at
//! `ky * width + kx`.

use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{Error, Result};

/// Largest side accepted for a transform (a 65536 x 65536 plane of complex values
/// would already need 64 GiB).
pub const MAX_FFT_SIDE: usize = 1 << 16;

/// Planned forward and inverse 2-D FFTs of one size, with their scratch memory.
pub struct Fft2d {
    height: usize,
    width: usize,
    row_forward: Arc<dyn Fft<f64>>,
    row_inverse: Arc<dyn Fft<f64>>,
    column_forward: Arc<dyn Fft<f64>>,
    column_inverse: Arc<dyn Fft<f64>>,
    scratch: Vec<Complex64>,
    transposed: Vec<Complex64>,
}

impl std::fmt::Debug for Fft2d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft2d({} x {})", self.height, self.width)
    }
}

impl Fft2d {
    /// Plans the transforms of `height x width` planes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if a side is zero or larger than [`MAX_FFT_SIDE`].
    pub fn new(height: usize, width: usize) -> Result<Fft2d> {
        for (name, side) in [("height", height), ("width", width)] {
            if side == 0 || side > MAX_FFT_SIDE {
                return Err(Error::InvalidInput(format!(
                    "FFT {name} must be between 1 and {MAX_FFT_SIDE}, got {side}"
                )));
            }
        }
        let mut planner = FftPlanner::new();
        let row_forward = planner.plan_fft_forward(width);
        let row_inverse = planner.plan_fft_inverse(width);
        let column_forward = planner.plan_fft_forward(height);
        let column_inverse = planner.plan_fft_inverse(height);
        let scratch_len = [&row_forward, &row_inverse, &column_forward, &column_inverse]
            .iter()
            .map(|p| p.get_inplace_scratch_len())
            .max()
            .unwrap_or(0);
        Ok(Fft2d {
            height,
            width,
            row_forward,
            row_inverse,
            column_forward,
            column_inverse,
            scratch: vec![Complex64::new(0.0, 0.0); scratch_len],
            transposed: vec![Complex64::new(0.0, 0.0); height * width],
        })
    }

    /// Height of the planes transformed.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width of the planes transformed.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of values of a plane (`height * width`).
    pub fn plane_len(&self) -> usize {
        self.height * self.width
    }

    /// Forward transform in place, unnormalised: `X[k] = sum_n x[n] e^{-2 pi i k.n / N}`.
    ///
    /// # Panics
    /// If `data.len()` is not `height * width` (a programming error, not bad input).
    pub fn forward(&mut self, data: &mut [Complex64]) {
        self.transform(data, true);
    }

    /// Inverse transform in place, normalised by `1 / (height * width)`, so that
    /// `inverse(forward(x)) == x` up to rounding.
    ///
    /// # Panics
    /// If `data.len()` is not `height * width` (a programming error, not bad input).
    pub fn inverse(&mut self, data: &mut [Complex64]) {
        self.transform(data, false);
        let scale = 1.0 / (self.height * self.width) as f64;
        for v in data.iter_mut() {
            *v *= scale;
        }
    }

    fn transform(&mut self, data: &mut [Complex64], forward: bool) {
        assert_eq!(data.len(), self.plane_len(), "FFT buffer of the wrong size");
        let (rows, columns) = if forward {
            (&self.row_forward, &self.column_forward)
        } else {
            (&self.row_inverse, &self.column_inverse)
        };
        rows.process_with_scratch(data, &mut self.scratch);
        transpose(data, &mut self.transposed, self.height, self.width);
        columns.process_with_scratch(&mut self.transposed, &mut self.scratch);
        transpose(&self.transposed, data, self.width, self.height);
    }
}

/// Writes the transpose of the `rows x columns` matrix `from` into `to`, in cache-sized
/// blocks.
fn transpose(from: &[Complex64], to: &mut [Complex64], rows: usize, columns: usize) {
    const BLOCK: usize = 32;
    for r0 in (0..rows).step_by(BLOCK) {
        for c0 in (0..columns).step_by(BLOCK) {
            for r in r0..(r0 + BLOCK).min(rows) {
                for c in c0..(c0 + BLOCK).min(columns) {
                    to[c * rows + r] = from[r * columns + c];
                }
            }
        }
    }
}

/// The smallest `m >= n` whose only prime factors are 2, 3, 5 and 7: sizes that
/// `rustfft` transforms fastest. Returns `n` itself for `n <= 1`.
pub fn fast_fft_len(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut rest = m;
        for p in [2, 3, 5, 7] {
            while rest.is_multiple_of(p) {
                rest /= p;
            }
        }
        if rest == 1 {
            return m;
        }
        m += 1;
    }
}
