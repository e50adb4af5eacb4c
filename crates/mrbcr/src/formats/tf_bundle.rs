//! A reader for TensorFlow tensor bundles (the `ckpt-N.index` / `ckpt-N.data-*` pair of
//! a TensorFlow 2 checkpoint), written from the file format alone: no TensorFlow.
//!
//! # The format
//!
//! `<prefix>.index` is a LevelDB table ("SSTable"), uncompressed:
//!
//! - a 48-byte footer at the end: the metaindex block handle and the index block handle
//!   (each a pair of varints, offset and size), zero padding to 40 bytes, and the magic
//!   number `0xdb4775248b80fb57` (little endian);
//! - blocks, each followed by a 5-byte trailer: a compression type byte (0 = none; this
//!   reader refuses the others) and the masked CRC-32C of the block's bytes and the type
//!   byte. Every trailer is verified;
//! - a block is a run of prefix-compressed entries (varint `shared`, varint
//!   `non_shared`, varint `value_len`, the `non_shared` new bytes of the key, the value),
//!   then an array of `u32` restart offsets and their count (`u32`);
//! - the index block maps separator keys to the handles of the data blocks; the data
//!   blocks map the bundle's keys, in increasing byte order, to serialised protobufs.
//!
//! The key `""` holds a `BundleHeaderProto` (number of shards, which must be 1 here;
//! endianness, which must be little; version), every other key a `BundleEntryProto`:
//! dtype (1), shape (2), shard id (3), offset (4) and size (5) of the tensor's bytes in
//! the data file, their CRC-32C (6), and slices (7, partitioned variables, refused).
//!
//! The entry's `crc32c` field is stored **masked** (like the table's block checksums):
//! on the authors' m-rBCR checkpoint `mask(crc32c(bytes))` equals the stored value for
//! every tensor, the unmasked CRC for none. [`TfBundle::read_f32`] checks it.
//!
//! `<prefix>.data-00000-of-00001` holds the tensors' raw bytes, little-endian, row-major.
//!
//! # Robustness
//!
//! A malformed file gives [`Error::Checkpoint`] naming the file (and the key when there
//! is one), never a panic or an endless loop. No length, count or offset read from a
//! file is trusted: each is checked against the bytes actually present before anything
//! is sliced or allocated, all arithmetic on them is checked, and every loop consumes
//! input. The decoded index (keys and entries) is refused if it would take more than
//! [`MAX_INDEX_EXPANSION`] times the size of the `.index` file (prefix compression could
//! otherwise make a small file decode to a huge set of keys), and reading a tensor
//! allocates only its size, which is checked to lie inside the data file.

use std::path::Path;

use super::crc32c;
use crate::error::{CheckpointProblem, Error, Result};
use crate::network::weights::Tensor;

/// Magic number at the end of a LevelDB table.
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Size of a LevelDB table footer.
const FOOTER_LEN: usize = 48;
/// Size of the trailer after every block: compression type and masked CRC.
const BLOCK_TRAILER_LEN: usize = 5;
/// TensorFlow's limit on the rank of a tensor (`TensorShape::MaxDimensions()`).
pub const MAX_RANK: usize = 254;
/// The decoded index (keys, entries and their shapes) may take at most this many times
/// the size of the `.index` file in memory. The m-rBCR checkpoint's index decodes to about
/// 4 times its size (long prefix-compressed keys); an index of many tiny records could
/// need up to about 15 times. Beyond the limit, prefix compression is being abused.
pub const MAX_INDEX_EXPANSION: usize = 32;

/// A TensorFlow `DataType` enum value, as stored in a `BundleEntryProto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataType(pub i32);

