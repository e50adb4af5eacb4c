//! cargo-fuzz target `tiff_read`: see `mrbcr_fuzz::tiff_read` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mrbcr_fuzz::tiff_read(data));
