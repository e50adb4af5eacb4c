//! Applying a per-plane method (deconvolution, PSF-free filtering) to every plane of
//! a stack, planes in parallel with rayon. Each plane is computed on its own, by the
//! same code as one by one, so the result does not depend on the thread count.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::{ImageStack, Pixels};

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

/// `method` applied to every plane, in parallel; the results in the planes' order.
///
/// # Errors
/// The first error (in plane order) that `method` returned.
pub fn map_planes<F>(planes: &[Array2<f32>], method: F) -> Result<Vec<Array2<f32>>>
where
    F: Fn(ArrayView2<f32>) -> Result<Array2<f32>> + Sync,
{
    let results: Vec<Result<Array2<f32>>> = planes
        .par_iter()
        .map(|plane| method(plane.view()))
        .collect();
    results.into_iter().collect()
}
