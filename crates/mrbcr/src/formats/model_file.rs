//! The project's model file: the weights of one m-rBCR network and what a user needs to
//! know about them, in a [safetensors](https://github.com/huggingface/safetensors) file.
//!
//! # Specification (format version 1)
//!
//! A model file is a safetensors file (8-byte little-endian header length, a JSON
//! header, the tensors' bytes) that holds:
//!
//! - **Tensors**: exactly the tensors of [`crate::network::spec::all_tensors`], no more,
//!   no fewer, under those names (e.g. `forward.mlp0.dense1.kernel`,
//!   `inverse.head_z0.bias`), each `F32` (little endian), row-major, with exactly the
//!   shape of the spec, in checkpoint layout: dense `[c_in, c_out]`, conv1d
//!   `[k, c_in, c_out]`, conv2d `[kh, kw, c_in, c_out]`, bias `[c_out]`. Every value
//!   is finite. The order of tensors in the file is not significant.
//! - **Metadata**, in the header's `__metadata__` object (string to string):
//!
//! | key | required | value |
//! |---|---|---|
//! | `format` | yes | exactly `mrbcr-model` |
//! | `format_version` | yes | a decimal integer; this is version `1` |
//! | `architecture` | yes | exactly `m-rBCR` |
//! | `name` | no | a short name for the model |
//! | `description` | no | free text: what the model was trained for |
//! | `input_normalization` | no | how inputs must be normalised before the network: `per-tile-minmax` (each tile scaled to [0, 1] by its own minimum and maximum, as the authors trained) or `percentile:LOW:HIGH` (scaled so that the LOW and HIGH percentiles of the image map to 0 and 1) |
//! | `train_patch_size` | no | side of the square training patches, a positive decimal integer (128 for the published weights) |
//! | `provenance` | no | where the weights come from (e.g. "imported from TensorFlow checkpoint ckpt-24") |
//! | `license` | no | the licence of the weights |
//! | `created_by` | no | the program that wrote the file, e.g. `mrbcr 0.1.0` |
//! | `tile_overlap` | no | the tile overlap, in pixels (a decimal integer), with which tiled results stay within 0.1% of the output range of the untiled network's, as measured by [`crate::deconvolve::context::measure_tile_overlap`]; tools use it as the default overlap (128 when absent) |
//! | `weights_crc32c` | no | CRC-32C (Castagnoli, as 8 lowercase hex digits) of the tensors' data: each tensor's little-endian bytes, tensors in byte order of their names. Written by every writer of this crate; a reader that finds it verifies it and refuses a file whose weights do not match (a damaged file). Files written before it was introduced have none and are read unverified. |
//! | any other key | no | kept as is ([`ModelMetadata::extra`]), e.g. training records |
//!
//! An optional key with an empty value is written as absent and read as empty. The
//! order of keys in the JSON header is not significant.
//!
//! **Versioning.** `format_version` is increased only when a version-1 reader would
//! misread a newer file (tensors renamed, re-laid-out or added, a metadata key whose
//! meaning changes). Adding an optional metadata key does not change it. A reader
//! refuses a file of a higher version than it knows, with a message saying so, rather
//! than guessing.
//!
//! # Reading
//!
//! [`read_model`] checks everything above and reports the first problem as
//! [`Error::ModelFile`] with a [`ModelFileProblem`] naming the file and, when one is
//! concerned, the tensor: not a safetensors file at all, bad metadata, then tensor by
//! tensor (in spec order) missing, wrong dtype (checked before the shape), wrong shape,
//! non-finite values, then any tensor the architecture does not have, then the weights'
//! checksum.
//!
//! Reading never allocates more than about twice the file's size: the header length is
//! checked against the file before anything is parsed, and headers with more than
//! [`MAX_HEADER_TOKENS`] JSON separators are refused before the JSON is parsed (the
//! memory of a parsed JSON document can be a large multiple of its text's size).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensorError, SafeTensors};

use crate::error::{Error, ModelFileProblem, Result};
use crate::formats::atomic_write::write_bytes_atomically;
use crate::formats::crc32c;
use crate::network::spec;
use crate::network::weights::{Tensor, Weights};

