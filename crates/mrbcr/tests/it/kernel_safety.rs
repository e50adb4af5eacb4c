//! The kernels cannot be driven into undefined behaviour from safe code: kernels larger
//! than the planes' padding are refused before any read, and a SIMD level is a
//! capability that exists only for instruction sets the CPU has (that it cannot be
//! built otherwise is a compile-time property, checked by a `compile_fail` doc test on
//! `SimdLevel`).

use mrbcr::kernels::conv::ConvWeights;
use mrbcr::kernels::layout::{PlaneGeometry, MAX_KERNEL};
use mrbcr::kernels::{SimdKind, SimdLevel};
use mrbcr::train::weight_grad::conv_weight_grad;

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn kernels_larger_than_the_padding_are_refused() {
    assert_eq!(MAX_KERNEL, 9);
    for (kh, kw) in [(11, 11), (1, 11), (11, 1), (13, 3)] {
        let n = kh * kw * 2 * 4;
        let msg = panic_message(move || {
            ConvWeights::from_hwio([kh, kw, 2, 4], &vec![0.5; n], &[0.0; 4]);
        });
        assert!(
            msg.contains(&format!("{kh} x {kw} kernel is larger than the 9 x 9")),
            "{msg}"
        );
        let msg = panic_message(move || {
            let g = PlaneGeometry::new(8, 8);
            let plane = vec![0.0f32; g.plane_len()];
            let mut k = vec![0.0; kh * kw];
            let mut b = vec![0.0; 1];
            conv_weight_grad(
                SimdLevel::detect(),
                &g,
                &[&plane],
                &[&plane],
                kh,
                kw,
                &mut k,
                &mut b,
            );
        });
        assert!(
            msg.contains(&format!("{kh} x {kw} kernel is larger than the 9 x 9")),
            "{msg}"
        );
    }
    // The largest allowed kernel is accepted.
    ConvWeights::from_hwio([9, 9, 1, 1], &[0.0; 81], &[0.0]);
}

#[test]
fn a_level_is_only_what_the_cpu_supports() {
    let supported = SimdLevel::supported();
    let best = *supported.iter().max().unwrap();
    assert_eq!(supported[0], SimdLevel::scalar());
    assert_eq!(SimdLevel::at_most(SimdKind::Avx512), best);
    assert_eq!(SimdLevel::at_most(SimdKind::Scalar), SimdLevel::scalar());
    for kind in [
        SimdKind::Scalar,
        SimdKind::Neon,
        SimdKind::Avx2,
        SimdKind::Avx512,
    ] {
        let level = SimdLevel::at_most(kind);
        assert!(level.kind() <= kind, "{kind:?} gave {level:?}");
        assert!(supported.contains(&level), "{level:?} is not supported");
    }
    assert!(supported.contains(&SimdLevel::detect()));
    // NEON is part of every aarch64 CPU: the comparisons with the scalar reference
    // (the kernels and determinism modules) run it there, under qemu-aarch64 in CI.
    #[cfg(target_arch = "aarch64")]
    assert_eq!(best.kind(), SimdKind::Neon);
    #[cfg(target_arch = "x86_64")]
    {
        let avx512 = is_x86_feature_detected!("avx512f");
        assert_eq!(
            supported.iter().any(|l| l.kind() == SimdKind::Avx512),
            avx512
        );
        if !avx512 {
            // Asking for AVX-512 on a CPU without it gives a level the CPU has.
            assert_ne!(
                SimdLevel::at_most(SimdKind::Avx512).kind(),
                SimdKind::Avx512
            );
        }
    }
}
