//! Statistics of a plane for normalisation: finiteness, minimum and maximum, and exact
//! percentiles by radix selection (no copy of the plane, no sorting; a few passes over
//! it, fewer for narrower types), so that a 64-megapixel plane costs no extra memory.

use ndarray::ArrayView2;

use super::options::Normalization;
use super::pixel::Pixel;
use crate::error::{Error, Result};

/// Bits per radix-selection pass (a 64 Ki-entry histogram).
const DIGIT_BITS: u32 = 16;

/// The affine map from pixel values to the network's range, `(v - low) / (high - low)`,
/// and back. A constant region (`high == low`) maps to 0 and comes back as `low`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    /// The value mapped to 0.
    pub low: f64,
    /// The value mapped to 1 (equal to `low` for a constant region).
    pub high: f64,
}

impl Scaling {
    /// The identity (`none` normalisation).
    pub const IDENTITY: Scaling = Scaling {
        low: 0.0,
        high: 1.0,
    };

    /// The factor applied after subtracting `low`: `1 / (high - low)`, or 0 if the
    /// range is empty.
    pub fn scale(&self) -> f64 {
        if self.high > self.low {
            1.0 / (self.high - self.low)
        } else {
            0.0
        }
    }

    /// A pixel value in the network's range.
    pub fn forward(&self, v: f64) -> f32 {
        ((v - self.low) * self.scale()) as f32
    }

    /// A network output back in pixel values: `z * (high - low) + low`.
    pub fn inverse(&self, z: f32) -> f32 {
        (f64::from(z) * (self.high - self.low) + self.low) as f32
    }
}

/// Minimum and maximum of a plane.
///
/// # Errors
/// [`Error::InvalidInput`] if a value is NaN or infinite, naming the first one's row
/// and column.
pub fn finite_min_max<T: Pixel>(plane: ArrayView2<T>, plane_index: usize) -> Result<(f64, f64)> {
    let mut lo = u64::MAX;
    let mut hi = 0u64;
    for ((r, c), &v) in plane.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::InvalidInput(format!(
                "plane {} holds a non-finite value ({}) at row {r}, column {c}: \
                 NaN and infinity cannot be deconvolved",
                plane_index + 1,
                v.to_f64()
            )));
        }
        let k = v.key();
        lo = lo.min(k);
        hi = hi.max(k);
    }
    Ok((T::from_key(lo).to_f64(), T::from_key(hi).to_f64()))
}

/// The `rank`-th smallest value of the plane (0-based), by radix selection over
/// [`Pixel::key`]: each pass histograms the next 16-bit digit of the keys that share
/// the digits chosen so far.
fn select<T: Pixel>(plane: ArrayView2<T>, rank: usize) -> T {
    let mut prefix = 0u64; // the chosen high digits
    let mut rank = rank;
    let mut shift = T::KEY_BITS;
    let mut hist = vec![0usize; 1 << DIGIT_BITS];
    while shift > 0 {
        let bits = shift.min(DIGIT_BITS);
        shift -= bits;
        let mask = (1u64 << bits) - 1;
        hist[..=mask as usize].fill(0);
        let high_shift = shift + bits;
        for &v in plane.iter() {
            let k = v.key();
            if high_shift >= 64 || k >> high_shift == prefix {
                hist[((k >> shift) & mask) as usize] += 1;
            }
        }
        let mut digit = 0;
        for (d, &count) in hist[..=mask as usize].iter().enumerate() {
            if rank < count {
                digit = d as u64;
                break;
            }
            rank -= count;
        }
        prefix = (prefix << bits) | digit;
    }
    T::from_key(prefix)
}

/// The `p`-th percentile (0 to 100) of a plane, as numpy's default (linear
/// interpolation between the two nearest order statistics).
pub fn percentile<T: Pixel>(plane: ArrayView2<T>, p: f64) -> f64 {
    let n = plane.len();
    let pos = p / 100.0 * (n - 1) as f64;
    let below = pos.floor() as usize;
    let frac = pos - below as f64;
    let a = select(plane, below).to_f64();
    if frac == 0.0 || below + 1 >= n {
        return a;
    }
    let b = select(plane, below + 1).to_f64();
    a + frac * (b - a)
}

