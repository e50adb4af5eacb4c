//! The acquisition a training image is made under, drawn per image over the range of
//! microscopes users have: objective (NA 0.75 to 1.45, air, water, silicone or oil),
//! emission wavelength, camera pixel size (so that the PSF's FWHM spans 1.5 to 6
//! pixels: from finer than Nyquist to coarser), illumination (peak photons, background)
//! and an sCMOS camera (gain, offset with a per-pixel spread, read noise).
//!
//! [`Acquisition::record`] turns an expected photon image into 16-bit camera counts;
//! [`Acquisition::truth_counts`] puts a ground truth in photons into the same units
//! (what the camera would record of it, background included, without blur or noise),
//! so that a pair can be scaled by its input's transform.

use ndarray::{Array2, ArrayView2};

use super::camera::CameraParams;
use super::sampling::{poisson, standard_normal, uniform_in};
use crate::classical::psf::PsfParams;
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// FWHM of the in-focus widefield PSF in units of `wavelength / NA` (Airy pattern).
pub const FWHM_PER_WAVELENGTH_OVER_NA: f64 = 0.514;

/// Immersion media, with their refractive index; an objective of a given NA is drawn
/// among those whose index exceeds it by at least [`IMMERSION_MARGIN`].
pub const IMMERSION_MEDIA: [(&str, f64); 4] = [
    ("air", 1.0),
    ("water", 1.333),
    ("silicone", 1.406),
    ("oil", 1.515),
];

/// How much a medium's refractive index must exceed the NA of an objective using it.
pub const IMMERSION_MARGIN: f64 = 0.05;

/// The ranges each image draws its acquisition from, `(min, max)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AcquisitionRanges {
    /// Numerical aperture, uniform.
    pub numerical_aperture: (f64, f64),
    /// Emission wavelength, nanometres, uniform.
    pub wavelength_nm: (f64, f64),
    /// FWHM of the in-focus PSF in camera pixels, log-uniform: sets the pixel size.
    pub psf_fwhm_pixels: (f64, f64),
    /// Expected photons at the brightest pixel of the noiseless image (above the
    /// background), log-uniform.
    pub peak_photons: (f64, f64),
    /// Uniform background as a fraction of the peak photons, uniform.
    pub background_fraction: (f64, f64),
    /// Camera read noise, counts (standard deviation), uniform.
    pub read_noise: (f64, f64),
    /// Standard deviation of the camera's per-pixel offsets around its mean offset,
    /// counts, uniform (sCMOS fixed-pattern offset).
    pub offset_spread: (f64, f64),
    /// Counts per photon, uniform.
    pub gain: (f64, f64),
    /// Mean camera offset, counts.
    pub offset: f64,
}

impl Default for AcquisitionRanges {
    /// NA 0.75-1.45, emission 450-650 nm, PSF FWHM 1.5-6 pixels, 5-20000 photons at
    /// the peak over a background of 0-30 % of it, read noise 1-3 counts, per-pixel
    /// offsets spread by 0-3 counts, gain 0.5-2 counts per photon, offset 100.
    fn default() -> AcquisitionRanges {
        AcquisitionRanges {
            numerical_aperture: (0.75, 1.45),
            wavelength_nm: (450.0, 650.0),
            psf_fwhm_pixels: (1.5, 6.0),
            peak_photons: (5.0, 20_000.0),
            background_fraction: (0.0, 0.3),
            read_noise: (1.0, 3.0),
            offset_spread: (0.0, 3.0),
            gain: (0.5, 2.0),
            offset: 100.0,
        }
    }
}

fn check(name: &str, (lo, hi): (f64, f64), positive: bool) -> Result<()> {
    let low_ok = if positive { lo > 0.0 } else { lo >= 0.0 };
    if lo.is_finite() && hi.is_finite() && low_ok && lo <= hi {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "the {name} range ({lo}, {hi}) is out of range: it needs finite values, min <= max, \
             and min {}",
            if positive { "> 0" } else { ">= 0" }
        )))
    }
}

impl AcquisitionRanges {
    /// Checks every range.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first range that is out of range.
    pub fn validate(&self) -> Result<()> {
        check("numerical aperture", self.numerical_aperture, true)?;
        let max_index = IMMERSION_MEDIA[IMMERSION_MEDIA.len() - 1].1;
        if self.numerical_aperture.1 > max_index - IMMERSION_MARGIN {
            return Err(Error::InvalidInput(format!(
                "the largest numerical aperture ({}) exceeds what oil immersion allows ({})",
                self.numerical_aperture.1,
                max_index - IMMERSION_MARGIN
            )));
        }
        check("emission wavelength (nm)", self.wavelength_nm, true)?;
        check("PSF FWHM (pixels)", self.psf_fwhm_pixels, true)?;
        check("peak photons", self.peak_photons, true)?;
        check("background fraction", self.background_fraction, false)?;
        check("read noise (counts)", self.read_noise, false)?;
        check(
            "per-pixel offset spread (counts)",
            self.offset_spread,
            false,
        )?;
        check("gain (counts per photon)", self.gain, true)?;
        CameraParams {
            offset: self.offset,
            gain: 1.0,
            read_noise: 0.0,
        }
        .validate()
    }

