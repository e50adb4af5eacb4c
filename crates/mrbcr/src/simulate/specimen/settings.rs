//! The settings of the 3-D specimen simulator, their defaults and their checks.

use std::collections::BTreeMap;

use super::super::acquisition::AcquisitionRanges;
use super::super::sampling::uniform;
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// Largest image side accepted, camera pixels.
pub const MAX_IMAGE_SIDE: usize = 4096;
/// Largest half-depth of the simulated volume accepted, nanometres: beyond it the
/// defocused PSFs would not fit [`crate::classical::psf::MAX_PSF_SIDE`] at the finest
/// pixel sizes.
pub const MAX_HALF_DEPTH_NM: f64 = 10_000.0;

/// The kinds of scene an image can show; each image draws one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneKind {
    /// A sparse field of cell nuclei (filled, with chromatin texture, nucleoli and
    /// bright foci) on an empty background.
    Nuclei,
    /// Tissue: nuclei packed edge to edge in 3-D, filling the field and the depth.
    Tissue,
    /// Whole cells: filled, textured cytoplasm with an irregular outline, a darker
    /// nucleus, mitochondria and vesicles.
    Cells,
    /// Membranes: cell outlines and vesicles as thin shells.
    Membranes,
    /// Mitochondria: 3-D tubes, some branched.
    Mitochondria,
    /// Endoplasmic reticulum: a network of thin tubes joining random points.
    Reticulum,
    /// Vesicles and puncta, from below the resolution to 500 nm spheres.
    Vesicles,
    /// Cytoskeleton: thin smooth filaments and bundles of them.
    Cytoskeleton,
    /// A mix: a few cells or nuclei with filaments, mitochondria and vesicles.
    Mixed,
}

impl SceneKind {
    /// Every kind, in the order of [`SceneWeights::weights`].
    pub const ALL: [SceneKind; 9] = [
        SceneKind::Nuclei,
        SceneKind::Tissue,
        SceneKind::Cells,
        SceneKind::Membranes,
        SceneKind::Mitochondria,
        SceneKind::Reticulum,
        SceneKind::Vesicles,
        SceneKind::Cytoskeleton,
        SceneKind::Mixed,
    ];

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SceneKind::Nuclei => "nuclei",
            SceneKind::Tissue => "tissue",
            SceneKind::Cells => "cells",
            SceneKind::Membranes => "membranes",
            SceneKind::Mitochondria => "mitochondria",
            SceneKind::Reticulum => "reticulum",
            SceneKind::Vesicles => "vesicles",
            SceneKind::Cytoskeleton => "cytoskeleton",
            SceneKind::Mixed => "mixed",
        }
    }
}

/// The relative probability of each [`SceneKind`] (non-negative, not all zero; they
/// need not sum to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SceneWeights {
    /// Weight of [`SceneKind::Nuclei`].
    pub nuclei: f64,
    /// Weight of [`SceneKind::Tissue`].
    pub tissue: f64,
    /// Weight of [`SceneKind::Cells`].
    pub cells: f64,
    /// Weight of [`SceneKind::Membranes`].
    pub membranes: f64,
    /// Weight of [`SceneKind::Mitochondria`].
    pub mitochondria: f64,
    /// Weight of [`SceneKind::Reticulum`].
    pub reticulum: f64,
    /// Weight of [`SceneKind::Vesicles`].
    pub vesicles: f64,
    /// Weight of [`SceneKind::Cytoskeleton`].
    pub cytoskeleton: f64,
    /// Weight of [`SceneKind::Mixed`].
    pub mixed: f64,
}

impl Default for SceneWeights {
    /// Nuclei, tissue and cells (the large filled objects the network must keep
    /// filled) 0.15 each, mixed 0.15, the thin structures 0.08 each.
    fn default() -> SceneWeights {
        SceneWeights {
            nuclei: 0.15,
            tissue: 0.15,
            cells: 0.15,
            membranes: 0.08,
            mitochondria: 0.08,
            reticulum: 0.08,
            vesicles: 0.08,
            cytoskeleton: 0.08,
            mixed: 0.15,
        }
    }
}