/// Value of the `format` metadata key.
pub const FORMAT: &str = "mrbcr-model";
/// The format version this build writes and the highest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Value of the `architecture` metadata key.
pub const ARCHITECTURE: &str = "m-rBCR";
/// A JSON header with more separators than this (`,` `:` `[` `{` outside strings) is
/// refused as [`ModelFileProblem::NotSafetensors`] before it is parsed. A model file's
/// 296 tensors and standard metadata take about 3,600, which leaves room for some 2,000
/// more metadata entries. A parsed token costs up to about 100 bytes (a metadata
/// entry), so the limit keeps the parsed header under 1 MiB.
pub const MAX_HEADER_TOKENS: usize = 8_192;

/// Metadata key of the weights' checksum ([`weights_checksum`]).
pub const CHECKSUM_KEY: &str = "weights_crc32c";

/// The keys of the descriptive fields of [`ModelMetadata`], in the order
/// [`ModelMetadata::entries`] lists them.
pub const DESCRIPTIVE_KEYS: [&str; 8] = [
    "name",
    "description",
    "input_normalization",
    "train_patch_size",
    "provenance",
    "license",
    "created_by",
    TILE_OVERLAP_KEY,
];

/// Metadata key of the tile overlap the model needs ([`ModelMetadata::tile_overlap`]).
pub const TILE_OVERLAP_KEY: &str = "tile_overlap";

/// The keys this module writes and checks itself (not fields of [`ModelMetadata`]).
const STRUCTURAL_KEYS: [&str; 4] = ["format", "format_version", "architecture", CHECKSUM_KEY];

/// Whether `key` has a meaning of its own (a field or a structural key), so it cannot
/// be in [`ModelMetadata::extra`].
fn is_reserved(key: &str) -> bool {
    STRUCTURAL_KEYS.contains(&key) || DESCRIPTIVE_KEYS.contains(&key)
}

/// What a model file says about its weights (the `__metadata__` of the safetensors
/// header, see the [module documentation](self)). `format`, `format_version`,
/// `architecture` and `weights_crc32c` are not fields: they are written by
/// [`model_to_bytes`] and checked by [`read_model`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMetadata {
    /// Short name of the model (`name`); may be empty.
    pub name: String,
    /// Free text about the model (`description`); may be empty.
    pub description: String,
    /// How inputs must be normalised (`input_normalization`): `per-tile-minmax` or
    /// `percentile:LOW:HIGH`; empty if unknown.
    pub input_normalization: String,
    /// Side of the square training patches (`train_patch_size`), if known.
    pub train_patch_size: Option<usize>,
    /// Where the weights come from (`provenance`); may be empty.
    pub provenance: String,
    /// Licence of the weights (`license`); may be empty.
    pub license: String,
    /// The program that wrote the file (`created_by`), e.g. `mrbcr 0.1.0`.
    pub created_by: String,
    /// The tile overlap the model needs (`tile_overlap`), if measured.
    pub tile_overlap: Option<usize>,
    /// Every other metadata key, kept on a round trip (e.g. training records). Must not
    /// use the reserved keys above.
    pub extra: BTreeMap<String, String>,
}

impl Default for ModelMetadata {
    /// Empty descriptive fields, `input_normalization` = `per-tile-minmax` (how m-rBCR
    /// was trained) and `created_by` = this build (`mrbcr <version>`).
    fn default() -> ModelMetadata {
        ModelMetadata {
            name: String::new(),
            description: String::new(),
            input_normalization: "per-tile-minmax".to_string(),
            train_patch_size: None,
            provenance: String::new(),
            license: String::new(),
            created_by: concat!("mrbcr ", env!("CARGO_PKG_VERSION")).to_string(),
            tile_overlap: None,
            extra: BTreeMap::new(),
        }
    }
}

impl ModelMetadata {
    /// The [default](ModelMetadata::default) metadata with a name.
    pub fn new(name: impl Into<String>) -> ModelMetadata {
        ModelMetadata {
            name: name.into(),
            ..ModelMetadata::default()
        }
    }

