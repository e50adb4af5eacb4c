//! Rasterisers of 3-D objects into a [`VolumeGrid`], in physical units, each
//! pixel's value the density integrated over its voxel (see [`super::grid`]):
//!
//! - [`Body`]: a filled, possibly textured ellipsoid with an irregular outline,
//!   optionally a denser rim (or only a rim: a membrane shell) and inclusions
//!   (nucleoli). Its extent along `z` at each lateral point is exact; its outline is
//!   averaged over sub-pixel points (enough of them for the body's finest feature);
//!   its texture is sampled at the pixel and plane centres.
//! - [`add_blob`]: a 3-D Gaussian, integrated exactly over each voxel (separable
//!   normal CDFs), so sub-pixel spots are neither lost nor aliased.
//! - [`add_tube`]: a tube along a 3-D curve, as Gaussians at most one `sigma` apart.

use super::grid::VolumeGrid;
use super::texture::SmoothField;

/// Nanometres per micrometre: voxel integrals are in micrometres.
const NM_PER_UM: f64 = 1000.0;

/// The standard normal cumulative distribution function (Numerical Recipes'
/// Chebyshev fit of `erfc`, relative error below 1.2e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// A 3-D Gaussian spot.
pub(crate) struct Blob {
    /// Centre `(y, x, z)`, nanometres.
    pub(crate) centre: [f64; 3],
    /// Lateral standard deviation, nanometres.
    pub(crate) sigma_lateral_nm: f64,
    /// Axial standard deviation, nanometres.
    pub(crate) sigma_axial_nm: f64,
    /// Integral of the density (density x cubic micrometres).
    pub(crate) amount: f64,
}

/// The fraction of a Gaussian `(centre, sigma)` in each of the cells `first..end`
/// of width `width` (cell `i` covers `[i width, (i + 1) width)`).
fn cell_fractions(centre: f64, sigma: f64, width: f64, cells: std::ops::Range<usize>) -> Vec<f64> {
    let mut previous = normal_cdf((cells.start as f64 * width - centre) / sigma);
    cells
        .map(|i| {
            let next = normal_cdf(((i + 1) as f64 * width - centre) / sigma);
            let fraction = next - previous;
            previous = next;
            fraction
        })
        .collect()
}

/// Adds a Gaussian spot, integrated over each voxel within 4 sigma.
pub(crate) fn add_blob(grid: &mut VolumeGrid, blob: &Blob) {
    let [y, x, z] = blob.centre;
    let (sl, sa) = (blob.sigma_lateral_nm, blob.sigma_axial_nm);
    let rows = grid.pixels_between(y - 4.0 * sl, y + 4.0 * sl, grid.rows);
    let cols = grid.pixels_between(x - 4.0 * sl, x + 4.0 * sl, grid.cols);
    let planes = grid.planes_between(z - 4.0 * sa, z + 4.0 * sa);
    if rows.is_empty() || cols.is_empty() || planes.is_empty() {
        return;
    }
    let p = grid.pixel_nm;
    let fy = cell_fractions(y, sl, p, rows.clone());
    let fx = cell_fractions(x, sl, p, cols.clone());
    let pixel_area_um2 = (p / NM_PER_UM).powi(2);
    for k in planes {
        let (lo, hi) = grid.slab_nm(k);
        let fz = normal_cdf((hi - z) / sa) - normal_cdf((lo - z) / sa);
        let scale = blob.amount * fz / pixel_area_um2;
        for (row, &wy) in rows.clone().zip(&fy) {
            for (col, &wx) in cols.clone().zip(&fx) {
                grid.add(k, row, col, (scale * wy * wx) as f32);
            }
        }
    }
}

/// Adds a tube along the polyline `points` (nanometres, `(y, x, z)`): Gaussians of
/// `sigma_nm` (lateral and axial; a filled tube of radius `r` has `sigma ~ r / 2`)
/// at most `sigma_nm` apart, `line_density` per micrometre of length.
pub(crate) fn add_tube(
    grid: &mut VolumeGrid,
    points: &[[f64; 3]],
    sigma_nm: f64,
    line_density: f64,
) {
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let length = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2) + (b[2] - a[2]).powi(2)).sqrt();
        let steps = (length / sigma_nm).ceil().max(1.0) as usize;
        let amount = line_density * length / NM_PER_UM / steps as f64;
        for i in 0..steps {
            let t = (i as f64 + 0.5) / steps as f64;
            add_blob(
                grid,
                &Blob {
                    centre: [0, 1, 2].map(|c| a[c] + t * (b[c] - a[c])),
                    sigma_lateral_nm: sigma_nm,
                    sigma_axial_nm: sigma_nm,
                    amount,
                },
            );
        }
    }
}