impl DataType {
    /// `DT_FLOAT`: 32-bit IEEE float.
    pub const FLOAT: DataType = DataType(1);
    /// `DT_DOUBLE`: 64-bit IEEE float.
    pub const DOUBLE: DataType = DataType(2);
    /// `DT_INT32`.
    pub const INT32: DataType = DataType(3);
    /// `DT_UINT8`.
    pub const UINT8: DataType = DataType(4);
    /// `DT_STRING` (e.g. the checkpoint's object graph).
    pub const STRING: DataType = DataType(7);
    /// `DT_INT64` (e.g. `save_counter`).
    pub const INT64: DataType = DataType(9);
    /// `DT_BOOL`.
    pub const BOOL: DataType = DataType(10);
    /// `DT_BFLOAT16`.
    pub const BFLOAT16: DataType = DataType(14);
    /// `DT_HALF`: 16-bit IEEE float.
    pub const HALF: DataType = DataType(19);

    /// TensorFlow's name for the type (`"float32"`, `"int64"`, ...), or `"DataType(N)"`.
    pub fn name(self) -> String {
        let known = match self.0 {
            0 => "invalid",
            1 => "float32",
            2 => "float64",
            3 => "int32",
            4 => "uint8",
            5 => "int16",
            6 => "int8",
            7 => "string",
            8 => "complex64",
            9 => "int64",
            10 => "bool",
            14 => "bfloat16",
            17 => "uint16",
            18 => "complex128",
            19 => "float16",
            22 => "uint32",
            23 => "uint64",
            _ => return format!("DataType({})", self.0),
        };
        known.to_string()
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// One tensor's record in the index (a decoded `BundleEntryProto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleEntry {
    /// The element type.
    pub dtype: DataType,
    /// The dimensions as stored (`-1` is TensorFlow's "unknown"); `None` if the shape
    /// is marked as of unknown rank.
    pub shape: Option<Vec<i64>>,
    /// The data file holding the bytes (always 0 in a single-shard bundle).
    pub shard_id: i32,
    /// Offset of the tensor's bytes in the data file.
    pub offset: u64,
    /// Number of bytes of the tensor.
    pub size: u64,
    /// CRC-32C of the tensor's bytes, masked as stored (rotated right by 15 bits, plus
    /// `0xa282ead8`).
    pub crc32c: u32,
    /// Number of slices (parts of a partitioned variable); 0 for a whole tensor.
    pub slices: usize,
}

impl BundleEntry {
    /// The shape as sizes, or `None` if the rank or a dimension is unknown (negative)
    /// or does not fit in `usize`.
    pub fn dims(&self) -> Option<Vec<usize>> {
        self.shape
            .as_ref()?
            .iter()
            .map(|&d| usize::try_from(d).ok())
            .collect()
    }
}

/// A TensorFlow tensor bundle held in memory: its decoded index and its data file.
#[derive(Debug, Clone)]
pub struct TfBundle {
    index_name: String,
    data_name: String,
    /// Entries in increasing key order (the order of the table), keys unique.
    entries: Vec<(String, BundleEntry)>,
    data: Vec<u8>,
    producer: i32,
}

impl TfBundle {
    /// Reads the bundle `<prefix>.index` + `<prefix>.data-00000-of-00001`, e.g. with
    /// the prefix `.../ckpt-24`.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be read; [`Error::Checkpoint`] if the index is not
    /// a valid single-shard, little-endian, uncompressed tensor bundle.
    pub fn open(prefix: &Path) -> Result<TfBundle> {
        let index_path = with_suffix(prefix, ".index");
        let data_path = with_suffix(prefix, ".data-00000-of-00001");
        let index = std::fs::read(&index_path).map_err(|e| Error::io(&index_path, e))?;
        let data = std::fs::read(&data_path).map_err(|e| Error::io(&data_path, e))?;
        TfBundle::from_bytes(
            &index,
            data,
            &index_path.display().to_string(),
            &data_path.display().to_string(),
        )
    }

