//! The forward pass of m-rBCR (see `reference/MODEL.md`), over packed weights.
//!
//! All activations are planar [`FeatureMap`]s. Concatenations are lists of planes and
//! cost nothing; the residual dense blocks of each inverse block P_s write into one
//! 60-channel map laid out `[r4, r3, r2, r1, t (32), n1, n2, n3]`, so that each block's
//! input `[t, n1, ..]` and output `[r, t]` are contiguous channel ranges and no
//! activation is ever copied.

use std::collections::HashMap;
use std::sync::Arc;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

use super::spec::{self, LayerSpec, SCALES};
use super::weights::Weights;
use crate::error::{Error, Result};
use crate::kernels::conv::{conv2d, dense_chain, ConvWeights};
use crate::kernels::layout::{FeatureMap, PlaneGeometry};
use crate::kernels::resize::{resize_bilinear, subsample};
use crate::kernels::winograd::{conv3x3, WinogradWeights};
use crate::kernels::SimdLevel;

/// Channels of the map holding one inverse block's RDB activations (see module doc).
const RDB_MAP_CHANNELS: usize = spec::FEATURE_CHANNELS + spec::RDB_DEPTH * spec::RDB_FILTERS;
/// Where the output of P_s's conv1d layers (`t` of the first RDB) starts in that map.
const RDB_T_START: usize = spec::RDB_BLOCKS * spec::RDB_FILTERS;

/// One inverse block P_s: six conv1d layers, then four residual dense blocks of seven
/// layers each (a1, b1, a2, b2, a3, b3, fuse).
#[derive(Debug, Clone)]
struct InverseBlock {
    conv1d: Vec<PackedLayer>,
    rdbs: Vec<Vec<PackedLayer>>,
}

/// An m-rBCR network ready to run: weights packed for the kernels. Immutable, so one
/// network can serve any number of threads at once.
#[derive(Debug, Clone)]
pub struct Network {
    simd: SimdLevel,
    /// MLP_s per scale index (0: full, 1: half, 2: quarter resolution).
    mlp: [Vec<ConvWeights>; 3],
    fusion_a: [PackedLayer; 2],
    head_y: [PackedLayer; 3],
    inverse: [InverseBlock; 3],
    fusion_b: [PackedLayer; 2],
    head_z: [PackedLayer; 3],
}

/// One layer's weights, packed for the algorithm that runs it: Winograd F(4, 3) for
/// the 3x3 layers where it is faster (the fusion blocks' and the residual dense blocks'
/// first layers, see [`WinogradWeights::pays_off`]), the direct convolution for the
/// others.
#[derive(Debug, Clone)]
enum PackedLayer {
    Direct(ConvWeights),
    Winograd(WinogradWeights),
}

impl PackedLayer {
    fn c_out(&self) -> usize {
        match self {
            PackedLayer::Direct(w) => w.c_out(),
            PackedLayer::Winograd(w) => w.c_out(),
        }
    }

    /// Multiply-adds per output pixel, counted for the direct convolution.
    fn macs_per_pixel(&self) -> usize {
        match self {
            PackedLayer::Direct(w) => w.macs_per_pixel(),
            PackedLayer::Winograd(w) => w.macs_per_pixel(),
        }
    }

    /// Convolves `inputs` into `out` (see [`conv2d`]).
    fn run(
        &self,
        level: SimdLevel,
        g: &PlaneGeometry,
        inputs: &[&[f32]],
        out: &mut [f32],
        relu: bool,
    ) {
        match self {
            PackedLayer::Direct(w) => conv2d(level, g, inputs, w, out, relu),
            PackedLayer::Winograd(w) => conv3x3(level, g, inputs, w, out, relu),
        }
    }
}

/// The outputs of one forward pass.
#[derive(Debug, Clone)]
pub struct ForwardOutputs {
    /// The restored image, `H x W`.
    pub z0: Array2<f32>,
    /// The half-scale output `H/2 x W/2`, when asked for (training needs it).
    pub z2: Option<Array2<f32>>,
    /// The quarter-scale output `H/4 x W/4`, when asked for.
    pub z4: Option<Array2<f32>>,
}

