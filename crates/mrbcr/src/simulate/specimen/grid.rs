//! The sampled volume a specimen is drawn into: camera pixels laterally, slabs
//! (planes) axially, folded about the focal plane.
//!
//! Plane `k` (`-K..=K`) holds the fluorophores with `z` in `[(k - 1/2) dz, (k + 1/2)
//! dz)`, `dz` the plane spacing, projected along `z` and averaged over each pixel's
//! area: its value at a pixel is the integral of the density over the voxel divided
//! by the pixel's area (lengths in micrometres). Since the Born-Wolf PSF is the same
//! at `+z` and `-z`, planes `k` and `-k` are imaged through the same PSF and are
//! stored summed: folded plane `d` holds planes `d` and `-d`; folded plane 0 is the
//! in-focus slab alone (the ground truth).
//!
//! Positions are in nanometres: pixel `(row, col)` covers `y` in `[row p, (row + 1)
//! p)` and `x` in `[col p, (col + 1) p)`, `p` the pixel size.

use ndarray::Array2;

/// The folded planes of a volume and its geometry.
pub(crate) struct VolumeGrid {
    /// Rows of each plane.
    pub(crate) rows: usize,
    /// Columns of each plane.
    pub(crate) cols: usize,
    /// Side of a pixel in the sample, nanometres.
    pub(crate) pixel_nm: f64,
    /// Distance between planes (thickness of each slab), nanometres.
    pub(crate) plane_spacing_nm: f64,
    /// `K`: the planes are `-K..=K`.
    pub(crate) half_planes: usize,
    /// Folded plane `d` (`0..=K`): planes `d` and `-d` summed.
    pub(crate) folded: Vec<Array2<f32>>,
    /// The field of view within the volume, nanometres: `[top, left, bottom, right]`.
    pub(crate) field_nm: [f64; 4],
}

impl VolumeGrid {
    /// An empty volume of `rows x cols` pixels of `pixel_nm` and planes `-K..=K`,
    /// `plane_spacing_nm` apart; the field of view is the pixels `field` (`top,
    /// left, height, width`).
    pub(crate) fn new(
        rows: usize,
        cols: usize,
        pixel_nm: f64,
        plane_spacing_nm: f64,
        half_planes: usize,
        field: [usize; 4],
    ) -> VolumeGrid {
        let [top, left, height, width] = field.map(|v| v as f64 * pixel_nm);
        VolumeGrid {
            rows,
            cols,
            pixel_nm,
            plane_spacing_nm,
            half_planes,
            folded: (0..=half_planes)
                .map(|_| Array2::zeros((rows, cols)))
                .collect(),
            field_nm: [top, left, top + height, left + width],
        }
    }

    /// Height and width of the volume, nanometres.
    pub(crate) fn extent_nm(&self) -> (f64, f64) {
        (
            self.rows as f64 * self.pixel_nm,
            self.cols as f64 * self.pixel_nm,
        )
    }

    /// Largest `|z|` inside the volume (the outer face of the last slab), nanometres.
    pub(crate) fn half_depth_nm(&self) -> f64 {
        (self.half_planes as f64 + 0.5) * self.plane_spacing_nm
    }

    /// The planes `k` whose slabs meet `[z_lo, z_hi]` (nanometres), clipped to the
    /// volume; empty when the interval misses it.
    pub(crate) fn planes_between(&self, z_lo: f64, z_hi: f64) -> std::ops::RangeInclusive<isize> {
        let k_max = self.half_planes as isize;
        let first = ((z_lo / self.plane_spacing_nm + 0.5).floor() as isize).max(-k_max);
        let last = ((z_hi / self.plane_spacing_nm + 0.5).floor() as isize).min(k_max);
        first..=last
    }

    /// Bounds `[lo, hi)` of the slab of plane `k`, nanometres.
    pub(crate) fn slab_nm(&self, k: isize) -> (f64, f64) {
        let dz = self.plane_spacing_nm;
        ((k as f64 - 0.5) * dz, (k as f64 + 0.5) * dz)
    }

    /// Adds `amount` to pixel `(row, col)` of plane `k` (`|k| <= K`).
    pub(crate) fn add(&mut self, k: isize, row: usize, col: usize, amount: f32) {
        self.folded[k.unsigned_abs()][(row, col)] += amount;
    }

    /// The rows (or columns, with `count = cols`) whose pixels meet `[lo, hi]`
    /// (nanometres), clipped to `0..count`.
    pub(crate) fn pixels_between(&self, lo: f64, hi: f64, count: usize) -> std::ops::Range<usize> {
        let first = (lo / self.pixel_nm).floor().max(0.0) as usize;
        let end = ((hi / self.pixel_nm).floor() + 1.0).clamp(0.0, count as f64) as usize;
        first.min(end)..end
    }
}
