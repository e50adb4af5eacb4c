//! Lists of sharp real images (a tab-separated file: which planes of which TIFF, their
//! pixel size, licence and source) and the planes they name, read and scaled robustly.
//!
//! A list has one line per file, `#` starting a comment:
//!
//! ```text
//! file<TAB>pixel_nm<TAB>planes<TAB>licence<TAB>source
//! partseg_nuclei_stack_4ch.tif<TAB>77.5<TAB>all<TAB>BSD-3-Clause<TAB>PartSegData==0.10.0 ...
//! ```
//!
//! `file` is relative to the folder the list is used with; `pixel_nm` is the pixel side
//! in the sample, nanometres, or `-` if unknown; `planes` is `all` (every plane is an
//! image), `sum` (the planes summed into one image, e.g. frames of one field) or
//! 0-based plane numbers separated by commas.

use std::path::Path;

use ndarray::Array2;

use crate::classical::stack::stack_planes;
use crate::deconvolve::normalize::percentile;
use crate::error::{Error, Result};
use crate::formats::tiff::read_tiff;

/// The list of real images the bundled model was trained on (`models/real-training.tsv`).
pub const TRAINING_LIST: &str = include_str!("../../../../../models/real-training.tsv");
/// The list of real images held out from its training, for the real-specimen benchmark
/// (`models/real-benchmark.tsv`).
pub const BENCHMARK_LIST: &str = include_str!("../../../../../models/real-benchmark.tsv");

/// Percentile of a plane scaled to 0 ([`ScaledPlane`]).
pub const SCALE_LOW_PERCENTILE: f64 = 1.0;
/// Percentile of a plane scaled to 1 ([`ScaledPlane`]).
pub const SCALE_HIGH_PERCENTILE: f64 = 99.9;

/// Which planes of a file are images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaneSelection {
    /// Every plane is an image.
    All,
    /// The planes summed are one image.
    Sum,
    /// These planes (0-based) are images.
    Listed(Vec<usize>),
}

/// One line of a list: a file, its pixel size, the planes taken, where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct RealImageEntry {
    /// The file, relative to the images' folder.
    pub file: String,
    /// Pixel side in the sample, nanometres, if known.
    pub pixel_size_nm: Option<f64>,
    /// Which planes are images.
    pub planes: PlaneSelection,
    /// The licence the file is under.
    pub licence: String,
    /// Where the file comes from (package, version, path inside).
    pub source: String,
}

/// A list of real images (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct RealImageList {
    /// The lines, in order.
    pub entries: Vec<RealImageEntry>,
}

/// One plane of a real image, scaled so that its [`SCALE_LOW_PERCENTILE`]-th
/// percentile is 0 and its [`SCALE_HIGH_PERCENTILE`]-th is 1, negative values set to
/// 0 (values above 1 are kept: bright spots stay brighter than the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledPlane {
    /// `file (plane k)` or `file (sum of n planes)`.
    pub name: String,
    /// The scaled pixels.
    pub pixels: Array2<f32>,
}

/// The planes of one file of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct RealImage {
    /// The list's line.
    pub entry: RealImageEntry,
    /// Its planes (at least one).
    pub planes: Vec<ScaledPlane>,
}

