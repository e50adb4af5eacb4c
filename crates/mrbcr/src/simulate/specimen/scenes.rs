//! Scenes: the objects of each [`SceneKind`], drawn at random over the whole volume
//! (field of view and margin, so objects cross the field's edges), with sizes in
//! nanometres (right at every pixel size) and numbers proportional to the area.
//!
//! Densities are in arbitrary units (the image is scaled to the drawn photons);
//! each object's brightness is drawn log-uniformly over a factor of 10.

use super::super::acquisition::log_uniform;
use super::super::sampling::{integer_in, standard_normal, uniform, uniform_in};
use super::grid::VolumeGrid;
use super::objects::{add_blob, add_body, add_tube, Blob, Body, Inclusion, Rim};
use super::settings::{FixedScene, SceneKind};
use super::texture::SmoothField;
use crate::rng::SplitMix64;

const TAU: f64 = 2.0 * std::f64::consts::PI;

/// A per-object brightness factor, log-uniform over a factor of 10 around 1.
fn brightness(rng: &mut SplitMix64) -> f64 {
    log_uniform(rng, (0.32, 3.2))
}

/// A number of objects: `per_100_um2` (a range, drawn log-uniformly) times the
/// volume's area, at most `cap`.
fn count_for(
    grid: &VolumeGrid,
    per_100_um2: (f64, f64),
    cap: usize,
    rng: &mut SplitMix64,
) -> usize {
    let (h, w) = grid.extent_nm();
    let area = h * w / 1e8;
    let expected = log_uniform(rng, per_100_um2) * area;
    ((expected + uniform(rng)).floor() as usize).min(cap)
}

/// A point at depth `z`: uniform over the field of view two times in three (so
/// that sparse scenes are not empty where the margin is large), else uniform over
/// the whole volume's area.
fn point_at(grid: &VolumeGrid, z: f64, rng: &mut SplitMix64) -> [f64; 3] {
    let (h, w) = grid.extent_nm();
    let [top, left, bottom, right] = grid.field_nm;
    if uniform(rng) < 2.0 / 3.0 {
        [
            uniform_in(rng, (top, bottom)),
            uniform_in(rng, (left, right)),
            z,
        ]
    } else {
        [uniform(rng) * h, uniform(rng) * w, z]
    }
}

/// A depth uniform over the volume.
fn any_depth(grid: &VolumeGrid, rng: &mut SplitMix64) -> f64 {
    let z = grid.half_depth_nm();
    uniform_in(rng, (-z, z))
}

/// A depth near the focal plane (within `spread_nm`), where a cell layer would be.
fn layer_depth(spread_nm: f64, rng: &mut SplitMix64) -> f64 {
    uniform_in(rng, (-spread_nm, spread_nm))
}

/// Outline harmonics 2..=`max_order`, each of amplitude up to `amplitude`.
fn outline(max_order: usize, amplitude: f64, rng: &mut SplitMix64) -> Vec<(f64, f64, f64)> {
    (2..=max_order)
        .map(|m| {
            (
                m as f64,
                uniform_in(rng, (0.0, amplitude)),
                uniform(rng) * TAU,
            )
        })
        .collect()
}

/// A texture over the box of a body of lateral reach `reach` and half-height `c`,
/// correlation length `length_nm` (at least 1.5 pixels, so it is not aliased).
fn texture_for(
    grid: &VolumeGrid,
    centre: [f64; 3],
    reach: f64,
    c: f64,
    length_nm: f64,
    rng: &mut SplitMix64,
) -> SmoothField {
    let spacing = length_nm.max(1.5 * grid.pixel_nm);
    SmoothField::new(
        [centre[0] - reach, centre[1] - reach, centre[2] - c],
        [centre[0] + reach, centre[1] + reach, centre[2] + c],
        spacing,
        rng,
    )
}

