//! The pixel types the engine reads and writes, and what it needs of each: conversion
//! to and from the network's f32, an order-preserving integer key (for exact
//! percentiles), and a finiteness check.

use crate::image::PixelType;

/// A pixel type of an input or output stack (u8, u16, f32, f64).
pub trait Pixel: Copy + Send + Sync + 'static {
    /// The [`PixelType`] tag.
    const TYPE: PixelType;
    /// Bits of [`Pixel::key`] that can be non-zero.
    const KEY_BITS: u32;
    /// The value as f64 (exact for every type).
    fn to_f64(self) -> f64;
    /// An unsigned key with the same order as the values (for finite values).
    fn key(self) -> u64;
    /// The value whose key is `key` (the inverse of [`Pixel::key`]).
    fn from_key(key: u64) -> Self;
    /// False for NaN and infinities.
    fn is_finite(self) -> bool;
    /// The nearest value of this type to `v`: rounded and clamped to the type's range
    /// for integers, converted for floats.
    fn from_f32(v: f32) -> Self;
}

impl Pixel for u8 {
    const TYPE: PixelType = PixelType::U8;
    const KEY_BITS: u32 = 8;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn key(self) -> u64 {
        u64::from(self)
    }
    fn from_key(key: u64) -> u8 {
        key as u8
    }
    fn is_finite(self) -> bool {
        true
    }
    fn from_f32(v: f32) -> u8 {
        // `as` saturates; round half away from zero first.
        v.round() as u8
    }
}

impl Pixel for u16 {
    const TYPE: PixelType = PixelType::U16;
    const KEY_BITS: u32 = 16;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn key(self) -> u64 {
        u64::from(self)
    }
    fn from_key(key: u64) -> u16 {
        key as u16
    }
    fn is_finite(self) -> bool {
        true
    }
    fn from_f32(v: f32) -> u16 {
        v.round() as u16
    }
}

impl Pixel for f32 {
    const TYPE: PixelType = PixelType::F32;
    const KEY_BITS: u32 = 32;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn key(self) -> u64 {
        // Flip all bits of negatives, the sign bit of positives: unsigned order.
        let b = self.to_bits();
        u64::from(if b >> 31 == 1 { !b } else { b | 1 << 31 })
    }
    fn from_key(key: u64) -> f32 {
        let k = key as u32;
        f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
    }
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    fn from_f32(v: f32) -> f32 {
        v
    }
}

impl Pixel for f64 {
    const TYPE: PixelType = PixelType::F64;
    const KEY_BITS: u32 = 64;
    fn to_f64(self) -> f64 {
        self
    }
    fn key(self) -> u64 {
        let b = self.to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b | 1 << 63
        }
    }
    fn from_key(k: u64) -> f64 {
        f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
    }
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    fn from_f32(v: f32) -> f64 {
        f64::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_and_invert() {
        let f = [-3.5e30f32, -1.0, -0.0, 0.0, 1e-40, 0.25, 7.0, 3e38];
        for w in f.windows(2) {
            assert!(w[0].key() <= w[1].key(), "{w:?}");
        }
        for v in f {
            assert_eq!(f32::from_key(v.key()).to_bits(), v.to_bits());
            assert_eq!(f64::from_key(f64::from(v).key()), f64::from(v));
        }
        let d = [-1e300f64, -2.0, 0.0, 1e-300, 5.0];
        for w in d.windows(2) {
            assert!(w[0].key() < w[1].key());
        }
    }

    #[test]
    fn integers_round_and_clamp() {
        assert_eq!(u16::from_f32(-3.0), 0);
        assert_eq!(u16::from_f32(70000.0), 65535);
        assert_eq!(u16::from_f32(2.5), 3);
        assert_eq!(u8::from_f32(254.49), 254);
        assert_eq!(u8::from_f32(300.0), 255);
    }
}
