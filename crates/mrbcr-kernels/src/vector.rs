//! The few vector operations the SIMD kernels are written in, for each instruction set:
//! AVX-512F (`__m512`, 16 lanes), AVX2 with FMA (`__m256`, 8 lanes) and NEON
//! (`float32x4_t`, 4 lanes), and for the portable one-lane `f32` (the scalar reference
//! of kernels written only once). A kernel body is written once, generic over [`F32Vector`]
//! and `#[inline(always)]`, and compiled for each set by a thin `#[target_feature]`
//! wrapper (the pattern of RustFFT's `AvxVector`): the operations inline into the
//! wrapper, which enables the instructions they need.
//!
//! Every operation gives, lane by lane, exactly what the scalar reference computes:
//! [`F32Vector::mul_add`] is one fused multiply-add (`f32::mul_add`), [`F32Vector::relu`]
//! is `if v > 0.0 { v } else { 0.0 }` (NaN and -0.0 included).

/// A vector of `f32` lanes.
///
/// # Safety
/// The methods run the instructions of the implementing type's set: the CPU must have
/// them (a [`crate::SimdLevel`] of that kind proves it).
pub(crate) trait F32Vector: Copy {
    /// Lanes per vector.
    const LANES: usize;

    /// Every lane `value`.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn splat(value: f32) -> Self;

    /// `LANES` floats from `src`.
    ///
    /// # Safety
    /// See the trait, and `src` must be valid for `LANES` reads (no alignment needed).
    unsafe fn load(src: *const f32) -> Self;

    /// Writes the lanes to `dst`.
    ///
    /// # Safety
    /// See the trait, and `dst` must be valid for `LANES` writes (no alignment needed).
    unsafe fn store(self, dst: *mut f32);

    /// `self * factor + addend`, rounded once (a fused multiply-add).
    ///
    /// # Safety
    /// See the trait.
    unsafe fn mul_add(self, factor: Self, addend: Self) -> Self;

    /// `if v > 0.0 { v } else { 0.0 }` per lane: NaN and -0.0 give +0.0.
    ///
    /// # Safety
    /// See the trait.
    unsafe fn relu(self) -> Self;

    /// Each lane's bits ANDed with the matching mask word at `mask` (all ones keeps the
    /// lane, zero clears it to +0.0).
    ///
    /// # Safety
    /// See the trait, and `mask` must be valid for `LANES` reads.
    unsafe fn and_mask(self, mask: *const u32) -> Self;
}