/// A smooth random 3-D curve from `start`: `length_nm` long, points `step_nm` apart,
/// direction a persistent random walk (persistence length `persistence_nm`) whose
/// axial component is damped by `flatness` (0: stays in its plane, 1: isotropic).
fn random_curve(
    start: [f64; 3],
    length_nm: f64,
    step_nm: f64,
    persistence_nm: f64,
    flatness: f64,
    rng: &mut SplitMix64,
) -> Vec<[f64; 3]> {
    let angle = uniform(rng) * TAU;
    let mut direction = [
        angle.sin(),
        angle.cos(),
        flatness * 0.3 * standard_normal(rng),
    ];
    let kick = (step_nm / persistence_nm).sqrt();
    let steps = (length_nm / step_nm).ceil() as usize;
    let mut point = start;
    let mut points = Vec::with_capacity(steps + 1);
    points.push(point);
    for _ in 0..steps {
        for (a, d) in direction.iter_mut().enumerate() {
            let damp = if a == 2 { flatness } else { 1.0 };
            *d += kick * damp * standard_normal(rng);
        }
        direction[2] *= 1.0 - 0.1 * (1.0 - flatness);
        let norm = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
        for (p, d) in point.iter_mut().zip(&mut direction) {
            *d /= norm;
            *p += step_nm * *d;
        }
        points.push(point);
    }
    points
}

/// Axial over lateral semi-axis of nuclei of cultured cells (flattened on the
/// coverslip).
const CULTURED: (f64, f64) = (0.35, 0.6);
/// Axial over lateral semi-axis of nuclei in tissue (rounder).
const IN_TISSUE: (f64, f64) = (0.6, 0.9);

/// A nucleus of diameter `diameter_nm` centred at `centre`: a filled ellipsoid
/// (axial semi-axis `flatness` times the lateral one) with chromatin texture, mostly without a rim (a quarter of them with a
/// denser rim), 0-3 nucleoli (dimmer or brighter) and 0-25 bright foci.
fn add_nucleus(
    grid: &mut VolumeGrid,
    centre: [f64; 3],
    diameter_nm: f64,
    flatness: (f64, f64),
    rng: &mut SplitMix64,
) {
    let a = diameter_nm / 2.0;
    let b = a * uniform_in(rng, (0.7, 1.0));
    let c = a.min(b) * uniform_in(rng, flatness);
    let density = brightness(rng);
    let shape = outline(5, 0.04, rng);
    let angle = uniform(rng) * TAU;
    let reach = a * 1.2;
    let texture_length = uniform_in(rng, (250.0, 700.0));
    let texture = texture_for(grid, centre, reach, c, texture_length, rng);
    let texture_amplitude = uniform_in(rng, (0.2, 0.45));
    let rim = (uniform(rng) < 0.25).then(|| Rim {
        thickness_nm: uniform_in(rng, (200.0, 500.0)),
        density: density * uniform_in(rng, (0.3, 1.0)),
    });
    let inclusions = (0..integer_in(rng, (0, 3)))
        .map(|_| {
            let size = uniform_in(rng, (0.08, 0.2)) * diameter_nm;
            let reach_inside = 0.45;
            Inclusion {
                centre: [
                    centre[0] + reach_inside * b * uniform_in(rng, (-1.0, 1.0)),
                    centre[1] + reach_inside * b * uniform_in(rng, (-1.0, 1.0)),
                    centre[2] + reach_inside * c * uniform_in(rng, (-1.0, 1.0)),
                ],
                semi_axes: [size, size * uniform_in(rng, (0.7, 1.0)), size.min(0.6 * c)],
                factor: if uniform(rng) < 0.6 {
                    uniform_in(rng, (0.3, 0.7))
                } else {
                    uniform_in(rng, (1.3, 2.0))
                },
            }
        })
        .collect();
    add_body(
        grid,
        &Body {
            centre,
            semi_axes: [a, b, c],
            angle,
            outline: shape,
            density,
            rim,
            texture: Some((texture, texture_amplitude)),
            inclusions,
        },
    );
    for _ in 0..integer_in(rng, (0, 25)) {
        let sigma = uniform_in(rng, (50.0, 150.0));
        let u = uniform(rng) * TAU;
        let r = 0.8 * uniform(rng).sqrt();
        let (dy, dx) = (r * b * u.sin(), r * a * u.cos());
        let (sin_t, cos_t) = angle.sin_cos();
        add_blob(
            grid,
            &Blob {
                centre: [
                    centre[0] + dx * sin_t + dy * cos_t,
                    centre[1] + dx * cos_t - dy * sin_t,
                    centre[2] + 0.7 * c * uniform_in(rng, (-1.0, 1.0)),
                ],
                sigma_lateral_nm: sigma,
                sigma_axial_nm: sigma * 2.0,
                amount: peak_amount(density * uniform_in(rng, (1.0, 3.0)), sigma, sigma * 2.0),
            },
        );
    }
}

