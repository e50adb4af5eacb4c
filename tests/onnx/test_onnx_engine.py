"""examples/python/onnx_engine.py (mrbcr's tiling around an ONNX Runtime session)
against the native engine, `mrbcr deconvolve` (run by .ci/bioimageio, in its venv).

Usage: python test_onnx_engine.py MRBCR_BINARY WORK_DIR

The bundled model exported to ONNX; a 2-plane uint16 stack of 206 x 333 pixels (not
multiples of 4: the mirrored extension is exercised) deconvolved by both, with
several tilings and normalisations; each result within 1e-4 of the native one, in
units of the normalised range (the plane's percentile spread for `input` output).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))
from onnx_engine import OnnxEngine, axis_plan  # noqa: E402

TOLERANCE = 1e-4


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))}\n{result.stderr}")
    return result.stdout


def stack(height, width):
    """Two planes of blurred blobs over a background, with Poisson-like noise."""
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for _ in range(2):
        plane = np.full((height, width), 100.0)
        for cy, cx, sigma in zip(rng.uniform(0, height, 60), rng.uniform(0, width, 60), rng.uniform(1.5, 5, 60)):
            plane += 3000 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
        planes.append(rng.poisson(plane))
    return np.stack(planes).astype(np.uint16)


def main():
    mrbcr, work = (Path(a) for a in sys.argv[1:3])
    work.mkdir(parents=True, exist_ok=True)
    model = work / "bundled.onnx"
    run(mrbcr, "export-onnx", "-o", model)
    engine = OnnxEngine(model, cpu_only=True)
    image = stack(206, 333)
    tifffile.imwrite(work / "input.tif", image)
    spread = [float(np.diff(np.percentile(p.astype(np.float64), [1, 99.8]))[0]) for p in image]

    # The tiling itself: weights sum to one at every position, as the native plan's.
    for length, tile, overlap in ((206, 128, 32), (333, 96, 40), (1000, 512, 128), (17, 64, 16)):
        _, starts, weights = axis_plan(length, tile, overlap)
        total = np.zeros(length)
        for s, w in zip(starts, weights):
            total[s:s + len(w)] += w
        assert np.allclose(total, 1.0, atol=1e-6), (length, tile, overlap)

    failures = []
    cases = [
        ("tile 128, overlap 32, percentile", ["--tile", "128", "--overlap", "32"],
         dict(tile=128, overlap=32), "input"),
        ("tile 96, overlap 40, minmax, normalized", ["--tile", "96", "--overlap", "40", "--norm", "minmax",
                                                     "--output-range", "normalized"],
         dict(tile=96, overlap=40, normalization="minmax", output_range="normalized"), "normalized"),
        ("tile 64, overlap 16, per-tile-minmax", ["--tile", "64", "--overlap", "16", "--norm", "per-tile-minmax"],
         dict(tile=64, overlap=16, normalization="per-tile-minmax"), "input"),
        ("whole planes (tile 0)", ["--tile", "0"], dict(tile=0), "input"),
    ]
    for label, flags, options, output_range in cases:
        out = work / "native.tif"
        run(mrbcr, "deconvolve", work / "input.tif", "-o", out, "--quiet", *flags)
        native = tifffile.imread(out).astype(np.float32)
        onnx = engine.deconvolve(image, **options)
        assert onnx.shape == native.shape and onnx.dtype == np.float32, (onnx.shape, native.shape)
        if output_range == "input" and "per-tile" not in label:
            diff = max(float(np.abs(onnx[p] - native[p]).max()) / spread[p] for p in range(2))
        elif output_range == "input":
            # Per-tile scalings: relative to the plane's whole range.
            diff = max(float(np.abs(onnx[p] - native[p]).max()) / float(np.ptp(image[p])) for p in range(2))
        else:
            diff = float(np.abs(onnx - native).max())
        ok = diff <= TOLERANCE
        print(f"{'ok  ' if ok else 'FAIL'} {label}: max difference {diff:.3g} of the normalised range")
        if not ok:
            failures.append(label)

    # A 2-D image gives a 2-D result equal to the stack's plane.
    single = engine.deconvolve(image[0], tile=128, overlap=32)
    assert single.shape == image[0].shape
    assert np.array_equal(single, engine.deconvolve(image[:1], tile=128, overlap=32)[0])
    for bad, message in ((dict(tile=30), "multiple of 4"), (dict(tile=64, overlap=64), "smaller than"),
                         (dict(normalization="median"), "unknown normalisation")):
        try:
            engine.deconvolve(image, **bad)
        except ValueError as e:
            assert message in str(e), (bad, e)
        else:
            failures.append(f"accepted {bad}")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("ONNX engine matches the native engine")


if __name__ == "__main__":
    main()