    /// Decodes a bundle from the bytes of its index and of its (single) data file.
    /// `index_name` and `data_name` name them in error messages.
    ///
    /// The data file is only checked when tensors are read.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming `index_name` (and the key, for a bad record): the
    /// index is not a LevelDB table ([`CheckpointProblem::NotATable`],
    /// [`CheckpointProblem::Truncated`]), a block fails its checksum
    /// ([`CheckpointProblem::ChecksumMismatch`]), a record cannot be decoded
    /// ([`CheckpointProblem::BadRecord`]), or the bundle is compressed, sharded or
    /// big-endian ([`CheckpointProblem::Unsupported`]).
    pub fn from_bytes(
        index: &[u8],
        data: Vec<u8>,
        index_name: &str,
        data_name: &str,
    ) -> Result<TfBundle> {
        let fail = |key: Option<&str>, problem| Error::Checkpoint {
            file: index_name.to_string(),
            key: key.map(str::to_string),
            problem,
        };
        let mut records = read_table(index).map_err(|p| fail(None, p))?;
        let budget = index.len().saturating_mul(MAX_INDEX_EXPANSION);
        let mut heap = 0usize;
        let mut entries: Vec<(String, BundleEntry)> = Vec::new();
        let mut header: Option<BundleHeader> = None;
        while let Some((key, value)) = records.next().map_err(|p| fail(None, p))? {
            let key = match std::str::from_utf8(key) {
                Ok(k) => k,
                Err(_) => {
                    return Err(fail(
                        Some(&String::from_utf8_lossy(key)),
                        CheckpointProblem::BadRecord("the key is not UTF-8".into()),
                    ))
                }
            };
            if key.is_empty() {
                if header.is_some() || !entries.is_empty() {
                    return Err(fail(
                        Some(key),
                        CheckpointProblem::NotATable("keys out of order".into()),
                    ));
                }
                let h = decode_header(value)
                    .map_err(|why| fail(Some(key), CheckpointProblem::BadRecord(why)))?;
                header = Some(h);
                continue;
            }
            if let Some((last, _)) = entries.last() {
                if key.as_bytes() <= last.as_bytes() {
                    return Err(fail(
                        Some(key),
                        CheckpointProblem::NotATable("keys out of order".into()),
                    ));
                }
            }
            let entry = decode_entry(value)
                .map_err(|why| fail(Some(key), CheckpointProblem::BadRecord(why)))?;
            // Memory of the decoded index: keys, shapes and the entry vector as it will be
            // after this push (it grows by doubling).
            let dims = entry.shape.as_ref().map_or(0, Vec::capacity);
            heap = heap
                .saturating_add(key.len())
                .saturating_add(dims.saturating_mul(std::mem::size_of::<i64>()));
            let capacity = if entries.len() < entries.capacity() {
                entries.capacity()
            } else {
                (2 * entries.capacity()).max(4)
            };
            let used = heap.saturating_add(
                capacity.saturating_mul(std::mem::size_of::<(String, BundleEntry)>()),
            );
            if used > budget {
                return Err(fail(
                    Some(key),
                    CheckpointProblem::NotATable(format!(
                        "the index decodes to more than {MAX_INDEX_EXPANSION} times its size \
                         (malformed prefix compression?)"
                    )),
                ));
            }
            entries.push((key.to_string(), entry));
        }
        let header = header.ok_or_else(|| {
            fail(
                None,
                CheckpointProblem::NotATable("no bundle header (the empty key)".into()),
            )
        })?;
        if header.num_shards != 1 {
            return Err(fail(
                Some(""),
                CheckpointProblem::Unsupported(format!(
                    "a bundle of {} data shards (only single-shard bundles are read)",
                    header.num_shards
                )),
            ));
        }
        if header.endianness != 0 {
            return Err(fail(
                Some(""),
                CheckpointProblem::Unsupported("big-endian tensor data".into()),
            ));
        }
        Ok(TfBundle {
            index_name: index_name.to_string(),
            data_name: data_name.to_string(),
            entries,
            data,
            producer: header.producer,
        })
    }

    /// The name of the index file, as given to [`TfBundle::open`] or
    /// [`TfBundle::from_bytes`].
    pub fn index_name(&self) -> &str {
        &self.index_name
    }

    /// The name of the data file.
    pub fn data_name(&self) -> &str {
        &self.data_name
    }

    /// The `producer` version recorded in the bundle header (the TensorFlow graph-def
    /// version of the writer, 1 for TensorFlow 2 checkpoints).
    pub fn producer(&self) -> i32 {
        self.producer
    }

