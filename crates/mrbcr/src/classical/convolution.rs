//! 2-D convolution of real images with a fixed kernel, by FFT, plus the direct
//! definition it is tested against.
//!
//! Convention (shared by every module of [`crate::classical`]): a kernel of
//! `kh x kw` values has its centre at `(kh / 2, kw / 2)`, and the convolution of an
//! image `f` with it is
//!
//! ```text
//! g(y, x) = sum over (i, j) of k(i, j) * f(y + kh/2 - i, x + kw/2 - j)
//! ```
//!
//! The output has the image's size. Pixels outside the image are, by
//! [`ConvolutionMode`], either the image repeated periodically or zero.

use ndarray::{Array2, ArrayView2};
use rustfft::num_complex::Complex64;

use super::fft::{fast_fft_len, Fft2d};
use crate::error::{Error, Result};

/// What the convolution takes for pixels outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvolutionMode {
    /// The image repeats periodically (circular convolution, FFT of the image's size).
    Circular,
    /// Zero outside the image (linear convolution; the FFT is padded to at least
    /// image + kernel - 1 in each direction, so nothing wraps around).
    Linear,
}

/// Checks that every value of `values` is finite; `what` names them in the error.
pub fn check_finite(values: ArrayView2<f32>, what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let (y, x) = (i / values.ncols(), i % values.ncols());
            Err(Error::InvalidInput(format!(
                "{what} holds a non-finite value ({}) at row {y}, column {x}",
                values[(y, x)]
            )))
        }
    }
}

/// The spectrum of `kernel` on the grid of `fft`, the kernel's centre at the origin
/// and its values wrapped around periodically where it is larger than the grid. For a
/// point-spread function this is the optical transfer function (OTF).
pub(crate) fn kernel_spectrum(kernel: ArrayView2<f32>, fft: &mut Fft2d) -> Vec<Complex64> {
    let (height, width) = (fft.height(), fft.width());
    let (cy, cx) = (kernel.nrows() / 2, kernel.ncols() / 2);
    let mut spectrum = vec![Complex64::new(0.0, 0.0); height * width];
    for ((i, j), &v) in kernel.indexed_iter() {
        let y = (i + height - cy % height) % height;
        let x = (j + width - cx % width) % width;
        spectrum[y * width + x].re += f64::from(v);
    }
    fft.forward(&mut spectrum);
    spectrum
}

/// Convolution with one kernel for images of one size: the FFT plans, the kernel's
/// spectrum and the scratch memory are made once, then every call only transforms the
/// image.
#[derive(Debug)]
pub struct Convolver {
    height: usize,
    width: usize,
    fft: Fft2d,
    spectrum: Vec<Complex64>,
    buffer: Vec<Complex64>,
}

impl Convolver {
    /// Prepares the convolution of `height x width` images with `kernel`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the kernel or the image size is empty, or the kernel
    /// holds NaN or infinite values.
    pub fn new(
        kernel: ArrayView2<f32>,
        height: usize,
        width: usize,
        mode: ConvolutionMode,
    ) -> Result<Convolver> {
        if kernel.is_empty() {
            return Err(Error::InvalidInput(
                "the convolution kernel is empty".into(),
            ));
        }
        if height == 0 || width == 0 {
            return Err(Error::InvalidInput(format!(
                "cannot convolve an empty image ({height} x {width})"
            )));
        }
        check_finite(kernel, "the convolution kernel")?;
        let (fft_height, fft_width) = match mode {
            ConvolutionMode::Circular => (height, width),
            ConvolutionMode::Linear => (
                fast_fft_len(height + kernel.nrows() - 1),
                fast_fft_len(width + kernel.ncols() - 1),
            ),
        };
        let mut fft = Fft2d::new(fft_height, fft_width)?;
        let spectrum = kernel_spectrum(kernel, &mut fft);
        Ok(Convolver {
            height,
            width,
            buffer: vec![Complex64::new(0.0, 0.0); fft.plane_len()],
            fft,
            spectrum,
        })
    }

    /// The image convolved with the kernel.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the image does not have the size the convolver was
    /// made for, or holds NaN or infinite values.
    pub fn convolve(&mut self, image: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.apply_to_image(image, false)
    }

    /// The image correlated with the kernel: the adjoint of [`Convolver::convolve`]
    /// (the convolution with the kernel flipped about its centre, for odd sizes).
    ///
    /// # Errors
    /// As [`Convolver::convolve`].
    pub fn correlate(&mut self, image: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.apply_to_image(image, true)
    }

    fn apply_to_image(&mut self, image: ArrayView2<f32>, adjoint: bool) -> Result<Array2<f32>> {
        if image.dim() != (self.height, self.width) {
            return Err(Error::InvalidInput(format!(
                "image of {} x {} given to a convolution prepared for {} x {}",
                image.nrows(),
                image.ncols(),
                self.height,
                self.width
            )));
        }
        check_finite(image, "the image")?;
        let input: Vec<f64> = image.iter().map(|&v| f64::from(v)).collect();
        let mut output = vec![0.0; input.len()];
        self.apply(&input, &mut output, adjoint);
        Ok(Array2::from_shape_vec(
            (self.height, self.width),
            output.into_iter().map(|v| v as f32).collect(),
        )
        .expect("the output has the image's shape"))
    }

    /// Convolves (or, with `adjoint`, correlates) the row-major `height x width`
    /// values of `input` into `output`.
    pub(crate) fn apply(&mut self, input: &[f64], output: &mut [f64], adjoint: bool) {
        let fft_width = self.fft.width();
        self.buffer.fill(Complex64::new(0.0, 0.0));
        for (y, row) in input.chunks_exact(self.width).enumerate() {
            let dst = &mut self.buffer[y * fft_width..y * fft_width + self.width];
            for (d, &v) in dst.iter_mut().zip(row) {
                d.re = v;
            }
        }
        self.fft.forward(&mut self.buffer);
        for (b, s) in self.buffer.iter_mut().zip(&self.spectrum) {
            *b *= if adjoint { s.conj() } else { *s };
        }
        self.fft.inverse(&mut self.buffer);
        for (y, row) in output.chunks_exact_mut(self.width).enumerate() {
            let src = &self.buffer[y * fft_width..y * fft_width + self.width];
            for (o, s) in row.iter_mut().zip(src) {
                *o = s.re;
            }
        }
    }
}

/// Convolution computed from its definition (see the module documentation), in
/// `f64`: slow, `O(image * kernel)`, the reference the FFT path is tested against.
pub fn convolve_direct(
    image: ArrayView2<f32>,
    kernel: ArrayView2<f32>,
    mode: ConvolutionMode,
) -> Array2<f32> {
    let (h, w) = image.dim();
    let (cy, cx) = (kernel.nrows() / 2, kernel.ncols() / 2);
    Array2::from_shape_fn((h, w), |(y, x)| {
        let mut sum = 0.0f64;
        for ((i, j), &k) in kernel.indexed_iter() {
            let sy = y as isize + cy as isize - i as isize;
            let sx = x as isize + cx as isize - j as isize;
            let value = match mode {
                ConvolutionMode::Circular => {
                    image[(
                        sy.rem_euclid(h as isize) as usize,
                        sx.rem_euclid(w as isize) as usize,
                    )]
                }
                ConvolutionMode::Linear => {
                    if sy < 0 || sx < 0 || sy >= h as isize || sx >= w as isize {
                        continue;
                    }
                    image[(sy as usize, sx as usize)]
                }
            };
            sum += f64::from(k) * f64::from(value);
        }
        sum as f32
    })
}
