//! Ground-truth structures drawn on a fine grid: filaments, puncta and vesicles,
//! membranes (rings) and textured blobs. Values are fluorophore densities in
//! arbitrary units (the simulator scales them to photons); positions are drawn over
//! the whole grid, margins included, so structures enter the field of view from
//! outside.

use ndarray::Array2;

use super::params::StructureCounts;
use super::sampling::{integer_in, standard_normal, uniform, uniform_in};
use crate::rng::SplitMix64;

/// A fine grid being drawn on, with its point spacing.
pub(crate) struct Canvas {
    pub(crate) density: Array2<f32>,
    /// Spacing of the grid points, nanometres.
    pub(crate) spacing_nm: f64,
}

impl Canvas {
    /// A blank grid of `height x width` points `spacing_nm` apart.
    pub(crate) fn new(height: usize, width: usize, spacing_nm: f64) -> Canvas {
        Canvas {
            density: Array2::zeros((height, width)),
            spacing_nm,
        }
    }

    fn extent_nm(&self) -> (f64, f64) {
        (
            self.density.nrows() as f64 * self.spacing_nm,
            self.density.ncols() as f64 * self.spacing_nm,
        )
    }

    /// Adds `peak * exp(-d^2 / (2 sigma^2))` around `(y, x)` (nanometres), within 3.5
    /// sigma.
    fn add_gaussian(&mut self, y_nm: f64, x_nm: f64, sigma_nm: f64, peak: f64) {
        let s = self.spacing_nm;
        let (cy, cx) = (y_nm / s, x_nm / s);
        let sigma = sigma_nm / s;
        let reach = (3.5 * sigma).ceil().max(1.0);
        let (rows, cols) = (self.density.nrows() as f64, self.density.ncols() as f64);
        let y0 = (cy - reach).floor().max(0.0) as usize;
        let y1 = (cy + reach).ceil().min(rows - 1.0);
        let x0 = (cx - reach).floor().max(0.0) as usize;
        let x1 = (cx + reach).ceil().min(cols - 1.0);
        if y1 < 0.0 || x1 < 0.0 {
            return;
        }
        let scale = -0.5 / (sigma * sigma);
        for y in y0..=y1 as usize {
            let dy = y as f64 - cy;
            for x in x0..=x1 as usize {
                let dx = x as f64 - cx;
                self.density[(y, x)] += (peak * ((dy * dy + dx * dx) * scale).exp()) as f32;
            }
        }
    }

    /// Draws a line of Gaussian cross-section `sigma_nm` and peak density `peak`
    /// through `points` (nanometres, at most half a grid spacing apart).
    fn add_line(&mut self, points: &[(f64, f64)], sigma_nm: f64, peak: f64) {
        // Stamps `step` apart sum to a line of peak `amplitude * sqrt(2 pi) sigma / step`.
        let step = self.spacing_nm / 2.0;
        let amplitude = peak * step / ((2.0 * std::f64::consts::PI).sqrt() * sigma_nm);
        for &(y, x) in points {
            self.add_gaussian(y, x, sigma_nm, amplitude);
        }
    }
}

/// Draws the structures of one layer, their numbers drawn from `counts`, densities
/// multiplied by `brightness`.
pub(crate) fn draw_layer(
    canvas: &mut Canvas,
    counts: &StructureCounts,
    brightness: f64,
    rng: &mut SplitMix64,
) {
    for _ in 0..integer_in(rng, counts.blobs) {
        draw_blob(canvas, brightness, rng);
    }
    for _ in 0..integer_in(rng, counts.rings) {
        draw_ring(canvas, brightness, rng);
    }
    for _ in 0..integer_in(rng, counts.filaments) {
        draw_filament(canvas, brightness, rng);
    }
    for _ in 0..integer_in(rng, counts.puncta) {
        draw_punctum(canvas, brightness, rng);
    }
}

fn random_point(canvas: &Canvas, rng: &mut SplitMix64) -> (f64, f64) {
    let (h, w) = canvas.extent_nm();
    (uniform(rng) * h, uniform(rng) * w)
}

/// A filament: 2-15 um long, its curvature a smooth random process (Ornstein-
/// Uhlenbeck, correlation length 1 um, typical radius of curvature 3 um); 10-25 nm
/// wide (Gaussian sigma), peak density 0.5-1.
fn draw_filament(canvas: &mut Canvas, brightness: f64, rng: &mut SplitMix64) {
    const CORRELATION_NM: f64 = 1000.0;
    const CURVATURE_STD: f64 = 1.0 / 3000.0;
    let length = uniform_in(rng, (2000.0, 15000.0));
    let sigma = uniform_in(rng, (10.0, 25.0));
    let peak = brightness * uniform_in(rng, (0.5, 1.0));
    let (mut y, mut x) = random_point(canvas, rng);
    let mut angle = uniform(rng) * 2.0 * std::f64::consts::PI;
    let mut curvature = CURVATURE_STD * standard_normal(rng);
    let step = canvas.spacing_nm / 2.0;
    let decay = (-step / CORRELATION_NM).exp();
    let kick = CURVATURE_STD * (1.0 - decay * decay).sqrt();
    let steps = (length / step) as usize;
    let mut points = Vec::with_capacity(steps);
    for _ in 0..steps {
        points.push((y, x));
        curvature = curvature * decay + kick * standard_normal(rng);
        angle += curvature * step;
        y += step * angle.sin();
        x += step * angle.cos();
    }
    canvas.add_line(&points, sigma, peak);
}

