//! The m-rBCR architecture written down as data: every tensor of the network with the
//! project's name for it and its shape (checkpoint layout: dense `[c_in, c_out]`,
//! conv1d `[k, c_in, c_out]`, conv2d `[kh, kw, c_in, c_out]`, bias `[c_out]`).
//!
//! This list is the contract between the model file, the TensorFlow importer, the
//! network and (later) training. Names, with `s` a scale in {0, 2, 4}:
//!
//! | name | shape | role (see `reference/MODEL.md`) |
//! |---|---|---|
//! | `forward.mlp{s}.dense{k}.{kernel,bias}`, k = 1..12 | `[1, 32]` then `[32, 32]` | MLP_s |
//! | `forward.fusion_a.conv1x1.*` | `[1, 1, 64, 32]` | FA, first layer |
//! | `forward.fusion_a.conv3x3.*` | `[3, 3, 32, 32]` | FA, second layer |
//! | `forward.head_y0.*`, `forward.head_y2.*` | `[1, 1, 64, 1]` | heads of y0, y2 |
//! | `forward.head_y4.*` | `[1, 1, 32, 1]` | head of y4 |
//! | `inverse.p{s}.conv1d{k}.*`, k = 1..6 | `[5, c_in, 32]` | P_s, conv1d along width |
//! | `inverse.p{s}.rdb{r}.{a1,b1,a2,b2,a3,b3}.*`, r = 1..4 | `[3, 3, c, 4]` | RDB r of P_s |
//! | `inverse.p{s}.rdb{r}.fuse.*` | `[1, 1, C + 12, 4]` | RDB r's 1x1 |
//! | `inverse.fusion_b.conv1x1.*` | `[1, 1, 49, 48]` | FB, first layer |
//! | `inverse.fusion_b.conv3x3.*` | `[3, 3, 48, 48]` | FB, second layer |
//! | `inverse.head_z{s}.*` | `[9, 9, 48, 1]` | heads of z_s |

/// The scales of the network: full, half and quarter resolution.
pub const SCALES: [usize; 3] = [0, 2, 4];
/// Dense layers in each forward MLP.
pub const MLP_LAYERS: usize = 12;
/// Channels of the forward stage.
pub const FORWARD_CHANNELS: usize = 32;
/// conv1d layers at the start of each inverse block P_s.
pub const CONV1D_LAYERS: usize = 6;
/// Kernel length of those conv1d layers.
pub const CONV1D_KERNEL: usize = 5;
/// Channels produced by the conv1d layers of P_s.
pub const INVERSE_CHANNELS: usize = 32;
/// Residual dense blocks in each P_s.
pub const RDB_BLOCKS: usize = 4;
/// Filters (channels) each RDB layer produces.
pub const RDB_FILTERS: usize = 4;
/// Layer pairs inside one RDB.
pub const RDB_DEPTH: usize = 3;
/// Channels at the end of each P_s: 32 + 4 RDBs x 4.
pub const FEATURE_CHANNELS: usize = INVERSE_CHANNELS + RDB_BLOCKS * RDB_FILTERS;
/// Kernel size of the final heads z_s.
pub const HEAD_Z_KERNEL: usize = 9;
/// Number of trainable parameters of m-rBCR.
pub const PARAMETER_COUNT: usize = 236_630;

/// One tensor of the architecture: its name and shape. The bias of a layer is a tensor
/// of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// The project's name, e.g. `forward.mlp0.dense1.kernel`.
    pub name: String,
    /// Shape in checkpoint layout.
    pub shape: Vec<usize>,
}

impl TensorSpec {
    /// Number of values of the tensor.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with no values (never the case in m-rBCR).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One layer: a kernel and its bias, by the layer's name prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    /// Name prefix; the tensors are `{prefix}.kernel` and `{prefix}.bias`.
    pub prefix: String,
    /// Kernel shape in checkpoint layout; the last entry is the output channel count.
    pub kernel_shape: Vec<usize>,
}

impl LayerSpec {
    fn new(prefix: String, kernel_shape: &[usize]) -> LayerSpec {
        LayerSpec {
            prefix,
            kernel_shape: kernel_shape.to_vec(),
        }
    }

    /// Name of the kernel tensor.
    pub fn kernel_name(&self) -> String {
        format!("{}.kernel", self.prefix)
    }

    /// Name of the bias tensor.
    pub fn bias_name(&self) -> String {
        format!("{}.bias", self.prefix)
    }

