//! The real-specimen benchmark: sharp real images held out from training (the
//! bundled [`super::BENCHMARK_LIST`]), each imaged under a few fixed microscopes
//! ([`BENCHMARK_CONDITIONS`]): blurred by the in-focus Born-Wolf PSF, with photon and
//! camera noise, no out-of-focus light (so that Richardson-Lucy and Wiener with the
//! true PSF are at their best). Each case keeps its truth and PSF for scoring.

use ndarray::Array2;

use super::list::RealImage;
use super::{record_pair, resample, Placement, EDGE_FADE, PSF_SIZE};
use crate::classical::fft::fast_fft_len;
use crate::classical::psf::PsfParams;
use crate::error::Result;
use crate::rng::SplitMix64;
use crate::simulate::acquisition::Acquisition;
use crate::simulate::camera::CameraParams;
use crate::simulate::image_seed;

/// A microscope and light level of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchmarkCondition {
    /// A short name for tables.
    pub name: &'static str,
    /// Numerical aperture.
    pub numerical_aperture: f64,
    /// Refractive index of the immersion medium.
    pub refractive_index: f64,
    /// Emission wavelength, nanometres.
    pub wavelength_nm: f64,
    /// Camera pixel side in the sample, nanometres.
    pub pixel_size_nm: f64,
    /// Expected photons at the brightest pixel, above the background.
    pub peak_photons: f64,
    /// Uniform background, as a fraction of the peak.
    pub background_fraction: f64,
}

/// The benchmark's microscopes: a high-NA oil objective sampled at Nyquist with a good
/// signal, a water objective at a low signal, a dry objective with coarse pixels and a
/// bright sample (PSF FWHM 2.9, 3.1 and 2.6 pixels). Cameras: gain 1, offset 100, read
/// noise 2 counts, per-pixel offset spread 1 count.
pub const BENCHMARK_CONDITIONS: [BenchmarkCondition; 3] = [
    BenchmarkCondition {
        name: "oil NA 1.4, 65 nm px, 1000 photons",
        numerical_aperture: 1.4,
        refractive_index: 1.515,
        wavelength_nm: 520.0,
        pixel_size_nm: 65.0,
        peak_photons: 1000.0,
        background_fraction: 0.05,
    },
    BenchmarkCondition {
        name: "water NA 1.0, 100 nm px, 200 photons",
        numerical_aperture: 1.0,
        refractive_index: 1.333,
        wavelength_nm: 600.0,
        pixel_size_nm: 100.0,
        peak_photons: 200.0,
        background_fraction: 0.1,
    },
    BenchmarkCondition {
        name: "air NA 0.8, 130 nm px, 5000 photons",
        numerical_aperture: 0.8,
        refractive_index: 1.0,
        wavelength_nm: 520.0,
        pixel_size_nm: 130.0,
        peak_photons: 5000.0,
        background_fraction: 0.02,
    },
];

/// Largest side of a benchmark image, pixels.
pub const MAX_SIDE: usize = 256;
/// Smallest side of a benchmark image, pixels (a smaller source lies on a dark field).
pub const MIN_SIDE: usize = 64;
/// Largest zoom from source to camera pixels (as the training pairs' default limit).
pub const MAX_ZOOM: f64 = 1.5;

impl BenchmarkCondition {
    /// The acquisition of this condition (in-focus PSF of [`PSF_SIZE`] pixels).
    pub fn acquisition(&self) -> Acquisition {
        Acquisition {
            psf: PsfParams {
                numerical_aperture: self.numerical_aperture,
                wavelength_nm: self.wavelength_nm,
                refractive_index: self.refractive_index,
                pixel_size_nm: self.pixel_size_nm,
                defocus_nm: 0.0,
                width: PSF_SIZE,
                height: PSF_SIZE,
                oversampling: 3,
            },
            peak_photons: self.peak_photons,
            background_photons: self.peak_photons * self.background_fraction,
            camera: CameraParams {
                offset: 100.0,
                gain: 1.0,
                read_noise: 2.0,
            },
            offset_spread: 1.0,
        }
    }
}

/// One benchmark image.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkCase {
    /// The real plane it shows.
    pub image: String,
    /// The condition's name.
    pub condition: &'static str,
    /// What the camera recorded, counts.
    pub raw: Array2<u16>,
    /// The real structure in the camera's units (offset and background included).
    pub truth: Array2<f32>,
    /// How it was imaged (the true PSF is `acquisition.psf`).
    pub acquisition: Acquisition,
}

/// Every plane of `images` under every condition, in that order (planes outer), with
/// the noise drawn from `seed`: centred on the plane, at the zoom its pixel size and
/// the condition's give (at most [`MAX_ZOOM`]; 1 for unknown pixel sizes), as large
/// as the plane covers between [`MIN_SIDE`] and [`MAX_SIDE`] (multiples of 4).
///
/// # Errors
/// If the PSF of a condition cannot be made (it always can for the built-in ones).
pub fn benchmark_cases(images: &[RealImage], seed: u64) -> Result<Vec<BenchmarkCase>> {
    let mut cases = Vec::new();
    for image in images {
        for plane in &image.planes {
            for condition in &BENCHMARK_CONDITIONS {
                let zoom = image
                    .entry
                    .pixel_size_nm
                    .map_or(1.0, |nm| nm / condition.pixel_size_nm)
                    .min(MAX_ZOOM);
                let (rows, cols) = plane.pixels.dim();
                let covered = (rows.min(cols) as f64 * zoom) as usize / 4 * 4;
                let size = covered.clamp(MIN_SIDE, MAX_SIDE);
                let field = fast_fft_len(size + 2 * (PSF_SIZE / 2));
                let placement = Placement {
                    centre: ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0),
                    zoom,
                    angle: 0.0,
                    mirror: false,
                    edge_fade: EDGE_FADE * rows.min(cols) as f64,
                };
                let truth = resample(plane.pixels.view(), &placement, field, field);
                let acquisition = condition.acquisition();
                let mut rng = SplitMix64::new(image_seed(seed, cases.len() as u64));
                let (raw, truth) = record_pair(truth, None, &acquisition, size, &mut rng)?;
                cases.push(BenchmarkCase {
                    image: plane.name.clone(),
                    condition: condition.name,
                    raw,
                    truth,
                    acquisition,
                });
            }
        }
    }
    Ok(cases)
}
