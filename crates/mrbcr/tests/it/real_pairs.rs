//! Pairs made from sharp real images: the list format and its errors, the robust
//! scaling of the planes, and pairs that are deterministic, whose raw image is the
//! truth blurred by the drawn PSF, and whose truth is in camera units.

use std::path::{Path, PathBuf};

use mrbcr::classical::convolution::{ConvolutionMode, Convolver};
use mrbcr::classical::psf::born_wolf_psf;
use mrbcr::formats::tiff::{write_tiff, TiffMetadata};
use mrbcr::simulate::real::{
    real_pair, real_pair_set, PlaneSelection, RealImageList, RealPairSettings,
};
use mrbcr::{ImageStack, Pixels};
use ndarray::Array2;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mrbcr-real-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 2-plane 96 x 80 stack of blobs and lines (plane 1 twice as bright).
fn write_specimen(path: &Path) {
    let (w, h) = (80usize, 96usize);
    let mut values = Vec::with_capacity(w * h * 2);
    for plane in 0..2 {
        for y in 0..h {
            for x in 0..w {
                let blob =
                    (-(((y as f32 - 40.0).powi(2) + (x as f32 - 30.0).powi(2)) / 200.0)).exp();
                let line = if (x + 2 * y) % 37 < 2 { 0.5 } else { 0.0 };
                values.push(((blob + line) * 1000.0 * (plane + 1) as f32) as u16 + 100);
            }
        }
    }
    let stack = ImageStack::new(w, h, 2, Pixels::U16(values)).unwrap();
    write_tiff(path, &stack, &TiffMetadata::default()).unwrap();
}