    /// The kernel shape as a 2-D convolution's `[kh, kw, c_in, c_out]`: a dense layer
    /// is 1 x 1, a conv1d along the width is 1 x k.
    pub fn hwio_shape(&self) -> [usize; 4] {
        match self.kernel_shape[..] {
            [c_in, c_out] => [1, 1, c_in, c_out],
            [k, c_in, c_out] => [1, k, c_in, c_out],
            [kh, kw, c_in, c_out] => [kh, kw, c_in, c_out],
            _ => unreachable!("spec shapes have rank 2 to 4"),
        }
    }

    /// Output channels of the layer.
    pub fn out_channels(&self) -> usize {
        *self
            .kernel_shape
            .last()
            .expect("kernel shapes are never empty")
    }
}

/// Channel count entering RDB `r` (1-based) of any P_s.
pub fn rdb_input_channels(r: usize) -> usize {
    INVERSE_CHANNELS + (r - 1) * RDB_FILTERS
}

/// The layers of MLP_s, in order.
pub fn mlp_layers(scale: usize) -> Vec<LayerSpec> {
    (1..=MLP_LAYERS)
        .map(|k| {
            let c_in = if k == 1 { 1 } else { FORWARD_CHANNELS };
            LayerSpec::new(
                format!("forward.mlp{scale}.dense{k}"),
                &[c_in, FORWARD_CHANNELS],
            )
        })
        .collect()
}

/// The conv1d layers of P_s, in order.
pub fn conv1d_layers(scale: usize) -> Vec<LayerSpec> {
    (1..=CONV1D_LAYERS)
        .map(|k| {
            let c_in = match (k, scale) {
                (1, 4) => 1,
                (1, _) => FEATURE_CHANNELS,
                _ => INVERSE_CHANNELS,
            };
            LayerSpec::new(
                format!("inverse.p{scale}.conv1d{k}"),
                &[CONV1D_KERNEL, c_in, INVERSE_CHANNELS],
            )
        })
        .collect()
}

/// The seven layers of RDB `r` (1-based) of P_s: a1, b1, a2, b2, a3, b3, fuse.
pub fn rdb_layers(scale: usize, r: usize) -> Vec<LayerSpec> {
    let c = rdb_input_channels(r);
    let f = RDB_FILTERS;
    let mut layers = Vec::with_capacity(2 * RDB_DEPTH + 1);
    for d in 1..=RDB_DEPTH {
        let c_in = c + (d - 1) * f;
        layers.push(LayerSpec::new(
            format!("inverse.p{scale}.rdb{r}.a{d}"),
            &[3, 3, c_in, f],
        ));
        layers.push(LayerSpec::new(
            format!("inverse.p{scale}.rdb{r}.b{d}"),
            &[3, 3, f, f],
        ));
    }
    layers.push(LayerSpec::new(
        format!("inverse.p{scale}.rdb{r}.fuse"),
        &[1, 1, c + RDB_DEPTH * f, f],
    ));
    layers
}

/// The two layers of fusion block FA: 1x1 then 3x3.
pub fn fusion_a_layers() -> [LayerSpec; 2] {
    let c = FORWARD_CHANNELS;
    [
        LayerSpec::new("forward.fusion_a.conv1x1".into(), &[1, 1, 2 * c, c]),
        LayerSpec::new("forward.fusion_a.conv3x3".into(), &[3, 3, c, c]),
    ]
}

/// The two layers of fusion block FB: 1x1 then 3x3.
pub fn fusion_b_layers() -> [LayerSpec; 2] {
    let c = FEATURE_CHANNELS;
    [
        LayerSpec::new("inverse.fusion_b.conv1x1".into(), &[1, 1, c + 1, c]),
        LayerSpec::new("inverse.fusion_b.conv3x3".into(), &[3, 3, c, c]),
    ]
}

/// The 1x1 head producing y_s.
pub fn head_y_layer(scale: usize) -> LayerSpec {
    let c_in = if scale == 4 {
        FORWARD_CHANNELS
    } else {
        2 * FORWARD_CHANNELS
    };
    LayerSpec::new(format!("forward.head_y{scale}"), &[1, 1, c_in, 1])
}

/// The 9x9 head producing z_s.
pub fn head_z_layer(scale: usize) -> LayerSpec {
    LayerSpec::new(
        format!("inverse.head_z{scale}"),
        &[HEAD_Z_KERNEL, HEAD_Z_KERNEL, FEATURE_CHANNELS, 1],
    )
}