/// Reusable memory for forward passes: feature maps are taken from and returned to it,
/// so that repeated passes (tiles of an image) allocate nothing, and a buffer serves
/// maps of any geometry and channel count that fit in it. One per thread.
#[derive(Default)]
pub struct Workspace {
    geometries: HashMap<(usize, usize), Arc<PlaneGeometry>>,
    free: Vec<FeatureMap>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("retained_bytes", &self.retained_bytes())
            .finish()
    }
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Workspace {
        Workspace::default()
    }

    fn geometry(&mut self, height: usize, width: usize) -> Arc<PlaneGeometry> {
        self.geometries
            .entry((height, width))
            .or_insert_with(|| PlaneGeometry::new(height, width))
            .clone()
    }

    /// A map of `channels` planes with zero padding; its image values are arbitrary
    /// (every user overwrites them). Takes the smallest free buffer that fits,
    /// preferring one that already has this geometry's padding cleared.
    fn take(&mut self, geometry: &Arc<PlaneGeometry>, channels: usize) -> FeatureMap {
        let need = channels * geometry.plane_len();
        let best = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, map)| map.capacity() >= need)
            .min_by_key(|(_, map)| (!Arc::ptr_eq(map.geometry(), geometry), map.capacity()))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                let earlier = self.free.swap_remove(i);
                let clean = if Arc::ptr_eq(earlier.geometry(), geometry) {
                    earlier.clean_planes()
                } else {
                    0
                };
                FeatureMap::reuse(earlier, geometry.clone(), channels, clean)
            }
            None => FeatureMap::zeros(geometry.clone(), channels),
        }
    }

    fn give(&mut self, map: FeatureMap) {
        self.free.push(map);
    }

    /// Bytes held for reuse.
    pub fn retained_bytes(&self) -> usize {
        self.free.iter().map(|map| map.capacity() * 4).sum()
    }
}

/// A function shown each named intermediate of a forward pass as an `H x W x C`
/// array; the names are those of `reference/MODEL.md` (`u0`, `fusionA_u0_y2`, `y0`,
/// `xi4`, `x42`, ...).
pub type Trace<'a> = &'a mut dyn FnMut(&str, ArrayView3<f32>);

fn direct(weights: &Weights, layer: &LayerSpec) -> ConvWeights {
    let (kernel, bias) = weights.layer(layer);
    ConvWeights::from_hwio(layer.hwio(), kernel, bias)
}

fn packed(weights: &Weights, layer: &LayerSpec) -> PackedLayer {
    let shape = layer.hwio();
    if WinogradWeights::pays_off(shape) {
        let (kernel, bias) = weights.layer(layer);
        PackedLayer::Winograd(WinogradWeights::from_hwio(shape, kernel, bias))
    } else {
        PackedLayer::Direct(direct(weights, layer))
    }
}

fn pair(weights: &Weights, layers: [LayerSpec; 2]) -> [PackedLayer; 2] {
    layers.map(|l| packed(weights, &l))
}

impl Network {
    /// Packs validated weights for the kernels, at the best SIMD level of this CPU.
    pub fn new(weights: &Weights) -> Network {
        let per_scale = |f: &dyn Fn(usize) -> LayerSpec| SCALES.map(|s| packed(weights, &f(s)));
        Network {
            simd: SimdLevel::detect(),
            mlp: SCALES.map(|s| {
                spec::mlp_layers(s)
                    .iter()
                    .map(|l| direct(weights, l))
                    .collect()
            }),
            fusion_a: pair(weights, spec::fusion_a_layers()),
            head_y: per_scale(&spec::head_y_layer),
            inverse: SCALES.map(|s| InverseBlock {
                conv1d: spec::conv1d_layers(s)
                    .iter()
                    .map(|l| packed(weights, l))
                    .collect(),
                rdbs: (1..=spec::RDB_BLOCKS)
                    .map(|r| {
                        spec::rdb_layers(s, r)
                            .iter()
                            .map(|l| packed(weights, l))
                            .collect()
                    })
                    .collect(),
            }),
            fusion_b: pair(weights, spec::fusion_b_layers()),
            head_z: per_scale(&spec::head_z_layer),
        }
    }

    /// The same network running its kernels at `level`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if this CPU cannot run `level`.
    pub fn with_simd(mut self, level: SimdLevel) -> Result<Network> {
        if !SimdLevel::supported().contains(&level) {
            return Err(Error::InvalidInput(format!(
                "this CPU cannot run {} kernels",
                level.name()
            )));
        }
        self.simd = level;
        Ok(self)
    }

    /// The SIMD level the kernels run at.
    pub fn simd(&self) -> SimdLevel {
        self.simd
    }