/// The amount of a Gaussian of `sigma`s (nanometres) whose peak density is `peak`.
fn peak_amount(peak: f64, sigma_lateral_nm: f64, sigma_axial_nm: f64) -> f64 {
    let (sl, sa) = (sigma_lateral_nm / 1000.0, sigma_axial_nm / 1000.0);
    peak * TAU.powf(1.5) * sl * sl * sa
}

/// A sparse field of nuclei (5-15 um), some out of focus.
fn nuclei(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (0.1, 1.0), 60, rng).max(1);
    for _ in 0..count {
        let z = if uniform(rng) < 0.6 {
            layer_depth(1500.0, rng)
        } else {
            any_depth(grid, rng)
        };
        let centre = point_at(grid, z, rng);
        add_nucleus(
            grid,
            centre,
            uniform_in(rng, (5000.0, 15000.0)),
            CULTURED,
            rng,
        );
    }
    format!("nuclei {count}")
}

/// Tissue: bodies on a jittered hexagonal lattice in layers, touching, filling the
/// volume: nuclei (60 %), membrane-stained cells (20 %) or filled cytoplasm (20 %).
fn tissue(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let style = uniform(rng);
    let size = uniform_in(rng, (5000.0, 12000.0));
    let spacing = size * uniform_in(rng, (1.0, 1.15));
    let layer_spacing = spacing * uniform_in(rng, (0.55, 0.7));
    let (h, w) = grid.extent_nm();
    let depth = grid.half_depth_nm() + layer_spacing;
    let layers = (2.0 * depth / layer_spacing).ceil() as usize;
    let row_step = spacing * 3f64.sqrt() / 2.0;
    let mut count = 0;
    let first_layer = -depth + uniform(rng) * layer_spacing;
    for layer in 0..layers {
        let z = first_layer + layer as f64 * layer_spacing;
        let shift = uniform(rng) * spacing;
        let rows = (h / row_step).ceil() as usize + 2;
        let cols = (w / spacing).ceil() as usize + 2;
        for r in 0..rows {
            for col in 0..cols {
                let jitter = 0.12 * spacing;
                let y = (r as f64 - 0.5) * row_step + jitter * standard_normal(rng);
                let x = (col as f64 - 0.5 + 0.5 * (r % 2) as f64) * spacing + shift - spacing
                    + jitter * standard_normal(rng);
                let z_here = z + 0.1 * layer_spacing * standard_normal(rng);
                let diameter = size * uniform_in(rng, (0.85, 1.15));
                if style < 0.6 {
                    add_nucleus(grid, [y, x, z_here], diameter, IN_TISSUE, rng);
                } else {
                    add_cell_body(grid, [y, x, z_here], diameter * 0.55, style < 0.8, rng);
                }
                count += 1;
            }
        }
    }
    let name = if style < 0.6 {
        "nuclei"
    } else if style < 0.8 {
        "membranes"
    } else {
        "cytoplasm"
    };
    format!("tissue {name} {count}")
}

/// A cell body of semi-axis `radius_nm`: a membrane shell (`shell`) or filled,
/// textured cytoplasm; irregular outline.
fn add_cell_body(
    grid: &mut VolumeGrid,
    centre: [f64; 3],
    radius_nm: f64,
    shell: bool,
    rng: &mut SplitMix64,
) {
    let a = radius_nm;
    let b = a * uniform_in(rng, (0.75, 1.0));
    let c = a * uniform_in(rng, (0.6, 0.9));
    let density = brightness(rng);
    let shape = outline(5, 0.06, rng);
    let reach = a * 1.3;
    let (body_density, rim, texture) = if shell {
        (
            0.0,
            Some(Rim {
                thickness_nm: uniform_in(rng, (60.0, 120.0)),
                density: density * uniform_in(rng, (5.0, 10.0)),
            }),
            None,
        )
    } else {
        let field = texture_for(grid, centre, reach, c, uniform_in(rng, (300.0, 900.0)), rng);
        (
            density * 0.5,
            None,
            Some((field, uniform_in(rng, (0.2, 0.5)))),
        )
    };
    add_body(
        grid,
        &Body {
            centre,
            semi_axes: [a, b, c],
            angle: uniform(rng) * TAU,
            outline: shape,
            density: body_density,
            rim,
            texture,
            inclusions: Vec::new(),
        },
    );
}

