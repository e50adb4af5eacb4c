//! Numerical kernels over planar feature maps ([`layout`]): convolution ([`conv`]) and
//! resampling ([`resize`]).
//!
//! Every kernel has a scalar reference and SIMD versions (AVX-512, AVX2+FMA) chosen at
//! run time. All versions perform, for each output value, the same floating-point
//! operations in the same order (fused multiply-adds included), so they give
//! bit-identical results; the tests check that they do.

pub mod conv;
pub mod layout;
pub mod resize;

use std::sync::OnceLock;

/// An instruction-set level a kernel can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable Rust, one value at a time (`f32::mul_add` for fused multiply-adds).
    Scalar,
    /// 8-lane AVX2 with FMA.
    Avx2,
    /// 16-lane AVX-512F.
    Avx512,
}

impl SimdLevel {
    /// The best level this CPU supports, detected once. The environment variable
    /// `MRBCR_SIMD` (`scalar`, `avx2`, `avx512`) lowers it, for testing and comparison;
    /// it can never raise it above what the CPU has.
    pub fn detect() -> SimdLevel {
        static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let best = Self::supported()
                .into_iter()
                .max()
                .unwrap_or(SimdLevel::Scalar);
            match std::env::var("MRBCR_SIMD").ok().as_deref() {
                Some("scalar") => SimdLevel::Scalar,
                Some("avx2") => best.min(SimdLevel::Avx2),
                _ => best,
            }
        })
    }

    /// Every level this CPU can run, lowest first.
    pub fn supported() -> Vec<SimdLevel> {
        let mut levels = vec![SimdLevel::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                levels.push(SimdLevel::Avx2);
            }
            if is_x86_feature_detected!("avx512f") {
                levels.push(SimdLevel::Avx512);
            }
        }
        levels
    }

    /// Lower-case name, as `MRBCR_SIMD` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }
}