/// How a plane maps to the network's range under `normalization` (for
/// [`Normalization::PerTileMinMax`], the plane's minimum and maximum: per-tile scalings
/// are made per tile). `index` names the plane in errors.
///
/// # Errors
/// As [`finite_min_max`].
pub fn plane_scaling<T: Pixel>(
    plane: ArrayView2<T>,
    index: usize,
    normalization: &Normalization,
) -> Result<Scaling> {
    let (min, max) = finite_min_max(plane, index)?;
    Ok(match *normalization {
        Normalization::Percentile { low, high } => {
            let s = Scaling {
                low: percentile(plane, low),
                high: percentile(plane, high),
            };
            if s.high > s.low {
                s
            } else {
                Scaling {
                    low: min,
                    high: max,
                }
            }
        }
        Normalization::MinMax | Normalization::PerTileMinMax => Scaling {
            low: min,
            high: max,
        },
        Normalization::None => Scaling::IDENTITY,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use ndarray::Array2;

    fn sorted_percentile(mut v: Vec<f64>, p: f64) -> f64 {
        v.sort_by(f64::total_cmp);
        let pos = p / 100.0 * (v.len() - 1) as f64;
        let i = pos.floor() as usize;
        let f = pos - i as f64;
        if f == 0.0 {
            v[i]
        } else {
            v[i] + f * (v[i + 1] - v[i])
        }
    }

    #[test]
    fn percentiles_are_exact_for_every_type() {
        let mut rng = SplitMix64::new(5);
        for (h, w) in [(1, 1), (3, 7), (40, 33)] {
            let f = Array2::from_shape_fn((h, w), |_| rng.uniform(-50.0, 50.0));
            let d = f.mapv(|v| f64::from(v) * 1e-3);
            let u = f.mapv(|v| (v.abs() * 1000.0) as u16);
            let b = f.mapv(|v| (v.abs() * 5.0) as u8);
            for p in [0.0, 1.0, 37.3, 50.0, 99.8, 100.0] {
                let check = |got: f64, all: Vec<f64>| assert_eq!(got, sorted_percentile(all, p));
                check(
                    percentile(f.view(), p),
                    f.iter().map(|&v| f64::from(v)).collect(),
                );
                check(percentile(d.view(), p), d.iter().copied().collect());
                check(
                    percentile(u.view(), p),
                    u.iter().map(|&v| f64::from(v)).collect(),
                );
                check(
                    percentile(b.view(), p),
                    b.iter().map(|&v| f64::from(v)).collect(),
                );
            }
        }
    }

    #[test]
    fn strided_views_and_min_max() {
        let a = Array2::from_shape_fn((6, 8), |(r, c)| (r * 8 + c) as f32 - 10.0);
        let v = a.slice(ndarray::s![1..5;2, 2..7;2]);
        assert_eq!(finite_min_max(v, 0).unwrap(), (0.0, 20.0));
        assert_eq!(percentile(v, 0.0), 0.0);
        assert_eq!(percentile(v, 100.0), 20.0);
        assert_eq!(percentile(v, 50.0), 10.0);
        let mut bad = a.clone();
        bad[(2, 3)] = f32::NAN;
        let msg = finite_min_max(bad.view(), 4).unwrap_err().to_string();
        assert!(
            msg.contains("plane 5 holds a non-finite value (NaN) at row 2, column 3"),
            "{msg}"
        );
        bad[(2, 3)] = f32::NEG_INFINITY;
        let msg = finite_min_max(bad.view(), 0).unwrap_err().to_string();
        assert!(msg.contains("(-inf)"), "{msg}");
    }

    #[test]
    fn scaling_inverts_and_survives_constant_regions() {
        let s = Scaling {
            low: 100.0,
            high: 300.0,
        };
        assert_eq!(s.forward(200.0), 0.5);
        assert_eq!(s.inverse(0.5), 200.0);
        let flat = Scaling {
            low: 7.0,
            high: 7.0,
        };
        assert_eq!(flat.forward(7.0), 0.0);
        assert_eq!(flat.inverse(0.3), 7.0);
    }
}
