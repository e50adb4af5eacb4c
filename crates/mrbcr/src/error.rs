//! The one error type of the library, with the problem named precisely enough for a
//! user to act on it: which file, which tensor, what was expected and what was found.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in mrbcr.
///
/// Every variant's `Display` is a complete sentence meant for the end user (it is what
/// the CLI prints, what the C ABI's last-error message and the Java/Python exceptions
/// carry).
///
/// Exhaustive on purpose: the C ABI (mrbcr-capi) maps each variant to a stable status
/// code with no wildcard arm, so a new variant fails to compile there until it has one.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing a file failed at the operating-system level.
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A model file (the project's safetensors format) is not valid.
    ModelFile {
        /// Name of the file (or of the in-memory source) that was being read.
        file: String,
        /// The tensor concerned, when the problem is about one tensor.
        tensor: Option<String>,
        /// What is wrong.
        problem: ModelFileProblem,
    },
    /// A TensorFlow checkpoint (tensor bundle) could not be imported.
    Checkpoint {
        /// The file of the bundle concerned (`.index` or `.data-*`).
        file: String,
        /// The bundle key (tensor name) concerned, when there is one.
        key: Option<String>,
        /// What is wrong.
        problem: CheckpointProblem,
    },
    /// An image file (TIFF) cannot be read or written as an image: not a TIFF, colour
    /// pixels, pages of different sizes, ...
    ImageFile {
        /// The file concerned.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// An argument or an image is not acceptable (wrong size, NaN values, ...).
    InvalidInput(String),
    /// The caller asked the work to stop; no result was produced.
    Cancelled,
    /// The work needs more memory than the system can give: refused before it started
    /// (or when an allocation failed), never an abort of the host program.
    OutOfMemory {
        /// What needed the memory, and what would need less.
        task: String,
        /// Bytes it needs (an estimate when refused beforehand).
        needed: u64,
        /// Bytes the system could give (`MemAvailable` on Linux), if known.
        available: Option<u64>,
    },
    /// A bug in mrbcr, found and reported instead of a panic: a worker thread that
    /// ended without delivering its result, a broken internal invariant. The message
    /// says what; please report it.
    Internal(String),
    /// Training cannot go on: the run diverged (a non-finite loss or weight; a lower
    /// learning rate may help), or its checkpoint is damaged or belongs to another
    /// run or network. The message names the step, the tensor or the file.
    Training(String),
}

/// What is wrong with a model file. See [`Error::ModelFile`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelFileProblem {
    /// The file is not a well-formed safetensors file: truncated, a header length beyond
    /// the file, invalid JSON, overlapping or out-of-range offsets, garbage bytes.
    NotSafetensors(String),
    /// The metadata is missing a required key, names another format, or has a value
    /// that cannot be parsed.
    BadMetadata(String),
    /// A tensor the architecture needs is not in the file.
    MissingTensor,
    /// The file holds a tensor the architecture does not have.
    UnexpectedTensor,
    /// A tensor has the wrong shape.
    WrongShape {
        /// The shape the architecture needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor is not stored as little-endian float32.
    WrongDtype {
        /// The dtype in the file, as safetensors names it (e.g. `F16`).
        found: String,
    },
    /// A tensor holds NaN or infinite values.
    NonFiniteValues,
    /// The weights are not those the file's `weights_crc32c` records: the file was
    /// damaged after it was written (a flipped bit, a bad copy).
    ChecksumMismatch {
        /// The checksum the metadata records (8 hex digits).
        recorded: String,
        /// The checksum of the weights read.
        computed: String,
    },
}

/// What is wrong with a TensorFlow checkpoint. See [`Error::Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// The file ends before a structure it announces.
    Truncated(String),
    /// The index is not a LevelDB table (bad magic number, bad block layout, ...).
    NotATable(String),
    /// A block of the index or a tensor's data does not match its CRC-32C checksum.
    ChecksumMismatch,
    /// A record (BundleEntryProto, BundleHeaderProto) cannot be decoded.
    BadRecord(String),
    /// The bundle uses a feature this importer does not read (compression, slices,
    /// several shards, big-endian data, ...).
    Unsupported(String),
    /// A tensor the m-rBCR mapping needs is not in the checkpoint.
    MissingKey,
    /// The checkpoint holds a model tensor that m-rBCR does not have: a checkpoint of
    /// another network or variant (e.g. DeBCR), which is refused rather than half-loaded.
    UnexpectedKey,
    /// A tensor has the wrong dtype or shape for its role in m-rBCR.
    WrongTensor(String),
}

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bytes as MiB or GiB for a message.
fn human_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = bytes as f64 / MIB;
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OutOfMemory {
                task,
                needed,
                available,
            } => {
                write!(
                    f,
                    "not enough memory: {task} needs about {}",
                    human_bytes(*needed)
                )?;
                match available {
                    Some(a) => write!(f, ", and the system has {} available", human_bytes(*a)),
                    None => write!(f, ", more than the system could give"),
                }
            }
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::ModelFile {
                file,
                tensor,
                problem,
            } => {
                write!(f, "model file {file}: ")?;
                if let Some(t) = tensor {
                    write!(f, "tensor '{t}': ")?;
                }
                write!(f, "{problem}")
            }
            Error::Checkpoint { file, key, problem } => {
                write!(f, "TensorFlow checkpoint {file}: ")?;
                if let Some(k) = key {
                    write!(f, "key '{k}': ")?;
                }
                write!(f, "{problem}")
            }
            Error::ImageFile { file, problem } => write!(f, "image file {file}: {problem}"),
            Error::InvalidInput(msg) => write!(f, "invalid input: {msg}"),
            Error::Cancelled => write!(f, "cancelled: no result was produced"),
            Error::Internal(msg) => {
                write!(
                    f,
                    "internal error (a bug in mrbcr, please report it): {msg}"
                )
            }
            Error::Training(msg) => write!(f, "training failed: {msg}"),
        }
    }
}

