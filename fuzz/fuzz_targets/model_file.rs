//! cargo-fuzz target `model_file`: see `mrbcr_fuzz::model_file` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mrbcr_fuzz::model_file(data));
