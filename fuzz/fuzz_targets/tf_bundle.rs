//! cargo-fuzz target `tf_bundle`: see `mrbcr_fuzz::tf_bundle` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mrbcr_fuzz::tf_bundle(data));
