//! Whole-image deconvolution: images of any size and pixel type, stacks, tiling with
//! seamless blending, normalisation, progress and cancellation. This is the one
//! entry point every front end calls.
//!
//! A plane is cut into overlapping square tiles ([`tiling`]), each tile is normalised
//! ([`Normalization`]), restored by the network and mapped back ([`OutputRange`]), and
//! the tiles are blended with smooth weights that add up to one. Sides that are not a
//! multiple of 4 (the network's need) are extended by mirroring and cropped again; an
//! image smaller than a tile is one tile. With `tile = 0` each plane goes through the
//! network whole: the published network exactly, at any size.
//!
//! A TIFF file is deconvolved into another a few planes at a time
//! ([`deconvolve_tiff_file`]), so a stack larger than memory runs in the memory its
//! chunks take.
//!
//! Results are bit-identical whatever the number of threads: the network is, and the
//! tiles are blended in a fixed order ([`engine`]). Planes of a stack are processed
//! independently (each with its own normalisation), so a stack gives exactly what its
//! planes give one by one.
//!
//! The receptive field of m-rBCR reaches (183, 267) pixels (rows, columns;
//! [`crate::network::spec::receptive_field_radius`]), but the influence of far pixels
//! decays fast, at a rate that depends on the weights: the tile overlap a model needs
//! is measured for it ([`context`]) and recorded in its file (`tile_overlap`), and is
//! the default overlap of a run of that model (128 for a file that records none).

pub mod context;
mod engine;
mod file;
pub(crate) mod normalize;
pub mod options;
pub mod pixel;
pub mod tiling;

pub use engine::{tile_within_budget, SMALLEST_BUDGET_TILE};
pub use file::{
    chunk_planes, deconvolve_tiff_file, deconvolve_tiff_file_in_chunks, TILES_PER_WORKER,
};
pub use options::{DeconvolveOptions, Normalization, OutputRange};

use crate::error::Result;
use crate::image::{ImageStack, PixelType, StackView, StackViewMut};
use crate::model::Model;

/// A progress report: called on the calling thread with the fraction done (0 to 1]
/// after each tile; returning `false` cancels the run.
pub type Progress<'a> = &'a mut dyn FnMut(f64) -> bool;

/// Deconvolves a stack into an output stack of the same dimensions, whose pixel type
/// (u8, u16, f32 or f64) is the caller's choice; integer outputs are rounded and
/// clamped to the type's range. Input and output may have any strides.
///
/// # Errors
/// [`crate::Error::InvalidInput`] for bad options, different input and output
/// dimensions, an empty image, a NaN or infinite input value (naming plane, row and
/// column), or an integer output with [`OutputRange::Normalized`];
/// [`crate::Error::Cancelled`] if `progress` returned `false`. Errors found before the
/// work starts (options, sizes, non-finite values) leave the output untouched; once
/// the work has started, an error or a cancellation sets the output to zero, so it
/// never holds a partial result.
///
/// The worker threads are this call's own and have ended when it returns.
pub fn deconvolve_into(
    model: &Model,
    input: StackView,
    output: StackViewMut,
    options: &DeconvolveOptions,
    progress: Option<Progress>,
) -> Result<()> {
    deconvolve_planes_into(model, input, output, options, 0, progress)
}

/// [`deconvolve_into`] for planes of a larger stack whose first is plane
/// `first_plane + 1` of it (as messages number it).
fn deconvolve_planes_into(
    model: &Model,
    input: StackView,
    output: StackViewMut,
    options: &DeconvolveOptions,
    first_plane: usize,
    progress: Option<Progress>,
) -> Result<()> {
    macro_rules! with_output {
        ($input:expr) => {
            match output {
                StackViewMut::U8(o) => {
                    engine::run(model, $input, o, options, first_plane, progress)
                }
                StackViewMut::U16(o) => {
                    engine::run(model, $input, o, options, first_plane, progress)
                }
                StackViewMut::F32(o) => {
                    engine::run(model, $input, o, options, first_plane, progress)
                }
                StackViewMut::F64(o) => {
                    engine::run(model, $input, o, options, first_plane, progress)
                }
            }
        };
    }
    match input {
        StackView::U8(i) => with_output!(i),
        StackView::U16(i) => with_output!(i),
        StackView::F32(i) => with_output!(i),
        StackView::F64(i) => with_output!(i),
    }
}

/// Deconvolves a stack into a new one of pixel type `output_type`.
///
/// # Errors
/// As [`deconvolve_into`].
pub fn deconvolve(
    model: &Model,
    input: &ImageStack,
    options: &DeconvolveOptions,
    output_type: PixelType,
    progress: Option<Progress>,
) -> Result<ImageStack> {
    let mut output = ImageStack::zeros(input.width(), input.height(), input.planes(), output_type)?;
    deconvolve_into(model, input.view(), output.view_mut(), options, progress)?;
    Ok(output)
}
