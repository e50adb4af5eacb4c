//! The integration tests of the core, one test crate (one binary linking the library
//! once, instead of one per file): each former tests/<name>.rs is the module <name>, so
//! a test is selected as before by its name, now prefixed: `cargo test --release -p mrbcr
//! --test it -- kernels::`. The helpers shared with the other crates' tests are
//! tests/common (the repository's).

#[path = "../../../../tests/common/mod.rs"]
mod common;

mod atomic_write;
mod bundled_model;
mod classical;
mod deconvolve;
mod determinism;
mod evaluate;
mod format_fuzz;
mod golden;
mod kernel_safety;
mod kernels;
mod model_file_errors;
mod real_pairs;
mod receptive_field;
mod simulate;
mod specimen;
mod tf_import;
mod tiff_files;
mod tiff_ome;
mod tiff_stream;
mod train_data;
mod train_errors;
mod train_gradients;
mod train_smoke;