impl RealImageList {
    /// Parses a list; `origin` names it in error messages.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the line of a malformed entry, or if the list is
    /// empty.
    pub fn parse(text: &str, origin: &str) -> Result<RealImageList> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let bad = |what: String| {
                Error::InvalidInput(format!("{origin}, line {}: {what}", number + 1))
            };
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            if fields.len() != 5 {
                return Err(bad(format!(
                    "expected 5 tab-separated fields (file, pixel_nm, planes, licence, source), found {}",
                    fields.len()
                )));
            }
            let pixel_size_nm = match fields[1] {
                "-" => None,
                text => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => Some(v),
                    _ => {
                        return Err(bad(format!(
                        "the pixel size must be a positive number of nanometres or -, got {text:?}"
                    )))
                    }
                },
            };
            let planes = match fields[2] {
                "all" => PlaneSelection::All,
                "sum" => PlaneSelection::Sum,
                text => PlaneSelection::Listed(
                    text.split(',')
                        .map(|p| p.trim().parse::<usize>())
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(|_| {
                            bad(format!(
                                "planes must be all, sum or 0-based plane numbers separated by commas, got {text:?}"
                            ))
                        })?,
                ),
            };
            if fields[0].is_empty() {
                return Err(bad("the file name is empty".into()));
            }
            entries.push(RealImageEntry {
                file: fields[0].to_string(),
                pixel_size_nm,
                planes,
                licence: fields[3].to_string(),
                source: fields[4].to_string(),
            });
        }
        if entries.is_empty() {
            return Err(Error::InvalidInput(format!("{origin} lists no images")));
        }
        Ok(RealImageList { entries })
    }

    /// Reads and parses the list file at `path`.
    ///
    /// # Errors
    /// If the file cannot be read, or as [`RealImageList::parse`].
    pub fn read(path: &Path) -> Result<RealImageList> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        RealImageList::parse(&text, &path.display().to_string())
    }

    /// Reads every listed file from `folder` and scales its planes.
    ///
    /// # Errors
    /// If a file cannot be read, a listed plane does not exist, or a plane holds NaN or
    /// infinite values or is constant (the message names the file and plane).
    pub fn load(&self, folder: &Path) -> Result<Vec<RealImage>> {
        self.entries
            .iter()
            .map(|entry| {
                let path = folder.join(&entry.file);
                let planes = stack_planes(&read_tiff(&path)?.stack);
                let chosen: Vec<(String, Array2<f32>)> = match &entry.planes {
                    PlaneSelection::All => planes
                        .into_iter()
                        .enumerate()
                        .map(|(k, p)| (format!("{} (plane {k})", entry.file), p))
                        .collect(),
                    PlaneSelection::Sum => {
                        let n = planes.len();
                        let mut sum = planes[0].clone();
                        for p in &planes[1..] {
                            sum += p;
                        }
                        vec![(format!("{} (sum of {n} planes)", entry.file), sum)]
                    }
                    PlaneSelection::Listed(list) => list
                        .iter()
                        .map(|&k| {
                            planes
                                .get(k)
                                .map(|p| (format!("{} (plane {k})", entry.file), p.clone()))
                                .ok_or_else(|| {
                                    Error::InvalidInput(format!(
                                        "{} has {} planes: there is no plane {k} (0-based)",
                                        path.display(),
                                        planes.len()
                                    ))
                                })
                        })
                        .collect::<Result<_>>()?,
                };
                let planes = chosen
                    .into_iter()
                    .map(|(name, p)| scale_plane(name, p))
                    .collect::<Result<Vec<_>>>()?;
                Ok(RealImage {
                    entry: entry.clone(),
                    planes,
                })
            })
            .collect()
    }

    /// The files, pixel sizes, licences and sources, one per line, for a model's
    /// metadata.
    pub fn description(&self) -> String {
        self.entries
            .iter()
            .map(|e| {
                let pixel = e
                    .pixel_size_nm
                    .map_or("pixel size unknown".to_string(), |p| format!("{p} nm"));
                format!("{} ({pixel}; {}; from {})", e.file, e.licence, e.source)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `plane` scaled as [`ScaledPlane`] says.
fn scale_plane(name: String, plane: Array2<f32>) -> Result<ScaledPlane> {
    if let Some(v) = plane.iter().find(|v| !v.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "{name} holds a non-finite value ({v})"
        )));
    }
    let low = percentile(plane.view(), SCALE_LOW_PERCENTILE);
    let high = percentile(plane.view(), SCALE_HIGH_PERCENTILE);
    if high <= low {
        return Err(Error::InvalidInput(format!(
            "{name} is (nearly) constant: its {SCALE_LOW_PERCENTILE} and {SCALE_HIGH_PERCENTILE} \
             percentiles are both {low}"
        )));
    }
    let scale = 1.0 / (high - low);
    Ok(ScaledPlane {
        name,
        pixels: plane.mapv(|v| (((f64::from(v) - low) * scale).max(0.0)) as f32),
    })
}
