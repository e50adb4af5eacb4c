"""The wheel as a user gets it: installed with pip into a fresh venv, no Rust and no
repository on the path. Run by .ci/python-wheel-napari for each Python it finds, with
MRBCR_CLI_RESULT naming the `mrbcr deconvolve` result of the sample (the bundled
model, the defaults) and MRBCR_SAMPLE the sample itself."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

import mrbcr
from mrbcr import _ffi


def required(name: str) -> Path:
    value = os.environ.get(name)
    if not value or not Path(value).is_file():
        raise pytest.UsageError(f"set {name} (see .ci/python-wheel-napari)")
    return Path(value)


def test_the_library_is_the_one_inside_the_installed_package():
    package = Path(mrbcr.__file__).resolve().parent
    assert Path(sys.prefix).resolve() in package.parents, "mrbcr imported from outside the venv"
    assert Path(_ffi.lib._name).resolve() == package / "libmrbcr.so"
    assert shutil.which("cargo") is None and "MRBCR_LIBRARY" not in os.environ
    assert importlib.metadata.version("mrbcr") == mrbcr.version()


def test_the_bundled_model_restores_the_sample_as_the_mrbcr_tool_does():
    sample = tifffile.imread(required("MRBCR_SAMPLE"))
    expected = tifffile.imread(required("MRBCR_CLI_RESULT"))
    with mrbcr.Model() as model:
        restored = mrbcr.deconvolve(model, sample)
    assert restored.dtype == np.float32 and restored.shape == (512, 512)
    assert restored.tobytes() == expected.astype(np.float32).tobytes()


def test_the_acquisition_example_restores_every_frame():
    example = required("MRBCR_ACQUISITION_EXAMPLE")
    run = subprocess.run(
        [sys.executable, str(example), "--frames", "3", "--size", "128", "--interval", "0.05"],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["frame   0", "frame   1", "frame   2"]
    assert "3 restored, 0 dropped" in lines[-1], lines[-1]