    /// Multiply-adds of one forward pass (z0 only) over an `height x width` image.
    pub fn macs(&self, height: usize, width: usize) -> u64 {
        let px = [height * width, height * width / 4, height * width / 16];
        let sum = |layers: &[PackedLayer], n: usize| -> u64 {
            layers.iter().map(|l| (l.macs_per_pixel() * n) as u64).sum()
        };
        let mut total = 0;
        for (si, &n) in px.iter().enumerate() {
            let inv = &self.inverse[si];
            let mlp = self.mlp[si]
                .iter()
                .map(ConvWeights::macs_per_pixel)
                .sum::<usize>();
            total += (mlp * n) as u64 + sum(&self.head_y[si..=si], n);
            total += sum(&inv.conv1d, n);
            total += inv.rdbs.iter().map(|r| sum(r, n)).sum::<u64>();
        }
        total += 2 * sum(&self.fusion_a, px[0]);
        total += sum(&self.fusion_b, px[0]) + sum(&self.fusion_b, px[1]);
        total + sum(&self.head_z[0..1], px[0])
    }

    /// Restores one image: `z0` of an `H x W` input, H and W multiples of 4. The input
    /// must already be normalised the way the model expects (see the model's metadata).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if a side is not a positive multiple of 4.
    pub fn forward(&self, x0: ArrayView2<f32>, workspace: &mut Workspace) -> Result<Array2<f32>> {
        Ok(self.run(x0, workspace, false, None)?.z0)
    }

    /// Runs the network and returns `z0`, `z2` and `z4`; `trace`, if given, is shown
    /// every named intermediate.
    ///
    /// # Errors
    /// As [`Network::forward`].
    pub fn forward_all(
        &self,
        x0: ArrayView2<f32>,
        workspace: &mut Workspace,
        trace: Option<Trace>,
    ) -> Result<ForwardOutputs> {
        self.run(x0, workspace, true, trace)
    }

    fn run(
        &self,
        x0: ArrayView2<f32>,
        ws: &mut Workspace,
        all_scales: bool,
        mut trace: Option<Trace>,
    ) -> Result<ForwardOutputs> {
        let (h, w) = x0.dim();
        if h == 0 || w == 0 || h % 4 != 0 || w % 4 != 0 {
            return Err(Error::InvalidInput(format!(
                "the network needs an image whose sides are positive multiples of 4, got {h} x {w}"
            )));
        }
        let g = [
            ws.geometry(h, w),
            ws.geometry(h / 2, w / 2),
            ws.geometry(h / 4, w / 4),
        ];
        let mut show = |name: &str, map: &FeatureMap, channels: std::ops::Range<usize>| {
            if let Some(t) = trace.as_mut() {
                t(name, to_hwc(map, channels).view());
            }
        };

        // Inputs at three scales: x2 = x0[::2, ::2], x4 = x0[::4, ::4].
        let mut x = [ws.take(&g[0], 1), ws.take(&g[1], 1), ws.take(&g[2], 1)];
        {
            let plane = x[0].as_mut_slice();
            for (r, row) in x0.rows().into_iter().enumerate() {
                let start = g[0].index(r, 0);
                for (v, &value) in plane[start..start + w].iter_mut().zip(row.iter()) {
                    *v = value;
                }
            }
        }
        let [x0m, x2m, x4m] = &mut x;
        subsample(&g[0], x0m.as_slice(), 2, &g[1], x2m.as_mut_slice());
        subsample(&g[0], x0m.as_slice(), 4, &g[2], x4m.as_mut_slice());

        // Forward stage. Maps are given back as soon as their last user has run, to keep
        // the peak memory low.
        let fc = spec::FORWARD_CHANNELS;
        let [u0, u2, u4] = [0, 1, 2].map(|si| self.mlp(ws, &g[si], &x[si], si));
        for m in x {
            ws.give(m);
        }
        show("u0", &u0, 0..fc);
        show("u2", &u2, 0..fc);
        show("u4", &u4, 0..fc);
        let mut up2 = ws.take(&g[0], fc);
        resize_bilinear(&g[1], u2.as_slice(), &g[0], up2.as_mut_slice());

        let f0 = self.fusion(ws, &g[0], &self.fusion_a, &[&u0, &up2]);
        show("fusionA_u0_y2", &f0, 0..fc);
        let y0 = self.conv(ws, &g[0], &[&u0, &f0], &self.head_y[0], false);
        ws.give(u0);
        ws.give(f0);

        let mut up4 = ws.take(&g[0], fc);
        resize_bilinear(&g[2], u4.as_slice(), &g[0], up4.as_mut_slice());
        let f2_full = self.fusion(ws, &g[0], &self.fusion_a, &[&up2, &up4]);
        ws.give(up2);
        ws.give(up4);
        show("fusionA_y2_y4", &f2_full, 0..fc);
        let mut f2 = ws.take(&g[1], fc);
        resize_bilinear(&g[0], f2_full.as_slice(), &g[1], f2.as_mut_slice());
        ws.give(f2_full);

        let y2 = self.conv(ws, &g[1], &[&u2, &f2], &self.head_y[1], false);
        let y4 = self.conv(ws, &g[2], &[&u4], &self.head_y[2], false);
        let y = [y0, y2, y4];
        for (si, name) in ["y0", "y2", "y4"].iter().enumerate() {
            show(name, &y[si], 0..1);
        }
        for m in [u2, u4, f2] {
            ws.give(m);
        }

        // Inverse stage.
        let feat = spec::FEATURE_CHANNELS;
        let xi4 = self.inverse(ws, &g[2], InverseInput::Borrowed(&y[2]), 2);
        show("xi4", &xi4, 0..feat);
        let z4 = all_scales.then(|| self.head_z(ws, &g[2], &xi4, &y[2], 2));
        let mut r4 = ws.take(&g[1], feat);
        resize_bilinear(&g[2], xi4.planes(0..feat), &g[1], r4.as_mut_slice());
        ws.give(xi4);
        let x42 = self.fusion(ws, &g[1], &self.fusion_b, &[&y[1], &r4]);
        ws.give(r4);
        show("x42", &x42, 0..feat);
        let xi2 = self.inverse(ws, &g[1], InverseInput::Owned(x42), 1);
        show("xi2", &xi2, 0..feat);
        let z2 = all_scales.then(|| self.head_z(ws, &g[1], &xi2, &y[1], 1));
        let mut r2 = ws.take(&g[0], feat);
        resize_bilinear(&g[1], xi2.planes(0..feat), &g[0], r2.as_mut_slice());
        ws.give(xi2);
        let x20 = self.fusion(ws, &g[0], &self.fusion_b, &[&y[0], &r2]);
        ws.give(r2);
        show("x20", &x20, 0..feat);
        let xi0 = self.inverse(ws, &g[0], InverseInput::Owned(x20), 0);
        show("xi0", &xi0, 0..feat);
        let z0 = self.head_z(ws, &g[0], &xi0, &y[0], 0);
        ws.give(xi0);
        for m in y {
            ws.give(m);
        }
        Ok(ForwardOutputs { z0, z2, z4 })
    }