#[test]
fn lists_parse_and_name_the_bad_line() {
    let list = RealImageList::parse(
        "# comment\n\na.tif\t77.5\tall\tBSD-3-Clause\tsomewhere\nb.tif\t-\t0,2\tCC BY 4.0\tthere\nc.tif\t146\tsum\tBSD\tx\n",
        "test list",
    )
    .unwrap();
    assert_eq!(list.entries.len(), 3);
    assert_eq!(list.entries[0].pixel_size_nm, Some(77.5));
    assert_eq!(list.entries[1].pixel_size_nm, None);
    assert_eq!(list.entries[1].planes, PlaneSelection::Listed(vec![0, 2]));
    assert_eq!(list.entries[2].planes, PlaneSelection::Sum);
    assert!(list
        .description()
        .contains("b.tif (pixel size unknown; CC BY 4.0; from there)"));

    for (text, needle) in [
        ("a.tif\t77\tall\tBSD\n\nb.tif\t1\n", "line 1: expected 5"),
        ("a.tif\t-3\tall\tBSD\tx\n", "line 1: the pixel size"),
        ("# c\na.tif\t3\tsome\tBSD\tx\n", "line 2: planes must be"),
        ("# nothing\n", "lists no images"),
    ] {
        let message = RealImageList::parse(text, "test list")
            .unwrap_err()
            .to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
}

#[test]
fn planes_are_chosen_and_scaled_to_their_percentiles() {
    let dir = temp_dir("load");
    write_specimen(&dir.join("s.tif"));
    let list = RealImageList::parse(
        "s.tif\t100\tall\tBSD\tx\ns.tif\t100\t1\tBSD\tx\ns.tif\t100\tsum\tBSD\tx\n",
        "list",
    )
    .unwrap();
    let images = list.load(&dir).unwrap();
    assert_eq!(images[0].planes.len(), 2);
    assert_eq!(images[1].planes.len(), 1);
    assert_eq!(images[1].planes[0].name, "s.tif (plane 1)");
    assert_eq!(images[2].planes[0].name, "s.tif (sum of 2 planes)");
    for plane in &images[0].planes {
        let p = &plane.pixels;
        assert!(p.iter().all(|&v| v >= 0.0));
        let mut sorted: Vec<f32> = p.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q / 100.0).round() as usize];
        assert!(
            at(SCALE_HIGH) > 0.97 && at(SCALE_HIGH) < 1.03,
            "{}",
            at(SCALE_HIGH)
        );
        assert!(at(0.5) == 0.0);
    }
    // Planes of different brightness scale to the same values.
    let (a, b) = (&images[0].planes[0].pixels, &images[0].planes[1].pixels);
    let largest_gap = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(largest_gap < 0.01, "{largest_gap}");

    let missing = RealImageList::parse("s.tif\t100\t5\tBSD\tx\n", "list")
        .unwrap()
        .load(&dir)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("no plane 5"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

const SCALE_HIGH: f64 = mrbcr::simulate::real::SCALE_HIGH_PERCENTILE;

fn small_settings() -> RealPairSettings {
    RealPairSettings {
        size: 64,
        ..RealPairSettings::default()
    }
}

#[test]
fn pairs_are_deterministic_and_the_raw_image_is_the_truth_blurred() {
    let dir = temp_dir("pairs");
    write_specimen(&dir.join("s.tif"));
    let images = RealImageList::parse("s.tif\t100\tall\tBSD\tx\n", "list")
        .unwrap()
        .load(&dir)
        .unwrap();
    let settings = RealPairSettings {
        out_of_focus_probability: 0.0,
        ..small_settings()
    };
    let set = real_pair_set(&images, &settings, 7, 6).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| real_pair_set(&images, &settings, 7, 6).unwrap());
    assert_eq!(set, one_thread);
    assert_eq!(set[3], real_pair(&images, &settings, 7, 3).unwrap());
    assert_ne!(set[0].raw, set[1].raw);

    for pair in &set {
        let acq = &pair.acquisition;
        let offset = acq.camera.offset as f32;
        // The truth is in counts: its empty pixels sit at the offset.
        let lowest = pair.truth.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        assert!(lowest >= offset - 1e-3, "{lowest}");
        // Blurred by the acquisition's PSF, it is the raw image's expected value up to
        // the background: the two correlate closely when there is light enough.
        let photons = pair.truth.mapv(|v| (v - offset) / acq.camera.gain as f32);
        let blurred = Convolver::new(
            born_wolf_psf(&acq.psf).unwrap().view(),
            64,
            64,
            ConvolutionMode::Linear,
        )
        .unwrap()
        .convolve(photons.view())
        .unwrap();
        let raw = pair.raw.mapv(f32::from);
        let inner = ndarray::s![16..48, 16..48];
        let r = correlation(
            &blurred.slice(inner).to_owned(),
            &raw.slice(inner).to_owned(),
        );
        let peak = blurred.iter().fold(0.0f32, |m, &v| m.max(v));
        if acq.peak_photons > 200.0 && peak > 0.5 * acq.peak_photons as f32 {
            assert!(r > 0.9, "correlation {r} at {} photons", acq.peak_photons);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_settings_are_named() {
    let images = Vec::new();
    let message = real_pair(&images, &small_settings(), 1, 0)
        .unwrap_err()
        .to_string();
    assert!(message.contains("at least one image"), "{message}");
    let settings = RealPairSettings {
        out_of_focus_blur_pixels: (6.0, 40.0),
        ..small_settings()
    };
    let message = settings.validate().unwrap_err().to_string();
    assert!(message.contains("out-of-focus blur radius"), "{message}");
    let settings = RealPairSettings {
        gamma: (0.0, 1.0),
        ..small_settings()
    };
    assert!(settings
        .validate()
        .unwrap_err()
        .to_string()
        .contains("gamma"));
}

fn correlation(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (
        a.iter().map(|&v| f64::from(v)).sum::<f64>() / n,
        b.iter().map(|&v| f64::from(v)).sum::<f64>() / n,
    );
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt()
}

/// Writes pairs from the bundled training list for a look:
/// `MRBCR_REAL_DIR=../shared/data/real-sharp MRBCR_LOOK_DIR=/tmp/look cargo test
/// --release --test real_pairs -- --ignored write_pairs_to_look_at` writes
/// `raw_K.tif` and `truth_K.tif` for the first 24 pairs.
#[test]
#[ignore = "a tool: needs the real images (MRBCR_REAL_DIR) and a folder (MRBCR_LOOK_DIR)"]
fn write_pairs_to_look_at() {
    let real_dir = PathBuf::from(std::env::var("MRBCR_REAL_DIR").unwrap());
    let look_dir = PathBuf::from(std::env::var("MRBCR_LOOK_DIR").unwrap());
    std::fs::create_dir_all(&look_dir).unwrap();
    let images = RealImageList::parse(mrbcr::simulate::real::TRAINING_LIST, "training list")
        .unwrap()
        .load(&real_dir)
        .unwrap();
    let start = std::time::Instant::now();
    let pairs = real_pair_set(&images, &RealPairSettings::default(), 2000, 24).unwrap();
    eprintln!("24 pairs in {:.2} s", start.elapsed().as_secs_f64());
    for (k, pair) in pairs.iter().enumerate() {
        let (h, w) = pair.raw.dim();
        let raw = ImageStack::new(w, h, 1, Pixels::U16(pair.raw.iter().copied().collect()));
        let truth = ImageStack::new(w, h, 1, Pixels::F32(pair.truth.iter().copied().collect()));
        let meta = TiffMetadata::default();
        write_tiff(&look_dir.join(format!("raw_{k}.tif")), &raw.unwrap(), &meta).unwrap();
        write_tiff(
            &look_dir.join(format!("truth_{k}.tif")),
            &truth.unwrap(),
            &meta,
        )
        .unwrap();
        eprintln!(
            "{k}: {} px {:.0} nm NA {:.2} peak {:.0} photons",
            pair.origin,
            pair.acquisition.psf.pixel_size_nm,
            pair.acquisition.psf.numerical_aperture,
            pair.acquisition.peak_photons
        );
    }
}