impl fmt::Display for ModelFileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileProblem::NotSafetensors(why) => {
                write!(f, "not a valid safetensors file ({why})")
            }
            ModelFileProblem::BadMetadata(why) => write!(f, "bad metadata: {why}"),
            ModelFileProblem::MissingTensor => write!(f, "missing from the file"),
            ModelFileProblem::UnexpectedTensor => {
                write!(f, "not part of the m-rBCR architecture")
            }
            ModelFileProblem::WrongShape { expected, found } => {
                write!(f, "shape {found:?}, expected {expected:?}")
            }
            ModelFileProblem::WrongDtype { found } => {
                write!(f, "dtype {found}, expected F32")
            }
            ModelFileProblem::NonFiniteValues => write!(f, "holds NaN or infinite values"),
            ModelFileProblem::ChecksumMismatch { recorded, computed } => write!(
                f,
                "the weights do not match the checksum the file records (weights_crc32c \
                 {recorded}, computed {computed}): the file is damaged; copy or download it again"
            ),
        }
    }
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointProblem::Truncated(what) => write!(f, "truncated: {what}"),
            CheckpointProblem::NotATable(why) => {
                write!(f, "not a TensorFlow tensor-bundle index ({why})")
            }
            CheckpointProblem::ChecksumMismatch => write!(f, "CRC-32C checksum mismatch"),
            CheckpointProblem::BadRecord(why) => write!(f, "undecodable record ({why})"),
            CheckpointProblem::Unsupported(what) => write!(f, "unsupported: {what}"),
            CheckpointProblem::MissingKey => write!(f, "missing from the checkpoint"),
            CheckpointProblem::UnexpectedKey => write!(
                f,
                "a model tensor m-rBCR does not have (a checkpoint of another network or variant?)"
            ),
            CheckpointProblem::WrongTensor(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
