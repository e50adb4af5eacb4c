//! The few ONNX messages an exported network needs (`onnx/onnx.proto`, IR version 7),
//! encoded with [`super::protobuf`]: field numbers as the ONNX schema assigns them.

use super::protobuf::Message;

/// ONNX `TensorProto.DataType` FLOAT.
pub const FLOAT: i64 = 1;
/// ONNX `TensorProto.DataType` INT64.
pub const INT64: i64 = 7;

/// An attribute of a node (`AttributeProto`).
pub enum Attribute<'a> {
    /// An `INT` attribute.
    Int(&'a str, i64),
    /// An `INTS` attribute.
    Ints(&'a str, &'a [i64]),
    /// A `STRING` attribute.
    Text(&'a str, &'a str),
}

impl Attribute<'_> {
    /// The encoded `AttributeProto`: name 1, i 3, s 4, ints 8, type 20.
    fn encode(&self) -> Message {
        const INT: i64 = 2;
        const STRING: i64 = 3;
        const INTS: i64 = 7;
        let mut m = Message::new();
        match *self {
            Attribute::Int(name, value) => {
                m.string(1, name).int64(3, value).int64(20, INT);
            }
            Attribute::Ints(name, values) => {
                m.string(1, name);
                for &v in values {
                    m.int64(8, v);
                }
                m.int64(20, INTS);
            }
            Attribute::Text(name, value) => {
                m.string(1, name).string(4, value).int64(20, STRING);
            }
        }
        m
    }
}

/// A `NodeProto`: input 1, output 2, name 3, op_type 4, attribute 5. An empty input
/// name leaves an optional input out.
pub fn node(
    name: &str,
    op_type: &str,
    inputs: &[&str],
    outputs: &[&str],
    attributes: &[Attribute],
) -> Message {
    let mut m = Message::new();
    for input in inputs {
        m.string(1, input);
    }
    for output in outputs {
        m.string(2, output);
    }
    m.string(3, name).string(4, op_type);
    for a in attributes {
        m.message(5, &a.encode());
    }
    m
}

/// A `TensorProto` with its values as `raw_data` (little-endian): dims 1,
/// data_type 2, name 8, raw_data 9.
pub fn tensor(name: &str, dims: &[usize], data_type: i64, raw_data: &[u8]) -> Message {
    let mut m = Message::new();
    for &d in dims {
        m.int64(1, d as i64);
    }
    m.int64(2, data_type).string(8, name).bytes(9, raw_data);
    m
}

/// A float32 tensor.
pub fn float_tensor(name: &str, dims: &[usize], values: &[f32]) -> Message {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, dims, FLOAT, &raw)
}

/// An int64 tensor.
pub fn int64_tensor(name: &str, dims: &[usize], values: &[i64]) -> Message {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, dims, INT64, &raw)
}

/// One dimension of a graph input or output.
pub enum Dim<'a> {
    /// A fixed size.
    Fixed(usize),
    /// A size named by a symbol (`dim_param`), chosen when the model runs.
    Named(&'a str),
}

/// A float32 `ValueInfoProto` (name 1, type 2, doc_string 3): a `TypeProto` with
/// tensor_type 1, whose `Tensor` has elem_type 1 and shape 2, a `TensorShapeProto` of
/// `Dimension`s (dim 1; dim_value 1, dim_param 2).
pub fn float_value_info(name: &str, dims: &[Dim], doc: &str) -> Message {
    let mut shape = Message::new();
    for d in dims {
        let mut dim = Message::new();
        match *d {
            Dim::Fixed(size) => dim.int64(1, size as i64),
            Dim::Named(symbol) => dim.string(2, symbol),
        };
        shape.message(1, &dim);
    }
    let mut tensor_type = Message::new();
    tensor_type.int64(1, FLOAT).message(2, &shape);
    let mut type_proto = Message::new();
    type_proto.message(1, &tensor_type);
    let mut m = Message::new();
    m.string(1, name).message(2, &type_proto).string(3, doc);
    m
}

/// A `GraphProto`: node 1, name 2, initializer 5, doc_string 10, input 11, output 12.
pub fn graph(
    name: &str,
    doc: &str,
    nodes: &[Message],
    initializers: &[Message],
    inputs: &[Message],
    outputs: &[Message],
) -> Message {
    let mut m = Message::new();
    for n in nodes {
        m.message(1, n);
    }
    m.string(2, name);
    for t in initializers {
        m.message(5, t);
    }
    m.string(10, doc);
    for i in inputs {
        m.message(11, i);
    }
    for o in outputs {
        m.message(12, o);
    }
    m
}

/// A `ModelProto`: ir_version 1, producer_name 2, producer_version 3, doc_string 6,
/// graph 7, opset_import 8 (an `OperatorSetIdProto` of the default domain: version 2),
/// metadata_props 14 (`StringStringEntryProto`: key 1, value 2).
pub fn model(
    ir_version: i64,
    opset: i64,
    producer: (&str, &str),
    doc: &str,
    graph: &Message,
    metadata: &[(&str, String)],
) -> Message {
    let mut opset_id = Message::new();
    opset_id.string(1, "").int64(2, opset);
    let mut m = Message::new();
    m.int64(1, ir_version)
        .string(2, producer.0)
        .string(3, producer.1)
        .string(6, doc)
        .message(7, graph)
        .message(8, &opset_id);
    for (key, value) in metadata {
        let mut entry = Message::new();
        entry.string(1, key).string(2, value);
        m.message(14, &entry);
    }
    m
}