/// A denser outer layer of a [`Body`].
pub(crate) struct Rim {
    /// Thickness, nanometres.
    pub(crate) thickness_nm: f64,
    /// Density added in it.
    pub(crate) density: f64,
}

/// A region inside a [`Body`] whose density is multiplied (a nucleolus): an
/// ellipsoid with a soft edge.
pub(crate) struct Inclusion {
    /// Centre `(y, x, z)`, nanometres.
    pub(crate) centre: [f64; 3],
    /// Semi-axes along `y`, `x`, `z`, nanometres.
    pub(crate) semi_axes: [f64; 3],
    /// Density factor inside (below 1: dimmer).
    pub(crate) factor: f64,
}

impl Inclusion {
    /// The density factor at `point`: `factor` inside, 1 outside, blended over the
    /// outer fifth of the radius.
    fn factor_at(&self, point: [f64; 3]) -> f64 {
        let r2: f64 = (0..3)
            .map(|a| ((point[a] - self.centre[a]) / self.semi_axes[a]).powi(2))
            .sum();
        if r2 >= 1.0 {
            1.0
        } else {
            let inside = ((1.0 - r2.sqrt()) / 0.2).min(1.0);
            1.0 + (self.factor - 1.0) * inside
        }
    }
}

/// A filled ellipsoid with an irregular outline: lateral semi-axes `a`, `b` (turned
/// by `angle`), the outline's radius modulated by `1 + sum amp cos(m theta + phase)`,
/// axial semi-axis `c`.
pub(crate) struct Body {
    /// Centre `(y, x, z)`, nanometres.
    pub(crate) centre: [f64; 3],
    /// Semi-axes `(a, b, c)`, nanometres.
    pub(crate) semi_axes: [f64; 3],
    /// Turn of the `a` axis from the `x` axis, radians.
    pub(crate) angle: f64,
    /// Outline harmonics `(m, amplitude, phase)`.
    pub(crate) outline: Vec<(f64, f64, f64)>,
    /// Density of the filling (0 for a shell).
    pub(crate) density: f64,
    /// A denser outer layer, or none.
    pub(crate) rim: Option<Rim>,
    /// A texture and its amplitude: the density is multiplied by `max(0, 1 +
    /// amplitude * field)`.
    pub(crate) texture: Option<(SmoothField, f64)>,
    /// Regions of multiplied density.
    pub(crate) inclusions: Vec<Inclusion>,
}

impl Body {
    fn outline_radius(&self, theta: f64) -> f64 {
        1.0 + self
            .outline
            .iter()
            .map(|&(m, amp, phase)| amp * (m * theta + phase).cos())
            .sum::<f64>()
    }

    /// Largest lateral distance of the outline from the centre, nanometres.
    pub(crate) fn lateral_reach_nm(&self) -> f64 {
        let swing: f64 = self.outline.iter().map(|h| h.1.abs()).sum();
        self.semi_axes[0].max(self.semi_axes[1]) * (1.0 + swing)
    }

    /// The density multiplier (texture, inclusions) at `point`.
    fn multiplier(&self, point: [f64; 3]) -> f64 {
        let mut m = match &self.texture {
            Some((field, amplitude)) => (1.0 + amplitude * field.at(point)).max(0.0),
            None => 1.0,
        };
        for inclusion in &self.inclusions {
            m *= inclusion.factor_at(point);
        }
        m
    }
}

/// Sub-pixel points per pixel side needed for features `feature_nm` wide: at least
/// two per feature, 1 to 8.
fn subsamples_for(pixel_nm: f64, feature_nm: f64) -> usize {
    ((2.0 * pixel_nm / feature_nm).ceil() as usize).clamp(1, 8)
}