/// Whole cells spread on the coverslip (10-40 um, 2-6 um thick): textured
/// cytoplasm with an irregular outline and a darker nucleus, holding mitochondria
/// and vesicles.
fn cells(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (0.08, 0.5), 30, rng).max(1);
    for _ in 0..count {
        let a = uniform_in(rng, (5000.0, 20000.0));
        let c = uniform_in(rng, (1000.0, 3000.0));
        let centre = point_at(grid, layer_depth(0.6 * c, rng), rng);
        add_whole_cell(grid, centre, a, c, rng);
    }
    format!("cells {count}")
}

/// One whole cell (see [`cells`]) of lateral semi-axis `a` and half-height `c`.
fn add_whole_cell(grid: &mut VolumeGrid, centre: [f64; 3], a: f64, c: f64, rng: &mut SplitMix64) {
    let b = a * uniform_in(rng, (0.5, 1.0));
    let density = 0.5 * brightness(rng);
    let angle = uniform(rng) * TAU;
    let reach = a * 1.4;
    let texture = texture_for(
        grid,
        centre,
        reach,
        c,
        uniform_in(rng, (300.0, 1000.0)),
        rng,
    );
    let nucleus_size = uniform_in(rng, (0.25, 0.4)) * a.min(b);
    let nucleus = Inclusion {
        centre: [
            centre[0] + 0.2 * b * uniform_in(rng, (-1.0, 1.0)),
            centre[1] + 0.2 * a * uniform_in(rng, (-1.0, 1.0)),
            centre[2],
        ],
        semi_axes: [nucleus_size, nucleus_size, 0.9 * c],
        factor: uniform_in(rng, (0.2, 0.6)),
    };
    add_body(
        grid,
        &Body {
            centre,
            semi_axes: [a, b, c],
            angle,
            outline: outline(6, 0.1, rng),
            density,
            rim: None,
            texture: Some((texture, uniform_in(rng, (0.2, 0.5)))),
            inclusions: vec![nucleus],
        },
    );
    // Organelles inside the cell's ellipse.
    let (sin_t, cos_t) = angle.sin_cos();
    let inside = |rng: &mut SplitMix64, depth: f64| {
        let u = uniform(rng) * TAU;
        let r = 0.85 * uniform(rng).sqrt();
        let (along, across) = (r * a * u.cos(), r * b * u.sin());
        [
            centre[0] + along * sin_t + across * cos_t,
            centre[1] + along * cos_t - across * sin_t,
            centre[2] + depth * uniform_in(rng, (-1.0, 1.0)),
        ]
    };
    let organelles = (a * b / 4e6) as usize;
    for _ in 0..integer_in(rng, (organelles / 4, organelles / 2)) {
        let start = inside(rng, 0.5 * c);
        add_mitochondrion(grid, start, density * uniform_in(rng, (3.0, 8.0)), rng);
    }
    for _ in 0..integer_in(rng, (organelles / 2, organelles)) {
        let centre = inside(rng, 0.6 * c);
        add_vesicle(grid, centre, density * uniform_in(rng, (3.0, 10.0)), rng);
    }
}

/// A mitochondrion from `start`: a tube of radius 100-250 nm, 1-10 um long, a third
/// of them with a branch; `density` inside the tube.
fn add_mitochondrion(grid: &mut VolumeGrid, start: [f64; 3], density: f64, rng: &mut SplitMix64) {
    let radius = uniform_in(rng, (100.0, 250.0));
    let sigma = radius / 2.0;
    let line_density = density * std::f64::consts::PI * (radius / 1000.0).powi(2);
    let length = log_uniform(rng, (1000.0, 10000.0));
    let persistence = uniform_in(rng, (1500.0, 5000.0));
    let path = random_curve(start, length, sigma, persistence, 0.3, rng);
    add_tube(grid, &path, sigma, line_density);
    if uniform(rng) < 0.33 {
        let from = path[integer_in(rng, (0, path.len() - 1))];
        let branch = random_curve(from, 0.5 * length, sigma, persistence, 0.3, rng);
        add_tube(grid, &branch, sigma, line_density);
    }
}

