//! Widefield image pairs made from sharp real images: real structure as the in-focus
//! ground truth, imaged through a drawn microscope.
//!
//! Each pair is made deterministically from a seed and its index:
//!
//! 1. An acquisition is drawn ([`AcquisitionRanges::draw`]): objective, emission,
//!    camera pixel size, photons, camera.
//! 2. A real image is drawn (a file of the list, then one of its planes) and resampled
//!    onto the camera grid ([`resample`]): the zoom is the file's pixel size over the
//!    camera's, times a random factor (specimens differ in size), within
//!    [`RealPairSettings::zoom_limits`] (so a source is never enlarged so far that its
//!    own blur would show); a random rotation, mirror and position. The source fades to
//!    a dark field at its edges ([`EDGE_FADE`]): a source smaller than the field is an
//!    island of structure. A random gamma changes its contrast.
//! 3. It is blurred with the in-focus Born-Wolf PSF. With some probability, the light
//!    of another real image out of focus is added (blurred by the PSF defocused so that
//!    its blur disc spans the drawn number of pixels).
//! 4. The noiseless image is scaled so that its brightest pixel gets the drawn peak
//!    photons, the background is added, and the camera records it.
//!
//! The ground truth is the in-focus image of step 2 (no blur, no out-of-focus light),
//! in the image's photon scale, put into camera units ([`Acquisition::truth_counts`]).

pub mod benchmark;
mod list;
mod resample;

pub use list::{
    PlaneSelection, RealImage, RealImageEntry, RealImageList, ScaledPlane, BENCHMARK_LIST,
    SCALE_HIGH_PERCENTILE, SCALE_LOW_PERCENTILE, TRAINING_LIST,
};
pub use resample::{resample, Placement};

use ndarray::{s, Array2};
use rayon::prelude::*;

use super::acquisition::{log_uniform, Acquisition, AcquisitionRanges};
use super::image_seed;
use super::sampling::{uniform, uniform_in};
use crate::classical::convolution::{ConvolutionMode, Convolver};
use crate::classical::fft::fast_fft_len;
use crate::classical::psf::{born_wolf_psf, PsfParams};
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// Side of the PSFs, pixels; half of it is the margin around the image.
pub const PSF_SIZE: usize = 65;

/// Width of a source's fade to zero at its edges, as a share of its shorter side.
pub const EDGE_FADE: f64 = 0.05;

/// Tries at drawing a crop with structure in it before taking what comes.
const CROP_TRIES: usize = 4;
/// A crop has structure if its brightest pixel reaches this (scaled units).
const CROP_MIN_PEAK: f32 = 0.1;

/// How the pairs are made, `(min, max)` ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct RealPairSettings {
    /// Side of the square images, pixels.
    pub size: usize,
    /// The acquisitions.
    pub acquisition: AcquisitionRanges,
    /// Random factor on the zoom from the file's pixel size to the camera's,
    /// log-uniform.
    pub zoom_jitter: (f64, f64),
    /// Bounds of the zoom (camera pixels per source pixel).
    pub zoom_limits: (f64, f64),
    /// Zoom for files of unknown pixel size, log-uniform.
    pub unknown_pixel_zoom: (f64, f64),
    /// Exponent applied to the scaled source (contrast), log-uniform.
    pub gamma: (f64, f64),
    /// Probability that a pair has out-of-focus light.
    pub out_of_focus_probability: f64,
    /// Brightness of the out-of-focus image relative to the in-focus one, uniform.
    pub out_of_focus_brightness: (f64, f64),
    /// Radius of the out-of-focus blur disc, pixels, uniform (at most half the PSF).
    pub out_of_focus_blur_pixels: (f64, f64),
}

impl Default for RealPairSettings {
    /// 256 x 256 pixels; the default acquisitions; zoom jitter 0.75 to 1.33 within 0.05
    /// to 1.5 (unknown pixel sizes 0.5 to 1.5); gamma 0.8 to 1.25; out-of-focus light
    /// in half the pairs, 0.1 to 1 times as bright, blurred over 6 to 28 pixels.
    fn default() -> RealPairSettings {
        RealPairSettings {
            size: 256,
            acquisition: AcquisitionRanges::default(),
            zoom_jitter: (0.75, 1.33),
            zoom_limits: (0.05, 1.5),
            unknown_pixel_zoom: (0.5, 1.5),
            gamma: (0.8, 1.25),
            out_of_focus_probability: 0.5,
            out_of_focus_brightness: (0.1, 1.0),
            out_of_focus_blur_pixels: (6.0, 28.0),
        }
    }
}

