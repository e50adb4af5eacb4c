"""Shared fixtures of the binding tests.

- MRBCR_FFI_FIXTURES: the directory tests/ffi_fixtures.rs writes (``cargo test
  --release --test ffi_fixtures -- --ignored write_fixtures`` with the variable set): a
  model of random weights, inputs, and the Rust API's results.
- MRBCR_OFFICIAL_MODEL: the authors' weights as a model file, imported at test time
  (``mrbcr import-tf ../shared/reference/official-m-rBCR/ckpt-24 -o FILE``), for the
  tests that need a network that really restores images.

.ci/run sets both."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import mrbcr

DTYPES = {"u8": np.uint8, "u16": np.uint16, "f32": np.float32, "f64": np.float64}


@dataclass
class Case:
    """One line of cases.txt: an input, options, and the Rust API's result."""

    name: str
    input_dtype: type
    output_dtype: type
    width: int
    height: int
    planes: int
    tile: int
    overlap: int
    normalization: str
    output_range: str

    def options(self):
        return dict(
            tile=self.tile,
            overlap=self.overlap,
            normalization=self.normalization,
            output_range=self.output_range,
        )

    def input(self) -> np.ndarray:
        shape = (self.planes, self.height, self.width)
        return np.fromfile(fixture_dir() / f"{self.name}.in", self.input_dtype).reshape(shape)

    def expected(self) -> np.ndarray:
        shape = (self.planes, self.height, self.width)
        return np.fromfile(fixture_dir() / f"{self.name}.out", self.output_dtype).reshape(shape)


def fixture_dir() -> Path:
    configured = os.environ.get("MRBCR_FFI_FIXTURES")
    if not configured or not (Path(configured) / "cases.txt").is_file():
        raise pytest.UsageError(
            "set MRBCR_FFI_FIXTURES to the directory tests/ffi_fixtures.rs wrote "
            "(see .ci/run)"
        )
    return Path(configured)


def read_cases():
    cases = []
    for line in (fixture_dir() / "cases.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, i, o, w, h, p, tile, overlap, normalization, output_range = line.split()
        cases.append(
            Case(name, DTYPES[i], DTYPES[o], int(w), int(h), int(p), int(tile), int(overlap),
                 normalization, output_range)
        )
    return cases


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = read_cases()
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])


@pytest.fixture(scope="session")
def model_path() -> Path:
    return fixture_dir() / "model.safetensors"


@pytest.fixture(scope="session")
def model(model_path) -> mrbcr.Model:
    with mrbcr.Model(model_path) as m:
        yield m


@pytest.fixture(scope="session")
def official_model_path() -> Path:
    configured = os.environ.get("MRBCR_OFFICIAL_MODEL")
    if not configured or not Path(configured).is_file():
        raise pytest.UsageError(
            "set MRBCR_OFFICIAL_MODEL to the authors' model imported with "
            "`mrbcr import-tf ../shared/reference/official-m-rBCR/ckpt-24 -o FILE` (see .ci/run)"
        )
    return Path(configured)


@pytest.fixture(scope="session")
def first_case() -> Case:
    return read_cases()[0]
