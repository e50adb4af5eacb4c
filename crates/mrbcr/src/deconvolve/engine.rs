//! The scheduler: tiles of every plane go through the network on worker threads, and
//! the calling thread blends them into the output in a fixed order.
//!
//! Tiles are numbered plane by plane, row by row, and handed out in that order from an
//! atomic counter, one at a time, to `threads` workers (each with its own network
//! workspace). Each worker normalises its tile, runs the network, maps the result back
//! to output units and sends it to the calling thread. The calling thread blends
//! tiles strictly in their numbering order into a band of rows as tall as one tile
//! (rows are final once the tile row below no longer reaches them), so the sums are
//! always made in the same order: the output does not depend on the thread count or
//! on which tile finished first. Progress is reported, and cancellation noticed, on
//! the calling thread after each tile; workers stop taking tiles at once.
//!
//! Memory: the input and output (the caller's), the per-plane statistics, one band of
//! `tile x width` f32, and per worker one tile's input and the network's working set
//! (kept by the model between runs, see [`Model::take_workspace`]). There are as many
//! workers as threads, but never more than half of the available memory holds (see
//! [`workers_that_fit`]): a machine with many cores and little memory, or a whole-plane
//! run of a big image, gets fewer workers rather than running out of memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use ndarray::{s, Array2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis};
use rayon::prelude::*;

use super::normalize::{plane_scaling, Scaling};
use super::options::{DeconvolveOptions, Normalization, OutputRange};
use super::pixel::Pixel;
use super::tiling::{mirror, tiles_along, AxisPlan};
use super::Progress;
use crate::error::{Error, Result};
use crate::image::PixelType;
use crate::model::Model;
use crate::network::Workspace;
use crate::threads::{join_thread, with_worker_pool};

/// A tile's output, in output units, with its number.
type TileResult = (usize, Result<Array2<f32>>);

/// Deconvolves `input` into `output` (same dimensions); see [`super::deconvolve_into`].
/// Messages number the planes from `first_plane + 1` on (the input being planes of a
/// larger stack).
pub fn run<T: Pixel, U: Pixel>(
    model: &Model,
    input: ArrayView3<T>,
    mut output: ArrayViewMut3<U>,
    options: &DeconvolveOptions,
    first_plane: usize,
    progress: Option<Progress>,
) -> Result<()> {
    options.validate()?;
    let overlap = options.overlap_for(model.metadata());
    options.check_overlap(overlap)?;
    let options = &options.resolved_for(model.metadata());
    if input.dim() != output.dim() {
        let (a, b) = (input.dim(), output.dim());
        return Err(Error::InvalidInput(format!(
            "the output ({} planes of {} x {}) must have the input's dimensions ({} planes of {} x {})",
            b.0, b.2, b.1, a.0, a.2, a.1
        )));
    }
    let (planes, height, width) = input.dim();
    if planes == 0 || height == 0 || width == 0 {
        return Err(Error::InvalidInput(format!(
            "the image is empty ({planes} planes of {width} x {height})"
        )));
    }
    if options.output_range == OutputRange::Normalized
        && matches!(U::TYPE, PixelType::U8 | PixelType::U16)
    {
        return Err(Error::InvalidInput(format!(
            "a {} output needs the output range 'input': the normalised range (about 0 to 1) \
             would be rounded away",
            U::TYPE.name()
        )));
    }
    with_worker_pool(options.threads, |pool| {
        let threads = pool.current_num_threads();
        let planes = Planes {
            input,
            first: first_plane,
        };
        run_in_pool(pool, threads, model, planes, &mut output, options, progress)
    })?
}

/// The planes of a run, and the number of the first in its stack (for messages).
struct Planes<'a, T> {
    input: ArrayView3<'a, T>,
    first: usize,
}

