//! The network against the authors' TensorFlow model: the official checkpoint,
//! imported by our own importer, must reproduce the golden outputs and every
//! intermediate within 1e-4 (see ../shared/reference/MODEL.md).

use std::collections::HashMap;
use std::path::PathBuf;

use mrbcr::formats::tf_import::import_tf_checkpoint;
use mrbcr::network::{Network, Workspace};
use ndarray::{Array2, ArrayD, IxDyn};
use safetensors::SafeTensors;

const TOLERANCE: f32 = 1e-4;

fn reference() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference"
    ));
    assert!(
        dir.join("MODEL.md").exists(),
        "the reference material is missing: expected it at {} (see DEVELOPERS.md)",
        dir.display()
    );
    dir
}

fn official_network() -> Network {
    let (weights, _) = import_tf_checkpoint(&reference().join("official-m-rBCR/ckpt-24"))
        .expect("importing the official checkpoint");
    Network::new(&weights)
}

/// Every tensor of a golden file, as f32 arrays.
fn golden(name: &str) -> HashMap<String, ArrayD<f32>> {
    let path = reference().join("golden").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).expect("golden file");
    st.tensors()
        .into_iter()
        .map(|(k, v)| {
            let data: Vec<f32> = v
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (k, ArrayD::from_shape_vec(IxDyn(v.shape()), data).unwrap())
        })
        .collect()
}

/// Image `n` of an `[N, H, W, 1]` tensor.
fn image(t: &ArrayD<f32>, n: usize) -> Array2<f32> {
    let s = t.shape();
    Array2::from_shape_vec(
        (s[1], s[2]),
        t.as_slice().unwrap()[n * s[1] * s[2]..(n + 1) * s[1] * s[2]].to_vec(),
    )
    .unwrap()
}

fn max_abs_diff<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> f32 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs input `x` and returns every output and traced intermediate by name.
fn run_traced(net: &Network, x: &Array2<f32>) -> HashMap<String, ArrayD<f32>> {
    let mut seen = HashMap::new();
    let out = net
        .forward_all(
            x.view(),
            &mut Workspace::new(),
            Some(&mut |name, a| {
                seen.insert(name.to_string(), a.to_owned().into_dyn());
            }),
        )
        .unwrap();
    seen.insert("z0".into(), out.z0.into_dyn());
    seen.insert("z2".into(), out.z2.unwrap().into_dyn());
    seen.insert("z4".into(), out.z4.unwrap().into_dyn());
    seen
}

#[test]
fn official_checkpoint_reproduces_the_golden_outputs() {
    let net = official_network();
    let g = golden("official_mrbcr_golden.safetensors");
    let n = g["x0"].shape()[0];
    assert_eq!(n, 9);
    let mut failures = Vec::new();
    for i in 0..n {
        let x0 = image(&g["x0"], i);
        // The golden x2, x4 are the subsampled inputs, as MODEL.md says.
        let x2 = image(&g["x2"], i);
        let x4 = image(&g["x4"], i);
        assert_eq!(x2, x0.slice(ndarray::s![..;2, ..;2]), "x2 of input {i}");
        assert_eq!(x4, x0.slice(ndarray::s![..;4, ..;4]), "x4 of input {i}");
        let got = run_traced(&net, &x0);
        for name in ["y0", "y2", "y4", "z0", "z2", "z4"] {
            let want = image(&g[name], i);
            let err = max_abs_diff(got[name].iter(), want.iter());
            eprintln!("input {i} {name}: max |error| {err:.2e}");
            if err > TOLERANCE || err.is_nan() {
                failures.push(format!("input {i} {name}: max |error| {err:e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "outputs beyond {TOLERANCE}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn official_checkpoint_reproduces_the_any_size_outputs() {
    let net = official_network();
    let g = golden("official_mrbcr_golden_anysize.safetensors");
    let mut failures = Vec::new();
    for size in ["192x256", "96x160"] {
        let x = &g[&format!("x0_{size}")];
        for i in 0..x.shape()[0] {
            let got = run_traced(&net, &image(x, i));
            for out in ["z0", "z2", "z4"] {
                let want = image(&g[&format!("{out}_{size}")], i);
                let err = max_abs_diff(got[out].iter(), want.iter());
                eprintln!("{size} #{i} {out}: max |error| {err:.2e}");
                if err > TOLERANCE || err.is_nan() {
                    failures.push(format!("{size} #{i} {out}: max |error| {err:e}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "outputs beyond {TOLERANCE}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_intermediate_matches_and_a_failure_names_the_stage() {
    let net = official_network();
    let inputs = golden("official_mrbcr_golden.safetensors");
    let want = golden("official_mrbcr_intermediates.safetensors");
    let got = run_traced(&net, &image(&inputs["x0"], 0));
    // In the order the network computes them, so the first failure is where it diverged.
    let stages = [
        "u0",
        "u2",
        "u4",
        "fusionA_u0_y2",
        "fusionA_y2_y4",
        "xi4",
        "x42",
        "xi2",
        "x20",
        "xi0",
    ];
    assert_eq!(
        want.len(),
        stages.len(),
        "the intermediates file holds other stages"
    );
    let mut report = Vec::new();
    let mut first_bad = None;
    for stage in stages {
        let w = &want[stage];
        let g = got
            .get(stage)
            .unwrap_or_else(|| panic!("the network did not trace '{stage}'"));
        assert_eq!(&w.shape()[1..], g.shape(), "shape of {stage}");
        let err = max_abs_diff(g.iter(), w.iter());
        report.push(format!("{stage:>14}: max |error| {err:.2e}"));
        if (err > TOLERANCE || err.is_nan()) && first_bad.is_none() {
            first_bad = Some(stage);
        }
    }
    eprintln!("{}", report.join("\n"));
    if let Some(stage) = first_bad {
        panic!(
            "the network diverges from TensorFlow first at '{stage}':\n{}",
            report.join("\n")
        );
    }
}
