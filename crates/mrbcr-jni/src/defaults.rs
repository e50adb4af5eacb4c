//! The defaults native: the core's deconvolution defaults and its normalisation
//! vocabulary, so that the Fiji plugin's dialog, macros and SciJava command start from
//! the library's values instead of copies of them (`LibraryDefaults.java`).

use jni::objects::{JClass, JObjectArray, JString};
use jni::EnvUnowned;

use super::{string_array, NativeResult, ThrowMrbcrException};
use mrbcr::deconvolve::{DeconvolveOptions, Normalization};

use crate::deconvolve::OVERLAP_OF_MODEL;

/// The entries of `deconvolveDefaults`, as key and value texts.
fn default_entries() -> Vec<(&'static str, String)> {
    let defaults = DeconvolveOptions::default();
    let (low, high) = match Normalization::DEFAULT_PERCENTILE {
        Normalization::Percentile { low, high } => (low, high),
        other => unreachable!("DEFAULT_PERCENTILE is {other}"),
    };
    let names: Vec<&str> = Normalization::KINDS.iter().map(|n| n.name()).collect();
    vec![
        ("tile", defaults.tile.to_string()),
        // -1: the model's own (what its file records, else DEFAULT_OVERLAP), as
        // `deconvolve` reads it.
        ("overlap", OVERLAP_OF_MODEL.to_string()),
        ("normalization", defaults.normalization.name().to_string()),
        ("low_percentile", low.to_string()),
        ("high_percentile", high.to_string()),
        ("threads", defaults.threads.to_string()),
        (
            "output_type",
            DeconvolveOptions::DEFAULT_OUTPUT_TYPE.name().to_string(),
        ),
        ("normalizations", names.join(",")),
    ]
}

/// `static native String[] deconvolveDefaults()`: the core's deconvolution defaults as
/// `key, value, key, value, ...`: `tile`, `overlap` (`-1`: the model's own), `normalization` (the
/// default's name), `low_percentile` and `high_percentile` (of the default
/// percentile normalisation, as Rust prints them: `1`, `99.8`), `threads` (`0`: every
/// core), `output_type` (the result's pixel type when none is chosen, by its
/// `PixelType::name`: `32-bit float`), and `normalizations` (every normalisation's name, comma-separated, in the
/// order to offer them).
///
/// # Errors
/// Throws only if the JVM cannot allocate the strings.
#[no_mangle]
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_deconvolveDefaults<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local, JString<'local>> {
    unowned_env
        .with_env(
            |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
                let entries = default_entries();
                let texts: Vec<&str> = entries.iter().flat_map(|(k, v)| [*k, v.as_str()]).collect();
                string_array(env, &texts)
            },
        )
        .resolve::<ThrowMrbcrException>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entries_are_the_core_s_defaults() {
        let entries = default_entries();
        let get = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {key}"))
        };
        let defaults = DeconvolveOptions::default();
        assert_eq!(get("tile").parse::<usize>().unwrap(), defaults.tile);
        assert_eq!(get("overlap"), "-1");
        assert_eq!(defaults.overlap, None, "the model's own, as -1 says");
        assert_eq!(get("threads").parse::<usize>().unwrap(), defaults.threads);
        assert_eq!(
            get("output_type"),
            DeconvolveOptions::DEFAULT_OUTPUT_TYPE.name()
        );
        let percentile = format!(
            "percentile:{}:{}",
            get("low_percentile"),
            get("high_percentile")
        );
        assert_eq!(
            percentile.parse::<Normalization>().unwrap(),
            Normalization::DEFAULT_PERCENTILE
        );
        assert_eq!(
            get("normalization").parse::<Normalization>().unwrap(),
            defaults.normalization
        );
        for name in get("normalizations").split(',') {
            assert!(name.parse::<Normalization>().is_ok(), "{name}");
        }
    }
}
