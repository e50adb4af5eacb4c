//! A TIFF file deconvolved into another, a chunk of planes at a time: read a chunk,
//! deconvolve it, write it to the output's temporary file, go on. Peak memory is one
//! chunk's input and output plus the workers' tiles, whatever the number of planes;
//! the result is bit for bit the whole stack's (planes are deconvolved independently,
//! each with its own normalisation: [`super::normalize::plane_scaling`]).
//!
//! A chunk holds enough planes for every worker to have [`TILES_PER_WORKER`] tiles
//! (small planes: several planes a chunk), as far as the memory budget
//! ([`DeconvolveOptions::memory_budget`]) holds them besides the workers' tiles; at
//! least one plane.

use std::path::Path;

use super::engine::working_memory;
use super::{deconvolve_planes_into, DeconvolveOptions, Progress};
use crate::error::{Error, Result};
use crate::formats::atomic_write::same_file;
use crate::formats::tiff::{write_tiff_planes, TiffReader};
use crate::image::{ImageStack, PixelType, StackLayout};
use crate::model::Model;

/// Tiles per worker a chunk holds, when memory allows: the workers idle at a chunk's
/// end (waiting for the last tiles) for at most one tile in this many.
pub const TILES_PER_WORKER: usize = 8;

/// Deconvolves the TIFF file `input` (a plane or a stack, any pixel type
/// [`crate::formats::tiff::read_tiff`] reads) into a new TIFF file `output` of pixel
/// type `output_type` (`None`: the input's), with the input's metadata as
/// [`crate::formats::tiff::write_tiff`] keeps it, streaming the planes through a
/// chunk at a time (see the [module documentation](self)). Returns the output's size
/// and pixel type.
///
/// `progress` is called on the calling thread with the fraction of the whole file
/// done; returning `false` cancels the run. The output appears complete or not at
/// all: after an error or a cancellation no output file and no temporary file is
/// left (an existing file at `output` keeps its content).
///
/// # Errors
/// [`Error::InvalidInput`] if `output` is the input file (through any path), for bad
/// options, a NaN or infinite value (naming the plane of the file), or an integer
/// output with the normalised output range; errors of
/// [`crate::formats::tiff::TiffReader`] and
/// [`crate::formats::tiff::write_tiff_planes`]; [`Error::OutOfMemory`] if a tile or a
/// chunk's buffers cannot be had; [`Error::Cancelled`] if `progress` returned `false`.
pub fn deconvolve_tiff_file(
    model: &Model,
    input: &Path,
    output: &Path,
    options: &DeconvolveOptions,
    output_type: Option<PixelType>,
    progress: Option<Progress>,
) -> Result<StackLayout> {
    deconvolve_tiff_file_in_chunks(model, input, output, options, output_type, None, progress)
}

/// [`deconvolve_tiff_file`] with the planes of a chunk given: `Some(n)` reads `n`
/// planes at a time (whole pages, so a page of several samples may make a chunk
/// larger); `None` plans the chunks by the memory budget ([`chunk_planes`]). The
/// result does not depend on the chunks.
///
/// # Errors
/// As [`deconvolve_tiff_file`].
pub fn deconvolve_tiff_file_in_chunks(
    model: &Model,
    input: &Path,
    output: &Path,
    options: &DeconvolveOptions,
    output_type: Option<PixelType>,
    chunk: Option<usize>,
    mut progress: Option<Progress>,
) -> Result<StackLayout> {
    if same_file(input, output) {
        return Err(Error::InvalidInput(format!(
            "refusing to overwrite the input file {}: give another output file",
            input.display()
        )));
    }
    options.validate()?;
    let mut reader = TiffReader::open(input)?;
    let input_bytes = reader.bytes_per_value();
    let output_bytes = output_type.map_or(input_bytes, |t| t.bytes() as u64);
    let chunk = match chunk {
        Some(planes) => planes.max(1),
        None => chunk_planes(
            &options.resolved_for(model.metadata()),
            reader.height(),
            reader.width(),
            input_bytes + output_bytes,
        )?,
    };
    let Some(first) = reader.read_planes(chunk)? else {
        return Err(Error::ImageFile {
            file: input.display().to_string(),
            problem: "not a readable TIFF file: it has no page".into(),
        });
    };
    let layout = StackLayout {
        width: reader.width(),
        height: reader.height(),
        planes: reader.planes(),
        pixel_type: output_type.unwrap_or(first.pixel_type()),
    };
    let metadata = reader.metadata().clone();
    write_tiff_planes(output, layout, &metadata, |writer| {
        let mut next = Some(first);
        while let Some(planes) = next {
            let done = writer.planes_written();
            let mut report = |fraction: f64| match progress.as_mut() {
                Some(report) => {
                    report((done as f64 + fraction * planes.planes() as f64) / layout.planes as f64)
                }
                None => true,
            };
            let result = deconvolved(
                model,
                &planes,
                options,
                layout.pixel_type,
                done,
                &mut report,
            )?;
            drop(planes);
            writer.write_planes(&result)?;
            drop(result);
            next = reader.read_planes(chunk)?;
        }
        Ok(())
    })?;
    Ok(layout)
}

/// The planes of a chunk deconvolved into a new stack of `output_type`; the first is
/// plane `first_plane + 1` of the file.
fn deconvolved(
    model: &Model,
    planes: &ImageStack,
    options: &DeconvolveOptions,
    output_type: PixelType,
    first_plane: usize,
    progress: Progress,
) -> Result<ImageStack> {
    let mut output = ImageStack::zeros(
        planes.width(),
        planes.height(),
        planes.planes(),
        output_type,
    )?;
    deconvolve_planes_into(
        model,
        planes.view(),
        output.view_mut(),
        options,
        first_plane,
        Some(progress),
    )?;
    Ok(output)
}

/// The planes of `height x width` pixels a chunk of [`deconvolve_tiff_file`] holds: enough for
/// [`TILES_PER_WORKER`] tiles per worker, as far as the memory budget holds them
/// besides the workers' tiles (`bytes_per_pixel` of input and output together, and
/// one plane more for the page being added to the chunk); at least one. `options`
/// should have the run's overlap ([`DeconvolveOptions::resolved_for`] its model).
///
/// # Errors
/// [`Error::InvalidInput`] if the options ask for too many threads.
pub fn chunk_planes(
    options: &DeconvolveOptions,
    height: usize,
    width: usize,
    bytes_per_pixel: u64,
) -> Result<usize> {
    let threads = options.worker_threads()?;
    let work = working_memory(options, threads, height, width);
    let busy = (TILES_PER_WORKER * work.workers).div_ceil(work.tiles_per_plane.max(1));
    let plane_pixels = (height as u64).saturating_mul(width as u64).max(1);
    let per_plane = plane_pixels.saturating_mul(bytes_per_pixel).max(1);
    let fit = match options.memory_budget() {
        Some(budget) => {
            let left = budget.saturating_sub(work.bytes).saturating_sub(per_plane);
            usize::try_from(left / per_plane).unwrap_or(usize::MAX)
        }
        None => usize::MAX,
    };
    Ok(busy.min(fit).max(1))
}
