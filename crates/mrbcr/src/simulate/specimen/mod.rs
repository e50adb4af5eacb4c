//! Widefield training pairs of 3-D specimens: the raw camera image of a volume of
//! fluorophores, and the in-focus slab of that volume as the ground truth.
//!
//! Unlike the layered 2-D simulator of [`super::simulate_pair`], objects here have
//! volume: a nucleus 6 um thick crosses the focal plane, so the ground truth shows
//! its in-focus section filled, while the image holds, on top of that section's
//! blur, the defocused light of the rest of the nucleus.
//!
//! Each pair is made deterministically from a seed and its index:
//!
//! 1. The acquisition is drawn ([`super::acquisition::AcquisitionRanges::draw`]): objective, immersion,
//!    wavelength, pixel size, photons, camera.
//! 2. The volume: planes `dz = plane_spacing_fraction x 2 lambda n / NA^2` apart from
//!    `-Z` to `+Z` (see [`SpecimenSettings::half_depth_nm`]), over the field of view
//!    plus a margin of half the largest defocused PSF on every side. Plane `k` holds
//!    the fluorophores of the slab `[(k - 1/2) dz, (k + 1/2) dz)`, integrated along
//!    `z` and averaged over each camera pixel's area (sub-pixel objects are
//!    integrated exactly or over sub-pixel points, so they are not aliased).
//! 3. A scene ([`SceneKind`], drawn by [`SpecimenSettings::scenes`]) is drawn into
//!    it, in nanometres.
//! 4. Each plane is convolved with the Born-Wolf PSF at its defocus and the results
//!    summed: the noiseless widefield image at the focal plane `z = 0`. It is
//!    cropped to the field of view, scaled so that its brightest pixel receives the
//!    drawn peak photons, the background added, and recorded by the camera
//!    ([`Acquisition::record`]).
//! 5. The ground truth is plane 0 alone, the slab `|z| < dz / 2` (no blur, no
//!    noise), each pixel its area average, times the same scale, in camera units
//!    ([`Acquisition::truth_counts`], which keeps the uniform background): up to
//!    noise and out-of-focus light, the raw image is the truth convolved with the
//!    in-focus PSF.

mod grid;
mod objects;
mod scenes;
mod settings;
mod texture;
mod volume;

use ndarray::{s, Array2};
use rayon::prelude::*;

pub use settings::{
    FixedScene, SceneKind, SceneWeights, SpecimenSettings, MAX_HALF_DEPTH_NM, MAX_IMAGE_SIDE,
};

use super::acquisition::Acquisition;
use crate::classical::fft::fast_fft_len;
use crate::error::Result;
use crate::rng::SplitMix64;
use grid::VolumeGrid;

/// Smallest side of the PSFs the planes are imaged through, pixels.
const MIN_IMAGING_PSF_SIDE: usize = 65;

/// One simulated specimen image and its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecimenPair {
    /// What the camera recorded, counts (offset included).
    pub raw: Array2<u16>,
    /// The in-focus slab, area-averaged over each pixel, in camera units (`gain x
    /// (photons + background) + offset`, no noise).
    pub truth: Array2<f32>,
    /// How the image was acquired (its PSF is the in-focus one, of
    /// [`SpecimenSettings::psf_size`]).
    pub acquisition: Acquisition,
    /// What was drawn, in a few words.
    pub scene: String,
}

/// The seed of pair `index` of a set seeded with `seed`.
fn pair_seed(seed: u64, index: u64) -> u64 {
    SplitMix64::new(seed ^ index.wrapping_mul(0x9E6C_63D0_676A_9A99) ^ 0x5EC1_3E45).next_u64()
}

/// Simulates pair `index` of the set seeded with `seed` (see the module
/// documentation). The same arguments give bit-identical results.
///
/// # Errors
/// [`crate::Error::InvalidInput`] if a setting is out of range (see
/// [`SpecimenSettings::validate`]).
pub fn specimen_pair(settings: &SpecimenSettings, seed: u64, index: u64) -> Result<SpecimenPair> {
    settings.validate()?;
    let mut rng = SplitMix64::new(pair_seed(seed, index));
    let acquisition = settings.acquisition.draw(settings.psf_size, &mut rng);
    let psf = &acquisition.psf;
    let pixel = psf.pixel_size_nm;
    let spacing = settings.plane_spacing_fraction * volume::axial_resolution_nm(psf);
    let half_planes = (settings.half_depth_nm / spacing).round() as usize;
    let farthest_psf =
        volume::psf_side_for(psf, half_planes as f64 * spacing, MIN_IMAGING_PSF_SIDE);
    let margin = farthest_psf / 2;
    let rows = fast_fft_len(settings.height + 2 * margin);
    let cols = fast_fft_len(settings.width + 2 * margin);
    let (top, left) = ((rows - settings.height) / 2, (cols - settings.width) / 2);
    let field = [top, left, settings.height, settings.width];
    let mut grid = VolumeGrid::new(rows, cols, pixel, spacing, half_planes, field);
    let scene = match settings.fixed_scene {
        Some(fixed) => {
            let centre = (
                (top as f64 + settings.height as f64 / 2.0) * pixel,
                (left as f64 + settings.width as f64 / 2.0) * pixel,
            );
            scenes::draw_fixed_scene(
                &mut grid,
                fixed,
                centre,
                settings.width as f64 * pixel,
                &mut rng,
            )
        }
        None => {
            let kind = settings.scenes.draw(&mut rng);
            scenes::draw_scene(&mut grid, kind, &mut rng)
        }
    };
    let image = volume::widefield_image(&grid, psf, MIN_IMAGING_PSF_SIDE)?;
    let crop = s![top..top + settings.height, left..left + settings.width];
    let blurred = image.slice(crop).mapv(|v| v.max(0.0));
    let brightest = blurred.iter().fold(0.0f32, |m, &v| m.max(v));
    let scale = if brightest > 0.0 {
        (acquisition.peak_photons / f64::from(brightest)) as f32
    } else {
        0.0
    };
    let background = acquisition.background_photons as f32;
    let expected = blurred.mapv(|v| v * scale + background);
    let raw = acquisition.record(expected.view(), &mut rng);
    let truth_photons = grid.folded[0].slice(crop).mapv(|v| v.max(0.0) * scale);
    let truth = acquisition.truth_counts(truth_photons.view());
    Ok(SpecimenPair {
        raw,
        truth,
        acquisition,
        scene,
    })
}

/// Pairs `0..count` of the set seeded with `seed`, simulated in parallel; identical
/// to calling [`specimen_pair`] for each index in turn, at any thread count.
///
/// # Errors
/// As [`specimen_pair`].
pub fn specimen_set(
    settings: &SpecimenSettings,
    seed: u64,
    count: usize,
) -> Result<Vec<SpecimenPair>> {
    settings.validate()?;
    (0..count as u64)
        .into_par_iter()
        .map(|index| specimen_pair(settings, seed, index))
        .collect()
}