    /// Every key except the header's `""`, in increasing byte order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The record of `key`, if the bundle has it.
    pub fn entry(&self, key: &str) -> Option<&BundleEntry> {
        self.entries
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The raw bytes of `key`'s tensor in the data file, after checking that they lie
    /// inside the file and match their CRC-32C.
    ///
    /// # Errors
    /// [`Error::Checkpoint`]: [`CheckpointProblem::MissingKey`] (naming the index file)
    /// if the key is absent; [`CheckpointProblem::Unsupported`] for a sliced
    /// (partitioned) tensor; [`CheckpointProblem::BadRecord`] for a shard other than 0;
    /// naming the data file, [`CheckpointProblem::Truncated`] if the bytes run past its
    /// end and [`CheckpointProblem::ChecksumMismatch`] if their CRC is wrong.
    pub fn tensor_bytes(&self, key: &str) -> Result<&[u8]> {
        let entry = self
            .entry(key)
            .ok_or_else(|| self.index_error(key, CheckpointProblem::MissingKey))?;
        if entry.dtype == DataType::STRING {
            return Err(self.index_error(
                key,
                CheckpointProblem::Unsupported(
                    "a string tensor (TensorFlow checksums those differently)".into(),
                ),
            ));
        }
        if entry.slices > 0 {
            return Err(self.index_error(
                key,
                CheckpointProblem::Unsupported(
                    "a sliced (partitioned) variable; only whole tensors are read".into(),
                ),
            ));
        }
        if entry.shard_id != 0 {
            return Err(self.index_error(
                key,
                CheckpointProblem::BadRecord(format!(
                    "data shard {} in a single-shard bundle",
                    entry.shard_id
                )),
            ));
        }
        let range = usize::try_from(entry.offset)
            .ok()
            .zip(usize::try_from(entry.size).ok())
            .and_then(|(start, len)| Some(start..start.checked_add(len)?))
            .filter(|r| r.end <= self.data.len());
        let Some(range) = range else {
            return Err(self.data_error(
                key,
                CheckpointProblem::Truncated(format!(
                    "the tensor's {} bytes at offset {} run past the end of the data file ({} bytes)",
                    entry.size,
                    entry.offset,
                    self.data.len()
                )),
            ));
        };
        let bytes = &self.data[range];
        if crc32c::mask(crc32c::crc32c(bytes)) != entry.crc32c {
            return Err(self.data_error(key, CheckpointProblem::ChecksumMismatch));
        }
        Ok(bytes)
    }

    /// Reads `key`'s tensor as float32 values (little endian, row-major).
    ///
    /// # Errors
    /// [`Error::Checkpoint`]: everything [`TfBundle::tensor_bytes`] reports, plus
    /// [`CheckpointProblem::WrongTensor`] if the tensor is not float32 and
    /// [`CheckpointProblem::BadRecord`] if its shape is unknown or does not match its
    /// size. Shape and size are checked before the bytes are read or anything is
    /// allocated.
    pub fn read_f32(&self, key: &str) -> Result<Tensor> {
        let entry = self
            .entry(key)
            .ok_or_else(|| self.index_error(key, CheckpointProblem::MissingKey))?;
        if entry.dtype != DataType::FLOAT {
            return Err(self.index_error(
                key,
                CheckpointProblem::WrongTensor(format!("dtype {}, expected float32", entry.dtype)),
            ));
        }
        let shape = entry.dims().ok_or_else(|| {
            self.index_error(
                key,
                CheckpointProblem::BadRecord(format!("unknown shape {:?}", entry.shape)),
            )
        })?;
        let bytes_needed = shape
            .iter()
            .try_fold(4usize, |n, &d| n.checked_mul(d))
            .and_then(|n| u64::try_from(n).ok());
        if bytes_needed != Some(entry.size) {
            return Err(self.index_error(
                key,
                CheckpointProblem::BadRecord(format!(
                    "{} bytes of data for a float32 tensor of shape {shape:?}",
                    entry.size
                )),
            ));
        }
        let bytes = self.tensor_bytes(key)?;
        let data = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Tensor { shape, data })
    }

