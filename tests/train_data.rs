//! Training data: the user's TIFF pairs (matching, and clear errors when they do not
//! match) and the patches drawn from them (same transform for input and truth,
//! normalised to [0, 1]).

use std::path::Path;

use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::rng::SplitMix64;
use mrbcr::train::data::{
    grid_samples, minmax_normalize, random_sample, tiff_pairs, ImagePair, PatchOptions,
};
use mrbcr::{ImageStack, Pixels};
use ndarray::Array2;

fn write(path: &Path, width: usize, height: usize, planes: usize) {
    let values: Vec<u16> = (0..width * height * planes)
        .map(|i| (i % 251) as u16)
        .collect();
    let stack = ImageStack::new(width, height, planes, Pixels::U16(values)).unwrap();
    write_tiff(path, &stack, &TiffMetadata::default()).unwrap();
}

#[test]
fn tiff_pairs_match_files_and_pages_and_refuse_mismatches() {
    let dir = std::env::temp_dir().join(format!("mrbcr-train-data-{}", std::process::id()));
    let (low, high) = (dir.join("low"), dir.join("high"));
    std::fs::create_dir_all(&low).unwrap();
    std::fs::create_dir_all(&high).unwrap();
    write(&low.join("a.tif"), 32, 24, 2);
    write(&low.join("b.tif"), 40, 40, 1);
    write(&high.join("a.tif"), 32, 24, 2);
    write(&high.join("b.tif"), 40, 40, 1);
    let pairs = tiff_pairs(&low, &high).unwrap();
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs[2].input.dim(), (40, 40));
    // A stack against a folder works too, plane by plane.
    assert_eq!(
        tiff_pairs(&low.join("a.tif"), &high.join("a.tif"))
            .unwrap()
            .len(),
        2
    );

    write(&high.join("b.tif"), 40, 36, 1);
    let e = tiff_pairs(&low, &high).unwrap_err().to_string();
    assert!(
        e.contains("b.tif") && e.contains("(40, 40)") && e.contains("(36, 40)"),
        "{e}"
    );

    write(&high.join("c.tif"), 40, 40, 1);
    let e = tiff_pairs(&low, &high).unwrap_err().to_string();
    assert!(e.contains("3 images") && e.contains("4"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn patches_transform_input_and_truth_alike_and_are_normalised() {
    // Truth = 2 * input + 5: after each is min-max normalised they are equal, whatever
    // flip or rotation was drawn, as long as both got the same one.
    let input = Array2::from_shape_fn((40, 48), |(r, c)| {
        (r * 48 + c) as f32 + ((r * c) % 7) as f32
    });
    let pair = ImagePair {
        truth: input.mapv(|v| 2.0 * v + 5.0),
        input,
    };
    let options = PatchOptions {
        size: 16,
        flips: true,
        noise: false,
    };
    let mut rng = SplitMix64::new(3);
    for _ in 0..20 {
        let s = random_sample(std::slice::from_ref(&pair), &options, &mut rng);
        assert_eq!(s.input.dim(), (16, 16));
        for (a, b) in s.input.iter().zip(&s.truth) {
            assert!((a - b).abs() < 1e-5);
        }
        let (lo, hi) = s
            .input
            .iter()
            .fold((1.0f32, 0.0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(lo == 0.0 && hi == 1.0);
    }
    // With noise the input stays in [0, 1] and differs from the truth.
    let noisy = PatchOptions {
        noise: true,
        ..options
    };
    let s = random_sample(std::slice::from_ref(&pair), &noisy, &mut rng);
    assert!(s.input.iter().all(|v| (0.0..=1.0).contains(v)));
    // Validation: every whole non-overlapping patch, 2 x 3 here.
    assert_eq!(grid_samples(std::slice::from_ref(&pair), 16).len(), 6);
    assert!(minmax_normalize(Array2::from_elem((4, 4), 7.0f32).view())
        .iter()
        .all(|&v| v == 0.0));
}
