//! cargo-fuzz target `ffi_descriptor`: see `mrbcr_fuzz::ffi_descriptor` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mrbcr_fuzz::ffi_descriptor(data));
