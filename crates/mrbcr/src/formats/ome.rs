//! OME-XML in a TIFF's ImageDescription (OME-TIFF): the description of an input is
//! carried onto an output, whose pages may hold another pixel type (a uint16 input
//! restored as float32). The `Pixels` elements' `Type` is set to what is written, and
//! `BigEndian`, where present, to the byte order it is written in; `SignificantBits`,
//! where present, to the written type's bits when the type changes (a 12-bit camera's
//! `SignificantBits="12"` stays on uint16 output). Nothing else is touched.
//!
//! This is a careful text edit, not an XML parser: the start tags of `Pixels` elements
//! (with or without a namespace prefix) of a document whose root element is `OME` are
//! found by skipping comments, processing instructions, CDATA sections and declarations,
//! and only the values of those three attributes are replaced, in place, keeping their
//! quotes. A description that is not such a document, or that ends inside markup, is
//! returned unchanged.

use crate::image::PixelType;

/// The OME `PixelType` name and the bits of a pixel type.
fn ome_type(pixel_type: PixelType) -> (&'static str, u32) {
    match pixel_type {
        PixelType::U8 => ("uint8", 8),
        PixelType::U16 => ("uint16", 16),
        PixelType::F32 => ("float", 32),
        PixelType::F64 => ("double", 64),
    }
}

/// A piece of markup found by [`Markup::next`].
enum Item {
    /// A start tag (or empty-element tag): its local name, and where its attributes are
    /// (from after the name to before the closing `>` or `/>`).
    Start {
        local: String,
        attributes: (usize, usize),
    },
    /// Anything else: an end tag, a comment, a processing instruction, CDATA, a
    /// declaration.
    Other,
}

/// Walks the markup of an XML text, in order.
struct Markup<'a> {
    text: &'a str,
    at: usize,
}

impl Markup<'_> {
    /// The next piece of markup; `Err(())` if the text ends inside one.
    fn next(&mut self) -> Option<Result<Item, ()>> {
        let start = self.at + self.text[self.at..].find('<')?;
        let rest = &self.text[start..];
        let skip_to = |close: &str, from: usize| {
            rest[from..]
                .find(close)
                .map(|i| start + from + i + close.len())
        };
        let end = if rest.starts_with("<!--") {
            skip_to("-->", 4)
        } else if rest.starts_with("<![CDATA[") {
            skip_to("]]>", 9)
        } else if rest.starts_with("<?") {
            skip_to("?>", 2)
        } else if rest.starts_with("<!") {
            // A declaration (DOCTYPE); an internal subset in brackets is not expected in
            // OME-XML and would end it early, which only means fewer edits.
            skip_to(">", 2)
        } else if rest.starts_with("</") {
            skip_to(">", 2)
        } else {
            return Some(self.start_tag(start));
        };
        match end {
            Some(end) => {
                self.at = end;
                Some(Ok(Item::Other))
            }
            None => Some(Err(())),
        }
    }

    /// The start tag at `start` (a `<` not followed by `!`, `?` or `/`).
    fn start_tag(&mut self, start: usize) -> Result<Item, ()> {
        let bytes = self.text.as_bytes();
        let name_start = start + 1;
        let mut i = name_start;
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>') {
            i += 1;
        }
        let name = &self.text[name_start..i];
        if name.is_empty() {
            return Err(());
        }
        let attributes_start = i;
        // The tag ends at the first '>' outside a quoted attribute value.
        let mut quote = None;
        while i < bytes.len() {
            match (quote, bytes[i]) {
                (None, b'"' | b'\'') => quote = Some(bytes[i]),
                (Some(q), b) if b == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            i += 1;
        }
        if i == bytes.len() {
            return Err(());
        }
        self.at = i + 1;
        let attributes_end = if i > attributes_start && bytes[i - 1] == b'/' {
            i - 1
        } else {
            i
        };
        let local = name.rsplit(':').next().unwrap_or(name).to_string();
        Ok(Item::Start {
            local,
            attributes: (attributes_start, attributes_end),
        })
    }
}

