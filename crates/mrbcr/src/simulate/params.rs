//! Every setting of the simulator, with defaults for a high-NA widefield microscope
//! and an sCMOS camera. Ranges are `(min, max)`; each image draws its own value in
//! them.

use super::camera::CameraParams;
use crate::error::{Error, Result};

/// How many structures of each kind a layer holds, each drawn in its `(min, max)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StructureCounts {
    /// Filaments: random smooth curves (microtubules, actin).
    pub filaments: (usize, usize),
    /// Puncta and vesicles: small spots, filled or hollow.
    pub puncta: (usize, usize),
    /// Membranes: closed, slightly irregular rings.
    pub rings: (usize, usize),
    /// Textured blobs: soft-edged regions filled with a random texture (nuclei,
    /// cytoplasm).
    pub blobs: (usize, usize),
}

impl Default for StructureCounts {
    /// 2-10 filaments, 0-60 puncta, 0-4 rings, 0-3 blobs per 256 x 256 image.
    fn default() -> StructureCounts {
        StructureCounts {
            filaments: (2, 10),
            puncta: (0, 60),
            rings: (0, 4),
            blobs: (0, 3),
        }
    }
}

/// The settings of [`super::simulate_pair`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationParams {
    /// Image width, camera pixels.
    pub width: usize,
    /// Image height, camera pixels.
    pub height: usize,
    /// Side of a camera pixel in the sample plane, nanometres. Must sample the PSF at
    /// Nyquist or finer: `pixel < lambda_min / (4 NA_max)`.
    pub pixel_size_nm: f64,
    /// Fine grid points per camera pixel side on which structures are drawn (they are
    /// imaged from that grid and binned to the camera grid for the ground truth).
    pub oversampling: usize,
    /// Numerical aperture of the objective, `(min, max)`.
    pub numerical_aperture: (f64, f64),
    /// Emission wavelength, nanometres, `(min, max)`.
    pub wavelength_nm: (f64, f64),
    /// Refractive index of the immersion medium.
    pub refractive_index: f64,
    /// Side of the PSF kernels, camera pixels (odd). Light from up to half of it
    /// outside the field of view enters the image; defocused PSFs are cut to it.
    pub psf_size: usize,
    /// Points per pixel side of the PSF's integration over the pixel.
    pub psf_oversampling: usize,
    /// Expected photons at the brightest pixel of the noiseless image (above the
    /// background), `(min, max)`, drawn log-uniformly.
    pub peak_photons: (f64, f64),
    /// Uniform background (autofluorescence, stray light), photons per pixel,
    /// `(min, max)`.
    pub background_photons: (f64, f64),
    /// The camera.
    pub camera: CameraParams,
    /// What the in-focus layer holds.
    pub in_focus: StructureCounts,
    /// Number of layers above or below the focal plane, imaged through defocused
    /// PSFs (out-of-focus light; not part of the ground truth).
    pub out_of_focus_layers: usize,
    /// What each out-of-focus layer holds.
    pub out_of_focus: StructureCounts,
    /// Distance of each out-of-focus layer from the focal plane, nanometres,
    /// `(min, max)` (the side, above or below, is drawn too).
    pub defocus_nm: (f64, f64),
    /// Brightness of an out-of-focus layer's structures relative to in-focus ones,
    /// `(min, max)`.
    pub out_of_focus_brightness: (f64, f64),
}

impl Default for SimulationParams {
    /// 256 x 256 pixels of 65 nm, 4x oversampled; NA 1.1-1.4 oil objective, 500-620
    /// nm emission; 129-pixel PSFs; 20-2000 photons at the brightest pixel over 0-10
    /// background photons; two out-of-focus layers 0.5-1.5 um away, 30-100% as
    /// bright; the default camera.
    fn default() -> SimulationParams {
        SimulationParams {
            width: 256,
            height: 256,
            pixel_size_nm: 65.0,
            oversampling: 4,
            numerical_aperture: (1.1, 1.4),
            wavelength_nm: (500.0, 620.0),
            refractive_index: 1.515,
            psf_size: 129,
            psf_oversampling: 3,
            peak_photons: (20.0, 2000.0),
            background_photons: (0.0, 10.0),
            camera: CameraParams::default(),
            in_focus: StructureCounts::default(),
            out_of_focus_layers: 2,
            out_of_focus: StructureCounts::default(),
            defocus_nm: (500.0, 1500.0),
            out_of_focus_brightness: (0.3, 1.0),
        }
    }
}

