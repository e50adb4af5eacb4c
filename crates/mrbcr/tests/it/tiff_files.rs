//! TIFF reading and writing: every pixel type and stacks round-trip exactly, metadata
//! survives, broken and unsupported files are refused with their problem named.

use mrbcr::formats::tiff::{read_tiff, write_tiff, Resolution, TiffMetadata};
use mrbcr::*;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mrbcr-tiff-{}-{name}", std::process::id()))
}

#[test]
fn every_pixel_type_and_stacks_round_trip() {
    let (w, h) = (13, 7);
    for planes in [1, 3] {
        let n = w * h * planes;
        for pixels in [
            Pixels::U8((0..n).map(|i| (i % 256) as u8).collect()),
            Pixels::U16((0..n).map(|i| (i * 997 % 65536) as u16).collect()),
            Pixels::F32((0..n).map(|i| i as f32 * -0.37 + 1e-30).collect()),
            Pixels::F64((0..n).map(|i| i as f64 * 1e-200).collect()),
        ] {
            let stack = ImageStack::new(w, h, planes, pixels).unwrap();
            let meta = TiffMetadata {
                description: Some("a stack".into()),
                resolution: Some(Resolution {
                    x: (3, 2),
                    y: (5, 4),
                    unit: 3,
                }),
            };
            let path = temp("rt.tif");
            write_tiff(&path, &stack, &meta).unwrap();
            let back = read_tiff(&path).unwrap();
            assert_eq!(back.stack, stack);
            assert_eq!(back.metadata, meta);
            std::fs::remove_file(&path).unwrap();
        }
    }
}

#[test]
fn pages_must_agree_and_odd_types_are_read_exactly() {
    use tiff::encoder::{colortype, TiffEncoder};
    let path = temp("mixed.tif");
    {
        let mut f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(&mut f).unwrap();
        enc.write_image::<colortype::Gray16>(4, 3, &[1u16; 12])
            .unwrap();
        enc.write_image::<colortype::Gray16>(5, 3, &[1u16; 15])
            .unwrap();
    }
    let e = read_tiff(&path).unwrap_err().to_string();
    assert!(e.contains("page 2 is 5 x 3, page 1 is 4 x 3"), "{e}");
    {
        let mut f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(&mut f).unwrap();
        enc.write_image::<colortype::Gray16>(4, 3, &[1u16; 12])
            .unwrap();
        enc.write_image::<colortype::Gray8>(4, 3, &[1u8; 12])
            .unwrap();
    }
    let e = read_tiff(&path).unwrap_err().to_string();
    assert!(e.contains("page 2 is 8-bit, page 1 is 16-bit"), "{e}");
    {
        let mut f = std::fs::File::create(&path).unwrap();
        let mut enc = TiffEncoder::new(&mut f).unwrap();
        enc.write_image::<colortype::GrayI16>(3, 1, &[-5i16, 0, 300])
            .unwrap();
    }
    assert_eq!(
        read_tiff(&path).unwrap().stack.pixels(),
        &Pixels::F32(vec![-5.0, 0.0, 300.0])
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_failed_write_leaves_nothing() {
    let stack = ImageStack::new(2, 2, 1, Pixels::U8(vec![1, 2, 3, 4])).unwrap();
    let dir = temp("dir");
    std::fs::create_dir_all(&dir).unwrap();
    // The target is a directory: the rename fails after the data was written.
    let target = dir.join("taken");
    std::fs::create_dir_all(&target).unwrap();
    assert!(write_tiff(&target, &stack, &TiffMetadata::default()).is_err());
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stacks_are_written_in_imagej_layout() {
    // ImageJ reads a stack whose description says `images=N` as one contiguous block
    // of pixels from the first strip on: the planes must follow each other.
    let (w, h, planes) = (9, 5, 4);
    let stack = ImageStack::new(
        w,
        h,
        planes,
        Pixels::U16((0..w * h * planes).map(|i| i as u16).collect()),
    )
    .unwrap();
    let meta = TiffMetadata {
        description: Some("ImageJ=1.54p\nimages=4\nslices=4\nmin=0.0\nmax=179.0\n".into()),
        resolution: None,
    };
    let path = temp("imagej.tif");
    write_tiff(&path, &stack, &meta).unwrap();
    let mut decoder = tiff::decoder::Decoder::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut offsets = Vec::new();
    loop {
        offsets.push(decoder.get_tag_u64(tiff::tags::Tag::StripOffsets).unwrap());
        assert_eq!(
            decoder
                .get_tag_u64(tiff::tags::Tag::StripByteCounts)
                .unwrap(),
            (w * h * 2) as u64
        );
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().unwrap();
    }
    assert_eq!(offsets.len(), planes);
    for pair in offsets.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + (w * h * 2) as u64,
            "planes are not contiguous: {offsets:?}"
        );
    }
    // The pixels at those offsets are the planes, in order.
    let bytes = std::fs::read(&path).unwrap();
    let first = offsets[0] as usize;
    let values: Vec<u16> = bytes[first..first + w * h * planes * 2]
        .chunks(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(&Pixels::U16(values), stack.pixels());
    let back = read_tiff(&path).unwrap();
    assert_eq!(
        back.metadata.description.as_deref(),
        Some("ImageJ=1.54p\nimages=4\nslices=4\n")
    );
    std::fs::remove_file(&path).unwrap();
}
