//! The m-rBCR network as ONNX nodes and initializers, built from the architecture of
//! [`crate::network::spec`] and a model's [`Weights`], following `reference/MODEL.md`
//! statement by statement. Feature maps are NCHW; the image height and width are
//! read from the input's shape (Shape ops), so one graph serves every size that is a
//! multiple of 4.

use std::collections::BTreeSet;

use super::messages::{float_tensor, int64_tensor, node, Attribute};
use super::protobuf::Message;
use crate::network::spec::{self, LayerSpec};
use crate::network::Weights;

/// The name of the graph's input: the normalised image, `[batch, 1, height, width]`.
pub const INPUT: &str = "x0";
/// The names of the graph's outputs: `z0` (the restored image, full size), `z2` and
/// `z4` (the half- and quarter-size outputs the training loss uses).
pub const OUTPUTS: [&str; 3] = ["z0", "z2", "z4"];

/// Which of [`OUTPUTS`] a graph has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// `z0`, `z2` and `z4`: the network as trained.
    AllScales,
    /// `z0` only, the restored image: what an application runs (the BioImage Model
    /// Zoo package, whose tools expect the outputs the description lists).
    RestoredOnly,
}

impl Outputs {
    /// The names of the graph's outputs, in order.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Outputs::AllScales => &OUTPUTS,
            Outputs::RestoredOnly => &OUTPUTS[..1],
        }
    }
}

/// Nodes and initializers being collected for one graph.
pub struct NetworkGraph<'w> {
    weights: &'w Weights,
    outputs: Outputs,
    /// The nodes, in an order where every input is produced before it is used.
    pub nodes: Vec<Message>,
    /// The weights and constants.
    pub initializers: Vec<Message>,
    initialized: BTreeSet<String>,
    next_id: usize,
}

/// An HWIO kernel reordered to ONNX's OIHW.
fn hwio_to_oihw(kernel: &[f32], [kh, kw, c_in, c_out]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; kernel.len()];
    for y in 0..kh {
        for x in 0..kw {
            for i in 0..c_in {
                for o in 0..c_out {
                    out[((o * c_in + i) * kh + y) * kw + x] =
                        kernel[((y * kw + x) * c_in + i) * c_out + o];
                }
            }
        }
    }
    out
}

