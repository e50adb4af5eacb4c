//! What a deconvolution run is asked to do: tiling, normalisation, output range,
//! threads. Every front end (CLI, C ABI, Fiji, Python) fills one [`DeconvolveOptions`];
//! the textual forms parsed here are the ones they all accept.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::formats::model_file::ModelMetadata;
use crate::image::PixelType;

/// How pixel values are scaled before the network sees them. The network was trained
/// on images scaled to about [0, 1]; see each variant for what maps to 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalization {
    /// The `low` and `high` percentiles of each plane map to 0 and 1 (values beyond
    /// are kept, not clipped), as CSBDeep does. Robust to hot pixels and saturated
    /// spots. Percentiles are exact (linear interpolation between order statistics,
    /// as numpy's default). If they coincide (a plane that is mostly one value), the
    /// plane's minimum and maximum are used instead. Textual form
    /// `percentile:LOW:HIGH`, or `percentile` for the defaults 1 and 99.8.
    Percentile {
        /// Lower percentile, in [0, 100).
        low: f64,
        /// Upper percentile, in (low, 100].
        high: f64,
    },
    /// Each plane's minimum and maximum map to 0 and 1 (`minmax`).
    MinMax,
    /// Each tile is scaled by its own minimum and maximum, as the authors trained and
    /// applied m-rBCR on 128 x 128 patches (`per-tile-minmax`). For reproducing their
    /// results; neighbouring tiles then see different scalings, which blending evens out.
    PerTileMinMax,
    /// The values go to the network as they are (`none`): the input is already
    /// normalised.
    None,
}

impl Normalization {
    /// The default percentiles, `percentile:1:99.8` (CSBDeep's).
    pub const DEFAULT_PERCENTILE: Normalization = Normalization::Percentile {
        low: 1.0,
        high: 99.8,
    };

    /// One normalisation of each kind, in the order front ends offer them (the
    /// default's kind first): their [`name`](Normalization::name)s are the vocabulary
    /// of every front end (`--norm`, the C ABI's text, Python, the Fiji plugin's choice).
    pub const KINDS: [Normalization; 4] = [
        Normalization::DEFAULT_PERCENTILE,
        Normalization::MinMax,
        Normalization::PerTileMinMax,
        Normalization::None,
    ];

    /// The name of this normalisation's kind, without parameters: `percentile`,
    /// `minmax`, `per-tile-minmax` or `none`; each parses back to its kind (with the
    /// default percentiles for `percentile`).
    pub fn name(&self) -> &'static str {
        match self {
            Normalization::Percentile { .. } => "percentile",
            Normalization::MinMax => "minmax",
            Normalization::PerTileMinMax => "per-tile-minmax",
            Normalization::None => "none",
        }
    }

    /// The shortest textual form that parses back to this normalisation: `percentile`
    /// for [`Normalization::DEFAULT_PERCENTILE`], otherwise what `Display` writes.
    pub fn short_form(&self) -> String {
        if *self == Normalization::DEFAULT_PERCENTILE {
            "percentile".to_string()
        } else {
            self.to_string()
        }
    }

    /// Checks the percentiles.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `low` is not in [0, 100), `high` not in (low, 100],
    /// or either is not finite.
    pub fn validate(&self) -> Result<()> {
        if let Normalization::Percentile { low, high } = *self {
            if !(low.is_finite() && high.is_finite() && 0.0 <= low && low < high && high <= 100.0) {
                return Err(Error::InvalidInput(format!(
                    "percentiles must satisfy 0 <= low < high <= 100, got low {low} and high {high}"
                )));
            }
        }
        Ok(())
    }
}

impl Default for Normalization {
    fn default() -> Normalization {
        Normalization::DEFAULT_PERCENTILE
    }
}

impl fmt::Display for Normalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Normalization::Percentile { low, high } => write!(f, "percentile:{low}:{high}"),
            Normalization::MinMax | Normalization::PerTileMinMax | Normalization::None => {
                f.write_str(self.name())
            }
        }
    }
}

impl FromStr for Normalization {
    type Err = Error;

    /// Parses `percentile`, `percentile:LOW:HIGH`, `minmax`, `per-tile-minmax` or
    /// `none` (the forms [`Normalization`]'s `Display` writes).
    fn from_str(s: &str) -> Result<Normalization> {
        let bad = || {
            Error::InvalidInput(format!(
                "unknown normalisation '{s}': expected percentile, percentile:LOW:HIGH, \
                 minmax, per-tile-minmax or none"
            ))
        };
        let text = s.trim();
        let named = Normalization::KINDS.into_iter().find(|n| n.name() == text);
        let n = match named {
            Some(kind) => kind,
            None => {
                let rest = text.strip_prefix("percentile:").ok_or_else(bad)?;
                let (low, high) = rest.split_once(':').ok_or_else(bad)?;
                let number = |v: &str| {
                    v.trim().parse::<f64>().map_err(|_| {
                        Error::InvalidInput(format!("percentile '{v}' in '{s}' is not a number"))
                    })
                };
                Normalization::Percentile {
                    low: number(low)?,
                    high: number(high)?,
                }
            }
        };
        n.validate()?;
        Ok(n)
    }
}