impl SceneWeights {
    /// The weights in the order of [`SceneKind::ALL`].
    pub fn weights(&self) -> [f64; 9] {
        [
            self.nuclei,
            self.tissue,
            self.cells,
            self.membranes,
            self.mitochondria,
            self.reticulum,
            self.vesicles,
            self.cytoskeleton,
            self.mixed,
        ]
    }

    /// Only `kind`, always.
    pub fn only(kind: SceneKind) -> SceneWeights {
        let mut weights = SceneWeights {
            nuclei: 0.0,
            tissue: 0.0,
            cells: 0.0,
            membranes: 0.0,
            mitochondria: 0.0,
            reticulum: 0.0,
            vesicles: 0.0,
            cytoskeleton: 0.0,
            mixed: 0.0,
        };
        let slot = match kind {
            SceneKind::Nuclei => &mut weights.nuclei,
            SceneKind::Tissue => &mut weights.tissue,
            SceneKind::Cells => &mut weights.cells,
            SceneKind::Membranes => &mut weights.membranes,
            SceneKind::Mitochondria => &mut weights.mitochondria,
            SceneKind::Reticulum => &mut weights.reticulum,
            SceneKind::Vesicles => &mut weights.vesicles,
            SceneKind::Cytoskeleton => &mut weights.cytoskeleton,
            SceneKind::Mixed => &mut weights.mixed,
        };
        *slot = 1.0;
        weights
    }

    fn validate(&self) -> Result<()> {
        let weights = self.weights();
        for (kind, w) in SceneKind::ALL.iter().zip(weights) {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::InvalidInput(format!(
                    "the scene weight of {} must be a finite number >= 0, got {w}",
                    kind.name()
                )));
            }
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err(Error::InvalidInput(
                "the scene weights are all zero: give at least one scene kind a positive weight"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Draws a kind with probability proportional to its weight.
    pub(crate) fn draw(&self, rng: &mut SplitMix64) -> SceneKind {
        let weights = self.weights();
        let mut target = uniform(rng) * weights.iter().sum::<f64>();
        for (kind, w) in SceneKind::ALL.iter().zip(weights) {
            if target < w {
                return *kind;
            }
            target -= w;
        }
        let last = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
        SceneKind::ALL[last]
    }
}

/// A fixed scene drawn instead of a random one, for tests and calibration: the
/// acquisition and the noise are still drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FixedScene {
    /// One filled nucleus at the centre of the field, its centre `depth_nm` from the
    /// focal plane: an ellipsoid of lateral diameter 60 % of the field's width and
    /// axial diameter 4 um, uniform density modulated by a weak chromatin texture
    /// (10 % standard deviation), no rim, no nucleoli.
    Nucleus {
        /// Distance of the nucleus's centre from the focal plane, nanometres.
        depth_nm: f64,
    },
    /// Thin filaments (Gaussian cross-section of 25 nm) lying in the focal plane.
    InFocusFilaments,
}

/// The settings of [`super::specimen_pair`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpecimenSettings {
    /// Image height, camera pixels.
    pub height: usize,
    /// Image width, camera pixels.
    pub width: usize,
    /// Side of the in-focus PSF reported in [`super::SpecimenPair::acquisition`]
    /// (what a deconvolution with the true PSF would use), pixels, odd. The imaging
    /// itself uses PSFs as large as each plane's defocus needs.
    pub psf_size: usize,
    /// Half the depth of the simulated volume, nanometres: it spans `-Z..=+Z` around
    /// the focal plane. The default, 4 um, holds objects 2 to 4 um out of focus (the
    /// rest of a cell or of a nucleus above and below the focal plane, whose blurred
    /// light is the widefield background a deconvolution must reject) while keeping
    /// the defocused PSFs (radius `Z NA / n`, up to ~140 pixels at the finest pixel
    /// sizes) and the number of planes small enough for a pair to take well under a
    /// second.
    pub half_depth_nm: f64,
    /// Spacing of the planes of the volume as a fraction of the axial resolution
    /// `2 lambda n / NA^2` (the first zero of the widefield PSF along its axis). The
    /// default, 0.5, samples the axial blur at its Nyquist rate: planes `lambda n /
    /// NA^2` apart, 400 nm for NA 1.4 in oil, 1.2 um for NA 0.75 in air. Each plane
    /// holds the fluorophores of the slab half a spacing on either side of it, so
    /// nothing between planes is lost.
    pub plane_spacing_fraction: f64,
    /// The probability of each scene kind.
    pub scenes: SceneWeights,
    /// A fixed scene to draw instead of random ones (tests, calibration); `None`
    /// (the default) for training data.
    pub fixed_scene: Option<FixedScene>,
    /// The ranges the acquisition (objective, wavelength, pixel size, photons,
    /// camera) is drawn from.
    pub acquisition: AcquisitionRanges,
}

