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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_is_the_published_one() {
        let n: usize = all_tensors().iter().map(TensorSpec::len).sum();
        assert_eq!(n, PARAMETER_COUNT);
    }

    #[test]
    fn names_are_unique() {
        let t = all_tensors();
        let names: std::collections::BTreeSet<_> = t.iter().map(|t| &t.name).collect();
        assert_eq!(names.len(), t.len());
        assert_eq!(t.len(), 2 * all_layers().len());
    }
}
