//! Resampling a plane onto a rotated, scaled, possibly mirrored grid, without
//! aliasing: each output pixel is a tent-weighted mean of the source pixels under it,
//! the tent as wide as an output pixel when shrinking (an area average) and as a source
//! pixel when enlarging (linear interpolation). The source fades to zero over its last
//! [`Placement::edge_fade`] pixels and is zero beyond: a small source becomes an
//! island of structure on a dark field, never a mirrored or repeated pattern.

use ndarray::{Array2, ArrayView2};

/// Where an output grid lies on the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The source position (row, column, in source pixels) under the output's centre.
    pub centre: (f64, f64),
    /// Output pixels per source pixel (below 1 shrinks).
    pub zoom: f64,
    /// Rotation of the output grid on the source, radians.
    pub angle: f64,
    /// Whether the output is mirrored left to right.
    pub mirror: bool,
    /// Width of the source's fade to zero at its edges, source pixels (at least 1).
    pub edge_fade: f64,
}

/// The weight of source index `k` of `0..n` under a raised-cosine fade over `fade`
/// pixels at both edges: 0 outside, rising to 1 at `fade` pixels from the edge.
fn edge_weight(k: isize, n: usize, fade: f64) -> f64 {
    if k < 0 || k >= n as isize {
        return 0.0;
    }
    let from_edge = (k + 1).min(n as isize - k) as f64;
    let t = (from_edge / fade).min(1.0);
    0.5 - 0.5 * (std::f64::consts::PI * t).cos()
}

/// `max(0, 1 - |t|)`.
fn tent(t: f64) -> f64 {
    (1.0 - t.abs()).max(0.0)
}

/// The `height x width` image of `source` placed as `placement` says (see the module
/// documentation). `source` must not be empty.
pub fn resample(
    source: ArrayView2<f32>,
    placement: &Placement,
    height: usize,
    width: usize,
) -> Array2<f32> {
    let (rows, cols) = source.dim();
    let (sin, cos) = placement.angle.sin_cos();
    let fade = placement.edge_fade.max(1.0);
    // The tent's half-width in source pixels, along the output grid's axes.
    let reach = (1.0 / placement.zoom).max(1.0);
    let bound = (reach * std::f64::consts::SQRT_2).ceil() as isize;
    let (cy, cx) = ((height as f64 - 1.0) / 2.0, (width as f64 - 1.0) / 2.0);
    Array2::from_shape_fn((height, width), |(i, j)| {
        let oy = (i as f64 - cy) / placement.zoom;
        let mut ox = (j as f64 - cx) / placement.zoom;
        if placement.mirror {
            ox = -ox;
        }
        // The output pixel's centre in the source.
        let py = placement.centre.0 + cos * oy - sin * ox;
        let px = placement.centre.1 + sin * oy + cos * ox;
        let (ry, rx) = (py.round() as isize, px.round() as isize);
        let (mut sum, mut weight) = (0.0f64, 0.0f64);
        for u in ry - bound..=ry + bound {
            let dy = u as f64 - py;
            for v in rx - bound..=rx + bound {
                let dx = v as f64 - px;
                // The offset along the output grid's axes.
                let along_y = cos * dy + sin * dx;
                let along_x = -sin * dy + cos * dx;
                let w = tent(along_y / reach) * tent(along_x / reach);
                if w > 0.0 {
                    let fade = edge_weight(u, rows, fade) * edge_weight(v, cols, fade);
                    if fade > 0.0 {
                        sum += w * fade * f64::from(source[(u as usize, v as usize)]);
                    }
                    weight += w;
                }
            }
        }
        (sum / weight) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_fade_to_zero() {
        let weights: Vec<f64> = (-1..11).map(|k| edge_weight(k, 10, 2.0)).collect();
        assert_eq!(weights[0], 0.0);
        assert_eq!(weights[11], 0.0);
        assert!((weights[1] - 0.5).abs() < 1e-12, "{}", weights[1]);
        assert_eq!(weights[2], 1.0);
        assert_eq!(weights[5], 1.0);
        assert!((weights[10] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn identity_placement_copies_the_source() {
        let source = Array2::from_shape_fn((6, 5), |(y, x)| (y * 10 + x) as f32);
        let placement = Placement {
            centre: (2.5, 2.0),
            zoom: 1.0,
            angle: 0.0,
            mirror: false,
            edge_fade: 1.0,
        };
        assert_eq!(resample(source.view(), &placement, 6, 5), source);
        // Beyond the source, zero.
        let shifted = Placement {
            centre: (2.5, 4.0),
            ..placement
        };
        let out = resample(source.view(), &shifted, 6, 5);
        assert_eq!(out.column(3).sum() + out.column(4).sum(), 0.0);
        assert_eq!(out[(0, 0)], source[(0, 2)]);
    }

    #[test]
    fn quarter_turn_and_mirror_move_pixels_where_expected() {
        let source = Array2::from_shape_fn((5, 5), |(y, x)| (y * 10 + x) as f32);
        let centre = (2.0, 2.0);
        let turned = resample(
            source.view(),
            &Placement {
                centre,
                zoom: 1.0,
                angle: std::f64::consts::FRAC_PI_2,
                mirror: false,
                edge_fade: 1.0,
            },
            5,
            5,
        );
        // Output (i, j) reads the source at (2 - (j - 2), 2 + (i - 2)).
        for ((i, j), &v) in turned.indexed_iter() {
            let expected = source[(4 - j, i)];
            assert!((v - expected).abs() < 1e-4, "({i}, {j}): {v} vs {expected}");
        }
        let mirrored = resample(
            source.view(),
            &Placement {
                centre,
                zoom: 1.0,
                angle: 0.0,
                mirror: true,
                edge_fade: 1.0,
            },
            5,
            5,
        );
        for ((i, j), &v) in mirrored.indexed_iter() {
            assert_eq!(v, source[(i, 4 - j)]);
        }
    }

    #[test]
    fn halving_averages_blocks_and_keeps_the_mean() {
        // A checkerboard shrunk by 2 must come out flat (no aliasing).
        let source = Array2::from_shape_fn((64, 64), |(y, x)| ((y + x) % 2) as f32);
        let placement = Placement {
            centre: (31.5, 31.5),
            zoom: 0.5,
            angle: 0.3,
            mirror: false,
            edge_fade: 1.0,
        };
        let small = resample(source.view(), &placement, 32, 32);
        for &v in small.slice(ndarray::s![4..28, 4..28]) {
            assert!((v - 0.5).abs() < 0.05, "aliased value {v}");
        }
    }
}
