//! Imaging a fine-grid object through the microscope onto the camera grid.
//!
//! A camera pixel `n` collects `sum_m o[m] / s^2 * h_pix(n - x_m)`, where `o` is the
//! object on a grid `s` times finer than the camera's, `x_m` the fine points'
//! positions in camera pixels and `h_pix` the PSF integrated over a pixel. Because
//! `h_pix` is band-limited below the camera's Nyquist frequency (checked by
//! [`super::SimulationParams::validate`]), its shift by a fraction of a pixel is a
//! phase ramp, and the camera image's spectrum is exactly
//!
//! ```text
//! C[k] = H_pix[k] * exp(-2 pi i k c / N) * O_fine[k] / s^2,   c = (1 - s) / (2 s)
//! ```
//!
//! for the camera's frequencies `k` (signed, below Nyquist), `O_fine` the fine grid's
//! DFT. So each layer costs one FFT of the fine grid, and no detail finer than a
//! camera pixel is lost or aliased before the optics blur it. The field is periodic:
//! the caller adds a margin of half a PSF and crops it.

use ndarray::{Array2, ArrayView2};
use rustfft::num_complex::Complex64;

use crate::classical::convolution::kernel_spectrum;
use crate::classical::fft::Fft2d;
use crate::error::Result;

/// Sums the camera-grid spectra of layers, then turns them into an image.
pub(crate) struct CameraImager {
    oversampling: usize,
    camera: Fft2d,
    fine: Fft2d,
    spectrum: Vec<Complex64>,
    fine_buffer: Vec<Complex64>,
}

/// Index in `0..n` of the signed frequency `k`.
fn wrap(k: isize, n: usize) -> usize {
    k.rem_euclid(n as isize) as usize
}

impl CameraImager {
    /// An imager for a `height x width` camera field and objects `oversampling` times
    /// finer.
    pub(crate) fn new(height: usize, width: usize, oversampling: usize) -> Result<CameraImager> {
        let camera = Fft2d::new(height, width)?;
        let fine = Fft2d::new(height * oversampling, width * oversampling)?;
        Ok(CameraImager {
            oversampling,
            spectrum: vec![Complex64::new(0.0, 0.0); camera.plane_len()],
            fine_buffer: vec![Complex64::new(0.0, 0.0); fine.plane_len()],
            camera,
            fine,
        })
    }

    /// Adds the image of `object` (the fine grid, `oversampling` times the field)
    /// through `psf` (pixel-integrated, camera grid, sum 1).
    pub(crate) fn add_layer(&mut self, object: ArrayView2<f32>, psf: ArrayView2<f32>) {
        let otf = kernel_spectrum(psf, &mut self.camera);
        for (b, &v) in self.fine_buffer.iter_mut().zip(object.iter()) {
            *b = Complex64::new(f64::from(v), 0.0);
        }
        self.fine.forward(&mut self.fine_buffer);
        let s = self.oversampling;
        let (h, w) = (self.camera.height(), self.camera.width());
        let (fh, fw) = (self.fine.height(), self.fine.width());
        let shift = (1.0 - s as f64) / (2.0 * s as f64);
        let norm = 1.0 / (s * s) as f64;
        let ramp = |k: isize, n: usize| {
            Complex64::from_polar(
                1.0,
                -2.0 * std::f64::consts::PI * k as f64 * shift / n as f64,
            )
        };
        // Signed frequencies strictly below Nyquist: -(n-1)/2 ..= (n-1)/2.
        let range = |n: usize| -(((n - 1) / 2) as isize)..=((n - 1) / 2) as isize;
        for ky in range(h) {
            let ramp_y = ramp(ky, h);
            let (cy, fy) = (wrap(ky, h), wrap(ky, fh));
            for kx in range(w) {
                let (cx, fx) = (wrap(kx, w), wrap(kx, fw));
                let phase = ramp_y * ramp(kx, w);
                self.spectrum[cy * w + cx] +=
                    otf[cy * w + cx] * phase * self.fine_buffer[fy * fw + fx] * norm;
            }
        }
    }

    /// The image of all layers added, and a fresh start for the next.
    pub(crate) fn take_image(&mut self) -> Array2<f32> {
        self.camera.inverse(&mut self.spectrum);
        let (h, w) = (self.camera.height(), self.camera.width());
        let image = Array2::from_shape_fn((h, w), |(y, x)| self.spectrum[y * w + x].re as f32);
        self.spectrum.fill(Complex64::new(0.0, 0.0));
        image
    }
}
