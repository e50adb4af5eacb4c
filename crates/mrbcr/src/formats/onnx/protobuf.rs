//! A protobuf wire-format encoder: just what writing ONNX needs (varints,
//! length-delimited bytes, strings and nested messages), per
//! <https://protobuf.dev/programming-guides/encoding/>.

/// Wire type of varint-encoded scalars (int32, int64, enums).
const WIRE_VARINT: u32 = 0;
/// Wire type of length-delimited fields (bytes, strings, messages).
const WIRE_LENGTH_DELIMITED: u32 = 2;

/// One protobuf message being encoded: fields are appended in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    bytes: Vec<u8>,
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

impl Message {
    /// An empty message.
    pub fn new() -> Message {
        Message::default()
    }

    fn key(&mut self, field: u32, wire_type: u32) {
        put_varint(&mut self.bytes, u64::from(field << 3 | wire_type));
    }

    /// Appends an int64 field (negative values take ten bytes, as protobuf encodes
    /// them); int32 and enum fields are written the same way.
    pub fn int64(&mut self, field: u32, value: i64) -> &mut Message {
        self.key(field, WIRE_VARINT);
        put_varint(&mut self.bytes, value as u64);
        self
    }

    /// Appends a bytes field.
    pub fn bytes(&mut self, field: u32, value: &[u8]) -> &mut Message {
        self.key(field, WIRE_LENGTH_DELIMITED);
        put_varint(&mut self.bytes, value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    /// Appends a string field (UTF-8).
    pub fn string(&mut self, field: u32, value: &str) -> &mut Message {
        self.bytes(field, value.as_bytes())
    }

    /// Appends a nested message field.
    pub fn message(&mut self, field: u32, value: &Message) -> &mut Message {
        self.bytes(field, &value.bytes)
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of the protobuf encoding guide, bytes worked out by hand.
    #[test]
    fn encodes_the_specs_examples() {
        // `message Test1 { int32 a = 1; }` with a = 150: 08 96 01.
        assert_eq!(Message::new().int64(1, 150).as_bytes(), [0x08, 0x96, 0x01]);
        // `message Test2 { string b = 2; }` with b = "testing": 12 07 74 65 73 74 69 6e 67.
        assert_eq!(
            Message::new().string(2, "testing").as_bytes(),
            [0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g']
        );
        // `message Test3 { Test1 c = 3; }` with c.a = 150: 1a 03 08 96 01.
        let inner = Message::new().int64(1, 150).clone();
        assert_eq!(
            Message::new().message(3, &inner).as_bytes(),
            [0x1a, 0x03, 0x08, 0x96, 0x01]
        );
        // int64 -1: ten bytes, all bits set, the last byte 01.
        let mut minus_one = vec![0x08];
        minus_one.extend([0xff; 9]);
        minus_one.push(0x01);
        assert_eq!(Message::new().int64(1, -1).as_bytes(), minus_one);
        // A field number above 15 needs a two-byte key: field 20, varint 2 -> a0 01 02.
        assert_eq!(Message::new().int64(20, 2).as_bytes(), [0xa0, 0x01, 0x02]);
    }
}
