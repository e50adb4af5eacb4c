//! Simulated widefield image pairs for training and for benchmarking deconvolution:
//! raw 16-bit camera counts and the float ground truth they came from.
//!
//! Each image is made deterministically from a seed and its index:
//!
//! 1. Structures ([`structures`]) are drawn on a grid [`SimulationParams::oversampling`]
//!    times finer than the camera's, over the field of view plus a margin of half a
//!    PSF on every side: the in-focus layer, and out-of-focus layers above or below
//!    the focal plane.
//! 2. Each layer is imaged through the Born-Wolf PSF of its defocus (NA and emission
//!    wavelength drawn per image), exactly from the fine grid ([`imaging`]).
//! 3. The noiseless image is scaled so that its brightest pixel in the field of view
//!    receives the drawn peak number of photons; a uniform background is added.
//! 4. The camera ([`camera`]) adds Poisson photon noise, gain, offset and read noise
//!    and quantises to 16 bits.
//!
//! The ground truth is the in-focus layer alone, averaged over each camera pixel
//! (no blur, no noise), in the same photon units as the image (so the image is, up
//! to noise, background and out-of-focus light, the ground truth convolved with the
//! in-focus PSF).

pub mod acquisition;
pub(crate) mod camera;
mod imaging;
pub(crate) mod metrics;
pub(crate) mod params;
pub mod real;
pub(crate) mod sampling;
pub mod specimen;
mod structures;

use ndarray::{s, Array2};
use rayon::prelude::*;

pub use camera::{camera_counts, CameraParams};
pub use metrics::{psnr, score, ssim, Scores};
pub use params::{SimulationParams, StructureCounts};

use crate::classical::psf::{born_wolf_psf, PsfParams};
use crate::error::Result;
use crate::rng::SplitMix64;
use imaging::CameraImager;
use sampling::uniform_in;
use structures::{draw_layer, Canvas};

/// The conditions one simulated image was made under.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagingConditions {
    /// The in-focus PSF (its size is [`SimulationParams::psf_size`]): what a
    /// deconvolution with the true PSF uses.
    pub psf: PsfParams,
    /// Expected photons at the brightest pixel, above the background.
    pub peak_photons: f64,
    /// Uniform background, photons per pixel.
    pub background_photons: f64,
    /// Defocus of each out-of-focus layer, nanometres (signed: negative is below).
    pub out_of_focus_defocus_nm: Vec<f64>,
}

/// One simulated image and its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedPair {
    /// What the camera recorded, counts (offset included).
    pub raw: Array2<u16>,
    /// The in-focus structures on the camera grid, expected photons per pixel before
    /// blurring.
    pub ground_truth: Array2<f32>,
    /// How the image was made.
    pub conditions: ImagingConditions,
}

/// The seed of image `index` of a set seeded with `seed`.
pub(crate) fn image_seed(seed: u64, index: u64) -> u64 {
    SplitMix64::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

/// Simulates image `index` of the set seeded with `seed` (see the module
/// documentation). The same arguments give bit-identical results.
///
/// # Errors
/// [`crate::Error::InvalidInput`] if a setting is out of range (see
/// [`SimulationParams::validate`]).
pub fn simulate_pair(params: &SimulationParams, seed: u64, index: u64) -> Result<SimulatedPair> {
    params.validate()?;
    let mut rng = SplitMix64::new(image_seed(seed, index));
    let s = params.oversampling;
    let margin = params.psf_size / 2;
    let field_height = crate::classical::fft::fast_fft_len(params.height + 2 * margin);
    let field_width = crate::classical::fft::fast_fft_len(params.width + 2 * margin);
    let (top, left) = (
        (field_height - params.height) / 2,
        (field_width - params.width) / 2,
    );
    let fine_spacing = params.pixel_size_nm / s as f64;

    let psf = PsfParams {
        numerical_aperture: uniform_in(&mut rng, params.numerical_aperture),
        wavelength_nm: uniform_in(&mut rng, params.wavelength_nm),
        refractive_index: params.refractive_index,
        pixel_size_nm: params.pixel_size_nm,
        defocus_nm: 0.0,
        width: params.psf_size,
        height: params.psf_size,
        oversampling: params.psf_oversampling,
    };
    let (log_lo, log_hi) = (params.peak_photons.0.ln(), params.peak_photons.1.ln());
    let peak_photons = uniform_in(&mut rng, (log_lo, log_hi)).exp();
    let background_photons = uniform_in(&mut rng, params.background_photons);

    let mut imager = CameraImager::new(field_height, field_width, s)?;
    let mut in_focus = Canvas::new(field_height * s, field_width * s, fine_spacing);
    draw_layer(&mut in_focus, &params.in_focus, 1.0, &mut rng);
    imager.add_layer(in_focus.density.view(), born_wolf_psf(&psf)?.view());

    let mut defocus_list = Vec::with_capacity(params.out_of_focus_layers);
    for _ in 0..params.out_of_focus_layers {
        let distance = uniform_in(&mut rng, params.defocus_nm);
        let defocus = if rng.next_u64() & 1 == 0 {
            distance
        } else {
            -distance
        };
        let brightness = uniform_in(&mut rng, params.out_of_focus_brightness);
        let mut layer = Canvas::new(field_height * s, field_width * s, fine_spacing);
        draw_layer(&mut layer, &params.out_of_focus, brightness, &mut rng);
        let defocused = PsfParams {
            defocus_nm: defocus,
            ..psf.clone()
        };
        imager.add_layer(layer.density.view(), born_wolf_psf(&defocused)?.view());
        defocus_list.push(defocus);
    }

    let crop = s![top..top + params.height, left..left + params.width];
    let blurred = imager.take_image().slice(crop).mapv(|v| v.max(0.0));
    let truth = bin(&in_focus.density, s).slice(crop).to_owned();
    let brightest = blurred.iter().fold(0.0f32, |m, &v| m.max(v));
    let scale = if brightest > 0.0 {
        (peak_photons / f64::from(brightest)) as f32
    } else {
        0.0
    };
    let expected = blurred.mapv(|v| v * scale + background_photons as f32);
    let raw = camera_counts(expected.view(), &params.camera, &mut rng)?;
    Ok(SimulatedPair {
        raw,
        ground_truth: truth.mapv(|v| v * scale),
        conditions: ImagingConditions {
            psf,
            peak_photons,
            background_photons,
            out_of_focus_defocus_nm: defocus_list,
        },
    })
}

/// Images `0..count` of the set seeded with `seed`, simulated in parallel; identical
/// to calling [`simulate_pair`] for each index in turn.
///
/// # Errors
/// As [`simulate_pair`].
pub fn simulate_set(
    params: &SimulationParams,
    seed: u64,
    count: usize,
) -> Result<Vec<SimulatedPair>> {
    params.validate()?;
    (0..count as u64)
        .into_par_iter()
        .map(|index| simulate_pair(params, seed, index))
        .collect()
}

/// The mean of each `factor x factor` block of `fine` (whose sides are multiples of
/// `factor`).
fn bin(fine: &Array2<f32>, factor: usize) -> Array2<f32> {
    let (h, w) = (fine.nrows() / factor, fine.ncols() / factor);
    let norm = 1.0 / (factor * factor) as f64;
    Array2::from_shape_fn((h, w), |(y, x)| {
        let block = fine.slice(s![
            y * factor..(y + 1) * factor,
            x * factor..(x + 1) * factor
        ]);
        (block.iter().map(|&v| f64::from(v)).sum::<f64>() * norm) as f32
    })
}