/// Every layer of the network, forward stage first, in a fixed documented order.
pub fn all_layers() -> Vec<LayerSpec> {
    let mut layers = Vec::new();
    for s in SCALES {
        layers.extend(mlp_layers(s));
    }
    layers.extend(fusion_a_layers());
    for s in SCALES {
        layers.push(head_y_layer(s));
    }
    for s in SCALES {
        layers.extend(conv1d_layers(s));
        for r in 1..=RDB_BLOCKS {
            layers.extend(rdb_layers(s, r));
        }
    }
    layers.extend(fusion_b_layers());
    for s in SCALES {
        layers.push(head_z_layer(s));
    }
    layers
}

/// Every tensor of the network (each layer's kernel then bias), in the order of
/// [`all_layers`].
pub fn all_tensors() -> Vec<TensorSpec> {
    all_layers()
        .into_iter()
        .flat_map(|l| {
            let bias = vec![l.out_channels()];
            [
                TensorSpec {
                    name: l.kernel_name(),
                    shape: l.kernel_shape.clone(),
                },
                TensorSpec {
                    name: l.bias_name(),
                    shape: bias,
                },
            ]
        })
        .collect()
}

/// How far, in full-resolution pixels, an output pixel of `z0` can be influenced by
/// input pixels: `(rows, columns)`. Input pixels farther away than this in either
/// direction cannot change it, so a tile whose borders are at least this far from a
/// pixel computes that pixel exactly as the whole image would.
///
/// Derived through the architecture, tracking each tensor's radius in full-resolution
/// pixels, with a tensor at scale `f` (1, 2, 4) holding at index `k` the position
/// `f * k` (x2 = x0[::2, ::2] and x4 = x0[::4, ::4]):
/// - a `k x k` convolution at scale `f` adds `f * (k / 2)`; conv1d (k = 5, along the
///   width) adds `2 f` to columns only; dense layers add nothing;
/// - a bilinear resize from scale `a` to scale `b` reads source positions at most
///   `|b - a| / 2 + a` from the output's own position (half-pixel centres, floor/ceil
///   neighbours), rounded up;
/// - a concatenation or a sum takes the larger radius.
///
/// The residual dense block's longest path is six 3x3 convolutions; each P_s adds
/// 24 f rows and 36 f columns. The result for m-rBCR is (183, 267).
pub fn receptive_field_radius() -> (usize, usize) {
    type Radius = (usize, usize);
    let max = |a: Radius, b: Radius| (a.0.max(b.0), a.1.max(b.1));
    let conv = |r: Radius, f: usize, kh: usize, kw: usize| (r.0 + f * (kh / 2), r.1 + f * (kw / 2));
    let resize = |r: Radius, from: usize, to: usize| {
        let shift = (from.abs_diff(to)).div_ceil(2) + from;
        (r.0 + shift, r.1 + shift)
    };
    let inverse = |r: Radius, f: usize| {
        let mut r = r;
        for _ in 0..CONV1D_LAYERS {
            r = conv(r, f, 1, CONV1D_KERNEL);
        }
        for _ in 0..RDB_BLOCKS * 2 * RDB_DEPTH {
            r = conv(r, f, 3, 3);
        }
        r
    };
    let fusion = |a: Radius, b: Radius, f: usize| conv(max(a, b), f, 3, 3);
    let u = (0, 0);
    let up2 = resize(u, 2, 1);
    let up4 = resize(u, 4, 1);
    let y0 = max(u, fusion(u, up2, 1));
    let y2 = max(u, resize(fusion(up2, up4, 1), 1, 2));
    let y4 = u;
    let xi4 = inverse(y4, 4);
    let xi2 = inverse(fusion(y2, resize(xi4, 4, 2), 2), 2);
    let xi0 = inverse(fusion(y0, resize(xi2, 2, 1), 1), 1);
    conv(max(xi0, y0), 1, HEAD_Z_KERNEL, HEAD_Z_KERNEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_is_the_published_one() {
        let n: usize = all_tensors().iter().map(TensorSpec::len).sum();
        assert_eq!(n, PARAMETER_COUNT);
    }

    #[test]
    fn receptive_field_is_the_derived_one() {
        assert_eq!(receptive_field_radius(), (183, 267));
    }

    #[test]
    fn names_are_unique() {
        let t = all_tensors();
        let names: std::collections::BTreeSet<_> = t.iter().map(|t| &t.name).collect();
        assert_eq!(names.len(), t.len());
        assert_eq!(t.len(), 2 * all_layers().len());
    }
}