/// A vesicle at `centre`: radius 20-500 nm (log-uniform); below 150 nm a Gaussian
/// spot, above a filled sphere or (a third of them) a membrane shell.
fn add_vesicle(grid: &mut VolumeGrid, centre: [f64; 3], density: f64, rng: &mut SplitMix64) {
    let radius = log_uniform(rng, (20.0, 500.0));
    if radius < 150.0 {
        let sigma = (radius / 2.0).max(15.0);
        let volume = 4.0 / 3.0 * std::f64::consts::PI * (radius / 1000.0).powi(3);
        add_blob(
            grid,
            &Blob {
                centre,
                sigma_lateral_nm: sigma,
                sigma_axial_nm: sigma,
                amount: density * volume,
            },
        );
    } else {
        let shell = uniform(rng) < 0.33;
        add_body(
            grid,
            &Body {
                centre,
                semi_axes: [radius; 3],
                angle: 0.0,
                outline: Vec::new(),
                density: if shell { 0.0 } else { density },
                rim: shell.then_some(Rim {
                    thickness_nm: 50.0,
                    density: density * 4.0,
                }),
                texture: None,
                inclusions: Vec::new(),
            },
        );
    }
}

/// Membranes: cell outlines (shells 60-120 nm thick) and vesicle shells.
fn membranes(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let cells = count_for(grid, (0.1, 0.6), 40, rng).max(1);
    for _ in 0..cells {
        let centre = point_at(grid, layer_depth(2000.0, rng), rng);
        add_cell_body(grid, centre, uniform_in(rng, (3000.0, 10000.0)), true, rng);
    }
    let vesicles = count_for(grid, (1.0, 10.0), 1500, rng);
    for _ in 0..vesicles {
        let centre = point_at(grid, any_depth(grid, rng), rng);
        let radius = uniform_in(rng, (150.0, 800.0));
        let density = brightness(rng) * 4.0;
        add_body(
            grid,
            &Body {
                centre,
                semi_axes: [radius; 3],
                angle: 0.0,
                outline: Vec::new(),
                density: 0.0,
                rim: Some(Rim {
                    thickness_nm: 50.0,
                    density,
                }),
                texture: None,
                inclusions: Vec::new(),
            },
        );
    }
    format!("membranes {cells} cells {vesicles} vesicles")
}

/// Mitochondria throughout a cell layer (2-30 per 100 um^2).
fn mitochondria(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (2.0, 30.0), 1500, rng).max(1);
    for _ in 0..count {
        let start = point_at(grid, layer_depth(2000.0, rng), rng);
        add_mitochondrion(grid, start, 5.0 * brightness(rng), rng);
    }
    format!("mitochondria {count}")
}