    fn index_error(&self, key: &str, problem: CheckpointProblem) -> Error {
        Error::Checkpoint {
            file: self.index_name.clone(),
            key: Some(key.to_string()),
            problem,
        }
    }

    fn data_error(&self, key: &str, problem: CheckpointProblem) -> Error {
        Error::Checkpoint {
            file: self.data_name.clone(),
            key: Some(key.to_string()),
            problem,
        }
    }
}

/// `<prefix><suffix>`, without treating a dot in the prefix as an extension.
fn with_suffix(prefix: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    s.into()
}

// ---------------------------------------------------------------------------------
// Byte cursor and protobuf wire format

/// Reads varints and slices from a byte slice, never past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// A base-128 varint of at most 10 bytes; `None` if truncated or longer.
    fn varint64(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                // The tenth byte may only contribute the top bit.
                if i == 9 && b > 1 {
                    return None;
                }
                return Some(value);
            }
        }
        None
    }

    /// A varint that must fit in 32 bits (LevelDB's lengths).
    fn varint32(&mut self) -> Option<u32> {
        self.varint64().and_then(|v| u32::try_from(v).ok())
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn fixed32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A field's value, by protobuf wire type.
enum Wire<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl Wire<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Wire::Varint(_) => "varint",
            Wire::Fixed64 => "fixed64",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed32(_) => "fixed32",
        }
    }
}

/// The fields of one serialised protobuf message, in order. Unknown fields are
/// returned too and simply ignored by the decoders, which skips them correctly.
struct ProtoReader<'a> {
    cur: Cursor<'a>,
}

impl<'a> ProtoReader<'a> {
    fn new(buf: &'a [u8]) -> ProtoReader<'a> {
        ProtoReader {
            cur: Cursor::new(buf),
        }
    }

    fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, String> {
        if self.cur.at_end() {
            return Ok(None);
        }
        let tag = self.cur.varint64().ok_or("truncated field tag")?;
        let field = tag >> 3;
        if field == 0 || field > (1 << 29) - 1 {
            return Err(format!("invalid field number {field}"));
        }
        let value = match tag & 7 {
            0 => Wire::Varint(
                self.cur
                    .varint64()
                    .ok_or_else(|| format!("field {field}: truncated varint"))?,
            ),
            1 => {
                self.cur
                    .bytes(8)
                    .ok_or_else(|| format!("field {field}: truncated fixed64"))?;
                Wire::Fixed64
            }
            2 => {
                let len = self
                    .cur
                    .varint64()
                    .ok_or_else(|| format!("field {field}: truncated length"))?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= self.cur.remaining())
                    .ok_or_else(|| {
                        format!(
                            "field {field}: length {len} exceeds the {} bytes left",
                            self.cur.remaining()
                        )
                    })?;
                Wire::Bytes(self.cur.bytes(len).ok_or("unreachable: checked length")?)
            }
            5 => Wire::Fixed32(
                self.cur
                    .fixed32()
                    .ok_or_else(|| format!("field {field}: truncated fixed32"))?,
            ),
            3 | 4 => {
                return Err(format!(
                    "field {field}: group wire type (not used by TensorFlow)"
                ))
            }
            w => return Err(format!("field {field}: invalid wire type {w}")),
        };
        Ok(Some((field, value)))
    }
}

fn wrong_wire(message: &str, field: u64, w: &Wire<'_>) -> String {
    format!("{message} field {field} has wire type {}", w.type_name())
}

/// An int32 / enum field: a varint holding the sign-extended 64-bit value.
fn as_i32(v: u64, what: &str) -> Result<i32, String> {
    i32::try_from(v as i64).map_err(|_| format!("{what} {} out of range", v as i64))
}

/// An int64 field that must not be negative (offsets and sizes).
fn as_nonneg(v: u64, what: &str) -> Result<u64, String> {
    if (v as i64) < 0 {
        Err(format!("negative {what} {}", v as i64))
    } else {
        Ok(v)
    }
}

/// The decoded `BundleHeaderProto`.
struct BundleHeader {
    num_shards: i32,
    endianness: i32,
    producer: i32,
}

