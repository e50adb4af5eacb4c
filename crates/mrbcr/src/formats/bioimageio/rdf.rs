//! The package's `rdf.yaml`: a bioimage.io model description, format 0.5. Strings
//! are written as JSON strings, which YAML reads as they are, so no text can break
//! the file.

use super::{files, test_size, PackageNormalization};
use crate::deconvolve::DeconvolveOptions;
use crate::formats::model_file::ModelMetadata;
use crate::formats::onnx::OPSET;
use crate::network::spec::receptive_field_radius;

/// The bioimage.io model description format the package follows.
pub const FORMAT_VERSION: &str = "0.5.4";
/// Image height and width must be multiples of this (two 2x downsamplings).
pub const SIZE_STEP: usize = 4;

/// Output pixels to crop on each side of a tile, as the tools that tile (deepImageJ,
/// bioimageio.core) use it: half the overlap this project's tiling blends over for the
/// model (its measured `tile_overlap`, else [`DeconvolveOptions::DEFAULT_OVERLAP`]), so
/// that neighbouring tiles meet where this project's blend weights are equal. The
/// exact receptive field radius ([`receptive_field_radius`], 183 x 267 pixels) would
/// need tiles over 530 pixels wide and rarely changes a pixel by more than the
/// blending does.
pub fn halo(metadata: &ModelMetadata) -> usize {
    DeconvolveOptions::default().overlap_for(metadata) / 2
}

/// The smallest height and width for a [`halo`]: the least multiple of [`SIZE_STEP`]
/// that leaves a pixel once the halo is cropped from both sides, as the format requires.
pub fn min_size(halo: usize) -> usize {
    (2 * halo + 1).div_ceil(SIZE_STEP) * SIZE_STEP
}

/// The paper's citation.
const CITATION: &str = "Li R., Kudryashev M., Yakimovich A. Solving the inverse problem of \
    microscopy deconvolution with a residual Beylkin-Coifman-Rokhlin neural network. \
    European Conference on Computer Vision (ECCV) 2024.";
/// The paper's DOI (its arXiv record, 2407.03239).
const CITATION_DOI: &str = "10.48550/arXiv.2407.03239";

/// `text` as a YAML scalar (a JSON string).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

/// The licences a model's metadata may name (the first line of its licence file, as
/// the importer records it, or an SPDX identifier) and their SPDX identifiers, which
/// the zoo requires; more specific names first.
const LICENSES: [(&str, &str); 8] = [
    ("MIT", "MIT"),
    (
        "Attribution-NonCommercial-ShareAlike 4.0",
        "CC-BY-NC-SA-4.0",
    ),
    ("Attribution-NonCommercial 4.0", "CC-BY-NC-4.0"),
    ("Attribution-ShareAlike 4.0", "CC-BY-SA-4.0"),
    ("Attribution 4.0 International", "CC-BY-4.0"),
    ("CC-BY-4.0", "CC-BY-4.0"),
    ("Apache License", "Apache-2.0"),
    ("BSD 3-Clause", "BSD-3-Clause"),
];

/// The SPDX identifier of the licence a model's metadata names: one of [`LICENSES`],
/// or the text itself if it looks like an identifier (letters, digits, `.`, `-`, `+`;
/// the zoo's validator checks it against the SPDX list).
pub fn spdx_license(license: &str) -> Option<String> {
    if let Some(&(_, spdx)) = LICENSES.iter().find(|(name, _)| license.contains(name)) {
        return Some(spdx.to_string());
    }
    let identifier = !license.is_empty()
        && license
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    identifier.then(|| license.to_string())
}

/// The package's `id`: `name` in lower case, each run of other characters than ASCII
/// letters and digits one `-`. deepImageJ's engine library (JDLL) reads every model
/// by its `id` (or `config.bioimageio.nickname`) and fails on a description with
/// neither; the zoo gives an uploaded model its own.
pub fn package_id(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    words.join("-")
}

