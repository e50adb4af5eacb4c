//! The integration tests of the mrbcr tool, one test crate (one binary instead of one
//! per file): each former tests/<name>.rs is the module <name>; a test is selected by its
//! prefixed name: `cargo test --release -p mrbcr-cli --test it -- cli_signals::`.

#[path = "../../../../tests/common/mod.rs"]
mod common;

mod cli;
mod cli_classical;
mod cli_deconvolve;
mod cli_interop;
mod cli_signals;
mod cli_stream_memory;
mod tiff_hostile;