/// The intensity scale of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputRange {
    /// Mapped back to the input's intensities: the inverse of the normalisation
    /// (`value * (high - low) + low`), so that 0 and 1 of the network return to the
    /// values that were mapped to them (`input`). The default: measurements, display
    /// ranges and thresholds carry over from the raw image, and the result can be
    /// stored in the input's own pixel type.
    #[default]
    Input,
    /// The network's own output, in the normalised range (about [0, 1])
    /// (`normalized`). Only with a floating-point output.
    Normalized,
}

impl fmt::Display for OutputRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputRange::Input => "input",
            OutputRange::Normalized => "normalized",
        })
    }
}

impl FromStr for OutputRange {
    type Err = Error;

    /// Parses `input` or `normalized`.
    fn from_str(s: &str) -> Result<OutputRange> {
        match s.trim() {
            "input" => Ok(OutputRange::Input),
            "normalized" | "normalised" => Ok(OutputRange::Normalized),
            _ => Err(Error::InvalidInput(format!(
                "unknown output range '{s}': expected input or normalized"
            ))),
        }
    }
}

/// Everything a deconvolution run can be told. [`Default`] gives the settings the
/// tools use.
#[derive(Debug, Clone, PartialEq)]
pub struct DeconvolveOptions {
    /// Side of the largest square tiles the image is cut into (smaller ones when the
    /// memory budget cannot hold one, see [`super::tile_within_budget`]), a
    /// multiple of 4 of at least 32;
    /// `0` runs the network on each whole plane at once (exactly the published network,
    /// generalised to any size; memory grows with the image: about 1.3 KiB per pixel).
    pub tile: usize,
    /// Pixels shared by neighbouring tiles (at least; blended smoothly), less than
    /// `tile`; `None`: the model's own ([`DeconvolveOptions::overlap_for`]).
    pub overlap: Option<usize>,
    /// How values are scaled for the network.
    pub normalization: Normalization,
    /// The intensity scale of the result.
    pub output_range: OutputRange,
    /// Worker threads; `0` uses every core; at most [`crate::threads::max_worker_threads`].
    pub threads: usize,
    /// Most bytes of working memory the run may take for its tiles (and, for
    /// [`super::deconvolve_tiff_file`], the planes it holds at once); `0`: what the
    /// system has available (`MemAvailable` on Linux). A low limit runs fewer tiles
    /// and planes at once (same result); a tile that alone needs more is refused with
    /// [`Error::OutOfMemory`] before anything is allocated.
    pub memory_limit: u64,
}

impl DeconvolveOptions {
    /// The default tile side: the largest; a run takes smaller tiles (down to 512) when
    /// its memory budget cannot hold one of these ([`super::tile_within_budget`]). A
    /// 1024 x 1024 plane is one tile (the untiled network's result) and a 2048 x 2048
    /// one 3 x 3 tiles of 768: 1.27 times its pixels of network work instead of 1.56
    /// with tiles of 512, at the same work per pixel (measured: 16.4 s of CPU against
    /// 21.5 s). Larger tiles are not the default: one 2048 x 2048 tile needed 13.4 s of
    /// user CPU but 11 s of system time to fault in its 5.6 GiB working set.
    pub const DEFAULT_TILE: usize = 1024;
    /// The overlap of a model whose file records none (`tile_overlap`).
    pub const DEFAULT_OVERLAP: usize = 128;
    /// The pixel type of a result when the caller chooses none: 32-bit float, in the
    /// input's intensity units, nothing rounded or clipped. The front ends' default
    /// (`mrbcr deconvolve --output-type`, the C ABI's `mrbcr_deconvolve_defaults`,
    /// Python's `DEFAULT_DTYPE`, the Fiji plugin's output type).
    pub const DEFAULT_OUTPUT_TYPE: PixelType = PixelType::F32;

    /// The overlap a run of `model` uses: the options' own, else the one the model's
    /// file records (measured for it, see [`super::context`]), else
    /// [`Self::DEFAULT_OVERLAP`].
    pub fn overlap_for(&self, model: &ModelMetadata) -> usize {
        self.overlap
            .or(model.tile_overlap)
            .unwrap_or(DeconvolveOptions::DEFAULT_OVERLAP)
    }

    /// These options with the overlap a run of `model` uses ([`Self::overlap_for`]).
    pub fn resolved_for(&self, model: &ModelMetadata) -> DeconvolveOptions {
        DeconvolveOptions {
            overlap: Some(self.overlap_for(model)),
            ..self.clone()
        }
    }

    /// Checks the options on their own (the image's size is checked when it is known;
    /// a model's own overlap when the model is, by [`Self::check_overlap`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the option: a tile that is not 0 or a multiple of
    /// 4 of at least 32, an overlap not below the tile, bad percentiles, too many
    /// threads.
    pub fn validate(&self) -> Result<()> {
        if self.tile != 0 && (self.tile < 32 || !self.tile.is_multiple_of(4)) {
            return Err(Error::InvalidInput(format!(
                "tile size {} must be 0 (whole image) or a multiple of 4 of at least 32",
                self.tile
            )));
        }
        if let Some(overlap) = self.overlap {
            self.check_overlap(overlap)?;
        }
        crate::threads::worker_threads(self.threads)?;
        self.normalization.validate()
    }