impl<'w> NetworkGraph<'w> {
    /// The whole network over `weights`: input [`INPUT`], the outputs `outputs` names.
    pub fn build(weights: &'w Weights, outputs: Outputs) -> NetworkGraph<'w> {
        let mut g = NetworkGraph {
            weights,
            outputs,
            nodes: Vec::new(),
            initializers: Vec::new(),
            initialized: BTreeSet::new(),
            next_id: 0,
        };
        g.network();
        g
    }

    /// A new tensor name, unique in the graph.
    fn fresh(&mut self, hint: &str) -> String {
        self.next_id += 1;
        format!("{hint}:{}", self.next_id)
    }

    /// Adds a node with one output named `output`; returns that name.
    fn op(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        output: String,
        attrs: &[Attribute],
    ) -> String {
        let name = format!("{op_type}:{output}");
        self.nodes
            .push(node(&name, op_type, inputs, &[&output], attrs));
        output
    }

    /// An int64 constant, added once under its name.
    fn int64_constant(&mut self, name: &str, values: &[i64]) -> String {
        if self.initialized.insert(name.to_string()) {
            self.initializers
                .push(int64_tensor(name, &[values.len()], values));
        }
        name.to_string()
    }

    /// A layer (convolution with "same" zero padding, stride 1, plus bias) on `input`;
    /// its weights become initializers named as in the model file, added once even
    /// when the layer is used twice (the fusion blocks).
    fn conv(&mut self, layer: &LayerSpec, input: &str, output: Option<&str>) -> String {
        let shape = layer.hwio();
        let [kh, kw, c_in, c_out] = shape;
        let (kernel_name, bias_name) = (layer.kernel_name(), layer.bias_name());
        if self.initialized.insert(kernel_name.clone()) {
            let (kernel, bias) = self.weights.layer(layer);
            self.initializers.push(float_tensor(
                &kernel_name,
                &[c_out, c_in, kh, kw],
                &hwio_to_oihw(kernel, shape),
            ));
            self.initializers
                .push(float_tensor(&bias_name, &[c_out], bias));
        }
        let output = match output {
            Some(name) => name.to_string(),
            None => self.fresh(&layer.prefix),
        };
        let (ph, pw) = ((kh / 2) as i64, (kw / 2) as i64);
        self.op(
            "Conv",
            &[input, &kernel_name, &bias_name],
            output,
            &[
                Attribute::Ints("kernel_shape", &[kh as i64, kw as i64]),
                Attribute::Ints("pads", &[ph, pw, ph, pw]),
            ],
        )
    }

    fn relu(&mut self, input: &str) -> String {
        let out = self.fresh("relu");
        self.op("Relu", &[input], out, &[])
    }

    /// `[a, b, ..]`: concatenation along channels, in order.
    fn concat(&mut self, inputs: &[&str], output: Option<&str>) -> String {
        let out = output.map_or_else(|| self.fresh("concat"), str::to_string);
        self.op("Concat", inputs, out, &[Attribute::Int("axis", 1)])
    }

    /// `a + b`, a one-channel `b` added to every channel of `a` (broadcasting).
    fn add(&mut self, a: &str, b: &str) -> String {
        let out = self.fresh("add");
        self.op("Add", &[a, b], out, &[])
    }

    /// `x[:, :, ::step, ::step]`: every `step`-th pixel from index 0.
    fn subsample(&mut self, input: &str, step: i64, output: &str) -> String {
        let starts = self.int64_constant("const.zeros2", &[0, 0]);
        let ends = self.int64_constant("const.int64_max2", &[i64::MAX, i64::MAX]);
        let axes = self.int64_constant("const.axes_hw", &[2, 3]);
        let steps = self.int64_constant(&format!("const.steps{step}"), &[step, step]);
        self.op(
            "Slice",
            &[input, &starts, &ends, &axes, &steps],
            output.to_string(),
            &[],
        )
    }

    /// Elements `[start, end)` of the shape of `input`, as a 1-D int64 tensor.
    fn shape_part(&mut self, input: &str, start: i64, end: i64) -> String {
        let shape = self.fresh(&format!("shape({input})"));
        let shape = self.op("Shape", &[input], shape, &[]);
        let starts = self.int64_constant(&format!("const.{start}"), &[start]);
        let ends = self.int64_constant(&format!("const.{end}"), &[end]);
        let out = self.fresh(&format!("shape({input})[{start}:{end}]"));
        self.op("Slice", &[&shape, &starts, &ends], out, &[])
    }

    /// `resize(x, H', W')` with `[H', W']` the 1-D tensor `height_width`: bilinear,
    /// half-pixel centres, no antialiasing (MODEL.md). At the borders ONNX clamps the
    /// source coordinate to the image as TensorFlow clamps its neighbours.
    fn resize(&mut self, input: &str, height_width: &str) -> String {
        let batch_channels = self.shape_part(input, 0, 2);
        let sizes = self.fresh("sizes");
        let sizes = self.op(
            "Concat",
            &[&batch_channels, height_width],
            sizes,
            &[Attribute::Int("axis", 0)],
        );
        let out = self.fresh("resize");
        self.op(
            "Resize",
            &[input, "", "", &sizes],
            out,
            &[
                Attribute::Text("mode", "linear"),
                Attribute::Text("coordinate_transformation_mode", "half_pixel"),
            ],
        )
    }

    /// `resize(x, H/2, W/2)` of an even-sized `x`: exactly the mean of each 2x2 block.
    fn halve(&mut self, input: &str) -> String {
        let out = self.fresh("halve");
        self.op(
            "AveragePool",
            &[input],
            out,
            &[
                Attribute::Ints("kernel_shape", &[2, 2]),
                Attribute::Ints("strides", &[2, 2]),
            ],
        )
    }

    /// `u_s = MLP_s(x_s)`: dense layers, each followed by relu.
    fn mlp(&mut self, scale: usize, input: &str) -> String {
        let mut x = input.to_string();
        for layer in spec::mlp_layers(scale) {
            let y = self.conv(&layer, &x, None);
            x = self.relu(&y);
        }
        x
    }

    /// `FA` or `FB`: `conv3x3(relu(conv1x1([a, b])))`.
    fn fusion(
        &mut self,
        layers: &[LayerSpec; 2],
        a: &str,
        b: &str,
        output: Option<&str>,
    ) -> String {
        let joined = self.concat(&[a, b], None);
        let y = self.conv(&layers[0], &joined, None);
        let y = self.relu(&y);
        self.conv(&layers[1], &y, output)
    }

    /// A residual dense block of P_s: returns `[r, t]`.
    fn rdb(&mut self, scale: usize, r: usize, t: &str) -> String {
        let layers = spec::rdb_layers(scale, r);
        let (pairs, fuse) = layers.split_at(2 * spec::RDB_DEPTH);
        let mut s = t.to_string();
        for pair in pairs.chunks(2) {
            let a = self.conv(&pair[0], &s, None);
            let a = self.relu(&a);
            let n = self.conv(&pair[1], &a, None);
            s = self.concat(&[&s, &n], None);
        }
        let fused = self.conv(&fuse[0], &s, None);
        self.concat(&[&fused, t], None)
    }

    /// `xi_s = P_s(x)`: conv1d layers with relu, then the residual dense blocks.
    fn inverse(&mut self, scale: usize, input: &str) -> String {
        let mut x = input.to_string();
        for layer in spec::conv1d_layers(scale) {
            let y = self.conv(&layer, &x, None);
            x = self.relu(&y);
        }
        for r in 1..=spec::RDB_BLOCKS {
            x = self.rdb(scale, r, &x);
        }
        x
    }

    /// The forward and inverse stages and the heads.
    fn network(&mut self) {
        let x0 = INPUT;
        let x2 = self.subsample(x0, 2, "x2");
        let x4 = self.subsample(x0, 4, "x4");
        let size0 = self.shape_part(x0, 2, 4);
        let size2 = self.shape_part(&x2, 2, 4);

        let u0 = self.mlp(0, x0);
        let u2 = self.mlp(2, &x2);
        let u4 = self.mlp(4, &x4);
        let up2 = self.resize(&u2, &size0);
        let up4 = self.resize(&u4, &size0);
        let fusion_a = spec::fusion_a_layers();
        let f0 = self.fusion(&fusion_a, &u0, &up2, Some("fusionA_u0_y2"));
        let f24 = self.fusion(&fusion_a, &up2, &up4, Some("fusionA_y2_y4"));
        let f2 = self.halve(&f24);
        let y0_in = self.concat(&[&u0, &f0], None);
        let y0 = self.conv(&spec::head_y_layer(0), &y0_in, Some("y0"));
        let y2_in = self.concat(&[&u2, &f2], None);
        let y2 = self.conv(&spec::head_y_layer(2), &y2_in, Some("y2"));
        let y4 = self.conv(&spec::head_y_layer(4), &u4, Some("y4"));

        let fusion_b = spec::fusion_b_layers();
        let xi4 = self.inverse(4, &y4);
        let xi4_up = self.resize(&xi4, &size2);
        let x42 = self.fusion(&fusion_b, &y2, &xi4_up, Some("x42"));
        let xi2 = self.inverse(2, &x42);
        let xi2_up = self.resize(&xi2, &size0);
        let x20 = self.fusion(&fusion_b, &y0, &xi2_up, Some("x20"));
        let xi0 = self.inverse(0, &x20);

        let heads = spec::SCALES
            .into_iter()
            .zip(self.outputs.names().iter().copied());
        for ((scale, output), (xi, y)) in heads.zip([(xi0, y0), (xi2, y2), (xi4, y4)]) {
            let sum = self.add(&xi, &y);
            self.conv(&spec::head_z_layer(scale), &sum, Some(output));
        }
    }
}
