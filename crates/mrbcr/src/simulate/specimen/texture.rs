//! Smooth random 3-D fields (chromatin, cytoplasm texture): independent standard
//! normal values on a cubic lattice over a box, interpolated by a quadratic B-spline
//! (continuous with a continuous gradient, and without the square plateaus of
//! trilinear value noise).

use super::super::sampling::standard_normal;
use crate::rng::SplitMix64;

/// A smooth random field over a box, zero mean and about unit variance.
pub(crate) struct SmoothField {
    origin: [f64; 3],
    spacing_nm: f64,
    dims: [usize; 3],
    values: Vec<f32>,
}

/// The quadratic B-spline weights of the lattice points `i - 1`, `i`, `i + 1` for a
/// point `f` (in `[-1/2, 1/2]`) from point `i`.
fn bspline_weights(f: f64) -> [f64; 3] {
    [
        0.5 * (0.5 - f) * (0.5 - f),
        0.75 - f * f,
        0.5 * (0.5 + f) * (0.5 + f),
    ]
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
        let mut weights = [[0f64; 3]; 3];
        for a in 0..3 {
            // Lattice point `j` sits at `origin + (j - 1) spacing`.
            let t = ((point[a] - self.origin[a]) / self.spacing_nm + 1.0)
                .clamp(1.0, (self.dims[a] - 2) as f64);
            let i = t.round();
            base[a] = i as usize - 1;
            weights[a] = bspline_weights(t - i);
        }
        let [_, ny, nz] = self.dims;
        let mut sum = 0.0;
        for (di, wi) in weights[0].iter().enumerate() {
            for (dj, wj) in weights[1].iter().enumerate() {
                let row = ((base[0] + di) * ny + base[1] + dj) * nz + base[2];
                let line = &self.values[row..row + 3];
                let along: f64 = line
                    .iter()
                    .zip(&weights[2])
                    .map(|(&v, w)| f64::from(v) * w)
                    .sum();
                sum += wi * wj * along;
            }
        }
        // The B-spline averages the lattice's values (standard deviation 0.35 to 0.46
        // between and on lattice points): rescale to about unit variance.
        sum * 2.4
    }
}