/// One pair.
#[derive(Debug, Clone, PartialEq)]
pub struct RealPair {
    /// What the camera recorded, counts.
    pub raw: Array2<u16>,
    /// The in-focus structure in camera units (`gain x (photons + background) + offset`).
    pub truth: Array2<f32>,
    /// How it was imaged.
    pub acquisition: Acquisition,
    /// The plane the truth was cut from.
    pub origin: String,
}

impl RealPairSettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first setting out of range.
    pub fn validate(&self) -> Result<()> {
        self.acquisition.validate()?;
        if self.size < 16 {
            return Err(Error::InvalidInput(format!(
                "the real-image pairs must be at least 16 pixels square, got {}",
                self.size
            )));
        }
        let positive = |name: &str, (lo, hi): (f64, f64)| {
            if lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi {
                Ok(())
            } else {
                Err(Error::InvalidInput(format!(
                    "the {name} range must be positive with min <= max, got ({lo}, {hi})"
                )))
            }
        };
        positive("zoom jitter", self.zoom_jitter)?;
        positive("zoom limits", self.zoom_limits)?;
        positive("unknown-pixel zoom", self.unknown_pixel_zoom)?;
        positive("gamma", self.gamma)?;
        positive("out-of-focus brightness", self.out_of_focus_brightness)?;
        positive("out-of-focus blur", self.out_of_focus_blur_pixels)?;
        if self.out_of_focus_blur_pixels.1 > (PSF_SIZE / 2) as f64 {
            return Err(Error::InvalidInput(format!(
                "the out-of-focus blur radius must fit in the PSF: at most {} pixels, got {}",
                PSF_SIZE / 2,
                self.out_of_focus_blur_pixels.1
            )));
        }
        if !(0.0..=1.0).contains(&self.out_of_focus_probability) {
            return Err(Error::InvalidInput(format!(
                "the out-of-focus probability must be between 0 and 1, got {}",
                self.out_of_focus_probability
            )));
        }
        Ok(())
    }

    /// Every setting as text, for a model's metadata.
    pub fn description(&self) -> String {
        format!(
            "{} x {} px; {}; zoom = source px / camera px x {:?} log-uniform within {:?} \
             ({:?} for unknown pixel sizes); random rotation, mirror, position; gamma {:?}; \
             out-of-focus light of another image in {} of pairs, {:?} x as bright, blur \
             radius {:?} px; truth: the in-focus image, unblurred",
            self.size,
            self.size,
            self.acquisition.description(),
            self.zoom_jitter,
            self.zoom_limits,
            self.unknown_pixel_zoom,
            self.gamma,
            self.out_of_focus_probability,
            self.out_of_focus_brightness,
            self.out_of_focus_blur_pixels
        )
    }
}

/// A real plane drawn and placed on a `field x field` camera grid of pixels of
/// `pixel_size_nm` (step 2 of the module documentation), with its name.
fn draw_crop(
    images: &[RealImage],
    settings: &RealPairSettings,
    pixel_size_nm: f64,
    field: usize,
    rng: &mut SplitMix64,
) -> (Array2<f32>, String) {
    let mut crop = (Array2::zeros((field, field)), String::new());
    for _ in 0..CROP_TRIES {
        let image = &images[(rng.next_u64() % images.len() as u64) as usize];
        let plane = &image.planes[(rng.next_u64() % image.planes.len() as u64) as usize];
        let zoom = match image.entry.pixel_size_nm {
            Some(source_nm) => (source_nm / pixel_size_nm * log_uniform(rng, settings.zoom_jitter))
                .clamp(settings.zoom_limits.0, settings.zoom_limits.1),
            None => log_uniform(rng, settings.unknown_pixel_zoom),
        };
        let (rows, cols) = plane.pixels.dim();
        let placement = Placement {
            centre: (uniform(rng) * rows as f64, uniform(rng) * cols as f64),
            zoom,
            angle: uniform(rng) * std::f64::consts::TAU,
            mirror: rng.next_u64() & 1 == 1,
            edge_fade: EDGE_FADE * rows.min(cols) as f64,
        };
        let gamma = log_uniform(rng, settings.gamma);
        let pixels = resample(plane.pixels.view(), &placement, field, field)
            .mapv(|v| f64::from(v).powf(gamma) as f32);
        let peak = pixels.iter().fold(0.0f32, |m, &v| m.max(v));
        crop = (pixels, plane.name.clone());
        if peak >= CROP_MIN_PEAK {
            break;
        }
    }
    crop
}