/// A punctum (filled spot, sigma 15-50 nm, peak 1-3) or, half the time, a vesicle (a
/// hollow sphere seen as a ring of radius 60-200 nm, 15 nm wide, peak 0.7-1.5).
fn draw_punctum(canvas: &mut Canvas, brightness: f64, rng: &mut SplitMix64) {
    let (y, x) = random_point(canvas, rng);
    if uniform(rng) < 0.5 {
        let sigma = uniform_in(rng, (15.0, 50.0));
        canvas.add_gaussian(y, x, sigma, brightness * uniform_in(rng, (1.0, 3.0)));
    } else {
        let radius = uniform_in(rng, (60.0, 200.0));
        let peak = brightness * uniform_in(rng, (0.7, 1.5));
        let points = closed_curve(canvas.spacing_nm, (y, x), radius, &[]);
        canvas.add_line(&points, 15.0, peak);
    }
}

/// A membrane: a closed curve of mean radius 0.4-2.5 um, its radius modulated by
/// harmonics 2 to 4 of up to 8% each; 15-30 nm wide, peak 0.4-0.9.
fn draw_ring(canvas: &mut Canvas, brightness: f64, rng: &mut SplitMix64) {
    let centre = random_point(canvas, rng);
    let radius = uniform_in(rng, (400.0, 2500.0));
    let harmonics: Vec<(f64, f64, f64)> = (2..=4)
        .map(|m| {
            let amplitude = uniform_in(rng, (0.0, 0.08));
            let phase = uniform(rng) * 2.0 * std::f64::consts::PI;
            (m as f64, amplitude, phase)
        })
        .collect();
    let sigma = uniform_in(rng, (15.0, 30.0));
    let peak = brightness * uniform_in(rng, (0.4, 0.9));
    let points = closed_curve(canvas.spacing_nm, centre, radius, &harmonics);
    canvas.add_line(&points, sigma, peak);
}

/// Points at most half a grid spacing apart along the curve
/// `r(phi) = radius (1 + sum a_m cos(m phi + p_m))` around `centre`, for harmonics
/// `(m, a_m, p_m)`.
fn closed_curve(
    spacing_nm: f64,
    (cy, cx): (f64, f64),
    radius: f64,
    harmonics: &[(f64, f64, f64)],
) -> Vec<(f64, f64)> {
    let largest = radius * (1.0 + harmonics.iter().map(|h| h.1).sum::<f64>());
    let count = ((2.0 * std::f64::consts::PI * largest) / (spacing_nm / 2.0)).ceil() as usize;
    let count = count.max(8);
    (0..count)
        .map(|i| {
            let phi = 2.0 * std::f64::consts::PI * i as f64 / count as f64;
            let r = radius
                * (1.0
                    + harmonics
                        .iter()
                        .map(|&(m, a, p)| a * (m * phi + p).cos())
                        .sum::<f64>());
            (cy + r * phi.sin(), cx + r * phi.cos())
        })
        .collect()
}

/// A textured blob: an ellipse with semi-axes 0.5-2.5 um, any orientation, a soft
/// edge (50 nm), filled with a texture of six random plane waves (wavelengths
/// 200-1000 nm), density 0.1-0.35 on average.
fn draw_blob(canvas: &mut Canvas, brightness: f64, rng: &mut SplitMix64) {
    const EDGE_NM: f64 = 50.0;
    let (cy, cx) = random_point(canvas, rng);
    let semi_a = uniform_in(rng, (500.0, 2500.0));
    let semi_b = uniform_in(rng, (500.0, 2500.0));
    let tilt = uniform(rng) * std::f64::consts::PI;
    let level = brightness * uniform_in(rng, (0.1, 0.35));
    let waves: Vec<(f64, f64, f64)> = (0..6)
        .map(|_| {
            let wavelength = uniform_in(rng, (200.0, 1000.0));
            let direction = uniform(rng) * 2.0 * std::f64::consts::PI;
            let k = 2.0 * std::f64::consts::PI / wavelength;
            (
                k * direction.cos(),
                k * direction.sin(),
                uniform(rng) * 2.0 * std::f64::consts::PI,
            )
        })
        .collect();
    let s = canvas.spacing_nm;
    let reach = semi_a.max(semi_b) + 4.0 * EDGE_NM;
    let (rows, cols) = canvas.density.dim();
    let y0 = ((cy - reach) / s).floor().max(0.0) as usize;
    let y1 = (((cy + reach) / s).ceil().max(0.0) as usize).min(rows);
    let x0 = ((cx - reach) / s).floor().max(0.0) as usize;
    let x1 = (((cx + reach) / s).ceil().max(0.0) as usize).min(cols);
    let (sin_t, cos_t) = tilt.sin_cos();
    for y in y0..y1 {
        let py = y as f64 * s - cy;
        for x in x0..x1 {
            let px = x as f64 * s - cx;
            let u = (px * cos_t + py * sin_t) / semi_a;
            let v = (-px * sin_t + py * cos_t) / semi_b;
            let rho = (u * u + v * v).sqrt();
            // Signed distance to the edge (approximately, in nm), through a sigmoid.
            let inside = (1.0 - rho) * semi_a.min(semi_b);
            let mask = 1.0 / (1.0 + (-inside / EDGE_NM * 4.0).exp());
            if mask < 1e-4 {
                continue;
            }
            let texture: f64 = waves
                .iter()
                .map(|&(ky, kx, p)| (ky * py + kx * px + p).cos())
                .sum::<f64>()
                / waves.len() as f64;
            canvas.density[(y, x)] += (level * mask * (1.0 + 1.5 * texture).max(0.0)) as f32;
        }
    }
}
