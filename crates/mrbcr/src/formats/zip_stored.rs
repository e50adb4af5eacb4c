//! A zip archive writer with every entry *stored* (no compression), as the BioImage
//! Model Zoo packages are read by Python's `zipfile` and every zip tool. Stored entries
//! need only a CRC-32 ([`super::crc32`]) and the fixed headers of the PKWARE
//! APPNOTE (local file header, central directory, end of central directory); no
//! ZIP64, so an archive is limited to 65,535 entries and 4 GiB, far above a model
//! package.

use super::crc32::crc32;
use crate::error::{Error, Result};

/// "Version needed to extract" of a stored entry: 1.0.
const VERSION_NEEDED: u16 = 10;
/// "Version made by": 2.0, MS-DOS attributes (the file names are plain).
const VERSION_MADE_BY: u16 = 20;
/// General purpose flag bit 11: the file name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// The MS-DOS date of every entry, 1980-01-01 (a fixed date keeps archives
/// reproducible): `(year - 1980) << 9 | month << 5 | day`.
const DOS_DATE: u16 = (1 << 5) | 1;

/// One entry written so far, for the central directory.
struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

/// A zip archive being built in memory: add the files with [`ZipWriter::add`], then
/// take the bytes with [`ZipWriter::finish`].
#[derive(Default)]
pub struct ZipWriter {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// `value` as a 32-bit zip field, or an error naming `what`.
fn field32(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::InvalidInput(format!(
            "{what} is too large for a zip archive without ZIP64"
        ))
    })
}

impl ZipWriter {
    /// An empty archive.
    pub fn new() -> ZipWriter {
        ZipWriter::default()
    }

    /// Adds a file named `name` (a relative path with `/` separators) holding `data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or absolute name, a name with `\`, a name
    /// already added, or an archive past 4 GiB or 65,535 entries.
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<()> {
        if name.is_empty() || name.starts_with('/') || name.contains('\\') {
            return Err(Error::InvalidInput(format!(
                "bad zip entry name {name:?}: a relative path with / separators is needed"
            )));
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(Error::InvalidInput(format!(
                "zip entry {name:?} added twice"
            )));
        }
        if self.entries.len() == usize::from(u16::MAX) {
            return Err(Error::InvalidInput("more than 65,535 zip entries".into()));
        }
        let offset = field32(self.bytes.len(), "the archive")?;
        let size = field32(data.len(), name)?;
        let name_len = u16::try_from(name.len())
            .map_err(|_| Error::InvalidInput(format!("zip entry name {name:?} is too long")))?;
        field32(
            self.bytes.len() + 30 + name.len() + data.len(),
            "the archive",
        )?;
        let crc = crc32(data);
        let out = &mut self.bytes;
        put32(out, 0x0403_4b50);
        put16(out, VERSION_NEEDED);
        put16(out, FLAG_UTF8);
        put16(out, 0); // stored
        put16(out, 0); // time 00:00:00
        put16(out, DOS_DATE);
        put32(out, crc);
        put32(out, size); // compressed size
        put32(out, size);
        put16(out, name_len);
        put16(out, 0); // extra field length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        self.entries.push(Entry {
            name: name.to_string(),
            crc,
            size,
            offset,
        });
        Ok(())
    }

    /// The finished archive: the entries, the central directory and its end record.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the central directory takes the archive past 4 GiB.
    pub fn finish(self) -> Result<Vec<u8>> {
        let ZipWriter { mut bytes, entries } = self;
        let directory_start = field32(bytes.len(), "the archive")?;
        for e in &entries {
            let out = &mut bytes;
            put32(out, 0x0201_4b50);
            put16(out, VERSION_MADE_BY);
            put16(out, VERSION_NEEDED);
            put16(out, FLAG_UTF8);
            put16(out, 0); // stored
            put16(out, 0);
            put16(out, DOS_DATE);
            put32(out, e.crc);
            put32(out, e.size);
            put32(out, e.size);
            put16(out, e.name.len() as u16); // checked by add
            put16(out, 0); // extra field length
            put16(out, 0); // comment length
            put16(out, 0); // disk number
            put16(out, 0); // internal attributes
            put32(out, 0); // external attributes
            put32(out, e.offset);
            out.extend_from_slice(e.name.as_bytes());
        }
        let directory_size = field32(bytes.len() - directory_start as usize, "the archive")?;
        field32(bytes.len() + 22, "the archive")?;
        let count = entries.len() as u16; // checked by add
        put32(&mut bytes, 0x0605_4b50);
        put16(&mut bytes, 0); // this disk
        put16(&mut bytes, 0); // disk of the central directory
        put16(&mut bytes, count);
        put16(&mut bytes, count);
        put32(&mut bytes, directory_size);
        put32(&mut bytes, directory_start);
        put16(&mut bytes, 0); // comment length
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_one_entry() {
        let mut zip = ZipWriter::new();
        zip.add("a.txt", b"hello").unwrap();
        let bytes = zip.finish().unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert_eq!(&bytes[30..35], b"a.txt");
        assert_eq!(&bytes[35..40], b"hello");
        assert_eq!(&bytes[40..44], b"PK\x01\x02");
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 1);
        assert_eq!(u32::from_le_bytes([end[16], end[17], end[18], end[19]]), 40);
        assert_eq!(
            u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]),
            crc32(b"hello")
        );
    }

    #[test]
    fn bad_names_are_refused() {
        let mut zip = ZipWriter::new();
        zip.add("x/y.npy", b"").unwrap();
        for bad in ["", "/etc/passwd", "a\\b", "x/y.npy"] {
            assert!(zip.add(bad, b"1").is_err(), "{bad:?}");
        }
    }
}
