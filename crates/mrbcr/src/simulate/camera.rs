//! The camera: photon (shot) noise, gain, offset, read noise and 16-bit quantisation.

use ndarray::{Array2, ArrayView2};

use super::sampling::{poisson, standard_normal};
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// How the camera turns detected photons into counts:
/// `counts = round(gain * Poisson(photons) + offset + read_noise * N(0, 1))`, clipped to
/// `0..=65535`. So `counts - offset` has mean `gain * photons` and variance
/// `gain^2 * photons + read_noise^2 + 1/12` (the last term from rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameraParams {
    /// Counts added to every pixel (the camera's bias), at least 0.
    pub offset: f64,
    /// Counts per detected photon (photoelectron), positive.
    pub gain: f64,
    /// Standard deviation of the Gaussian read noise, in counts, at least 0.
    pub read_noise: f64,
}

impl Default for CameraParams {
    /// An sCMOS camera: offset 100 counts, 1 count per photon, 1.5 counts read noise.
    fn default() -> CameraParams {
        CameraParams {
            offset: 100.0,
            gain: 1.0,
            read_noise: 1.5,
        }
    }
}

impl CameraParams {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the parameter out of range and its value.
    pub fn validate(&self) -> Result<()> {
        let checks = [
            ("camera offset (counts)", self.offset, self.offset >= 0.0),
            (
                "camera gain (counts per photon)",
                self.gain,
                self.gain > 0.0,
            ),
            (
                "camera read noise (counts)",
                self.read_noise,
                self.read_noise >= 0.0,
            ),
        ];
        for (name, value, ok) in checks {
            if !(value.is_finite() && ok) {
                return Err(Error::InvalidInput(format!(
                    "the {name} is out of range: {value}"
                )));
            }
        }
        Ok(())
    }
}

/// The camera's image of `expected_photons` (the mean number of photons each pixel
/// detects), noise drawn from `rng` pixel by pixel in row-major order.
///
/// # Errors
/// [`Error::InvalidInput`] if a camera parameter is out of range.
pub fn camera_counts(
    expected_photons: ArrayView2<f32>,
    camera: &CameraParams,
    rng: &mut SplitMix64,
) -> Result<Array2<u16>> {
    camera.validate()?;
    let mut counts = Array2::zeros(expected_photons.dim());
    for (c, &photons) in counts.iter_mut().zip(expected_photons.iter()) {
        let detected = poisson(rng, f64::from(photons)) as f64;
        let value =
            camera.gain * detected + camera.offset + camera.read_noise * standard_normal(rng);
        *c = value.round().clamp(0.0, f64::from(u16::MAX)) as u16;
    }
    Ok(counts)
}