/// Adds a [`Body`].
pub(crate) fn add_body(grid: &mut VolumeGrid, body: &Body) {
    let [cy, cx, cz] = body.centre;
    let [a, b, c] = body.semi_axes;
    let reach = body.lateral_reach_nm();
    let rows = grid.pixels_between(cy - reach, cy + reach, grid.rows);
    let cols = grid.pixels_between(cx - reach, cx + reach, grid.cols);
    let all_planes = grid.planes_between(cz - c, cz + c);
    if rows.is_empty() || cols.is_empty() || all_planes.is_empty() {
        return;
    }
    let first_plane = *all_planes.start();
    let plane_count = (all_planes.end() - first_plane + 1) as usize;
    let p = grid.pixel_nm;
    // The finest feature: the rim's thickness, else a 100 nm edge.
    let feature = body
        .rim
        .as_ref()
        .map_or(100.0, |r| r.thickness_nm.min(100.0));
    let s = subsamples_for(p, feature);
    let offsets: Vec<f64> = (0..s).map(|i| (i as f64 + 0.5) / s as f64 * p).collect();
    let (sin_t, cos_t) = body.angle.sin_cos();
    // Inner body (inside the rim): scaled laterally by `q_lat`, axially by `q_ax`.
    let (q_lat, q_ax) = match &body.rim {
        Some(rim) => (
            (1.0 - rim.thickness_nm / a.min(b)).max(0.0),
            (1.0 - rim.thickness_nm / c).max(0.0),
        ),
        None => (1.0, 1.0),
    };
    let rim_density = body.rim.as_ref().map_or(0.0, |r| r.density);
    let norm = 1.0 / ((s * s) as f64 * NM_PER_UM);
    let mut full = vec![0.0f64; plane_count];
    let mut inner = vec![0.0f64; plane_count];
    let slabs: Vec<(f64, f64)> = all_planes.clone().map(|k| grid.slab_nm(k)).collect();
    let dz = grid.plane_spacing_nm;
    // Adds `weight` times the overlap of `[lo, hi]` with each slab it meets.
    let accumulate = |lengths: &mut [f64], lo: f64, hi: f64, weight: f64| {
        let first = ((lo / dz + 0.5).floor() as isize - first_plane).max(0);
        let last = ((hi / dz + 0.5).floor() as isize - first_plane).min(plane_count as isize - 1);
        for i in first as usize..(last + 1).max(first) as usize {
            let (slab_lo, slab_hi) = slabs[i];
            let overlap = hi.min(slab_hi) - lo.max(slab_lo);
            if overlap > 0.0 {
                lengths[i] += weight * overlap;
            }
        }
    };
    // Normalised lateral radius (1 on the outline) at an offset from the centre.
    let radius_at = |dy: f64, dx: f64| {
        let u = (dx * cos_t + dy * sin_t) / a;
        let v = (-dx * sin_t + dy * cos_t) / b;
        let r = (u * u + v * v).sqrt();
        if body.outline.is_empty() || r == 0.0 {
            r
        } else {
            r / body.outline_radius(v.atan2(u))
        }
    };
    // How far the normalised radius can change within a pixel: pixels farther than
    // this from the outline (and from the rim's inner edge) are sampled at their
    // centre only.
    let swing: f64 = body.outline.iter().map(|h| h.1.abs()).sum();
    let pixel_reach = p / (a.min(b) * (1.0 - swing).max(0.1));
    let add_chords = |rho: f64, weight: f64, full: &mut [f64], inner: &mut [f64]| {
        let half = c * (1.0 - rho * rho).sqrt();
        accumulate(full, cz - half, cz + half, weight);
        if body.rim.is_some() && rho < q_lat {
            let t = rho / q_lat;
            let half_inner = c * q_ax * (1.0 - t * t).sqrt();
            accumulate(inner, cz - half_inner, cz + half_inner, weight);
        }
    };
    for row in rows {
        for col in cols.clone() {
            let centre_rho = radius_at((row as f64 + 0.5) * p - cy, (col as f64 + 0.5) * p - cx);
            if centre_rho > 1.0 + pixel_reach {
                continue;
            }
            full.fill(0.0);
            inner.fill(0.0);
            let near_edge = centre_rho > 1.0 - pixel_reach
                || (body.rim.is_some() && (centre_rho - q_lat).abs() < pixel_reach);
            if near_edge {
                for &oy in &offsets {
                    for &ox in &offsets {
                        let rho = radius_at(row as f64 * p + oy - cy, col as f64 * p + ox - cx);
                        if rho < 1.0 {
                            add_chords(rho, 1.0, &mut full, &mut inner);
                        }
                    }
                }
            } else {
                add_chords(centre_rho, (s * s) as f64, &mut full, &mut inner);
            }
            let centre_y = (row as f64 + 0.5) * p;
            let centre_x = (col as f64 + 0.5) * p;
            for (i, k) in all_planes.clone().enumerate() {
                if full[i] <= 0.0 {
                    continue;
                }
                let z = (k as f64 * grid.plane_spacing_nm).clamp(cz - c, cz + c);
                let multiplier = body.multiplier([centre_y, centre_x, z]);
                let rim_length = if body.rim.is_some() {
                    full[i] - inner[i]
                } else {
                    0.0
                };
                let amount =
                    (body.density * full[i] + rim_density * rim_length) * multiplier * norm;
                if amount > 0.0 {
                    grid.add(k, row, col, amount as f32);
                }
            }
        }
    }
}
