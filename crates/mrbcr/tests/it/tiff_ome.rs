//! OME-TIFF: the OME-XML of an input is carried onto the output, with the `Pixels`
//! element's `Type` (and `SignificantBits`, `BigEndian` where present) saying what the
//! output's pages hold, and everything else as it was (issue 12, finding 10: a float32
//! result said `Type="uint16"`).

use mrbcr::formats::tiff::{read_tiff, write_tiff, TiffMetadata};
use mrbcr::*;

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mrbcr-ome-{}-{name}", std::process::id()))
}

/// OME-XML as microscopes and Bio-Formats write it, with the traps a careless edit
/// falls into: a `Type` attribute on another element (the detector's), a comment and a
/// `StructuredAnnotations` text that mention `<Pixels Type="uint16">`, a `>` inside an
/// attribute value, attributes on several lines in single quotes.
const OME_U16: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by a microscope: <Pixels Type="uint16" SignificantBits="12"> -->
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Creator="scope 1.2">
  <Instrument ID="Instrument:0"><Detector ID="Detector:0" Type="CCD" Model="a &gt; b"/></Instrument>
  <Image ID="Image:0" Name="cells &lt;1&gt;">
    <Pixels BigEndian="true" DimensionOrder="XYZCT" ID="Pixels:0" Interleaved="false"
            PhysicalSizeX="0.065" PhysicalSizeXUnit="µm" SignificantBits='12'
            SizeC="1" SizeT="1" SizeX="13" SizeY="7" SizeZ="3" Type='uint16' Description="x > y">
      <Channel ID="Channel:0:0" SamplesPerPixel="1"/>
      <TiffData FirstC="0" FirstT="0" FirstZ="0" IFD="0" PlaneCount="3"/>
    </Pixels>
  </Image>
  <StructuredAnnotations><XMLAnnotation ID="Annotation:0"><Value>&lt;Pixels Type="uint16"&gt; was the raw type</Value></XMLAnnotation></StructuredAnnotations>
</OME>"#;

fn u16_ome_tiff(path: &std::path::Path, description: &str) {
    let (w, h, planes) = (13, 7, 3);
    let pixels = Pixels::U16(
        (0..w * h * planes)
            .map(|i| (i * 37 % 4096) as u16)
            .collect(),
    );
    let stack = ImageStack::new(w, h, planes, pixels).unwrap();
    let meta = TiffMetadata {
        description: Some(description.into()),
        resolution: None,
    };
    write_tiff(path, &stack, &meta).unwrap();
}

fn f32_stack() -> ImageStack {
    let (w, h, planes) = (13, 7, 3);
    ImageStack::new(
        w,
        h,
        planes,
        Pixels::F32((0..w * h * planes).map(|i| i as f32 * 0.25).collect()),
    )
    .unwrap()
}

fn native_big_endian() -> &'static str {
    if cfg!(target_endian = "big") {
        "true"
    } else {
        "false"
    }
}

#[test]
fn float_output_of_a_uint16_ome_tiff_says_float() {
    let input = temp("in.ome.tif");
    u16_ome_tiff(&input, OME_U16);
    // Written as uint16: only the byte order changes (to the order it is written in).
    let raw = read_tiff(&input).unwrap();
    let as_written = OME_U16.replace(
        r#"<Pixels BigEndian="true""#,
        &format!(r#"<Pixels BigEndian="{}""#, native_big_endian()),
    );
    assert_eq!(
        raw.metadata.description.as_deref(),
        Some(as_written.as_str())
    );

    let output = temp("out.ome.tif");
    write_tiff(&output, &f32_stack(), &raw.metadata).unwrap();
    let written = read_tiff(&output).unwrap();
    assert_eq!(written.stack.pixel_type(), PixelType::F32);
    let description = written.metadata.description.unwrap();

    // Only the three attributes' values of the Pixels element change, in place.
    let expected = as_written
        .replace("SignificantBits='12'", "SignificantBits='32'")
        .replace("Type='uint16'", "Type='float'");
    assert_eq!(description, expected);
    assert!(description.contains(r#"<Detector ID="Detector:0" Type="CCD""#));
    assert!(description.contains(
        r#"<!-- Written by a microscope: <Pixels Type="uint16" SignificantBits="12"> -->"#
    ));
    std::fs::remove_file(&input).unwrap();
    std::fs::remove_file(&output).unwrap();
}

#[test]
fn every_written_type_has_its_ome_name_and_bits() {
    let description = r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" Type="uint16" SignificantBits="16" SizeX="2" SizeY="1" SizeZ="1" SizeC="1" SizeT="1" DimensionOrder="XYZCT"><TiffData/></Pixels></Image></OME>"#;
    let meta = TiffMetadata {
        description: Some(description.into()),
        resolution: None,
    };
    let path = temp("types.ome.tif");
    for (pixels, name, bits) in [
        (Pixels::U8(vec![1, 2]), "uint8", 8),
        (Pixels::U16(vec![1, 2]), "uint16", 16),
        (Pixels::F32(vec![1.0, 2.0]), "float", 32),
        (Pixels::F64(vec![1.0, 2.0]), "double", 64),
    ] {
        write_tiff(&path, &ImageStack::new(2, 1, 1, pixels).unwrap(), &meta).unwrap();
        let back = read_tiff(&path).unwrap().metadata.description.unwrap();
        let expected = description
            .replace(r#"Type="uint16""#, &format!(r#"Type="{name}""#))
            .replace(
                r#"SignificantBits="16""#,
                &format!(r#"SignificantBits="{bits}""#),
            );
        assert_eq!(back, expected, "{name}");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn prefixed_elements_and_several_images_are_all_updated() {
    // A namespace prefix, and one Pixels element per image of the file.
    let description = r#"<?xml version="1.0"?><ome:OME xmlns:ome="http://www.openmicroscopy.org/Schemas/OME/2016-06"><ome:Image ID="Image:0"><ome:Pixels Type="uint16" ID="Pixels:0"/></ome:Image><ome:Image ID="Image:1"><ome:Pixels
 Type = "int16" ID="Pixels:1"></ome:Pixels></ome:Image></ome:OME>"#;
    let path = temp("prefixed.ome.tif");
    let meta = TiffMetadata {
        description: Some(description.into()),
        resolution: None,
    };
    write_tiff(&path, &f32_stack(), &meta).unwrap();
    let back = read_tiff(&path).unwrap().metadata.description.unwrap();
    assert_eq!(
        back,
        description
            .replace(r#"Type="uint16""#, r#"Type="float""#)
            .replace(r#"Type = "int16""#, r#"Type = "float""#)
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn other_descriptions_and_broken_xml_are_kept_as_they_were() {
    let path = temp("other.tif");
    for description in [
        // Not OME: an XML of another schema with a Pixels element of its own.
        r#"<?xml version="1.0"?><Acquisition><Pixels Type="uint16"/></Acquisition>"#,
        // OME-XML cut short inside the Pixels element: nothing is guessed.
        r#"<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image><Pixels Type="uint16" ID="P"#,
        // Plain text that mentions OME.
        "made with <OME> in mind; <Pixels Type=\"uint16\"> is not XML here",
    ] {
        let meta = TiffMetadata {
            description: Some(description.into()),
            resolution: None,
        };
        write_tiff(&path, &f32_stack(), &meta).unwrap();
        let back = read_tiff(&path).unwrap().metadata.description;
        assert_eq!(back.as_deref(), Some(description));
    }
    std::fs::remove_file(&path).unwrap();
}