    /// Draws one acquisition; its PSF parameters are in focus and `psf_size` pixels
    /// square.
    pub fn draw(&self, psf_size: usize, rng: &mut SplitMix64) -> Acquisition {
        let numerical_aperture = uniform_in(rng, self.numerical_aperture);
        let media: Vec<f64> = IMMERSION_MEDIA
            .iter()
            .map(|&(_, n)| n)
            .filter(|&n| n >= numerical_aperture + IMMERSION_MARGIN)
            .collect();
        let refractive_index = media[(rng.next_u64() % media.len() as u64) as usize];
        let wavelength_nm = uniform_in(rng, self.wavelength_nm);
        let fwhm_pixels = log_uniform(rng, self.psf_fwhm_pixels);
        let fwhm_nm = FWHM_PER_WAVELENGTH_OVER_NA * wavelength_nm / numerical_aperture;
        let peak_photons = log_uniform(rng, self.peak_photons);
        let background_photons = peak_photons * uniform_in(rng, self.background_fraction);
        Acquisition {
            psf: PsfParams {
                numerical_aperture,
                wavelength_nm,
                refractive_index,
                pixel_size_nm: fwhm_nm / fwhm_pixels,
                defocus_nm: 0.0,
                width: psf_size,
                height: psf_size,
                oversampling: 3,
            },
            peak_photons,
            background_photons,
            camera: CameraParams {
                offset: self.offset,
                gain: uniform_in(rng, self.gain),
                read_noise: uniform_in(rng, self.read_noise),
            },
            offset_spread: uniform_in(rng, self.offset_spread),
        }
    }

    /// The ranges as text, for a model's metadata.
    pub fn description(&self) -> String {
        format!(
            "NA {:?} (air/water/silicone/oil, index >= NA + {IMMERSION_MARGIN}), emission {:?} nm, \
             PSF FWHM {:?} px log-uniform, peak photons {:?} log-uniform, background {:?} x peak, \
             read noise {:?} counts, per-pixel offset spread {:?} counts, gain {:?}, offset {}",
            self.numerical_aperture,
            self.wavelength_nm,
            self.psf_fwhm_pixels,
            self.peak_photons,
            self.background_fraction,
            self.read_noise,
            self.offset_spread,
            self.gain,
            self.offset
        )
    }
}

/// A value drawn log-uniformly in `(lo, hi)` (both positive).
pub(crate) fn log_uniform(rng: &mut SplitMix64, (lo, hi): (f64, f64)) -> f64 {
    uniform_in(rng, (lo.ln(), hi.ln())).exp()
}

/// One image's acquisition.
#[derive(Debug, Clone, PartialEq)]
pub struct Acquisition {
    /// The in-focus PSF (objective, medium, emission, pixel size).
    pub psf: PsfParams,
    /// Expected photons at the brightest pixel of the noiseless image, above the
    /// background.
    pub peak_photons: f64,
    /// Uniform background, photons per pixel.
    pub background_photons: f64,
    /// The camera (its `offset` is the mean offset).
    pub camera: CameraParams,
    /// Standard deviation of the per-pixel offsets, counts.
    pub offset_spread: f64,
}

impl Acquisition {
    /// The camera's image of `expected_photons` (mean photons per pixel, background
    /// included): Poisson photon noise, gain, per-pixel offset, read noise, rounded and
    /// clipped to 16 bits; noise drawn from `rng` in row-major order.
    pub fn record(&self, expected_photons: ArrayView2<f32>, rng: &mut SplitMix64) -> Array2<u16> {
        let c = &self.camera;
        let mut counts = Array2::zeros(expected_photons.dim());
        for (out, &photons) in counts.iter_mut().zip(expected_photons.iter()) {
            let detected = poisson(rng, f64::from(photons.max(0.0))) as f64;
            let offset = c.offset + self.offset_spread * standard_normal(rng);
            let value = c.gain * detected + offset + c.read_noise * standard_normal(rng);
            *out = value.round().clamp(0.0, f64::from(u16::MAX)) as u16;
        }
        counts
    }

    /// A ground truth in photons per pixel in the camera's units: `gain x (photons +
    /// background) + offset`, the mean count the camera would record of it. The uniform
    /// background is light of the specimen (autofluorescence, unbound dye), not blur:
    /// the truth keeps it, so that a model learns to remove out-of-focus light, never
    /// to guess and subtract a level (which deletes dim structure where nothing is
    /// empty).
    pub fn truth_counts(&self, truth_photons: ArrayView2<f32>) -> Array2<f32> {
        let c = &self.camera;
        let background = self.background_photons;
        truth_photons.mapv(|v| (c.gain * (f64::from(v) + background) + c.offset) as f32)
    }
}