    /// Every entry as a key and its text, as the C ABI, the Fiji plugin and Python list
    /// them: the descriptive fields in the order of [`DESCRIPTIVE_KEYS`] (empty text for
    /// an empty field, an unknown patch size or tile overlap), then the [`extra`](Self::extra) keys in
    /// order.
    pub fn entries(&self) -> Vec<(&str, String)> {
        let patch = self
            .train_patch_size
            .map_or_else(String::new, |p| p.to_string());
        let overlap = self
            .tile_overlap
            .map_or_else(String::new, |o| o.to_string());
        let values = [
            self.name.clone(),
            self.description.clone(),
            self.input_normalization.clone(),
            patch,
            self.provenance.clone(),
            self.license.clone(),
            self.created_by.clone(),
            overlap,
        ];
        DESCRIPTIVE_KEYS
            .into_iter()
            .zip(values)
            .chain(self.extra.iter().map(|(k, v)| (k.as_str(), v.clone())))
            .collect()
    }

    /// The metadata as the `__metadata__` map of the file, required keys and the
    /// weights' checksum included; empty fields are left out.
    fn to_map(&self, checksum: u32) -> std::result::Result<HashMap<String, String>, String> {
        let mut m = HashMap::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("format_version".into(), FORMAT_VERSION.to_string());
        m.insert("architecture".into(), ARCHITECTURE.into());
        m.insert(CHECKSUM_KEY.into(), format!("{checksum:08x}"));
        let descriptive = self.entries().into_iter().take(DESCRIPTIVE_KEYS.len());
        for (k, v) in descriptive.filter(|(_, v)| !v.is_empty()) {
            m.insert(k.into(), v);
        }
        for (k, v) in &self.extra {
            if is_reserved(k) {
                return Err(format!(
                    "extra key '{k}' is a standard key; set the field instead"
                ));
            }
            m.insert(k.clone(), v.clone());
        }
        Ok(m)
    }

    /// Reads and checks the `__metadata__` map of a file.
    fn from_map(map: Option<&HashMap<String, String>>) -> std::result::Result<Self, String> {
        let map = map.ok_or("no __metadata__ in the header: not an mrbcr model file")?;
        let get = |k: &str| map.get(k).map(String::as_str);
        match get("format") {
            None => return Err("no 'format' key: not an mrbcr model file".into()),
            Some(FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "format '{}', expected '{FORMAT}': not an mrbcr model file",
                    clip(other)
                ))
            }
        }
        let version = get("format_version").ok_or("no 'format_version' key")?;
        match version.parse::<u64>() {
            Ok(v) if v == u64::from(FORMAT_VERSION) => {}
            Ok(v) if v > u64::from(FORMAT_VERSION) => {
                return Err(format!(
                    "written by a newer mrbcr (format version {v}); this build reads version \
                     {FORMAT_VERSION}"
                ))
            }
            _ => {
                return Err(format!(
                    "format_version '{}' is not a valid version (this build reads version \
                     {FORMAT_VERSION})",
                    clip(version)
                ))
            }
        }
        match get("architecture") {
            None => return Err("no 'architecture' key".into()),
            Some(ARCHITECTURE) => {}
            Some(other) => {
                return Err(format!(
                    "architecture '{}', this build runs '{ARCHITECTURE}'",
                    clip(other)
                ))
            }
        }
        let train_patch_size = match get("train_patch_size") {
            None | Some("") => None,
            Some(s) => Some(s.parse::<usize>().ok().filter(|&p| p > 0).ok_or_else(|| {
                format!("train_patch_size '{}' is not a positive integer", clip(s))
            })?),
        };
        let tile_overlap = match get(TILE_OVERLAP_KEY) {
            None | Some("") => None,
            Some(s) => Some(s.parse::<usize>().map_err(|_| {
                format!(
                    "{TILE_OVERLAP_KEY} '{}' is not a non-negative integer",
                    clip(s)
                )
            })?),
        };
        let text = |k: &str| get(k).unwrap_or_default().to_string();
        let extra = map
            .iter()
            .filter(|(k, _)| !is_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(ModelMetadata {
            name: text("name"),
            description: text("description"),
            input_normalization: text("input_normalization"),
            train_patch_size,
            provenance: text("provenance"),
            license: text("license"),
            created_by: text("created_by"),
            tile_overlap,
            extra,
        })
    }
}

