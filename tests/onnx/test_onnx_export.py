"""`mrbcr export-onnx` checked with ONNX Runtime (run by .ci/onnx, which makes the venv).

Usage: python test_onnx_export.py MRBCR_BINARY WORK_DIR REFERENCE_DIR

1. The authors' checkpoint, imported and exported: ONNX Runtime reproduces the
   TensorFlow goldens of reference/golden (z0, z2, z4 at 128x128 for all 9 inputs, and
   at 192x256 and 96x160) within 1e-4.
2. The bundled model, exported without a model argument: ONNX Runtime on a normalised
   2-plane stack matches `mrbcr deconvolve --tile 0 --norm none` within 1e-4.
The exported files also pass onnx.checker's full check (with shape inference).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import tifffile
from safetensors.numpy import load_file

TOLERANCE = 1e-4


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))}\n{result.stderr}")
    return result.stdout


def session(path):
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in s.get_inputs()] == ["x0"], s.get_inputs()
    assert [o.name for o in s.get_outputs()] == ["z0", "z2", "z4"], s.get_outputs()
    return s


def nhwc_to_nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def check(label, found, expected, failures):
    diff = float(np.max(np.abs(found - expected)))
    ok = found.shape == expected.shape and diff <= TOLERANCE
    print(f"{'ok  ' if ok else 'FAIL'} {label}: shape {found.shape}, max abs difference {diff:.3g}")
    if not ok:
        failures.append(label)


def main():
    mrbcr, work, ref = (Path(a) for a in sys.argv[1:4])
    work.mkdir(parents=True, exist_ok=True)
    failures = []

    official = work / "official.safetensors"
    # The overlap import-tf measures for these weights (crates/mrbcr-cli/tests/it/cli.rs).
    run(mrbcr, "import-tf", ref / "official-m-rBCR" / "ckpt-24", "-o", official,
        "--tile-overlap", "192")
    official_onnx = work / "official.onnx"
    run(mrbcr, "export-onnx", official, "-o", official_onnx)
    s = session(official_onnx)
    meta = onnx.load(str(official_onnx)).metadata_props
    assert any(p.key == "license" and "MIT" in p.value for p in meta), meta

    golden = load_file(str(ref / "golden" / "official_mrbcr_golden.safetensors"))
    z0, z2, z4 = s.run(None, {"x0": nhwc_to_nchw(golden["x0"])})
    for name, found in (("z0", z0), ("z2", z2), ("z4", z4)):
        check(f"official, golden {name} (9 x 128x128)", found, nhwc_to_nchw(golden[name]), failures)
    anysize = load_file(str(ref / "golden" / "official_mrbcr_golden_anysize.safetensors"))
    for key in sorted(k for k in anysize if k.startswith("x0_")):
        size = key[3:]
        outputs = s.run(None, {"x0": nhwc_to_nchw(anysize[key])})
        for name, found in zip(("z0", "z2", "z4"), outputs):
            check(f"official, anysize {name}_{size}", found, nhwc_to_nchw(anysize[f"{name}_{size}"]), failures)

    # The bundled model on a normalised stack of 2 planes of 196 x 260: smooth blobs
    # and lines with noise, scaled by their 1st and 99.8th percentiles.
    rng = np.random.default_rng(17)
    height, width = 196, 260
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = []
    for _ in range(2):
        plane = np.zeros((height, width), np.float32)
        for cy, cx, sigma in zip(rng.uniform(0, height, 40), rng.uniform(0, width, 40), rng.uniform(1, 6, 40)):
            plane += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
        plane += 0.3 * np.sin(xx / 7.0 + yy / 11.0) ** 8 + rng.normal(0, 0.02, plane.shape)
        lo, hi = np.percentile(plane, [1, 99.8])
        planes.append((plane - lo) / (hi - lo))
    stack = np.stack(planes).astype(np.float32)
    tifffile.imwrite(work / "normalised.tif", stack)
    run(mrbcr, "deconvolve", work / "normalised.tif", "-o", work / "restored.tif",
        "--tile", "0", "--norm", "none", "--quiet")
    native = tifffile.imread(work / "restored.tif").astype(np.float32)
    bundled_onnx = work / "bundled.onnx"
    run(mrbcr, "export-onnx", "-o", bundled_onnx)
    (z0, _, _) = session(bundled_onnx).run(None, {"x0": stack[:, None]})
    check("bundled model vs mrbcr deconvolve --tile 0 --norm none (2 x 196x260)", z0[:, 0], native, failures)

    # A file that is not a model file is refused with a message, and nothing is written.
    bad = subprocess.run([str(mrbcr), "export-onnx", str(work / "normalised.tif"), "-o", str(work / "bad.onnx")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "normalised.tif" in bad.stderr, bad.stderr
    assert not (work / "bad.onnx").exists()
    print(f"export sizes: official {official_onnx.stat().st_size} bytes, bundled {bundled_onnx.stat().st_size} bytes")

    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all ONNX export checks passed")


if __name__ == "__main__":
    main()