    /// Checks that tiles of these options can overlap by `overlap`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `overlap` is not below the tile size.
    pub fn check_overlap(&self, overlap: usize) -> Result<()> {
        if self.tile != 0 && overlap >= self.tile {
            let whose = if self.overlap.is_some() {
                "overlap"
            } else {
                "the model's overlap (its file's tile_overlap)"
            };
            return Err(Error::InvalidInput(format!(
                "{whose} {overlap} must be smaller than the tile size {}",
                self.tile
            )));
        }
        Ok(())
    }

    /// The memory the run's tiles may take: the limit, or what the system has if that
    /// is less (or the limit is 0); `None` with no limit on a system that cannot tell.
    pub fn memory_budget(&self) -> Option<u64> {
        let system = crate::memory::available_memory();
        match (self.memory_limit, system) {
            (0, system) => system,
            (limit, Some(system)) => Some(limit.min(system)),
            (limit, None) => Some(limit),
        }
    }

    /// The number of worker threads this run uses.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if [`Self::threads`] is above the limit
    /// ([`crate::threads::worker_threads`]).
    pub fn worker_threads(&self) -> Result<usize> {
        crate::threads::worker_threads(self.threads)
    }
}

impl Default for DeconvolveOptions {
    fn default() -> DeconvolveOptions {
        DeconvolveOptions {
            tile: DeconvolveOptions::DEFAULT_TILE,
            overlap: None,
            normalization: Normalization::default(),
            output_range: OutputRange::default(),
            threads: crate::threads::EVERY_CORE,
            memory_limit: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizations_parse_and_print_back() {
        for s in [
            "percentile:1:99.8",
            "percentile:0.5:99",
            "minmax",
            "per-tile-minmax",
            "none",
        ] {
            assert_eq!(s.parse::<Normalization>().unwrap().to_string(), s);
        }
        assert_eq!(
            "percentile".parse::<Normalization>().unwrap(),
            Normalization::DEFAULT_PERCENTILE
        );
    }

    #[test]
    fn each_kind_s_name_parses_back_to_it() {
        let names: Vec<&str> = Normalization::KINDS.iter().map(|n| n.name()).collect();
        assert_eq!(names, ["percentile", "minmax", "per-tile-minmax", "none"]);
        for kind in Normalization::KINDS {
            assert_eq!(kind.name().parse::<Normalization>().unwrap(), kind);
        }
        assert_eq!(Normalization::KINDS[0], Normalization::default());
    }

    #[test]
    fn bad_normalizations_are_named() {
        let msg = |s: &str| s.parse::<Normalization>().unwrap_err().to_string();
        assert!(msg("gauss").contains("unknown normalisation 'gauss'"));
        assert!(msg("percentile:x:99").contains("percentile 'x'"));
        assert!(msg("percentile:99:1").contains("0 <= low < high <= 100"));
        assert!(msg("percentile:1:101").contains("high 101"));
        assert!(msg("percentile:NaN:5").contains("low NaN"));
    }

    #[test]
    fn the_overlap_is_the_user_s_else_the_model_s_else_the_default() {
        let mut model = ModelMetadata::new("m");
        let options = DeconvolveOptions::default();
        assert_eq!(
            options.overlap_for(&model),
            DeconvolveOptions::DEFAULT_OVERLAP
        );
        model.tile_overlap = Some(200);
        assert_eq!(options.overlap_for(&model), 200);
        assert_eq!(options.resolved_for(&model).overlap, Some(200));
        let explicit = DeconvolveOptions {
            overlap: Some(40),
            ..options.clone()
        };
        assert_eq!(explicit.overlap_for(&model), 40);
        let tile = DeconvolveOptions::DEFAULT_TILE;
        model.tile_overlap = Some(tile);
        let msg = options
            .check_overlap(options.overlap_for(&model))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(&format!(
                "the model's overlap (its file's tile_overlap) {tile}"
            )),
            "{msg}"
        );
    }

    #[test]
    fn options_are_checked() {
        let with = |tile, overlap| DeconvolveOptions {
            tile,
            overlap: Some(overlap),
            ..DeconvolveOptions::default()
        };
        assert!(DeconvolveOptions::default().validate().is_ok());
        assert!(with(0, 999).validate().is_ok());
        let msg = |o: DeconvolveOptions| o.validate().unwrap_err().to_string();
        assert!(msg(with(30, 0)).contains("tile size 30"));
        assert!(msg(with(130, 0)).contains("tile size 130"));
        assert!(msg(with(128, 128)).contains("overlap 128 must be smaller than the tile size 128"));
        assert_eq!(
            "normalised".parse::<OutputRange>().unwrap(),
            OutputRange::Normalized
        );
        assert!("raw"
            .parse::<OutputRange>()
            .unwrap_err()
            .to_string()
            .contains("'raw'"));
    }
}