/// A value quoted in an error message, cut to a readable length.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        None => s.to_string(),
        Some((i, _)) => format!("{}...", &s[..i]),
    }
}

/// Checks what the safetensors parser would trust blindly or spend memory on: the
/// header length against the file, and the number of JSON tokens.
fn precheck(bytes: &[u8]) -> std::result::Result<(), String> {
    let Some(len_bytes) = bytes.get(..8) else {
        return Err(format!(
            "{} bytes, shorter than the 8-byte header length",
            bytes.len()
        ));
    };
    let mut a = [0u8; 8];
    a.copy_from_slice(len_bytes);
    let n = u64::from_le_bytes(a);
    let rest = bytes.len() - 8;
    let header = usize::try_from(n)
        .ok()
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?))
        .ok_or_else(|| format!("header length {n} exceeds the {rest} bytes that follow it"))?;
    let mut tokens = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in header {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b',' | b':' | b'[' | b'{') {
            tokens += 1;
            if tokens > MAX_HEADER_TOKENS {
                return Err(format!(
                    "the JSON header has more than {MAX_HEADER_TOKENS} elements"
                ));
            }
        }
    }
    Ok(())
}

/// Decodes a model file held in memory. `source_name` names it in error messages.
///
/// # Errors
/// [`Error::ModelFile`] naming `source_name` (and the tensor concerned, if any), with
/// the first problem found, in this order: [`ModelFileProblem::NotSafetensors`]
/// (truncated, garbage, absurd header length, bad JSON, offsets out of range),
/// [`ModelFileProblem::BadMetadata`] (missing or wrong `format`, `architecture`,
/// unknown or newer `format_version`, unparsable `train_patch_size` or `tile_overlap`), then for each
/// tensor of the spec [`ModelFileProblem::MissingTensor`],
/// [`ModelFileProblem::WrongDtype`], [`ModelFileProblem::WrongShape`],
/// [`ModelFileProblem::NonFiniteValues`], and finally
/// [`ModelFileProblem::UnexpectedTensor`] for a tensor the architecture does not have.
pub fn read_model(bytes: &[u8], source_name: &str) -> Result<(Weights, ModelMetadata)> {
    let fail = |tensor: Option<&str>, problem| Error::ModelFile {
        file: source_name.to_string(),
        tensor: tensor.map(clip),
        problem,
    };
    precheck(bytes).map_err(|why| fail(None, ModelFileProblem::NotSafetensors(why)))?;
    let (header_len, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
        let why = match e {
            SafeTensorError::MetadataIncompleteBuffer => {
                "the tensors' data does not end where the file ends (truncated file?)".to_string()
            }
            other => clip(&other.to_string()),
        };
        fail(None, ModelFileProblem::NotSafetensors(why))
    })?;
    let meta = ModelMetadata::from_map(header.metadata().as_ref())
        .map_err(|why| fail(None, ModelFileProblem::BadMetadata(why)))?;
    // read_metadata checked that the offsets tile the rest of the file exactly.
    let data_start = 8 + header_len;

    let specs = spec::all_tensors();
    let mut tensors = BTreeMap::new();
    for s in &specs {
        let info = header
            .info(&s.name)
            .ok_or_else(|| fail(Some(&s.name), ModelFileProblem::MissingTensor))?;
        if info.dtype != Dtype::F32 {
            return Err(fail(
                Some(&s.name),
                ModelFileProblem::WrongDtype {
                    found: info.dtype.to_string(),
                },
            ));
        }
        if info.shape != s.shape {
            return Err(fail(
                Some(&s.name),
                ModelFileProblem::WrongShape {
                    expected: s.shape.clone(),
                    found: info.shape.clone(),
                },
            ));
        }
        let (start, end) = info.data_offsets;
        let raw = data_start
            .checked_add(start)
            .zip(data_start.checked_add(end))
            .and_then(|(a, b)| bytes.get(a..b))
            .ok_or_else(|| {
                fail(
                    Some(&s.name),
                    ModelFileProblem::NotSafetensors("data offsets out of range".into()),
                )
            })?;
        let data: Vec<f32> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if data.iter().any(|v| !v.is_finite()) {
            return Err(fail(Some(&s.name), ModelFileProblem::NonFiniteValues));
        }
        tensors.insert(
            s.name.clone(),
            Tensor {
                shape: s.shape.clone(),
                data,
            },
        );
    }
    let known: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let mut names = header.offset_keys();
    names.sort_unstable();
    if let Some(extra) = names.iter().find(|n| !known.contains(n.as_str())) {
        return Err(fail(Some(extra), ModelFileProblem::UnexpectedTensor));
    }
    if let Some(recorded) = header.metadata().as_ref().and_then(|m| m.get(CHECKSUM_KEY)) {
        let computed = format!("{:08x}", weights_checksum(&tensors));
        if *recorded != computed {
            return Err(fail(
                None,
                ModelFileProblem::ChecksumMismatch {
                    recorded: clip(recorded),
                    computed,
                },
            ));
        }
    }
    let weights = Weights::from_tensors(source_name, tensors)?;
    Ok((weights, meta))
}