fn decode_header(bytes: &[u8]) -> Result<BundleHeader, String> {
    let mut h = BundleHeader {
        num_shards: 0,
        endianness: 0,
        producer: 0,
    };
    let mut r = ProtoReader::new(bytes);
    while let Some((field, w)) = r.next_field()? {
        match (field, &w) {
            (1, Wire::Varint(v)) => h.num_shards = as_i32(*v, "num_shards")?,
            (2, Wire::Varint(v)) => h.endianness = as_i32(*v, "endianness")?,
            (3, Wire::Bytes(b)) => {
                let mut vr = ProtoReader::new(b);
                while let Some((f, vw)) = vr.next_field()? {
                    match (f, &vw) {
                        (1, Wire::Varint(v)) => h.producer = as_i32(*v, "producer")?,
                        (1, _) => return Err(wrong_wire("VersionDef", f, &vw)),
                        _ => {}
                    }
                }
            }
            (1..=3, _) => return Err(wrong_wire("BundleHeaderProto", field, &w)),
            _ => {}
        }
    }
    Ok(h)
}

fn decode_entry(bytes: &[u8]) -> Result<BundleEntry, String> {
    let mut e = BundleEntry {
        dtype: DataType(0),
        shape: Some(Vec::new()),
        shard_id: 0,
        offset: 0,
        size: 0,
        crc32c: 0,
        slices: 0,
    };
    let mut dims: Vec<i64> = Vec::new();
    let mut unknown_rank = false;
    let mut r = ProtoReader::new(bytes);
    while let Some((field, w)) = r.next_field()? {
        match (field, &w) {
            (1, Wire::Varint(v)) => e.dtype = DataType(as_i32(*v, "dtype")?),
            // Embedded messages that occur twice are merged, as protobuf specifies.
            (2, Wire::Bytes(b)) => decode_shape(b, &mut dims, &mut unknown_rank)?,
            (3, Wire::Varint(v)) => e.shard_id = as_i32(*v, "shard_id")?,
            (4, Wire::Varint(v)) => e.offset = as_nonneg(*v, "offset")?,
            (5, Wire::Varint(v)) => e.size = as_nonneg(*v, "size")?,
            (6, Wire::Fixed32(v)) => e.crc32c = *v,
            (7, Wire::Bytes(_)) => e.slices += 1,
            (1..=7, _) => return Err(wrong_wire("BundleEntryProto", field, &w)),
            _ => {}
        }
    }
    if e.dtype.0 == 0 {
        return Err("no dtype".into());
    }
    e.shape = if unknown_rank { None } else { Some(dims) };
    Ok(e)
}