    /// One convolution of the concatenation of `inputs` into a new map.
    fn conv(
        &self,
        ws: &mut Workspace,
        g: &Arc<PlaneGeometry>,
        inputs: &[&FeatureMap],
        layer: &PackedLayer,
        relu: bool,
    ) -> FeatureMap {
        let mut out = ws.take(g, layer.c_out());
        layer.run(self.simd, g, &planes_of(inputs), out.as_mut_slice(), relu);
        out
    }

    /// MLP_s: twelve dense layers with ReLU, run band by band (see [`dense_chain`]).
    fn mlp(
        &self,
        ws: &mut Workspace,
        g: &Arc<PlaneGeometry>,
        x: &FeatureMap,
        si: usize,
    ) -> FeatureMap {
        let mut hidden = ws.take(g, spec::FORWARD_CHANNELS);
        let mut out = ws.take(g, spec::FORWARD_CHANNELS);
        dense_chain(
            self.simd,
            g,
            &planes_of(&[x]),
            &self.mlp[si],
            hidden.as_mut_slice(),
            out.as_mut_slice(),
            true,
        );
        ws.give(hidden);
        out
    }

    /// A fusion block (FA or FB): 3x3 of ReLU of 1x1 of the concatenation.
    fn fusion(
        &self,
        ws: &mut Workspace,
        g: &Arc<PlaneGeometry>,
        layers: &[PackedLayer; 2],
        inputs: &[&FeatureMap],
    ) -> FeatureMap {
        let hidden = self.conv(ws, g, inputs, &layers[0], true);
        let out = self.conv(ws, g, &[&hidden], &layers[1], false);
        ws.give(hidden);
        out
    }