/// Endoplasmic reticulum: random nodes in a wavy layer crossing the focal plane,
/// each joined to its two or three nearest neighbours by slightly curved tubes of
/// radius 60-150 nm.
fn reticulum(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (30.0, 100.0), 6000, rng).max(3);
    let base = layer_depth(400.0, rng);
    let wave = SmoothField::new(
        [0.0, 0.0, -1.0],
        [grid.extent_nm().0, grid.extent_nm().1, 1.0],
        uniform_in(rng, (3000.0, 8000.0)),
        rng,
    );
    let amplitude = uniform_in(rng, (100.0, 400.0));
    let nodes: Vec<[f64; 3]> = (0..count)
        .map(|_| {
            let p = point_at(grid, 0.0, rng);
            [p[0], p[1], base + amplitude * wave.at([p[0], p[1], 0.0])]
        })
        .collect();
    let radius = uniform_in(rng, (60.0, 150.0));
    let sigma = radius / 2.0;
    let density = 6.0 * brightness(rng);
    let line_density = density * std::f64::consts::PI * (radius / 1000.0).powi(2);
    // Nearest neighbours through a bucket grid of cells about one node spacing wide.
    let (h, w) = grid.extent_nm();
    let cell = (h * w / count as f64).sqrt();
    let (bucket_rows, bucket_cols) = (
        (h / cell).ceil() as usize + 1,
        (w / cell).ceil() as usize + 1,
    );
    let mut buckets = vec![Vec::new(); bucket_rows * bucket_cols];
    let bucket_of = |p: &[f64; 3]| ((p[0] / cell) as usize, (p[1] / cell) as usize);
    for (i, p) in nodes.iter().enumerate() {
        let (r, c) = bucket_of(p);
        buckets[r * bucket_cols + c].push(i);
    }
    let mut edges = 0;
    let mut joined = std::collections::BTreeSet::new();
    for (i, p) in nodes.iter().enumerate() {
        let (r, c) = bucket_of(p);
        let mut near: Vec<(f64, usize)> = Vec::new();
        for br in r.saturating_sub(2)..(r + 3).min(bucket_rows) {
            for bc in c.saturating_sub(2)..(c + 3).min(bucket_cols) {
                for &j in &buckets[br * bucket_cols + bc] {
                    if j != i {
                        let q = nodes[j];
                        near.push(((q[0] - p[0]).hypot(q[1] - p[1]), j));
                    }
                }
            }
        }
        near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let links = integer_in(rng, (2, 3));
        for &(_, j) in near.iter().take(links) {
            // Each edge once, whichever end picked it first.
            if !joined.insert((i.min(j), i.max(j))) {
                continue;
            }
            let q = nodes[j];
            let bend = 0.15 * standard_normal(rng);
            let mid = [
                0.5 * (p[0] + q[0]) + bend * (q[1] - p[1]),
                0.5 * (p[1] + q[1]) - bend * (q[0] - p[0]),
                0.5 * (p[2] + q[2]),
            ];
            let length = (q[0] - p[0]).hypot(q[1] - p[1]);
            let steps = (length / sigma).ceil().max(2.0) as usize;
            let path: Vec<[f64; 3]> = (0..=steps)
                .map(|s| {
                    let t = s as f64 / steps as f64;
                    let (u, v, x) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
                    [0, 1, 2].map(|a| u * p[a] + v * mid[a] + x * q[a])
                })
                .collect();
            add_tube(grid, &path, sigma, line_density);
            edges += 1;
        }
    }
    format!("reticulum {count} nodes {edges} tubes")
}

/// Vesicles and puncta through the volume (5-100 per 100 um^2).
fn vesicles(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (5.0, 100.0), 6000, rng).max(1);
    for _ in 0..count {
        let z = if uniform(rng) < 0.5 {
            layer_depth(1500.0, rng)
        } else {
            any_depth(grid, rng)
        };
        let centre = point_at(grid, z, rng);
        add_vesicle(grid, centre, 10.0 * brightness(rng), rng);
    }
    format!("vesicles {count}")
}

/// Cytoskeleton: long thin filaments (sigma 10-25 nm) in a flat cell layer, and
/// bundles of 3-8 filaments 50-200 nm apart.
fn cytoskeleton(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let count = count_for(grid, (1.0, 8.0), 400, rng).max(1);
    let bundles = count_for(grid, (0.05, 1.0), 60, rng);
    let line_density = 0.05;
    let (h, w) = grid.extent_nm();
    let length_scale = h.max(w);
    for _ in 0..count {
        let start = point_at(grid, layer_depth(800.0, rng), rng);
        let sigma = uniform_in(rng, (10.0, 25.0));
        let length = uniform_in(rng, (0.3, 1.0)) * length_scale;
        let persistence = log_uniform(rng, (3000.0, 30000.0));
        let step = (2.0 * sigma).max(grid.pixel_nm / 2.0).min(200.0);
        let path = random_curve(start, length, step, persistence, 0.1, rng);
        add_tube(grid, &path, sigma, line_density * brightness(rng));
    }
    for _ in 0..bundles {
        let start = point_at(grid, layer_depth(800.0, rng), rng);
        let length = uniform_in(rng, (0.3, 1.0)) * length_scale;
        let persistence = log_uniform(rng, (10000.0, 50000.0));
        let path = random_curve(start, length, 100.0, persistence, 0.05, rng);
        let members = integer_in(rng, (3, 8));
        let strength = line_density * brightness(rng);
        for _ in 0..members {
            let offset = [
                uniform_in(rng, (-150.0, 150.0)),
                uniform_in(rng, (-150.0, 150.0)),
                uniform_in(rng, (-100.0, 100.0)),
            ];
            let member: Vec<[f64; 3]> = path
                .iter()
                .map(|p| [0, 1, 2].map(|a| p[a] + offset[a]))
                .collect();
            add_tube(grid, &member, uniform_in(rng, (10.0, 25.0)), strength);
        }
    }
    format!("cytoskeleton {count} filaments {bundles} bundles")
}

