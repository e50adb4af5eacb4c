//! Widefield imaging of a [`VolumeGrid`]: each folded plane convolved with the
//! Born-Wolf PSF at its defocus, summed, gives the image at the focal plane.
//!
//! The planes hold each pixel's area average of the density, so the PSFs are
//! sampled at the pixel centres (the pixel integration is already in the object:
//! `(o * box) * h = (o * h) * box`). Each PSF is as large as its defocus needs: the
//! geometric blur of the paraxial Born-Wolf model has radius `|z| NA / n`, plus
//! four FWHMs for the diffraction rings.
//!
//! The convolution is circular by FFT on the whole field; the caller crops a margin
//! of half the largest PSF, so no wrapped-around light reaches the image kept. Two
//! real planes share one complex FFT (`a + i b`), and so do two PSFs, whose spectra
//! are real because the PSFs are even: one forward FFT per two planes, one per two
//! PSFs and one inverse FFT in all.

use ndarray::Array2;
use rustfft::num_complex::Complex64;

use super::super::acquisition::FWHM_PER_WAVELENGTH_OVER_NA;
use super::grid::VolumeGrid;
use crate::classical::fft::Fft2d;
use crate::classical::psf::{born_wolf_psf, PsfParams, MAX_PSF_SIDE};
use crate::error::Result;

/// The first zero of the widefield PSF along the optical axis, `2 lambda n / NA^2`,
/// nanometres: the axial resolution the plane spacing is a fraction of.
pub(crate) fn axial_resolution_nm(psf: &PsfParams) -> f64 {
    2.0 * psf.wavelength_nm * psf.refractive_index / psf.numerical_aperture.powi(2)
}

/// The side (odd, pixels) of a PSF at `defocus_nm` that holds its geometric blur
/// and four FWHMs beyond, at least `minimum` and at most the largest odd side
/// accepted.
pub(crate) fn psf_side_for(psf: &PsfParams, defocus_nm: f64, minimum: usize) -> usize {
    let fwhm_pixels = FWHM_PER_WAVELENGTH_OVER_NA * psf.wavelength_nm
        / psf.numerical_aperture
        / psf.pixel_size_nm;
    let blur_pixels =
        defocus_nm.abs() * psf.numerical_aperture / psf.refractive_index / psf.pixel_size_nm;
    let half = (blur_pixels + 4.0 * fwhm_pixels).ceil() as usize;
    (2 * half + 1).max(minimum | 1).min((MAX_PSF_SIDE - 1) | 1)
}

/// Index in `0..n` of `-i` modulo `n`.
fn mirrored(i: usize, n: usize) -> usize {
    (n - i) % n
}

/// The image at the focal plane of every plane of `grid` (the whole field, not
/// cropped), through the PSF of `in_focus` (its defocus and sizes are replaced per
/// plane; each side is at least `minimum_psf_side`). The field must be at least as
/// large as the PSF of the farthest plane (the caller's margin makes it so).
///
/// # Errors
/// [`crate::Error::InvalidInput`] if the PSF parameters or the field size are out of
/// range.
pub(crate) fn widefield_image(
    grid: &VolumeGrid,
    in_focus: &PsfParams,
    minimum_psf_side: usize,
) -> Result<Array2<f32>> {
    let (h, w) = (grid.rows, grid.cols);
    let mut fft = Fft2d::new(h, w)?;
    let zero = Complex64::new(0.0, 0.0);
    let mut sum = vec![zero; h * w];
    let mut objects = vec![zero; h * w];
    let mut kernels = vec![zero; h * w];
    let planes = grid.folded.len();
    for first in (0..planes).step_by(2) {
        let pair = [Some(first), (first + 1 < planes).then_some(first + 1)];
        objects.fill(zero);
        kernels.fill(zero);
        for (part, plane) in pair.iter().enumerate() {
            let Some(d) = *plane else { continue };
            for (o, &v) in objects.iter_mut().zip(grid.folded[d].iter()) {
                if part == 0 {
                    o.re = f64::from(v);
                } else {
                    o.im = f64::from(v);
                }
            }
            let defocus = d as f64 * grid.plane_spacing_nm;
            let side = psf_side_for(in_focus, defocus, minimum_psf_side);
            let psf = born_wolf_psf(&PsfParams {
                defocus_nm: defocus,
                width: side,
                height: side,
                oversampling: 1,
                ..in_focus.clone()
            })?;
            let centre = side / 2;
            for ((i, j), &v) in psf.indexed_iter() {
                let y = (i + h - centre) % h;
                let x = (j + w - centre) % w;
                let k = &mut kernels[y * w + x];
                if part == 0 {
                    k.re += f64::from(v);
                } else {
                    k.im += f64::from(v);
                }
            }
        }
        fft.forward(&mut objects);
        fft.forward(&mut kernels);
        for ky in 0..h {
            let my = mirrored(ky, h);
            for kx in 0..w {
                let index = ky * w + kx;
                let x = objects[index];
                let x_mirror = objects[my * w + mirrored(kx, w)].conj();
                // Spectra of the two planes, and of the two (even, real) PSFs.
                let first_plane = (x + x_mirror) * 0.5;
                let second_plane = (x - x_mirror) * Complex64::new(0.0, -0.5);
                let (first_otf, second_otf) = (kernels[index].re, kernels[index].im);
                sum[index] += first_plane * first_otf + second_plane * second_otf;
            }
        }
    }
    fft.inverse(&mut sum);
    Ok(Array2::from_shape_fn((h, w), |(y, x)| {
        sum[y * w + x].re as f32
    }))
}