/// Decodes a `TensorShapeProto` into `dims` / `unknown_rank`.
fn decode_shape(bytes: &[u8], dims: &mut Vec<i64>, unknown_rank: &mut bool) -> Result<(), String> {
    let mut r = ProtoReader::new(bytes);
    while let Some((field, w)) = r.next_field()? {
        match (field, &w) {
            (2, Wire::Bytes(b)) => {
                if dims.len() >= MAX_RANK {
                    return Err(format!("a shape of more than {MAX_RANK} dimensions"));
                }
                let mut size = 0i64;
                let mut dr = ProtoReader::new(b);
                while let Some((f, dw)) = dr.next_field()? {
                    match (f, &dw) {
                        (1, Wire::Varint(v)) => size = *v as i64,
                        (1, _) => return Err(wrong_wire("TensorShapeProto.Dim", f, &dw)),
                        _ => {}
                    }
                }
                if size < -1 {
                    return Err(format!("dimension {size}"));
                }
                dims.push(size);
            }
            (3, Wire::Varint(v)) => *unknown_rank = *v != 0,
            (2 | 3, _) => return Err(wrong_wire("TensorShapeProto", field, &w)),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// LevelDB table

/// A block handle read from the footer or the index block.
#[derive(Clone, Copy)]
struct BlockHandle {
    offset: u64,
    size: u64,
}

fn decode_handle(c: &mut Cursor<'_>) -> Option<BlockHandle> {
    Some(BlockHandle {
        offset: c.varint64()?,
        size: c.varint64()?,
    })
}

/// The contents of a block of `file` (without trailer), after verifying the trailer.
fn read_block<'a>(
    file: &'a [u8],
    h: BlockHandle,
    what: &str,
) -> Result<&'a [u8], CheckpointProblem> {
    let blocks_end = file.len() - FOOTER_LEN;
    let range = usize::try_from(h.offset)
        .ok()
        .zip(usize::try_from(h.size).ok())
        .and_then(|(start, len)| {
            let end = start.checked_add(len)?;
            (end.checked_add(BLOCK_TRAILER_LEN)? <= blocks_end).then_some(start..end)
        })
        .ok_or_else(|| {
            CheckpointProblem::Truncated(format!(
                "the {what} block ({} bytes at offset {}) runs past the end of the table ({} bytes)",
                h.size,
                h.offset,
                file.len()
            ))
        })?;
    let end = range.end;
    let contents = &file[range];
    let kind = file[end];
    let stored = u32::from_le_bytes([file[end + 1], file[end + 2], file[end + 3], file[end + 4]]);
    let actual = crc32c::extend(crc32c::crc32c(contents), &[kind]);
    if crc32c::unmask(stored) != actual {
        return Err(CheckpointProblem::ChecksumMismatch);
    }
    if kind != 0 {
        return Err(CheckpointProblem::Unsupported(format!(
            "a compressed table block (compression type {kind}); only uncompressed indexes are read"
        )));
    }
    Ok(contents)
}

/// Iterates over the entries of one block, undoing the prefix compression.
struct BlockIter<'a> {
    cur: Cursor<'a>,
    key: Vec<u8>,
}

impl<'a> BlockIter<'a> {
    fn new(block: &'a [u8], what: &str) -> Result<BlockIter<'a>, CheckpointProblem> {
        let bad = |why: String| CheckpointProblem::NotATable(format!("{what} block: {why}"));
        if block.len() < 4 {
            return Err(bad(format!("{} bytes, too short for a block", block.len())));
        }
        let n = block.len() - 4;
        let num_restarts = u32::from_le_bytes([block[n], block[n + 1], block[n + 2], block[n + 3]]);
        let restarts_len = usize::try_from(num_restarts)
            .ok()
            .and_then(|r| r.checked_mul(4))
            .filter(|&l| l <= n)
            .ok_or_else(|| {
                bad(format!(
                    "{num_restarts} restart points in {} bytes",
                    block.len()
                ))
            })?;
        Ok(BlockIter {
            cur: Cursor::new(&block[..n - restarts_len]),
            key: Vec::new(),
        })
    }

    /// The next (key, value), or `None` at the end of the block.
    fn next(&mut self, what: &str) -> Result<Option<Record<'_, 'a>>, CheckpointProblem> {
        if self.cur.at_end() {
            return Ok(None);
        }
        let bad = |why: &str| CheckpointProblem::NotATable(format!("{what} block: {why}"));
        let shared = self.cur.varint32().ok_or_else(|| bad("truncated entry"))? as usize;
        let non_shared = self.cur.varint32().ok_or_else(|| bad("truncated entry"))? as usize;
        let value_len = self.cur.varint32().ok_or_else(|| bad("truncated entry"))? as usize;
        if shared > self.key.len() {
            return Err(bad("an entry shares more bytes than the previous key has"));
        }
        let delta = self
            .cur
            .bytes(non_shared)
            .ok_or_else(|| bad("an entry runs past the end of the block"))?;
        let value = self
            .cur
            .bytes(value_len)
            .ok_or_else(|| bad("an entry runs past the end of the block"))?;
        self.key.truncate(shared);
        self.key.extend_from_slice(delta);
        Ok(Some((&self.key, value)))
    }
}

/// One table record: the key (owned by the iterator) and the value (in the file).
type Record<'k, 'a> = (&'k [u8], &'a [u8]);

/// Walks the data blocks of a table in order, yielding every (key, value).
struct TableRecords<'a> {
    file: &'a [u8],
    index: BlockIter<'a>,
    block: Option<BlockIter<'a>>,
}