/// A mix: a few nuclei or cells with filaments, mitochondria and vesicles around.
fn mixed(grid: &mut VolumeGrid, rng: &mut SplitMix64) -> String {
    let mut parts = Vec::new();
    let bodies = count_for(grid, (0.05, 0.3), 20, rng);
    for _ in 0..bodies {
        let z = layer_depth(2000.0, rng);
        let centre = point_at(grid, z, rng);
        if uniform(rng) < 0.5 {
            add_nucleus(
                grid,
                centre,
                uniform_in(rng, (5000.0, 15000.0)),
                CULTURED,
                rng,
            );
        } else {
            add_whole_cell(
                grid,
                centre,
                uniform_in(rng, (5000.0, 15000.0)),
                uniform_in(rng, (1000.0, 3000.0)),
                rng,
            );
        }
    }
    parts.push(format!("{bodies} bodies"));
    parts.push(cytoskeleton(grid, rng));
    if uniform(rng) < 0.5 {
        parts.push(mitochondria(grid, rng));
    }
    if uniform(rng) < 0.5 {
        parts.push(vesicles(grid, rng));
    }
    format!("mixed: {}", parts.join(", "))
}

/// Draws a random scene of `kind` into `grid`; returns a short description.
pub(crate) fn draw_scene(grid: &mut VolumeGrid, kind: SceneKind, rng: &mut SplitMix64) -> String {
    match kind {
        SceneKind::Nuclei => nuclei(grid, rng),
        SceneKind::Tissue => tissue(grid, rng),
        SceneKind::Cells => cells(grid, rng),
        SceneKind::Membranes => membranes(grid, rng),
        SceneKind::Mitochondria => mitochondria(grid, rng),
        SceneKind::Reticulum => reticulum(grid, rng),
        SceneKind::Vesicles => vesicles(grid, rng),
        SceneKind::Cytoskeleton => cytoskeleton(grid, rng),
        SceneKind::Mixed => mixed(grid, rng),
    }
}

/// Draws `scene` into `grid`, centred on the point `centre` (nanometres, the centre
/// of the field of view), the field `field_width_nm` wide; returns a short
/// description.
pub(crate) fn draw_fixed_scene(
    grid: &mut VolumeGrid,
    scene: FixedScene,
    centre: (f64, f64),
    field_width_nm: f64,
    rng: &mut SplitMix64,
) -> String {
    match scene {
        FixedScene::Nucleus { depth_nm } => {
            let centre = [centre.0, centre.1, depth_nm];
            let a = 0.3 * field_width_nm;
            let c = 2000.0;
            let texture = texture_for(grid, centre, a, c, 500.0, rng);
            add_body(
                grid,
                &Body {
                    centre,
                    semi_axes: [a, a, c],
                    angle: 0.0,
                    outline: Vec::new(),
                    density: 1.0,
                    rim: None,
                    texture: Some((texture, 0.1)),
                    inclusions: Vec::new(),
                },
            );
            format!("fixed nucleus at {depth_nm} nm")
        }
        FixedScene::InFocusFilaments => {
            let count = 12;
            for _ in 0..count {
                let start = point_at(grid, 0.0, rng);
                let path = random_curve(start, 2.0 * field_width_nm, 50.0, 10000.0, 0.0, rng);
                add_tube(grid, &path, 25.0, 0.02);
            }
            format!("fixed {count} in-focus filaments")
        }
    }
}
