//! Point-spread functions (PSFs) of a widefield fluorescence microscope, as images on
//! the camera's pixel grid (in sample-plane units), normalised to sum 1.
//!
//! Two models:
//!
//! - [`born_wolf_psf`]: the scalar Born-Wolf (Kirchhoff) diffraction integral over a
//!   circular pupil, with the paraxial defocus phase of Born & Wolf (as in the
//!   PSF Generator of Kirshner et al. 2013):
//!
//!   ```text
//!   h(r, z) = | integral_0^1 J0(k NA r rho) exp(-i k z NA^2 rho^2 / (2 n)) rho d rho |^2
//!   ```
//!
//!   with `k = 2 pi / lambda` (emission wavelength in vacuum), `n` the immersion
//!   refractive index, `r` the lateral distance and `z` the defocus, both in the
//!   sample. In focus this is the Airy pattern, first dark ring at `0.61 lambda / NA`.
//! - [`gaussian_psf`]: the Gaussian approximation of the in-focus widefield PSF, with
//!   `sigma = 0.21 lambda / NA` (Zhang, Zerubia, Olivo-Marin, Appl. Opt. 2007, the
//!   best paraxial fit).
//!
//! Both integrate the intensity over each pixel's area (an `oversampling x
//! oversampling` grid of points per pixel), since a camera pixel collects the light
//! falling anywhere on it. The PSF's centre is the pixel `(height / 2, width / 2)`,
//! the kernel convention of [`crate::classical::convolution`].

use ndarray::{Array2, ArrayView2};

use super::bessel::bessel_j0;
use super::quadrature::gauss_legendre_unit;
use crate::error::{Error, Result};

/// Largest PSF side accepted, in pixels.
pub const MAX_PSF_SIDE: usize = 1024;
/// Largest number of points per pixel side for the integration over the pixel.
pub const MAX_OVERSAMPLING: usize = 16;
/// Emission wavelengths accepted, nanometres (deep UV to far infrared).
pub const WAVELENGTH_RANGE_NM: (f64, f64) = (200.0, 2000.0);
/// Largest pixel size accepted, nanometres (0.1 mm in the sample).
pub const MAX_PIXEL_SIZE_NM: f64 = 100_000.0;
/// Largest distance from the focal plane accepted, nanometres (1 mm).
pub const MAX_DEFOCUS_NM: f64 = 1_000_000.0;
/// Largest number of Bessel-integrand and pixel-point evaluations a Born-Wolf PSF may
/// take (some seconds); finer sampling, larger images or deeper defocus are refused
/// rather than left to run for minutes.
pub const MAX_PSF_EVALUATIONS: f64 = 3e8;

/// `sigma = GAUSSIAN_SIGMA_FACTOR * lambda / NA` for [`gaussian_psf`].
pub const GAUSSIAN_SIGMA_FACTOR: f64 = 0.21;

/// The optics and the sampling of a widefield PSF.
#[derive(Debug, Clone, PartialEq)]
pub struct PsfParams {
    /// Numerical aperture of the objective, `0 < NA <= refractive_index`.
    pub numerical_aperture: f64,
    /// Emission wavelength in vacuum, nanometres.
    pub wavelength_nm: f64,
    /// Refractive index of the immersion medium (1.515 for oil), at least 1.
    pub refractive_index: f64,
    /// Side of a camera pixel projected into the sample plane, nanometres.
    pub pixel_size_nm: f64,
    /// Distance of the emitter from the focal plane, nanometres (0: in focus; the
    /// Born-Wolf model is symmetric in its sign).
    pub defocus_nm: f64,
    /// Width of the PSF image, pixels (odd sizes put the centre on a pixel's centre
    /// symmetrically).
    pub width: usize,
    /// Height of the PSF image, pixels.
    pub height: usize,
    /// Points per pixel side over which the intensity is averaged (1: the value at the
    /// pixel's centre).
    pub oversampling: usize,
}

impl Default for PsfParams {
    /// An oil objective of NA 1.4, green emission (520 nm), 65 nm pixels (a 100x
    /// objective on a 6.5 um camera), in focus, 65 x 65 pixels, 5 x 5 points per
    /// pixel.
    fn default() -> PsfParams {
        PsfParams {
            numerical_aperture: 1.4,
            wavelength_nm: 520.0,
            refractive_index: 1.515,
            pixel_size_nm: 65.0,
            defocus_nm: 0.0,
            width: 65,
            height: 65,
            oversampling: 5,
        }
    }
}

/// A parameter's value for a message: plain for everyday magnitudes, in exponent form
/// (`1e300`) for extreme ones rather than hundreds of digits.
fn shown(value: f64) -> String {
    if value != 0.0 && !(1e-3..1e7).contains(&value.abs()) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

fn positive_finite(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{name} must be a positive number, got {value}"
        )))
    }
}