/// The CRC-32C of the weights' data: each tensor's values as little-endian bytes,
/// tensors in byte order of their names (the `weights_crc32c` metadata key).
pub fn weights_checksum(tensors: &BTreeMap<String, Tensor>) -> u32 {
    tensors.values().fold(0, |crc, t| {
        let bytes: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        crc32c::extend(crc, &bytes)
    })
}

/// The largest model file [`load_model`] reads: 64 MiB. The network's 236,630 float32
/// parameters take 0.95 MB and the metadata a few kB, so this leaves room for a
/// network sixty times larger, while a wrong file (an image stack of gigabytes,
/// `/dev/zero`) is refused before it is read.
pub const MAX_MODEL_FILE_BYTES: u64 = 64 << 20;

/// Reads a model file. Its size is checked before it is read: only a regular file of
/// at most [`MAX_MODEL_FILE_BYTES`] is read (a device, FIFO or directory is refused
/// without waiting on it); the weights are checked to be finite as by [`read_model`].
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::ModelFile`] with
/// [`ModelFileProblem::NotSafetensors`] if it is not a regular file or is too large;
/// otherwise as [`read_model`], naming the file by its path.
pub fn load_model(path: &Path) -> Result<(Weights, ModelMetadata)> {
    let name = path.display().to_string();
    let refuse = |why: String| Error::ModelFile {
        file: name.clone(),
        tensor: None,
        problem: ModelFileProblem::NotSafetensors(why),
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // A FIFO opened for reading would wait for a writer: open without waiting, then
        // refuse it by its type (O_NONBLOCK changes nothing for a regular file).
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    // The opened file's own metadata, so it cannot be swapped after the check.
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(refuse(
            "it is a device, FIFO or directory, not a regular file".into(),
        ));
    }
    if meta.len() > MAX_MODEL_FILE_BYTES {
        return Err(refuse(format!(
            "{} bytes, more than the {MAX_MODEL_FILE_BYTES} a model file can have",
            meta.len()
        )));
    }
    // Read at most one byte more than allowed, in case the file grows meanwhile.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_MODEL_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_MODEL_FILE_BYTES {
        return Err(refuse(format!(
            "it grew past the {MAX_MODEL_FILE_BYTES} bytes a model file can have while being read"
        )));
    }
    read_model(&bytes, &name)
}

/// Encodes weights and metadata as a model file (format version [`FORMAT_VERSION`]).
///
/// # Errors
/// [`Error::ModelFile`] with [`ModelFileProblem::BadMetadata`] if `meta.extra` uses a
/// reserved key (`name`, `format`, ...); [`ModelFileProblem::NotSafetensors`] if the
/// safetensors encoder fails (it does not for valid weights).
pub fn model_to_bytes(weights: &Weights, meta: &ModelMetadata) -> Result<Vec<u8>> {
    let fail = |problem| Error::ModelFile {
        file: "(model being written)".to_string(),
        tensor: None,
        problem,
    };
    let map = meta
        .to_map(weights_checksum(weights.tensors()))
        .map_err(|why| fail(ModelFileProblem::BadMetadata(why)))?;
    let encoded: Vec<(&str, &[usize], Vec<u8>)> = weights
        .tensors()
        .iter()
        .map(|(name, t)| {
            let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.as_str(), t.shape.as_slice(), bytes)
        })
        .collect();
    let views = encoded
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.to_vec(), bytes).map(|v| (*name, v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| fail(ModelFileProblem::NotSafetensors(e.to_string())))?;
    let bytes = safetensors::serialize(views, Some(map))
        .map_err(|e| fail(ModelFileProblem::NotSafetensors(e.to_string())))?;
    canonical_header(&bytes).map_err(|why| fail(ModelFileProblem::NotSafetensors(why)))
}

/// The same safetensors file with its JSON header's keys in sorted order. The encoder
/// writes them in hash-map order, which differs from run to run; sorted, the same model
/// always gives the same bytes (a reproducible file, a stable checksum). The header
/// stays padded with spaces to a multiple of 8 bytes, as the encoder pads it.
fn canonical_header(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let n = u64::from_le_bytes(bytes[..8].try_into().map_err(|_| "no header length")?) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + n]).map_err(|e| e.to_string())?;
    // serde_json's maps are ordered by key (no `preserve_order`), so this sorts them.
    let mut json = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + n..]);
    Ok(out)
}

/// Writes a model file, atomically (see [`crate::formats::atomic_write`]): a failure
/// never leaves a partial file at `path`. An existing regular file at `path` is
/// replaced.
///
/// # Errors
/// As [`model_to_bytes`] and [`write_bytes_atomically`] (which refuses a target that
/// is not a regular file, such as `/dev/null`).
pub fn save_model(path: &Path, weights: &Weights, meta: &ModelMetadata) -> Result<()> {
    let bytes = model_to_bytes(weights, meta)?;
    write_bytes_atomically(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precheck_refuses_absurd_lengths_and_complex_headers() {
        assert!(precheck(&[1, 2, 3]).is_err());
        let mut b = u64::MAX.to_le_bytes().to_vec();
        b.extend(b"{}");
        assert!(precheck(&b).unwrap_err().contains("exceeds"));
        let header = format!("[{}]", "0,".repeat(MAX_HEADER_TOKENS + 1));
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend(header.as_bytes());
        assert!(precheck(&b).unwrap_err().contains("elements"));
        // Separators inside strings do not count.
        let header = format!("{{\"a\":\"{}\"}}", ",".repeat(2 * MAX_HEADER_TOKENS));
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend(header.as_bytes());
        assert!(precheck(&b).is_ok());
    }

    #[test]
    fn the_same_model_always_gives_the_same_bytes() {
        let weights = Weights::initialize(3);
        let mut m = ModelMetadata::new("test");
        for i in 0..20 {
            m.extra.insert(format!("k{i}"), i.to_string());
        }
        let a = model_to_bytes(&weights, &m).unwrap();
        for _ in 0..4 {
            assert!(model_to_bytes(&weights, &m).unwrap() == a);
        }
        let n = u64::from_le_bytes(a[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let (back, meta) = read_model(&a, "t").unwrap();
        assert_eq!(meta, m);
        assert!(back.tensors() == weights.tensors());
    }

    #[test]
    fn metadata_round_trips_and_reserved_extra_keys_are_refused() {
        let mut m = ModelMetadata::new("test");
        m.train_patch_size = Some(128);
        m.tile_overlap = Some(132);
        m.extra.insert("training.epochs".into(), "12".into());
        let map = m.to_map(0).unwrap();
        assert_eq!(map["format"], FORMAT);
        assert_eq!(map[TILE_OVERLAP_KEY], "132");
        assert_eq!(ModelMetadata::from_map(Some(&map)).unwrap(), m);
        m.extra.insert("license".into(), "x".into());
        assert!(m.to_map(0).is_err());
    }

    #[test]
    fn clip_cuts_on_characters() {
        assert_eq!(clip("abc"), "abc");
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), 83);
    }
}
