//! The classical functions of the C ABI (PSF, Richardson-Lucy, Wiener, simulation,
//! scores) against the Rust API.
//!
//! - `write_classical_fixtures` (ignored; run by .ci/run with
//!   `MRBCR_FFI_FIXTURES=<dir>`) writes what tests/c/test_classical.c compares with:
//!   the parameters (`classical.txt`, one `key value` per line) and the Rust API's
//!   results for them, as native-endian raw pixels. The C test makes the same calls
//!   through the ABI and requires bit-identical results.
//! - The other tests run with `cargo test`: Richardson-Lucy through the ABI, called
//!   from Rust, against the Rust API. (The defaults the header states are checked in
//!   `src/header_defaults.rs`.)

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::ptr;

use mrbcr::classical::psf::{born_wolf_psf, gaussian_psf, PsfParams};
use mrbcr::classical::{richardson_lucy, wiener, RichardsonLucyParams};
use mrbcr::simulate::{score, simulate_pair, SimulationParams};
use mrbcr_capi::{
    mrbcr_image_in, mrbcr_image_out, mrbcr_pixel_type, mrbcr_richardson_lucy, mrbcr_status,
};
use ndarray::Array2;

/// The PSF of the PSF fixtures (the Gaussian one in focus).
fn psf_params() -> PsfParams {
    PsfParams {
        numerical_aperture: 1.2,
        wavelength_nm: 600.0,
        refractive_index: 1.33,
        pixel_size_nm: 80.0,
        defocus_nm: 350.0,
        width: 17,
        height: 13,
        oversampling: 3,
    }
}

/// Small simulated images, cheap enough for valgrind.
fn simulation_params() -> SimulationParams {
    let mut params = SimulationParams {
        width: 40,
        height: 32,
        pixel_size_nm: 70.0,
        oversampling: 2,
        numerical_aperture: (1.0, 1.3),
        wavelength_nm: (520.0, 600.0),
        refractive_index: 1.4,
        psf_size: 21,
        peak_photons: (100.0, 1000.0),
        background_photons: (1.0, 5.0),
        out_of_focus_layers: 1,
        defocus_nm: (400.0, 900.0),
        ..SimulationParams::default()
    };
    params.camera.offset = 90.0;
    params.camera.gain = 1.5;
    params.camera.read_noise = 2.0;
    params
}

/// Seed of the simulated set; images 0 and 1 make the two-plane stack.
const SEED: u64 = 11;
/// Richardson-Lucy settings of the fixtures.
const RL: RichardsonLucyParams = RichardsonLucyParams {
    iterations: 6,
    tv_lambda: 0.002,
};
/// Wiener noise-to-signal ratio of the fixtures.
const NOISE_TO_SIGNAL: f64 = 0.01;