/// The work of [`run`] once the options and sizes are known to be right.
fn run_in_pool<T: Pixel, U: Pixel>(
    pool: &rayon::ThreadPool,
    threads: usize,
    model: &Model,
    planes: Planes<T>,
    output: &mut ArrayViewMut3<U>,
    options: &DeconvolveOptions,
    progress: Option<Progress>,
) -> Result<()> {
    let Planes {
        input,
        first: first_plane,
    } = planes;
    let (planes, height, width) = input.dim();
    let scalings = pool.install(|| {
        (0..planes)
            .into_par_iter()
            .map(|p| {
                let plane = input.index_axis(Axis(0), p);
                plane_scaling(plane, first_plane + p, &options.normalization)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let overlap = options.overlap_for(model.metadata());
    let budget = options.memory_budget();
    let tile = tile_within_budget(options.tile, height, width, overlap, budget);
    let rows = AxisPlan::new(height, tile, overlap);
    let cols = AxisPlan::new(width, tile, overlap);
    check_tile_memory(&rows, &cols, tile == 0, budget)?;
    let job = Jobs {
        model,
        input,
        first_plane,
        rows: &rows,
        cols: &cols,
        scalings: &scalings,
        normalization: options.normalization,
        output_range: options.output_range,
        budget,
    };
    let result = job.run(pool, threads, output, progress);
    if result.is_err() {
        // No half result may pose as a whole one.
        output.fill(U::from_f32(0.0));
    }
    result
}

/// Bytes of network working memory per tile pixel (measured: about 360 MiB for a
/// 512 x 512 tile), plus the tile's input and output.
const WORKING_BYTES_PER_PIXEL: usize = 1_400;

/// The smallest tile [`tile_within_budget`] shrinks a larger one to.
pub const SMALLEST_BUDGET_TILE: usize = 512;

/// The tile side a run on planes of `height x width` uses: `tile` (the largest, 0 for
/// whole planes), halved while one tile of it, as [`tiles_along`] plans it on these
/// planes, would need more than half of the memory `budget` (see [`workers_that_fit`]),
/// but never below [`SMALLEST_BUDGET_TILE`] (nor shrunk from whole planes: that mode is
/// asked for explicitly, and refused if it does not fit). The default tile thus runs a
/// 1024 x 1024 plane as one tile when memory allows (no overlap recomputed: the
/// untiled network's result) and as smaller tiles on a machine with less memory. The
/// choice depends on the budget only, never on the thread count; results of different
/// tiles differ within the tiled-versus-untiled tolerance of the model's overlap.
pub fn tile_within_budget(
    tile: usize,
    height: usize,
    width: usize,
    overlap: usize,
    budget: Option<u64>,
) -> usize {
    let Some(budget) = budget else {
        return tile;
    };
    let fits = |tile: usize| {
        let (rows, _) = tiles_along(height, tile, overlap);
        let (cols, _) = tiles_along(width, tile, overlap);
        let needed = (rows as u64)
            .saturating_mul(cols as u64)
            .saturating_mul(WORKING_BYTES_PER_PIXEL as u64);
        needed <= budget / 2
    };
    let mut tile = tile;
    while tile > SMALLEST_BUDGET_TILE && !fits(tile) {
        tile = (tile / 2 / 4 * 4)
            .max(SMALLEST_BUDGET_TILE)
            .max(overlap + 4);
    }
    tile
}

/// How many workers, each running one tile of `tile_pixels`, fit in half of the
/// `available` memory (at least one; any number if the amount is unknown). Fewer workers
/// than threads still use every thread: each tile's layers run in parallel too, so this
/// only trades some speed for memory, and results do not depend on it.
fn workers_that_fit(tile_pixels: usize, available: Option<u64>) -> usize {
    match available {
        Some(bytes) => {
            let per_worker = tile_pixels.saturating_mul(WORKING_BYTES_PER_PIXEL).max(1) as u64;
            usize::try_from(bytes / 2 / per_worker).map_or(usize::MAX, |n| n.max(1))
        }
        None => usize::MAX,
    }
}

/// What a run on planes of `height x width` pixels holds besides its input and output.
pub struct WorkingMemory {
    /// Tiles per plane.
    pub tiles_per_plane: usize,
    /// Workers running tiles at once.
    pub workers: usize,
    /// Bytes of the workers' tiles and the blending band.
    pub bytes: u64,
}

/// The working memory of a run of `options` on `threads` threads over planes of
/// `height x width` pixels, as [`run`] takes it (with the workers [`workers_that_fit`]
/// the run's memory budget). `options` should have the run's overlap
/// ([`DeconvolveOptions::resolved_for`] its model); an unset one counts as
/// [`DeconvolveOptions::DEFAULT_OVERLAP`].
pub fn working_memory(
    options: &DeconvolveOptions,
    threads: usize,
    height: usize,
    width: usize,
) -> WorkingMemory {
    // Sizes from a file whose pixels are not read yet: nothing planned or allocated.
    let overlap = options
        .overlap
        .unwrap_or(DeconvolveOptions::DEFAULT_OVERLAP);
    let budget = options.memory_budget();
    let tile = tile_within_budget(options.tile, height, width, overlap, budget);
    let (tile_rows, tile_row_count) = tiles_along(height, tile, overlap);
    let (tile_cols, tile_col_count) = tiles_along(width, tile, overlap);
    let tile_pixels = tile_rows.saturating_mul(tile_cols);
    let tiles_per_plane = tile_row_count.saturating_mul(tile_col_count);
    let workers = threads.min(workers_that_fit(tile_pixels, budget)).max(1);
    let per_worker = tile_pixels.saturating_mul(WORKING_BYTES_PER_PIXEL) as u64;
    let band = (tile_rows as u64)
        .saturating_mul(width as u64)
        .saturating_mul(std::mem::size_of::<f32>() as u64);
    WorkingMemory {
        tiles_per_plane,
        workers,
        bytes: (workers as u64)
            .saturating_mul(per_worker)
            .saturating_add(band),
    }
}

/// Refuses a run whose single tile needs more working memory than its budget (the
/// system's or the run's limit: whole-plane mode on a large plane), with the estimate,
/// before anything is allocated.
fn check_tile_memory(
    rows: &AxisPlan,
    cols: &AxisPlan,
    whole_plane: bool,
    budget: Option<u64>,
) -> Result<()> {
    let needed = (rows.tile * cols.tile) as u64 * WORKING_BYTES_PER_PIXEL as u64;
    let Some(available) = budget else {
        return Ok(());
    };
    if needed <= available {
        return Ok(());
    }
    let task = if whole_plane {
        let default = DeconvolveOptions::DEFAULT_TILE;
        format!(
            "deconvolving each {} x {} plane as one tile (tile 0, the whole plane) \
             [tiles of {default} need about {} MiB each]",
            cols.tile,
            rows.tile,
            (default * default * WORKING_BYTES_PER_PIXEL) >> 20
        )
    } else {
        format!("a tile of {} x {} pixels", cols.tile, rows.tile)
    };
    Err(Error::OutOfMemory {
        task,
        needed,
        available: Some(available),
    })
}

/// One run's tiles and what they need.
struct Jobs<'a, T> {
    model: &'a Model,
    input: ArrayView3<'a, T>,
    /// The number of the input's first plane in its stack (for messages).
    first_plane: usize,
    rows: &'a AxisPlan,
    cols: &'a AxisPlan,
    scalings: &'a [Scaling],
    normalization: Normalization,
    output_range: OutputRange,
    /// The memory the tiles may take ([`DeconvolveOptions::memory_budget`]).
    budget: Option<u64>,
}

impl<T: Pixel> Jobs<'_, T> {
    fn tiles_per_plane(&self) -> usize {
        self.rows.count() * self.cols.count()
    }

    fn count(&self) -> usize {
        self.input.dim().0 * self.tiles_per_plane()
    }

    /// (plane, tile row, tile column) of tile number `i`.
    fn locate(&self, i: usize) -> (usize, usize, usize) {
        let per_plane = self.tiles_per_plane();
        let within = i % per_plane;
        (
            i / per_plane,
            within / self.cols.count(),
            within % self.cols.count(),
        )
    }

    fn run<U: Pixel>(
        &self,
        pool: &rayon::ThreadPool,
        threads: usize,
        output: &mut ArrayViewMut3<U>,
        mut progress: Option<Progress>,
    ) -> Result<()> {
        let total = self.count();
        let tile_pixels = self.rows.tile * self.cols.tile;
        let worker_count = threads
            .min(total)
            .min(workers_that_fit(tile_pixels, self.budget));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel::<TileResult>();
        std::thread::scope(|scope| {
            let (next, stop) = (&next, &stop);
            let coordinator = scope.spawn(move || {
                pool.scope(|workers| {
                    for _ in 0..worker_count {
                        let sender = sender.clone();
                        workers.spawn(move |_| self.work(next, stop, &sender));
                    }
                });
            });
            let result = self.blend(&receiver, output, &mut progress);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            drop(receiver);
            join_thread(coordinator);
            result
        })
    }

    /// A worker: takes tiles in order until none is left or the run stops.
    fn work(&self, next: &AtomicUsize, stop: &AtomicBool, sender: &mpsc::Sender<TileResult>) {
        let mut workspace = self.model.take_workspace();
        let mut tile = Array2::<f32>::zeros((self.rows.tile, self.cols.tile));
        while !stop.load(Ordering::SeqCst) {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= self.count() {
                break;
            }
            let result = self.tile(i, &mut tile, &mut workspace);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            if sender.send((i, result)).is_err() {
                break;
            }
        }
        self.model.give_workspace(workspace);
    }

    /// Tile `i` through the network, in output units.
    fn tile(
        &self,
        i: usize,
        tile: &mut Array2<f32>,
        workspace: &mut Workspace,
    ) -> Result<Array2<f32>> {
        let (p, tr, tc) = self.locate(i);
        let (y0, x0) = (self.rows.starts[tr], self.cols.starts[tc]);
        let plane = self.input.index_axis(Axis(0), p);
        let (h, w) = plane.dim();
        let scaling = match self.normalization {
            Normalization::PerTileMinMax => {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for r in 0..tile.nrows() {
                    let src = plane.row(mirror(y0 + r, h));
                    for c in 0..tile.ncols() {
                        let v = src[mirror(x0 + c, w)].to_f64();
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                Scaling { low: lo, high: hi }
            }
            _ => self.scalings[p],
        };
        for (r, mut row) in tile.rows_mut().into_iter().enumerate() {
            let src = plane.row(mirror(y0 + r, h));
            for (c, v) in row.iter_mut().enumerate() {
                *v = scaling.forward(src[mirror(x0 + c, w)].to_f64());
            }
        }
        let mut z = self.model.network().forward(tile.view(), workspace)?;
        if self.output_range == OutputRange::Input {
            z.mapv_inplace(|v| scaling.inverse(v));
        }
        if let Some(((r, c), v)) = z.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "plane {} gives a non-finite result ({v}) near row {}, column {}: its values \
                 (scaled from {} to {}) are beyond what the network's 32-bit arithmetic holds, or the \
                 model's weights are damaged; rescale the image (or check the model file)",
                self.first_plane + p + 1,
                (y0 + r).min(h - 1),
                (x0 + c).min(w - 1),
                scaling.low,
                scaling.high
            )));
        }
        Ok(z)
    }

    /// The calling thread: blends tiles in numbering order, writes finished rows,
    /// reports progress.
    fn blend<U: Pixel>(
        &self,
        receiver: &mpsc::Receiver<TileResult>,
        output: &mut ArrayViewMut3<U>,
        progress: &mut Option<Progress>,
    ) -> Result<()> {
        let total = self.count();
        let width = self.input.dim().2;
        let mut band = Array2::<f32>::zeros((self.rows.tile, width));
        let mut pending = BTreeMap::new();
        let mut done = 0;
        while done < total {
            let (i, result) = receiver.recv().map_err(|_| {
                Error::Internal("a worker thread stopped without delivering its tile".into())
            })?;
            pending.insert(i, result?);
            while let Some(z) = pending.remove(&done) {
                let (p, tr, tc) = self.locate(done);
                self.add_tile(&mut band, &z, tr, tc);
                if tc + 1 == self.cols.count() {
                    let plane = output.index_axis_mut(Axis(0), p);
                    self.finish_rows(&mut band, plane, tr);
                }
                done += 1;
                if let Some(report) = progress.as_mut() {
                    if !report(done as f64 / total as f64) {
                        return Err(Error::Cancelled);
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds tile (tr, tc)'s weighted values to the band (whose first row is the tile
    /// row's first image row).
    fn add_tile(&self, band: &mut Array2<f32>, z: &Array2<f32>, tr: usize, tc: usize) {
        let wy = &self.rows.weights[tr];
        let wx = &self.cols.weights[tc];
        let x0 = self.cols.starts[tc];
        for (r, &weight_row) in wy.iter().enumerate() {
            let dst = &mut band.row_mut(r);
            let src = z.row(r);
            for (c, &weight_col) in wx.iter().enumerate() {
                dst[x0 + c] += (weight_row * weight_col) * src[c];
            }
        }
    }

    /// After tile row `tr`: writes the rows no later tile row reaches to the output
    /// plane and moves the band down to the next tile row.
    fn finish_rows<U: Pixel>(
        &self,
        band: &mut Array2<f32>,
        mut plane: ArrayViewMut2<U>,
        tr: usize,
    ) {
        let height = self.input.dim().1;
        let y0 = self.rows.starts[tr];
        let y1 = if tr + 1 < self.rows.count() {
            self.rows.starts[tr + 1]
        } else {
            height
        };
        for r in y0..y1 {
            let src = band.row(r - y0);
            for (o, &v) in plane.row_mut(r).iter_mut().zip(src.iter()) {
                *o = U::from_f32(v);
            }
        }
        // Shift the rows still being summed to the top of the band, clear the rest.
        let shift = y1 - y0;
        let keep = band.nrows() - shift.min(band.nrows());
        for r in 0..keep {
            let (mut top, bottom) = band.multi_slice_mut((s![r, ..], s![r + shift, ..]));
            top.assign(&bottom);
        }
        band.slice_mut(s![keep.., ..]).fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_limited_by_memory() {
        let tile = 512 * 512;
        let per_worker = tile * WORKING_BYTES_PER_PIXEL;
        assert_eq!(workers_that_fit(tile, None), usize::MAX);
        assert_eq!(workers_that_fit(tile, Some(16 * per_worker as u64)), 8);
        assert_eq!(workers_that_fit(tile, Some(per_worker as u64)), 1);
        assert_eq!(workers_that_fit(8192 * 8192, Some(1 << 30)), 1);
        assert!(crate::memory::available_memory().is_some_and(|m| m > 0));
    }

    #[test]
    fn tiles_shrink_to_what_half_the_budget_holds() {
        let gb = |n: u64| Some(n << 30);
        let at_2048 = |budget| tile_within_budget(2048, 2048, 2048, 128, budget);
        // One 2048 x 2048 tile needs 2048^2 x 1400 bytes, 5.5 GiB.
        assert_eq!(at_2048(gb(12)), 2048);
        assert_eq!(at_2048(gb(10)), 1024);
        assert_eq!(at_2048(gb(1)), 512);
        assert_eq!(at_2048(Some(1 << 20)), SMALLEST_BUDGET_TILE, "never below");
        assert_eq!(at_2048(None), 2048, "an unknown budget shrinks nothing");
        // What matters is the tile as planned on the plane: a small plane is one small
        // tile whatever the largest tile.
        assert_eq!(tile_within_budget(2048, 600, 800, 128, gb(2)), 2048);
        // Whole planes and tiles at most the smallest are kept (and refused if too big).
        assert_eq!(tile_within_budget(0, 4096, 4096, 0, gb(1)), 0);
        assert_eq!(tile_within_budget(256, 4096, 4096, 64, Some(1)), 256);
    }
}