/// Pair `index` of the set seeded with `seed`, from `images` (see the module
/// documentation). The same arguments give bit-identical results.
///
/// # Errors
/// [`Error::InvalidInput`] if there are no images or a setting is out of range.
pub fn real_pair(
    images: &[RealImage],
    settings: &RealPairSettings,
    seed: u64,
    index: u64,
) -> Result<RealPair> {
    settings.validate()?;
    if images.is_empty() || images.iter().any(|i| i.planes.is_empty()) {
        return Err(Error::InvalidInput(
            "real-image pairs need at least one image with a plane".into(),
        ));
    }
    let mut rng = SplitMix64::new(image_seed(seed, index));
    let acquisition = settings.acquisition.draw(PSF_SIZE, &mut rng);
    let psf = &acquisition.psf;
    let field = fast_fft_len(settings.size + 2 * (PSF_SIZE / 2));
    let (truth, origin) = draw_crop(images, settings, psf.pixel_size_nm, field, &mut rng);
    let haze = if uniform(&mut rng) < settings.out_of_focus_probability {
        let (layer, _) = draw_crop(images, settings, psf.pixel_size_nm, field, &mut rng);
        let brightness = uniform_in(&mut rng, settings.out_of_focus_brightness) as f32;
        let blur_nm = uniform_in(&mut rng, settings.out_of_focus_blur_pixels) * psf.pixel_size_nm;
        let half_angle = (psf.numerical_aperture / psf.refractive_index).asin();
        Some(Haze {
            layer,
            brightness,
            defocus_nm: blur_nm / half_angle.tan(),
        })
    } else {
        None
    };
    let (raw, truth) = record_pair(truth, haze, &acquisition, settings.size, &mut rng)?;
    Ok(RealPair {
        raw,
        truth,
        acquisition,
        origin,
    })
}

/// Out-of-focus light: an image seen through the PSF defocused by `defocus_nm`.
pub(crate) struct Haze {
    /// The out-of-focus structure, on the field.
    pub(crate) layer: Array2<f32>,
    /// Its brightness relative to the in-focus structure.
    pub(crate) brightness: f32,
    /// Its distance from the focal plane, nanometres.
    pub(crate) defocus_nm: f64,
}

/// The camera's image and the truth in counts (steps 3 and 4 of the module
/// documentation) of the in-focus structure `truth` on a square field (with a margin
/// of at least half a PSF around the central `size x size` image) and optional haze.
pub(crate) fn record_pair(
    truth: Array2<f32>,
    haze: Option<Haze>,
    acquisition: &Acquisition,
    size: usize,
    rng: &mut SplitMix64,
) -> Result<(Array2<u16>, Array2<f32>)> {
    let psf = &acquisition.psf;
    let field = truth.nrows();
    let mut blurred = Convolver::new(
        born_wolf_psf(psf)?.view(),
        field,
        field,
        ConvolutionMode::Circular,
    )?
    .convolve(truth.view())?;
    if let Some(haze) = haze {
        let defocused = PsfParams {
            defocus_nm: haze.defocus_nm,
            ..psf.clone()
        };
        let light = Convolver::new(
            born_wolf_psf(&defocused)?.view(),
            field,
            field,
            ConvolutionMode::Circular,
        )?
        .convolve(haze.layer.view())?;
        blurred.zip_mut_with(&light, |b, &h| *b += haze.brightness * h);
    }
    let top = (field - size) / 2;
    let crop = s![top..top + size, top..top + size];
    let blurred = blurred.slice(crop).mapv(|v| v.max(0.0));
    let brightest = blurred.iter().fold(0.0f32, |m, &v| m.max(v));
    let scale = if brightest > 0.0 {
        (acquisition.peak_photons / f64::from(brightest)) as f32
    } else {
        0.0
    };
    let background = acquisition.background_photons as f32;
    let expected = blurred.mapv(|v| v * scale + background);
    let raw = acquisition.record(expected.view(), rng);
    let truth = acquisition.truth_counts(truth.slice(crop).mapv(|v| v * scale).view());
    Ok((raw, truth))
}

/// Pairs `0..count` of the set seeded with `seed`, made in parallel; identical to
/// [`real_pair`] for each index in turn.
///
/// # Errors
/// As [`real_pair`].
pub fn real_pair_set(
    images: &[RealImage],
    settings: &RealPairSettings,
    seed: u64,
    count: usize,
) -> Result<Vec<RealPair>> {
    (0..count as u64)
        .into_par_iter()
        .map(|index| real_pair(images, settings, seed, index))
        .collect()
}
