//! Smooth random 3-D fields (chromatin, cytoplasm texture): independent standard
//! normal values on a cubic lattice over a box, interpolated between lattice points
//! with smoothstep weights (continuous, with a continuous gradient).

use super::super::sampling::standard_normal;
use crate::rng::SplitMix64;

/// A smooth random field over a box, about zero mean and unit-order values.
pub(crate) struct SmoothField {
    origin: [f64; 3],
    spacing_nm: f64,
    dims: [usize; 3],
    values: Vec<f32>,
}

fn smoothstep(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

impl SmoothField {
    /// A field over the box from `low` to `high` (nanometres, `(y, x, z)`) with
    /// lattice points `spacing_nm` apart (its correlation length).
    pub(crate) fn new(
        low: [f64; 3],
        high: [f64; 3],
        spacing_nm: f64,
        rng: &mut SplitMix64,
    ) -> SmoothField {
        let dims =
            [0, 1, 2].map(|a| ((high[a] - low[a]) / spacing_nm).ceil().max(0.0) as usize + 2);
        let values = (0..dims[0] * dims[1] * dims[2])
            .map(|_| standard_normal(rng) as f32)
            .collect();
        SmoothField {
            origin: low,
            spacing_nm,
            dims,
            values,
        }
    }

    /// The field at `(y, x, z)` (nanometres; points outside the box take the value
    /// at its nearest face).
    pub(crate) fn at(&self, point: [f64; 3]) -> f64 {
        let mut base = [0usize; 3];
        let mut weight = [0f64; 3];
        for a in 0..3 {
            let t = ((point[a] - self.origin[a]) / self.spacing_nm)
                .clamp(0.0, (self.dims[a] - 1) as f64 - 1e-9);
            let i = t.floor();
            base[a] = i as usize;
            weight[a] = smoothstep(t - i);
        }
        let [_, ny, nz] = self.dims;
        let index = |i: usize, j: usize, k: usize| (i * ny + j) * nz + k;
        let mut sum = 0.0;
        for (di, wi) in [(0, 1.0 - weight[0]), (1, weight[0])] {
            for (dj, wj) in [(0, 1.0 - weight[1]), (1, weight[1])] {
                let row = index(base[0] + di, base[1] + dj, base[2]);
                let pair = f64::from(self.values[row]) * (1.0 - weight[2])
                    + f64::from(self.values[row + 1]) * weight[2];
                sum += wi * wj * pair;
            }
        }
        sum
    }
}
