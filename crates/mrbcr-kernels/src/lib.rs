//! Numerical kernels over planar feature maps ([`layout`]): convolution ([`conv`], and
//! [`winograd`] for 3x3 kernels) and resampling ([`resize`]).
//!
//! Every kernel has a scalar reference and SIMD versions (AVX-512 and AVX2+FMA on
//! x86-64, NEON on aarch64) chosen at run time, each written once over the vector
//! operations of `vector.rs`. All versions perform, for each output value, the same floating-point
//! operations in the same order (fused multiply-adds included), so they give
//! bit-identical results; the tests check that they do.

pub mod conv;
pub mod layout;
pub mod resize;
mod vector;
pub mod winograd;

use std::sync::OnceLock;

/// The instruction sets the kernels are written for. A plain description: running a
/// kernel at one of them takes a [`SimdLevel`], which only exists for sets the CPU has.
///
/// Ordered by vector width; a CPU has at most the x86-64 sets or NEON, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdKind {
    /// Portable Rust, one value at a time (`f32::mul_add` for fused multiply-adds).
    Scalar,
    /// 4-lane NEON (aarch64).
    Neon,
    /// 8-lane AVX2 with FMA.
    Avx2,
    /// 16-lane AVX-512F.
    Avx512,
}

impl SimdKind {
    /// Lower-case name, as `MRBCR_SIMD` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SimdKind::Scalar => "scalar",
            SimdKind::Neon => "neon",
            SimdKind::Avx2 => "avx2",
            SimdKind::Avx512 => "avx512",
        }
    }
}

/// An instruction-set level this CPU supports: the capability to run the SIMD kernels
/// ([`conv::conv2d`], the training's weight gradients) at that level.
///
/// The kernels are safe functions that run AVX2, AVX-512 or NEON instructions when
/// given that level, so a level must never name a set the CPU lacks. The type guarantees it (the
/// pattern of RustFFT's planner): its field is private and its only constructors
/// detect the CPU ([`SimdLevel::detect`], [`SimdLevel::at_most`],
/// [`SimdLevel::supported`]) or give the portable [`SimdLevel::scalar`]. A level
/// cannot be built from a [`SimdKind`] directly:
///
/// ```compile_fail,E0423
/// use mrbcr_kernels::{SimdKind, SimdLevel};
/// let forged = SimdLevel(SimdKind::Avx512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimdLevel(SimdKind);

impl SimdLevel {
    /// The best level this CPU supports, detected once. The environment variable
    /// `MRBCR_SIMD` (`scalar`, `neon`, `avx2`, `avx512`) lowers it, for testing and
    /// comparison; it can never raise it above what the CPU has.
    pub fn detect() -> SimdLevel {
        static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| match std::env::var("MRBCR_SIMD").ok().as_deref() {
            Some("scalar") => SimdLevel::scalar(),
            Some("neon") => SimdLevel::at_most(SimdKind::Neon),
            Some("avx2") => SimdLevel::at_most(SimdKind::Avx2),
            _ => SimdLevel::at_most(SimdKind::Avx512),
        })
    }

    /// The portable level, which every CPU runs.
    pub fn scalar() -> SimdLevel {
        SimdLevel(SimdKind::Scalar)
    }

    /// The best level this CPU supports that is not above `kind` (ignoring
    /// `MRBCR_SIMD`): `at_most(SimdKind::Avx512)` is the best the CPU has.
    pub fn at_most(kind: SimdKind) -> SimdLevel {
        Self::supported()
            .into_iter()
            .filter(|level| level.0 <= kind)
            .max()
            .unwrap_or(SimdLevel::scalar())
    }

    /// Every level this CPU can run, lowest first.
    pub fn supported() -> Vec<SimdLevel> {
        let mut levels = vec![SimdLevel::scalar()];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                levels.push(SimdLevel(SimdKind::Avx2));
            }
            if is_x86_feature_detected!("avx512f") {
                levels.push(SimdLevel(SimdKind::Avx512));
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if std::arch::is_aarch64_feature_detected!("neon") {
                levels.push(SimdLevel(SimdKind::Neon));
            }
        }
        levels
    }

    /// The instruction set of this level.
    pub fn kind(self) -> SimdKind {
        self.0
    }

    /// Lower-case name, as `MRBCR_SIMD` spells it.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}