// One lane, portable: the operations' scalar definitions.
impl F32Vector for f32 {
    const LANES: usize = 1;

    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        value
    }

    #[inline(always)]
    unsafe fn load(src: *const f32) -> Self {
        // SAFETY: the caller guarantees `src` is valid for one read.
        unsafe { src.read_unaligned() }
    }

    #[inline(always)]
    unsafe fn store(self, dst: *mut f32) {
        // SAFETY: the caller guarantees `dst` is valid for one write.
        unsafe { dst.write_unaligned(self) }
    }

    #[inline(always)]
    unsafe fn mul_add(self, factor: Self, addend: Self) -> Self {
        f32::mul_add(self, factor, addend)
    }

    #[inline(always)]
    unsafe fn relu(self) -> Self {
        if self > 0.0 {
            self
        } else {
            0.0
        }
    }

    #[inline(always)]
    unsafe fn and_mask(self, mask: *const u32) -> Self {
        // SAFETY: the caller guarantees `mask` is valid for one read.
        f32::from_bits(self.to_bits() & unsafe { mask.read_unaligned() })
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F32Vector;
    use std::arch::x86_64::*;

    // The intrinsics below need AVX-512F; every method runs inlined into a kernel
    // compiled with `#[target_feature(enable = "avx512f")]`, whose caller checked it.
    impl F32Vector for __m512 {
        const LANES: usize = 16;

        #[inline(always)]
        unsafe fn splat(value: f32) -> Self {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe { _mm512_set1_ps(value) }
        }

        #[inline(always)]
        unsafe fn load(src: *const f32) -> Self {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `src` is valid for 16 reads (this method's
            // contract); the load is unaligned.
            unsafe { _mm512_loadu_ps(src) }
        }

        #[inline(always)]
        unsafe fn store(self, dst: *mut f32) {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `dst` is valid for 16 writes (this
            // method's contract); the store is unaligned.
            unsafe { _mm512_storeu_ps(dst, self) }
        }

        #[inline(always)]
        unsafe fn mul_add(self, factor: Self, addend: Self) -> Self {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe { _mm512_fmadd_ps(self, factor, addend) }
        }

        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe {
                // MAXPS gives its second operand when either is NaN or both are zero.
                _mm512_max_ps(self, _mm512_setzero_ps())
            }
        }

        #[inline(always)]
        unsafe fn and_mask(self, mask: *const u32) -> Self {
            // SAFETY: the CPU has AVX-512F (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `mask` is valid for 16 reads (this
            // method's contract); the load is unaligned.
            unsafe {
                let mask = _mm512_loadu_si512(mask as *const _);
                _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(self), mask))
            }
        }
    }

    // The intrinsics below need AVX2 and FMA; every method runs inlined into a kernel
    // compiled with `#[target_feature(enable = "avx2,fma")]`, whose caller checked them.
    impl F32Vector for __m256 {
        const LANES: usize = 8;

        #[inline(always)]
        unsafe fn splat(value: f32) -> Self {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind); no memory is touched.
            unsafe { _mm256_set1_ps(value) }
        }

        #[inline(always)]
        unsafe fn load(src: *const f32) -> Self {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind), and `src` is valid for 8 reads (this
            // method's contract); the load is unaligned.
            unsafe { _mm256_loadu_ps(src) }
        }

        #[inline(always)]
        unsafe fn store(self, dst: *mut f32) {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind), and `dst` is valid for 8 writes (this
            // method's contract); the store is unaligned.
            unsafe { _mm256_storeu_ps(dst, self) }
        }

        #[inline(always)]
        unsafe fn mul_add(self, factor: Self, addend: Self) -> Self {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind); no memory is touched.
            unsafe { _mm256_fmadd_ps(self, factor, addend) }
        }

        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind); no memory is touched.
            unsafe {
                // MAXPS gives its second operand when either is NaN or both are zero.
                _mm256_max_ps(self, _mm256_setzero_ps())
            }
        }

        #[inline(always)]
        unsafe fn and_mask(self, mask: *const u32) -> Self {
            // SAFETY: the CPU has AVX2 and FMA (the trait's contract: the caller holds
            // a `SimdLevel` of this kind), and `mask` is valid for 8 reads (this
            // method's contract); the load is unaligned.
            unsafe { _mm256_and_ps(self, _mm256_loadu_ps(mask as *const f32)) }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use super::F32Vector;
    use std::arch::aarch64::*;

    // The intrinsics below need NEON; every method runs inlined into a kernel compiled
    // with `#[target_feature(enable = "neon")]`, whose caller checked it.
    impl F32Vector for float32x4_t {
        const LANES: usize = 4;

        #[inline(always)]
        unsafe fn splat(value: f32) -> Self {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe { vdupq_n_f32(value) }
        }

        #[inline(always)]
        unsafe fn load(src: *const f32) -> Self {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `src` is valid for 4 reads (this method's
            // contract); the load is unaligned.
            unsafe { vld1q_f32(src) }
        }

        #[inline(always)]
        unsafe fn store(self, dst: *mut f32) {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `dst` is valid for 4 writes (this method's
            // contract); the store is unaligned.
            unsafe { vst1q_f32(dst, self) }
        }

        #[inline(always)]
        unsafe fn mul_add(self, factor: Self, addend: Self) -> Self {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe {
                // FMLA: addend + self * factor, rounded once.
                vfmaq_f32(addend, self, factor)
            }
        }

        #[inline(always)]
        unsafe fn relu(self) -> Self {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind); no memory is touched.
            unsafe {
                // Not FMAX, which returns NaN for a NaN lane: keep the lane where it
                // compares greater than zero (false for NaN and -0.0), else +0.0. (LLVM
                // may emit this as FMAXNM, which agrees for every value but a signalling
                // NaN, and a fused multiply-add never returns one.)
                let positive = vcgtq_f32(self, vdupq_n_f32(0.0));
                vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(self), positive))
            }
        }

        #[inline(always)]
        unsafe fn and_mask(self, mask: *const u32) -> Self {
            // SAFETY: the CPU has NEON (the trait's contract: the caller holds a
            // `SimdLevel` of this kind), and `mask` is valid for 4 reads (this method's
            // contract); the load is unaligned.
            unsafe {
                vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(self), vld1q_u32(mask)))
            }
        }
    }
}
