//! The NumPy `.npy` format (version 1.0) for float32 arrays: what `numpy.load` reads,
//! used for the test tensors of a BioImage Model Zoo package.

use crate::error::{Error, Result};

/// The bytes of a `.npy` file holding `values`, a C-order float32 array of `shape`.
///
/// # Errors
/// [`Error::InvalidInput`] if `values` does not have `shape`'s number of elements.
pub fn npy_f32_bytes(shape: &[usize], values: &[f32]) -> Result<Vec<u8>> {
    let count: usize = shape.iter().product();
    if count != values.len() {
        return Err(Error::InvalidInput(format!(
            "an array of shape {shape:?} needs {count} values, not {}",
            values.len()
        )));
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6), version (2), header length (2), then the header padded with spaces
    // and ended by a newline so that the data starts at a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * values.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_data() {
        let bytes = npy_f32_bytes(&[1, 2, 2], &[1.0, 2.0, 3.0, 4.5]).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(
            header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }")
        );
        assert!(header.ends_with('\n'));
        assert_eq!(&bytes[bytes.len() - 4..], &4.5f32.to_le_bytes());
        assert!(npy_f32_bytes(&[3], &[1.0]).is_err());
        let one_d = npy_f32_bytes(&[1], &[1.0]).unwrap();
        assert!(std::str::from_utf8(&one_d[10..70])
            .unwrap()
            .contains("'shape': (1,)"));
    }
}