impl<'a> TableRecords<'a> {
    fn next(&mut self) -> Result<Option<Record<'_, 'a>>, CheckpointProblem> {
        loop {
            // Borrow juggling: decide whether the current block has more entries first.
            let exhausted = match &mut self.block {
                Some(b) => b.cur.at_end(),
                None => true,
            };
            if !exhausted {
                let b = self.block.as_mut().expect("checked above");
                return b.next("data");
            }
            let Some((_, handle)) = self.index.next("index")? else {
                return Ok(None);
            };
            let h = decode_handle(&mut Cursor::new(handle)).ok_or_else(|| {
                CheckpointProblem::NotATable("index block: bad block handle".into())
            })?;
            let block = read_block(self.file, h, "data")?;
            self.block = Some(BlockIter::new(block, "data")?);
        }
    }
}

/// Checks the footer and the index block of a LevelDB table and returns an iterator
/// over its records.
fn read_table(file: &[u8]) -> Result<TableRecords<'_>, CheckpointProblem> {
    if file.len() < FOOTER_LEN {
        return Err(CheckpointProblem::NotATable(format!(
            "{} bytes, shorter than a table footer ({FOOTER_LEN} bytes)",
            file.len()
        )));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&footer[40..]);
    if u64::from_le_bytes(magic) != TABLE_MAGIC {
        return Err(CheckpointProblem::NotATable(
            "no LevelDB table magic number at the end (not an index file, or truncated)".into(),
        ));
    }
    let mut c = Cursor::new(&footer[..40]);
    let (_metaindex, index) = decode_handle(&mut c)
        .zip(decode_handle(&mut c))
        .ok_or_else(|| CheckpointProblem::NotATable("bad block handles in the footer".into()))?;
    let index_block = read_block(file, index, "index")?;
    Ok(TableRecords {
        file,
        index: BlockIter::new(index_block, "index")?,
        block: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let mut c = Cursor::new(&[0x96, 0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(c.varint64(), Some(150));
        assert_eq!(c.varint64(), Some(127));
        assert_eq!(c.varint32(), Some(u32::MAX));
        assert_eq!(c.varint64(), None);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Cursor::new(&max).varint64(), Some(u64::MAX));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(Cursor::new(&over).varint64(), None);
        let long = [0x80u8; 11];
        assert_eq!(Cursor::new(&long).varint64(), None);
        assert_eq!(Cursor::new(&max).varint32(), None);
    }

    #[test]
    fn entry_decoding_skips_unknown_fields() {
        // dtype float, shape [3, 2], unknown field 99 (varint), offset 8, size 24,
        // crc 0x01020304, unknown field 100 (bytes), unknown 101 (fixed64).
        let mut b = vec![
            0x08, 0x01, 0x12, 0x08, 0x12, 0x02, 0x08, 0x03, 0x12, 0x02, 0x08, 0x02,
        ];
        b.extend([0x98, 0x06, 0x05]);
        b.extend([0x20, 0x08, 0x28, 0x18, 0x35, 0x04, 0x03, 0x02, 0x01]);
        b.extend([0xa2, 0x06, 0x02, 0xaa, 0xbb]);
        b.extend([0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
        let e = decode_entry(&b).unwrap();
        assert_eq!(e.dtype, DataType::FLOAT);
        assert_eq!(e.shape, Some(vec![3, 2]));
        assert_eq!(e.dims(), Some(vec![3, 2]));
        assert_eq!(
            (e.offset, e.size, e.crc32c, e.slices),
            (8, 24, 0x0102_0304, 0)
        );
        // A length running past the end, a group, a wrong wire type: errors.
        assert!(decode_entry(&[0x08, 0x01, 0x12, 0x09, 0x00]).is_err());
        assert!(decode_entry(&[0x0b]).is_err());
        assert!(decode_entry(&[0x0d, 1, 0, 0, 0]).is_err());
        assert!(decode_entry(&[
            0x08, 0x01, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        ])
        .is_err());
    }
}