    /// P_s. Returns the 60-channel RDB map whose channels `0..48` are `xi_s`.
    fn inverse(
        &self,
        ws: &mut Workspace,
        g: &Arc<PlaneGeometry>,
        input: InverseInput,
        si: usize,
    ) -> FeatureMap {
        let block = &self.inverse[si];
        let n = g.plane_len();
        let f = spec::RDB_FILTERS;
        let mut map = ws.take(g, RDB_MAP_CHANNELS);

        // Six conv1d layers with ReLU; the last writes `t` straight into the map.
        let (last, hidden) = block.conv1d.split_last().expect("six conv1d layers");
        let mut act = match input {
            InverseInput::Borrowed(m) => self.conv(ws, g, &[m], &hidden[0], true),
            InverseInput::Owned(m) => {
                let act = self.conv(ws, g, &[&m], &hidden[0], true);
                ws.give(m);
                act
            }
        };
        for layer in &hidden[1..] {
            let next = self.conv(ws, g, &[&act], layer, true);
            ws.give(std::mem::replace(&mut act, next));
        }
        let t_end = spec::FEATURE_CHANNELS;
        let t_range = RDB_T_START..t_end;
        last.run(
            self.simd,
            g,
            &planes_of(&[&act]),
            map.planes_mut(t_range),
            true,
        );
        ws.give(act);

        // Four RDBs; RDB r reads channels lo.. and prepends its 4 new ones at lo - 4.
        let mut tmp = ws.take(g, f);
        for (r, layers) in block.rdbs.iter().enumerate() {
            let lo = RDB_T_START - r * f;
            for d in 0..spec::RDB_DEPTH {
                let s_end = t_end + d * f;
                let s = split_planes(map.planes(lo..s_end), n);
                layers[2 * d].run(self.simd, g, &s, tmp.as_mut_slice(), true);
                let new = map.planes_mut(s_end..s_end + f);
                layers[2 * d + 1].run(self.simd, g, &planes_of(&[&tmp]), new, false);
            }
            let (below, above) = map.as_mut_slice().split_at_mut(lo * n);
            let s = split_planes(&above[..(RDB_MAP_CHANNELS - lo) * n], n);
            let out = &mut below[(lo - f) * n..];
            layers[2 * spec::RDB_DEPTH].run(self.simd, g, &s, out, false);
        }
        ws.give(tmp);
        map
    }

    /// z_s = conv9x9(xi_s + y_s), the one-channel y_s added to every channel.
    fn head_z(
        &self,
        ws: &mut Workspace,
        g: &Arc<PlaneGeometry>,
        xi: &FeatureMap,
        y: &FeatureMap,
        si: usize,
    ) -> Array2<f32> {
        let c = spec::FEATURE_CHANNELS;
        let mut sum = ws.take(g, c);
        let yp = y.plane(0);
        for (out, plane) in sum
            .as_mut_slice()
            .chunks_exact_mut(g.plane_len())
            .zip(xi.planes(0..c).chunks_exact(g.plane_len()))
        {
            for ((o, &a), &b) in out.iter_mut().zip(plane).zip(yp) {
                *o = a + b;
            }
        }
        let z = self.conv(ws, g, &[&sum], &self.head_z[si], false);
        ws.give(sum);
        let mut image = Array2::zeros((g.height(), g.width()));
        z.read_plane(0, image.as_slice_mut().expect("standard layout"));
        ws.give(z);
        image
    }
}

/// The input of an inverse block: borrowed if the caller still needs it, owned if it
/// can be given back to the workspace once the first layer has read it.
enum InverseInput<'a> {
    Borrowed(&'a FeatureMap),
    Owned(FeatureMap),
}

/// The planes of several maps, in order: the channels of their concatenation.
fn planes_of<'a>(maps: &[&'a FeatureMap]) -> Vec<&'a [f32]> {
    maps.iter()
        .flat_map(|m| split_planes(m.as_slice(), m.geometry().plane_len()))
        .collect()
}

fn split_planes(planes: &[f32], plane_len: usize) -> Vec<&[f32]> {
    planes.chunks_exact(plane_len).collect()
}

/// Channels `channels` of a map as an `H x W x C` array.
fn to_hwc(map: &FeatureMap, channels: std::ops::Range<usize>) -> Array3<f32> {
    let g = map.geometry();
    let mut out = Array3::zeros((g.height(), g.width(), channels.len()));
    let mut plane = vec![0.0; g.height() * g.width()];
    for (k, c) in channels.enumerate() {
        map.read_plane(c, &mut plane);
        for (dst, &v) in out
            .index_axis_mut(ndarray::Axis(2), k)
            .iter_mut()
            .zip(&plane)
        {
            *dst = v;
        }
    }
    out
}