impl Default for SpecimenSettings {
    /// 256 x 256 pixels, a 65-pixel reported PSF, a volume from -4 to +4 um with
    /// planes half an axial resolution apart, the default scene weights and
    /// acquisition ranges.
    fn default() -> SpecimenSettings {
        SpecimenSettings {
            height: 256,
            width: 256,
            psf_size: 65,
            half_depth_nm: 4000.0,
            plane_spacing_fraction: 0.5,
            scenes: SceneWeights::default(),
            fixed_scene: None,
            acquisition: AcquisitionRanges::default(),
        }
    }
}

impl SpecimenSettings {
    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first setting out of range and its value.
    pub fn validate(&self) -> Result<()> {
        for (name, side) in [("height", self.height), ("width", self.width)] {
            if side == 0 || side > MAX_IMAGE_SIDE {
                return Err(Error::InvalidInput(format!(
                    "the image {name} must be between 1 and {MAX_IMAGE_SIDE} pixels, got {side}"
                )));
            }
        }
        if self.psf_size == 0
            || self.psf_size.is_multiple_of(2)
            || self.psf_size > crate::classical::psf::MAX_PSF_SIDE
        {
            return Err(Error::InvalidInput(format!(
                "the PSF size must be odd and between 1 and {} pixels, got {}",
                crate::classical::psf::MAX_PSF_SIDE,
                self.psf_size
            )));
        }
        if !(self.half_depth_nm.is_finite()
            && self.half_depth_nm >= 0.0
            && self.half_depth_nm <= MAX_HALF_DEPTH_NM)
        {
            return Err(Error::InvalidInput(format!(
                "the half depth of the volume must be between 0 and {MAX_HALF_DEPTH_NM} nm, got {}",
                self.half_depth_nm
            )));
        }
        if !(self.plane_spacing_fraction.is_finite()
            && self.plane_spacing_fraction >= 0.05
            && self.plane_spacing_fraction <= 2.0)
        {
            return Err(Error::InvalidInput(format!(
                "the plane spacing fraction (of the axial resolution) must be between 0.05 and 2, got {}",
                self.plane_spacing_fraction
            )));
        }
        if let Some(FixedScene::Nucleus { depth_nm }) = self.fixed_scene {
            if !depth_nm.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "the depth of the fixed nucleus must be a finite number of nanometres, got {depth_nm}"
                )));
            }
        }
        self.scenes.validate()?;
        self.acquisition.validate()
    }

    /// Every setting as text, by name, for a model's metadata.
    pub fn description(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        map.insert("simulator".into(), "3-D specimen, widefield".into());
        map.insert("height".into(), self.height.to_string());
        map.insert("width".into(), self.width.to_string());
        map.insert("psf_size".into(), self.psf_size.to_string());
        map.insert("half_depth_nm".into(), self.half_depth_nm.to_string());
        map.insert(
            "plane_spacing_fraction".into(),
            self.plane_spacing_fraction.to_string(),
        );
        let scenes: Vec<String> = SceneKind::ALL
            .iter()
            .zip(self.scenes.weights())
            .map(|(kind, w)| format!("{} {w}", kind.name()))
            .collect();
        map.insert("scene_weights".into(), scenes.join(", "));
        map.insert(
            "fixed_scene".into(),
            match self.fixed_scene {
                None => "none".into(),
                Some(scene) => format!("{scene:?}"),
            },
        );
        map.insert("acquisition".into(), self.acquisition.description());
        map
    }
}