/// The description of the model with `metadata`, its input scaled by `normalization`,
/// under the licence `license` (an SPDX identifier).
pub fn rdf_yaml(
    metadata: &ModelMetadata,
    normalization: PackageNormalization,
    license: &str,
) -> String {
    let name = if metadata.name.is_empty() {
        "m-rBCR deconvolution".to_string()
    } else if metadata.name.contains("m-rBCR") {
        metadata.name.clone()
    } else {
        format!("m-rBCR ({})", metadata.name)
    };
    let description = if metadata.description.is_empty() {
        "m-rBCR deep-learning deconvolution of 2D fluorescence microscopy images".to_string()
    } else {
        format!("m-rBCR deconvolution: {}", metadata.description)
    };
    let preprocessing = match normalization {
        PackageNormalization::Percentiles { low, high } => format!(
            "    preprocessing:\n      - id: scale_range\n        kwargs: {{axes: [y, x], \
             min_percentile: {low:?}, max_percentile: {high:?}}}\n"
        ),
        PackageNormalization::None => String::new(),
    };
    let (radius_y, radius_x) = receptive_field_radius();
    let halo = halo(metadata);
    let min_size = min_size(halo);
    let space_in = |axis: &str| {
        format!(
            "      - type: space\n        id: {axis}\n        size: {{min: {min_size}, step: {SIZE_STEP}}}\n"
        )
    };
    let space_out = |axis: &str| {
        format!(
            "      - type: space\n        id: {axis}\n        size: {{tensor_id: raw, axis_id: {axis}}}\n        halo: {halo}\n"
        )
    };
    format!(
        "# bioimage.io model description written by mrbcr {version} (mrbcr export-bioimageio).\n\
         format_version: {FORMAT_VERSION}\n\
         type: model\n\
         id: {id}\n\
         name: {name}\n\
         description: {description}\n\
         version: {version_q}\n\
         authors:\n  - name: Rui Li\n  - name: Mikhail Kudryashev\n  - name: Artur Yakimovich\n  \
         - name: mrbcr contributors (ONNX port and package)\n\
         cite:\n  - text: {citation}\n    doi: {CITATION_DOI}\n\
         license: {license}\n\
         documentation: {doc}\n\
         covers: [{cover}]\n\
         tags: [deconvolution, image-restoration, fluorescence-light-microscopy, widefield, 2d, m-rbcr, onnx]\n\
         inputs:\n  - id: raw\n    description: {input_doc}\n    axes:\n      - type: batch\n      \
         - type: channel\n        channel_names: [intensity]\n{y_in}{x_in}    data: {{type: float32}}\n    \
         test_tensor: {{source: {test_in}}}\n\
         {preprocessing}\
         outputs:\n  - id: restored\n    description: {output_doc}\n    axes:\n      - type: batch\n      \
         - type: channel\n        channel_names: [intensity]\n{y_out}{x_out}    data: {{type: float32}}\n    \
         test_tensor: {{source: {test_out}}}\n\
         weights:\n  onnx:\n    source: {weights}\n    opset_version: {OPSET}\n\
         config:\n  bioimageio:\n    reproducibility_tolerance:\n      - {{absolute_tolerance: 0.0001, relative_tolerance: 0.0001}}\n  \
         mrbcr:\n    input_normalization: {input_normalization}\n    receptive_field_radius: {{y: {radius_y}, x: {radius_x}}}\n    \
         test_image: {test_image}\n",
        version = env!("CARGO_PKG_VERSION"),
        id = quoted(&package_id(&name)),
        name = quoted(&name),
        description = quoted(&description),
        version_q = quoted(env!("CARGO_PKG_VERSION")),
        citation = quoted(CITATION),
        doc = files::DOCUMENTATION,
        cover = files::COVER,
        input_doc = quoted(
            "A 2D fluorescence image (any intensity scale); height and width multiples of 4."
        ),
        y_in = space_in("y"),
        x_in = space_in("x"),
        test_in = files::TEST_INPUT,
        output_doc = quoted(
            "The deconvolved image, in the normalised scale of the preprocessed input \
             (about 0 to 1)."
        ),
        y_out = space_out("y"),
        x_out = space_out("x"),
        test_out = files::TEST_OUTPUT,
        weights = files::WEIGHTS,
        input_normalization = quoted(&metadata.input_normalization),
        test_image = quoted(&format!(
            "simulated widefield image, {side} x {side} camera counts (mrbcr's simulator)",
            side = test_size(halo)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::bioimageio::TEST_SIZE;

    #[test]
    fn sizes_follow_the_format_rules() {
        let mut meta = ModelMetadata::new("m");
        assert_eq!(
            halo(&meta),
            64,
            "without a measured overlap: half the default"
        );
        meta.tile_overlap = Some(192);
        assert_eq!(halo(&meta), 96, "half the model's measured overlap");
        assert_eq!((min_size(64), min_size(96)), (132, 196));
        for halo in [0, 1, 64, 96, 150] {
            let (min, test) = (min_size(halo), test_size(halo));
            assert!(min > 2 * halo && min.is_multiple_of(SIZE_STEP));
            assert!(test >= min && (test - min).is_multiple_of(SIZE_STEP));
        }
        assert_eq!((test_size(64), test_size(96)), (TEST_SIZE, 196));
    }

    #[test]
    fn description_text_is_quoted() {
        let mut meta = ModelMetadata::new("a: \"tricky\"\nname");
        meta.input_normalization = "percentile:1:99.8".into();
        let yaml = rdf_yaml(
            &meta,
            PackageNormalization::Percentiles {
                low: 1.0,
                high: 99.8,
            },
            "MIT",
        );
        assert!(
            yaml.contains("name: \"m-rBCR (a: \\\"tricky\\\"\\nname)\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("license: MIT\n"));
        assert!(yaml.contains("min_percentile: 1.0, max_percentile: 99.8"));
        assert!(yaml.contains("halo: 64"));
        meta.tile_overlap = Some(192);
        let yaml = rdf_yaml(&meta, PackageNormalization::None, "MIT");
        assert!(yaml.contains("halo: 96") && yaml.contains("size: {min: 196, step: 4}"));
        assert!(yaml.contains("image, 196 x 196 camera"), "{yaml}");
        assert!(yaml.contains("id: \"m-rbcr-a-tricky-name\"\n"), "{yaml}");
        assert_eq!(yaml.matches("data: {type: float32}").count(), 2);
    }

    #[test]
    fn ids_are_lower_case_words_joined_by_hyphens() {
        assert_eq!(package_id("m-rBCR deconvolution"), "m-rbcr-deconvolution");
        assert_eq!(
            package_id("m-rBCR (DeBCR: \"LM\" 2024)"),
            "m-rbcr-debcr-lm-2024"
        );
    }

    #[test]
    fn licences_map_to_spdx() {
        let cases = [
            ("MIT License, Copyright (c) 2023 RoyLeeLee", Some("MIT")),
            (
                "weights fine-tuned from weights under: MIT License",
                Some("MIT"),
            ),
            ("Attribution 4.0 International", Some("CC-BY-4.0")),
            (
                "Attribution-NonCommercial 4.0 International",
                Some("CC-BY-NC-4.0"),
            ),
            ("GPL-3.0-only", Some("GPL-3.0-only")),
            ("unknown (see the checkpoint's source)", None),
            ("", None),
        ];
        for (text, spdx) in cases {
            assert_eq!(spdx_license(text).as_deref(), spdx, "{text}");
        }
    }
}