/// The f32 values as native-endian bytes, planes one after the other.
fn f32_bytes<'a>(planes: impl IntoIterator<Item = &'a Array2<f32>>) -> Vec<u8> {
    planes
        .into_iter()
        .flat_map(|p| p.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<_>>())
        .collect()
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[test]
#[ignore = "writes the fixtures of tests/c/test_classical.c into $MRBCR_FFI_FIXTURES; run by .ci/run"]
fn write_classical_fixtures() {
    let dir = PathBuf::from(
        std::env::var_os("MRBCR_FFI_FIXTURES")
            .expect("set MRBCR_FFI_FIXTURES to the directory to write the fixtures into"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let psf = psf_params();
    let sim = simulation_params();
    let mut manifest = String::from("# key value: the parameters of the fixtures\n");
    let mut put = |key: &str, value: f64| writeln!(manifest, "{key} {value}").unwrap();
    put("psf.numerical_aperture", psf.numerical_aperture);
    put("psf.wavelength_nm", psf.wavelength_nm);
    put("psf.refractive_index", psf.refractive_index);
    put("psf.pixel_size_nm", psf.pixel_size_nm);
    put("psf.defocus_nm", psf.defocus_nm);
    put("psf.width", psf.width as f64);
    put("psf.height", psf.height as f64);
    put("psf.oversampling", psf.oversampling as f64);
    put("sim.width", sim.width as f64);
    put("sim.height", sim.height as f64);
    put("sim.pixel_size_nm", sim.pixel_size_nm);
    put("sim.oversampling", sim.oversampling as f64);
    put("sim.numerical_aperture.min", sim.numerical_aperture.0);
    put("sim.numerical_aperture.max", sim.numerical_aperture.1);
    put("sim.wavelength_nm.min", sim.wavelength_nm.0);
    put("sim.wavelength_nm.max", sim.wavelength_nm.1);
    put("sim.refractive_index", sim.refractive_index);
    put("sim.psf_size", sim.psf_size as f64);
    put("sim.peak_photons.min", sim.peak_photons.0);
    put("sim.peak_photons.max", sim.peak_photons.1);
    put("sim.background_photons.min", sim.background_photons.0);
    put("sim.background_photons.max", sim.background_photons.1);
    put("sim.camera.offset", sim.camera.offset);
    put("sim.camera.gain", sim.camera.gain);
    put("sim.camera.read_noise", sim.camera.read_noise);
    put("sim.out_of_focus_layers", sim.out_of_focus_layers as f64);
    put("sim.defocus_nm.min", sim.defocus_nm.0);
    put("sim.defocus_nm.max", sim.defocus_nm.1);
    put("sim.seed", SEED as f64);
    put("rl.iterations", RL.iterations as f64);
    put("rl.tv_lambda", RL.tv_lambda);
    put("wiener.noise_to_signal", NOISE_TO_SIGNAL);
    write_file(&dir.join("classical.txt"), manifest.as_bytes());

    let born_wolf = born_wolf_psf(&psf).unwrap();
    write_file(&dir.join("psf_born_wolf.f32"), &f32_bytes([&born_wolf]));
    let in_focus = PsfParams {
        defocus_nm: 0.0,
        ..psf
    };
    let gaussian = gaussian_psf(&in_focus).unwrap();
    write_file(&dir.join("psf_gaussian.f32"), &f32_bytes([&gaussian]));

    let pairs: Vec<_> = (0..2)
        .map(|index| simulate_pair(&sim, SEED, index).unwrap())
        .collect();
    let raw: Vec<u8> = pairs
        .iter()
        .flat_map(|p| p.raw.iter().flat_map(|v| v.to_ne_bytes()))
        .collect();
    write_file(&dir.join("sim_raw.u16"), &raw);
    write_file(
        &dir.join("sim_truth.f32"),
        &f32_bytes(pairs.iter().map(|p| &p.ground_truth)),
    );
    let true_psf = born_wolf_psf(&pairs[0].conditions.psf).unwrap();
    write_file(&dir.join("sim_psf.f32"), &f32_bytes([&true_psf]));

    // Both raw images, as float planes (exact), deconvolved with image 0's true PSF.
    let planes: Vec<Array2<f32>> = pairs.iter().map(|p| p.raw.mapv(f32::from)).collect();
    let rl: Vec<Array2<f32>> = planes
        .iter()
        .map(|p| richardson_lucy(p.view(), true_psf.view(), &RL, None).unwrap())
        .collect();
    write_file(&dir.join("rl.f32"), &f32_bytes(&rl));
    let wiener: Vec<Array2<f32>> = planes
        .iter()
        .map(|p| wiener(p.view(), true_psf.view(), NOISE_TO_SIGNAL).unwrap())
        .collect();
    write_file(&dir.join("wiener.f32"), &f32_bytes(&wiener));
    let scores = score(rl[0].view(), pairs[0].ground_truth.view()).unwrap();
    let score_bytes: Vec<u8> = [scores.psnr, scores.ssim]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    write_file(&dir.join("scores.f64"), &score_bytes);
}

/// Counts the progress calls; cancels at call `cancel_at` (0: never).
unsafe extern "C" fn count_calls(_fraction: f64, user_data: *mut std::ffi::c_void) -> i32 {
    // SAFETY: user_data is the [usize; 2] of the test.
    let state = unsafe { &mut *user_data.cast::<[usize; 2]>() };
    state[0] += 1;
    i32::from(state[1] == 0 || state[0] < state[1])
}

#[test]
fn richardson_lucy_through_the_abi_gives_the_rust_api_results() {
    let (w, h, planes) = (23, 19, 3);
    let input: Vec<u16> = (0..w * h * planes)
        .map(|i| (100 + (i * 7919) % 600) as u16)
        .collect();
    let psf = gaussian_psf(&PsfParams {
        width: 9,
        height: 9,
        ..PsfParams::default()
    })
    .unwrap();
    let params = RichardsonLucyParams {
        iterations: 4,
        tv_lambda: 0.001,
    };
    let expected: Vec<f32> = input
        .chunks(w * h)
        .flat_map(|plane| {
            let plane = Array2::from_shape_fn((h, w), |(y, x)| f32::from(plane[y * w + x]));
            richardson_lucy(plane.view(), psf.view(), &params, None)
                .unwrap()
                .into_iter()
        })
        .collect();
    let abi_in = mrbcr_image_in {
        data: input.as_ptr().cast(),
        pixel_type: mrbcr_pixel_type::U16 as u32,
        width: w,
        height: h,
        planes,
        row_stride: 0,
        plane_stride: 0,
    };
    let abi_psf = mrbcr_image_in {
        data: psf.as_ptr().cast(),
        pixel_type: mrbcr_pixel_type::F32 as u32,
        width: 9,
        height: 9,
        planes: 1,
        row_stride: 0,
        plane_stride: 0,
    };
    let mut output = vec![f32::NAN; w * h * planes];
    let abi_out = mrbcr_image_out {
        data: output.as_mut_ptr().cast(),
        pixel_type: mrbcr_pixel_type::F32 as u32,
        width: w,
        height: h,
        planes,
        row_stride: 0,
        plane_stride: 0,
    };
    let mut calls = [0usize, 0];
    let run = |calls: &mut [usize; 2]| {
        // SAFETY: the descriptors describe live buffers; the callback gets `calls`.
        unsafe {
            mrbcr_richardson_lucy(
                &abi_in,
                &abi_psf,
                params.iterations,
                params.tv_lambda,
                &abi_out,
                Some(count_calls),
                ptr::from_mut(calls).cast(),
            )
        }
    };
    assert_eq!(run(&mut calls), mrbcr_status::Ok);
    assert_eq!(
        calls[0],
        params.iterations * planes,
        "one call per iteration"
    );
    assert!(
        output
            .iter()
            .map(|v| v.to_bits())
            .eq(expected.iter().map(|v| v.to_bits())),
        "the ABI's result differs from the Rust API's"
    );
    calls = [0, 5];
    assert_eq!(run(&mut calls), mrbcr_status::Cancelled);
    assert_eq!(calls[0], 5, "no call after the cancelling one");
    assert!(
        output.iter().all(|&v| v == 0.0),
        "a cancelled run is zeroed"
    );
}