/// Largest image side the simulator accepts.
pub const MAX_SIMULATED_SIDE: usize = 4096;
/// Largest oversampling of the fine grid.
pub const MAX_SIMULATION_OVERSAMPLING: usize = 8;

fn check_range(name: &str, (lo, hi): (f64, f64), min_allowed: f64, inclusive: bool) -> Result<()> {
    let low_ok = if inclusive {
        lo >= min_allowed
    } else {
        lo > min_allowed
    };
    if lo.is_finite() && hi.is_finite() && low_ok && lo <= hi {
        Ok(())
    } else {
        let bound = if inclusive { "at least" } else { "above" };
        Err(Error::InvalidInput(format!(
            "the {name} range must be finite, ordered (min <= max) and {bound} {min_allowed}, got ({lo}, {hi})"
        )))
    }
}

fn check_count_range(name: &str, (lo, hi): (usize, usize)) -> Result<()> {
    if lo <= hi && hi <= 10_000 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "the {name} count range must be ordered (min <= max) and at most 10000, got ({lo}, {hi})"
        )))
    }
}

impl StructureCounts {
    fn validate(&self, layer: &str) -> Result<()> {
        check_count_range(&format!("{layer} filament"), self.filaments)?;
        check_count_range(&format!("{layer} puncta"), self.puncta)?;
        check_count_range(&format!("{layer} ring"), self.rings)?;
        check_count_range(&format!("{layer} blob"), self.blobs)
    }
}

impl SimulationParams {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first setting out of range and its value.
    pub fn validate(&self) -> Result<()> {
        for (name, side) in [("width", self.width), ("height", self.height)] {
            if side == 0 || side > MAX_SIMULATED_SIDE {
                return Err(Error::InvalidInput(format!(
                    "the simulated image {name} must be between 1 and {MAX_SIMULATED_SIDE} pixels, got {side}"
                )));
            }
        }
        if self.oversampling == 0 || self.oversampling > MAX_SIMULATION_OVERSAMPLING {
            return Err(Error::InvalidInput(format!(
                "the simulation oversampling must be between 1 and {MAX_SIMULATION_OVERSAMPLING}, got {}",
                self.oversampling
            )));
        }
        if self.psf_size.is_multiple_of(2) || self.psf_size > crate::classical::psf::MAX_PSF_SIDE {
            return Err(Error::InvalidInput(format!(
                "the simulation PSF size must be odd and at most {}, got {}",
                crate::classical::psf::MAX_PSF_SIDE,
                self.psf_size
            )));
        }
        check_range(
            "pixel size (nm)",
            (self.pixel_size_nm, self.pixel_size_nm),
            0.0,
            false,
        )?;
        check_range("numerical aperture", self.numerical_aperture, 0.0, false)?;
        check_range("emission wavelength (nm)", self.wavelength_nm, 0.0, false)?;
        check_range("peak photons", self.peak_photons, 0.0, false)?;
        check_range("background photons", self.background_photons, 0.0, true)?;
        check_range("defocus (nm)", self.defocus_nm, 0.0, true)?;
        check_range(
            "out-of-focus brightness",
            self.out_of_focus_brightness,
            0.0,
            true,
        )?;
        if !(self.refractive_index.is_finite()
            && self.refractive_index >= self.numerical_aperture.1)
        {
            return Err(Error::InvalidInput(format!(
                "the immersion refractive index ({}) must be at least the largest numerical aperture ({})",
                self.refractive_index, self.numerical_aperture.1
            )));
        }
        let nyquist_pixel = self.wavelength_nm.0 / (4.0 * self.numerical_aperture.1);
        if self.pixel_size_nm >= nyquist_pixel {
            return Err(Error::InvalidInput(format!(
                "a pixel of {} nm undersamples the PSF: with NA up to {} and wavelengths from {} nm it must be below {nyquist_pixel:.1} nm",
                self.pixel_size_nm, self.numerical_aperture.1, self.wavelength_nm.0
            )));
        }
        if self.out_of_focus_layers > 16 {
            return Err(Error::InvalidInput(format!(
                "at most 16 out-of-focus layers, got {}",
                self.out_of_focus_layers
            )));
        }
        self.camera.validate()?;
        self.in_focus.validate("in-focus")?;
        self.out_of_focus.validate("out-of-focus")
    }
}
