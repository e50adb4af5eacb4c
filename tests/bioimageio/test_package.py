"""`mrbcr export-bioimageio` checked with the BioImage Model Zoo's own tools (run by
.ci/bioimageio, which makes the venv).

Usage: python test_package.py MRBCR_BINARY WORK_DIR

1. The bundled model's package: Python's zipfile reads the archive and checks every
   entry's CRC-32; numpy reads the test tensors; Pillow reads the cover (input |
   gap | output); rdf.yaml names the files, the halo and the percentiles.
2. bioimageio.core's `test_model` on the package passes: the description validates
   against the bioimage.io spec (format 0.5), and ONNX Runtime, after the zoo's own
   preprocessing of the test input, reproduces the test output (computed by mrbcr's
   native engine) within the package's tolerance, also at other valid sizes.
3. A file that is not a model is refused with a message naming it, nothing written.
"""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from bioimageio.core import test_model

EXPECTED_FILES = {"rdf.yaml", "README.md", "weights.onnx", "test_input.npy", "test_output.npy", "cover.png"}


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))}\n{result.stderr}")
    return result.stdout


def main():
    mrbcr, work = (Path(a) for a in sys.argv[1:3])
    work.mkdir(parents=True, exist_ok=True)
    package = work / "bundled-bioimageio.zip"
    print(run(mrbcr, "export-bioimageio", "-o", package).strip())

    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None, "an entry's CRC-32 does not match"
        names = set(archive.namelist())
        assert names == EXPECTED_FILES, names
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
        extracted = work / "bundled-bioimageio"
        archive.extractall(extracted)
    assert rdf["format_version"].startswith("0.5."), rdf["format_version"]
    assert rdf["license"] == "MIT" and rdf["weights"]["onnx"]["opset_version"] == 17
    assert rdf["id"] == "-".join(re.findall("[a-z0-9]+", rdf["name"].lower())), (rdf["id"], rdf["name"])
    assert rdf["inputs"][0]["data"] == rdf["outputs"][0]["data"] == {"type": "float32"}
    assert [a["name"] for a in rdf["authors"][:3]] == ["Rui Li", "Mikhail Kudryashev", "Artur Yakimovich"]
    assert "2407.03239" in rdf["cite"][0]["doi"] and "ECCV" in rdf["cite"][0]["text"]
    (scale_range,) = rdf["inputs"][0]["preprocessing"]
    assert scale_range["id"] == "scale_range", scale_range
    assert (scale_range["kwargs"]["min_percentile"], scale_range["kwargs"]["max_percentile"]) == (1.0, 99.8)
    halos = [a.get("halo") for a in rdf["outputs"][0]["axes"] if a["type"] == "space"]
    assert halos == [64, 64], halos

    test_input = np.load(extracted / "test_input.npy")
    test_output = np.load(extracted / "test_output.npy")
    assert test_input.shape == test_output.shape == (1, 1, 192, 192), (test_input.shape, test_output.shape)
    assert test_input.dtype == test_output.dtype == np.float32
    assert test_input.min() >= 0 and test_input.max() > 100, "camera counts expected"
    lo, hi = np.percentile(test_input, [1, 99.8])
    correlation = np.corrcoef(test_output.ravel(), test_input.ravel())[0, 1]
    assert correlation > 0.5, f"the test output does not follow the test input (correlation {correlation:.3f})"
    cover = Image.open(extracted / "cover.png")
    cover.load()
    assert cover.mode == "L" and cover.size == (2 * 192 + 8, 192), (cover.mode, cover.size)
    pixels = np.asarray(cover)
    assert (pixels[:, 192:200] == 255).all(), "the gap between input and output is white"
    expected_left = np.round(np.clip((test_input[0, 0] - lo) / (hi - lo), 0, 1) * 255)
    assert np.abs(pixels[:, :192].astype(float) - expected_left).max() <= 1, "the cover's left half is the input"
    expected_right = np.round(np.clip(test_output[0, 0], 0, 1) * 255)
    assert np.abs(pixels[:, 200:].astype(float) - expected_right).max() <= 1, "the cover's right half is the output"

    summary = test_model(package)
    summary.display()
    failed = [d for d in summary.details if d.status != "passed"]
    for d in failed:
        print(f"FAILED detail: {d.name}: {d.errors}")
    assert summary.status == "passed", f"bioimageio test_model: {summary.status}"

    bad = subprocess.run([str(mrbcr), "export-bioimageio", str(test_input.shape), "-o", str(work / "bad.zip")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and str(test_input.shape) in bad.stderr, bad.stderr
    assert not (work / "bad.zip").exists()
    print(f"package: {package.stat().st_size} bytes; bioimageio test_model passed")


if __name__ == "__main__":
    main()