impl PsfParams {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first parameter out of range and its value.
    pub fn validate(&self) -> Result<()> {
        positive_finite("the numerical aperture", self.numerical_aperture)?;
        positive_finite("the emission wavelength (nm)", self.wavelength_nm)?;
        positive_finite("the pixel size (nm)", self.pixel_size_nm)?;
        let (shortest, longest) = WAVELENGTH_RANGE_NM;
        if !(shortest..=longest).contains(&self.wavelength_nm) {
            return Err(Error::InvalidInput(format!(
                "the emission wavelength must be between {shortest} and {longest} nm, got {} nm",
                shown(self.wavelength_nm)
            )));
        }
        if self.pixel_size_nm > MAX_PIXEL_SIZE_NM {
            return Err(Error::InvalidInput(format!(
                "the pixel size must be at most {MAX_PIXEL_SIZE_NM} nm, got {} nm",
                shown(self.pixel_size_nm)
            )));
        }
        if !(self.refractive_index.is_finite() && self.refractive_index >= 1.0) {
            return Err(Error::InvalidInput(format!(
                "the immersion refractive index must be at least 1, got {}",
                self.refractive_index
            )));
        }
        if self.numerical_aperture > self.refractive_index {
            return Err(Error::InvalidInput(format!(
                "the numerical aperture ({}) cannot exceed the immersion refractive index ({})",
                self.numerical_aperture, self.refractive_index
            )));
        }
        if !(self.defocus_nm.is_finite() && self.defocus_nm.abs() <= MAX_DEFOCUS_NM) {
            return Err(Error::InvalidInput(format!(
                "the defocus must be a number of nanometres between -{MAX_DEFOCUS_NM} and \
                 {MAX_DEFOCUS_NM}, got {}",
                shown(self.defocus_nm)
            )));
        }
        for (name, side) in [("width", self.width), ("height", self.height)] {
            if side == 0 || side > MAX_PSF_SIDE {
                return Err(Error::InvalidInput(format!(
                    "the PSF {name} must be between 1 and {MAX_PSF_SIDE} pixels, got {side}"
                )));
            }
        }
        if self.oversampling == 0 || self.oversampling > MAX_OVERSAMPLING {
            return Err(Error::InvalidInput(format!(
                "the PSF oversampling must be between 1 and {MAX_OVERSAMPLING} points per pixel side, got {}",
                self.oversampling
            )));
        }
        let evaluations = self.born_wolf_evaluations();
        if evaluations > MAX_PSF_EVALUATIONS {
            return Err(Error::InvalidInput(format!(
                "this PSF would take about {evaluations:.1e} evaluations (at most \
                 {MAX_PSF_EVALUATIONS:.0e}): make it smaller, sample it less finely or bring \
                 it closer to focus (size {} x {}, oversampling {}, pixel {} nm, defocus {} nm)",
                self.width, self.height, self.oversampling, self.pixel_size_nm, self.defocus_nm
            )));
        }
        Ok(())
    }

    /// Gauss-Legendre nodes of the pupil integral: enough for the fastest oscillation
    /// of the integrand, plus a margin.
    fn pupil_nodes(&self) -> f64 {
        let k = 2.0 * std::f64::consts::PI / self.wavelength_nm;
        let na = self.numerical_aperture;
        // Phase of the defocus at the pupil's edge, and the largest Bessel argument.
        let defocus_phase = 0.5 * k * self.defocus_nm * na * na / self.refractive_index;
        let max_argument = k * na * self.max_radius_nm();
        (40.0 + 0.75 * (max_argument + defocus_phase.abs())).ceil()
    }

    /// Points of the tabulated radial profile.
    fn profile_points(&self) -> f64 {
        (self.max_radius_nm() / self.profile_step_nm()).ceil() + 2.0
    }

    /// Spacing of the tabulated radial profile, nanometres.
    fn profile_step_nm(&self) -> f64 {
        self.pixel_size_nm / (8 * self.oversampling) as f64
    }

    /// The evaluations [`born_wolf_psf`] makes: the integrand at every node and profile
    /// point, then the profile at every point averaged into a pixel.
    fn born_wolf_evaluations(&self) -> f64 {
        let points_per_pixel = (self.oversampling * self.oversampling) as f64;
        self.pupil_nodes() * self.profile_points()
            + (self.width * self.height) as f64 * points_per_pixel
    }

    /// Largest distance from the PSF's centre to a point integrated over, nanometres.
    fn max_radius_nm(&self) -> f64 {
        let half_height = (self.height / 2 + 1) as f64;
        let half_width = (self.width / 2 + 1) as f64;
        half_height.hypot(half_width) * self.pixel_size_nm
    }
}

/// The Born-Wolf PSF (see the module documentation), normalised to sum 1.
///
/// # Errors
/// [`Error::InvalidInput`] if a parameter is out of range (see [`PsfParams::validate`]).
pub fn born_wolf_psf(params: &PsfParams) -> Result<Array2<f32>> {
    params.validate()?;
    let profile = born_wolf_radial_profile(params);
    Ok(render_radial(params, |r| profile.at(r)))
}

