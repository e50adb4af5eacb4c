//! Applying a per-plane method (deconvolution, PSF-free filtering) to every plane of
//! a stack, planes in parallel, with progress and cancellation: the one scheduler of
//! the classical methods for every front end. Each plane is computed on its own, by
//! the same code as one by one, so the result does not depend on the thread count.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::image::{ImageStack, Pixels};
use crate::threads::{join_thread, worker_threads};

/// The planes of `stack` as `f32` images (integer values converted exactly, `f64`
/// rounded to the nearest `f32`).
pub fn stack_planes(stack: &ImageStack) -> Vec<Array2<f32>> {
    let (height, width) = (stack.height(), stack.width());
    let plane_len = height * width;
    let values: Vec<f32> = match stack.pixels() {
        Pixels::U8(v) => v.iter().map(|&p| f32::from(p)).collect(),
        Pixels::U16(v) => v.iter().map(|&p| f32::from(p)).collect(),
        Pixels::F32(v) => v.clone(),
        Pixels::F64(v) => v.iter().map(|&p| p as f32).collect(),
    };
    values
        .chunks_exact(plane_len)
        .map(|plane| {
            Array2::from_shape_vec((height, width), plane.to_vec())
                .expect("a plane has height * width values")
        })
        .collect()
}

/// A 32-bit float stack of `planes`, all of one size.
///
/// # Errors
/// [`Error::InvalidInput`] if there are no planes, or they differ in size.
pub fn planes_to_stack(planes: &[Array2<f32>]) -> Result<ImageStack> {
    let first = planes
        .first()
        .ok_or_else(|| Error::InvalidInput("a stack needs at least one plane".into()))?;
    let (height, width) = first.dim();
    let mut values = Vec::with_capacity(height * width * planes.len());
    for (i, plane) in planes.iter().enumerate() {
        if plane.dim() != (height, width) {
            return Err(Error::InvalidInput(format!(
                "plane {i} is {} x {}, plane 0 is {height} x {width}",
                plane.nrows(),
                plane.ncols()
            )));
        }
        values.extend(plane.iter());
    }
    ImageStack::new(width, height, planes.len(), Pixels::F32(values))
}

/// A progress report on the calling thread of [`map_planes`]: the fraction of all
/// steps done; returning false cancels the run.
pub type PlaneProgress<'a> = &'a mut dyn FnMut(f64) -> bool;

/// What a worker of [`map_planes`] tells the calling thread.
enum Report {
    /// One step (an iteration) of some plane is done.
    Step,
    /// A plane's result.
    Plane(usize, Result<Array2<f32>>),
}

/// `method` applied to every plane, planes in parallel on at most `threads` worker
/// threads (`0`: one per core; see [`worker_threads`]) that end before this returns;
/// the results in plane order. Each plane is computed on its own by the same code, so
/// the results do not depend on the thread count.
///
/// `method` signals each of its `steps_per_plane` steps by calling its second argument,
/// which returns false once the run is cancelled (the method should then stop early).
/// `progress`, if any, is called on the calling thread after each step with the
/// fraction of all steps done, and cancels the run by returning false (it is not
/// called again).
///
/// # Errors
/// [`Error::Cancelled`] if `progress` returned false; [`Error::InvalidInput`] if
/// `threads` is above the limit; otherwise the first error, in plane order, that
/// `method` returned.
pub fn map_planes<M>(
    planes: &[Array2<f32>],
    threads: usize,
    steps_per_plane: usize,
    mut progress: Option<PlaneProgress>,
    method: M,
) -> Result<Vec<Array2<f32>>>
where
    M: Fn(ArrayView2<f32>, &mut dyn FnMut() -> bool) -> Result<Array2<f32>> + Sync,
{
    let threads = worker_threads(threads)?.min(planes.len());
    let total = (planes.len() * steps_per_plane) as f64;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<Result<Array2<f32>>>> = planes.iter().map(|_| None).collect();
    let (sender, receiver) = mpsc::channel::<Report>();
    std::thread::scope(|scope| {
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let sender = sender.clone();
            let (next, stop, method) = (&next, &stop, &method);
            workers.push(scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= planes.len() || stop.load(Ordering::SeqCst) {
                    break;
                }
                let mut step = || sender.send(Report::Step).is_ok() && !stop.load(Ordering::SeqCst);
                let result = method(planes[i].view(), &mut step);
                if sender.send(Report::Plane(i, result)).is_err() {
                    break;
                }
            }));
        }
        drop(sender);
        let mut done = 0;
        for report in receiver {
            match report {
                Report::Step if !stop.load(Ordering::SeqCst) => {
                    done += 1;
                    if let Some(progress) = progress.as_mut() {
                        if !progress(done as f64 / total) {
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
                Report::Step => {}
                Report::Plane(i, result) => results[i] = Some(result),
            }
        }
        workers.into_iter().for_each(join_thread);
    });
    if stop.load(Ordering::SeqCst) {
        return Err(Error::Cancelled);
    }
    results
        .into_iter()
        .map(|result| result.expect("every plane ran: the run was not cancelled"))
        .collect()
}