/// The attributes of a start tag, from the text after its name: each name and the byte
/// range of its value (inside the quotes); `None` if they are not well formed.
fn attributes(text: &str, (from, to): (usize, usize)) -> Option<Vec<(&str, usize, usize)>> {
    let bytes = text.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut found = Vec::new();
    let mut i = from;
    loop {
        while i < to && is_space(bytes[i]) {
            i += 1;
        }
        if i == to {
            return Some(found);
        }
        let name_start = i;
        while i < to && !is_space(bytes[i]) && bytes[i] != b'=' {
            i += 1;
        }
        let name = &text[name_start..i];
        while i < to && is_space(bytes[i]) {
            i += 1;
        }
        if name.is_empty() || i == to || bytes[i] != b'=' {
            return None;
        }
        i += 1;
        while i < to && is_space(bytes[i]) {
            i += 1;
        }
        if i == to || !matches!(bytes[i], b'"' | b'\'') {
            return None;
        }
        let quote = bytes[i];
        let value_start = i + 1;
        let value_end = value_start + text[value_start..to].find(quote as char)?;
        found.push((name, value_start, value_end));
        i = value_end + 1;
    }
}

/// `description` with the `Pixels` elements saying `pixel_type` (in the byte order the
/// file is written in, the machine's), if it is an OME-XML document; otherwise, or if
/// its markup is broken, `description` as it is. `SignificantBits` becomes the written
/// type's bits in an element whose `Type` was another.
pub(crate) fn with_pixel_type(description: &str, pixel_type: PixelType) -> String {
    let (type_name, bits) = ome_type(pixel_type);
    let big_endian = if cfg!(target_endian = "big") {
        "true"
    } else {
        "false"
    };
    let mut markup = Markup {
        text: description,
        // A byte-order mark may open an XML document.
        at: if description.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        },
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut root_seen = false;
    loop {
        // Before the root element, only the prolog: markup and white space (not a text
        // that happens to contain "<OME>").
        if !root_seen && !description[markup.at..].trim_start().starts_with('<') {
            return description.to_string();
        }
        let Some(item) = markup.next() else {
            break;
        };
        let Ok(item) = item else {
            return description.to_string();
        };
        let Item::Start {
            local,
            attributes: range,
        } = item
        else {
            continue;
        };
        if !root_seen {
            if local != "OME" {
                return description.to_string();
            }
            root_seen = true;
        }
        if local != "Pixels" {
            continue;
        }
        let Some(list) = attributes(description, range) else {
            return description.to_string();
        };
        let type_changes = list
            .iter()
            .any(|&(name, from, to)| name == "Type" && &description[from..to] != type_name);
        for (name, from, to) in list {
            let value = match name {
                "Type" => type_name.to_string(),
                "SignificantBits" if type_changes => bits.to_string(),
                "BigEndian" => big_endian.to_string(),
                _ => continue,
            };
            edits.push((from, to, value));
        }
    }
    if !root_seen {
        return description.to_string();
    }
    let mut out = String::with_capacity(description.len() + 16);
    let mut at = 0;
    for (from, to, value) in edits {
        out.push_str(&description[at..from]);
        out.push_str(&value);
        at = to;
    }
    out.push_str(&description[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pixels_attributes_change() {
        let xml =
            r#"<OME><Image><Pixels SignificantBits="16" Type="uint16" SizeX="2"/></Image></OME>"#;
        assert_eq!(
            with_pixel_type(xml, PixelType::F32),
            r#"<OME><Image><Pixels SignificantBits="32" Type="float" SizeX="2"/></Image></OME>"#
        );
        assert_eq!(with_pixel_type(xml, PixelType::U16), xml);
        // Same type: a 12-bit camera's significant bits stay.
        let camera = r#"<OME><Pixels Type="uint16" SignificantBits="12"/></OME>"#;
        assert_eq!(with_pixel_type(camera, PixelType::U16), camera);
        assert_eq!(
            with_pixel_type(camera, PixelType::F64),
            r#"<OME><Pixels Type="double" SignificantBits="64"/></OME>"#
        );
    }

    #[test]
    fn text_that_is_not_ome_xml_is_kept() {
        for text in [
            "",
            "made with <OME> in mind",
            "ImageJ=1.54p\nimages=2\n",
            "<",
            "<OME",
            "<Other><Pixels Type=\"uint16\"/></Other>",
        ] {
            assert_eq!(with_pixel_type(text, PixelType::F32), text);
        }
    }

    #[test]
    fn a_byte_order_mark_may_open_the_document() {
        assert_eq!(
            with_pixel_type(
                "\u{feff}<OME><Pixels Type=\"uint16\"/></OME>",
                PixelType::F32
            ),
            "\u{feff}<OME><Pixels Type=\"float\"/></OME>"
        );
    }

    #[test]
    fn broken_attributes_keep_the_whole_description() {
        for xml in [
            r#"<OME><Pixels Type=uint16/></OME>"#,
            r#"<OME><Pixels Type="uint16></OME>"#,
            r#"<OME><Pixels Type/></OME>"#,
        ] {
            assert_eq!(with_pixel_type(xml, PixelType::F32), xml, "{xml}");
        }
    }
}