/// The Gaussian approximation of the in-focus PSF, `sigma = 0.21 lambda / NA`,
/// normalised to sum 1.
///
/// # Errors
/// [`Error::InvalidInput`] if a parameter is out of range (see
/// [`PsfParams::validate`]), or if the defocus is not zero: the Gaussian model only
/// describes the in-focus PSF.
pub fn gaussian_psf(params: &PsfParams) -> Result<Array2<f32>> {
    params.validate()?;
    if params.defocus_nm != 0.0 {
        return Err(Error::InvalidInput(format!(
            "the Gaussian PSF model is for the in-focus plane only, got a defocus of {} nm (use the Born-Wolf model)",
            params.defocus_nm
        )));
    }
    let sigma = gaussian_sigma_nm(params);
    let scale = -0.5 / (sigma * sigma);
    Ok(render_radial(params, |r| (scale * r * r).exp()))
}

/// The Gaussian PSF's standard deviation in nanometres for `params`.
pub fn gaussian_sigma_nm(params: &PsfParams) -> f64 {
    GAUSSIAN_SIGMA_FACTOR * params.wavelength_nm / params.numerical_aperture
}

/// A measured or computed PSF image checked and scaled to sum 1, as the deconvolution
/// methods need it.
///
/// # Errors
/// [`Error::InvalidInput`] if the PSF is empty, holds a NaN, infinite or negative
/// value, or sums to zero.
pub fn normalize_psf(psf: ArrayView2<f32>) -> Result<Array2<f32>> {
    if psf.is_empty() {
        return Err(Error::InvalidInput("the PSF image is empty".into()));
    }
    super::convolution::check_finite(psf, "the PSF")?;
    if let Some(((y, x), v)) = psf.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(Error::InvalidInput(format!(
            "the PSF must not be negative, got {v} at row {y}, column {x} (subtract its background and clip at 0)"
        )));
    }
    let total: f64 = psf.iter().map(|&v| f64::from(v)).sum();
    if total <= 0.0 {
        return Err(Error::InvalidInput("the PSF sums to zero".into()));
    }
    Ok(psf.mapv(|v| (f64::from(v) / total) as f32))
}

/// A radial intensity profile tabulated on a fine regular grid, read by linear
/// interpolation.
struct RadialProfile {
    step_nm: f64,
    values: Vec<f64>,
}

impl RadialProfile {
    fn at(&self, r_nm: f64) -> f64 {
        let t = r_nm / self.step_nm;
        let i = t.floor() as usize;
        if i + 1 >= self.values.len() {
            return *self.values.last().expect("a profile has values");
        }
        let f = t - i as f64;
        self.values[i] * (1.0 - f) + self.values[i + 1] * f
    }
}

/// Tabulates the Born-Wolf intensity from the centre to past the PSF's corners, every
/// `pixel / (8 * oversampling)`, integrating over the pupil with Gauss-Legendre nodes
/// (enough for the fastest oscillation of the integrand, plus a margin).
fn born_wolf_radial_profile(params: &PsfParams) -> RadialProfile {
    let k = 2.0 * std::f64::consts::PI / params.wavelength_nm;
    let na = params.numerical_aperture;
    let defocus_phase = 0.5 * k * params.defocus_nm * na * na / params.refractive_index;
    let (rho, weights) = gauss_legendre_unit(params.pupil_nodes() as usize);
    let pupil: Vec<(f64, f64, f64)> = rho
        .iter()
        .zip(&weights)
        .map(|(&p, &w)| {
            let phase = -defocus_phase * p * p;
            (k * na * p, w * p * phase.cos(), w * p * phase.sin())
        })
        .collect();
    let step_nm = params.profile_step_nm();
    let count = params.profile_points() as usize;
    let values = (0..count)
        .map(|i| {
            let r = i as f64 * step_nm;
            let (mut re, mut im) = (0.0, 0.0);
            for &(frequency, wc, ws) in &pupil {
                let j0 = bessel_j0(frequency * r);
                re += j0 * wc;
                im += j0 * ws;
            }
            re * re + im * im
        })
        .collect();
    RadialProfile { step_nm, values }
}

/// The PSF image of a radially symmetric intensity `intensity(r_nm)`, averaged over
/// each pixel's area and normalised to sum 1.
fn render_radial(params: &PsfParams, intensity: impl Fn(f64) -> f64) -> Array2<f32> {
    let s = params.oversampling;
    let offsets: Vec<f64> = (0..s).map(|a| (a as f64 + 0.5) / s as f64 - 0.5).collect();
    let (cy, cx) = ((params.height / 2) as f64, (params.width / 2) as f64);
    let pixel = params.pixel_size_nm;
    let values = Array2::from_shape_fn((params.height, params.width), |(y, x)| {
        let mut sum = 0.0;
        for dy in &offsets {
            let py = (y as f64 - cy + dy) * pixel;
            for dx in &offsets {
                let px = (x as f64 - cx + dx) * pixel;
                sum += intensity(py.hypot(px));
            }
        }
        sum
    });
    let total: f64 = values.sum();
    values.mapv(|v| (v / total) as f32)
}
