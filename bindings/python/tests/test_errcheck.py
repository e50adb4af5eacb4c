"""Every C function that returns an mrbcr_status raises on failure by itself (ctypes
``errcheck``), with the library's message: no call, in the bindings or in a program
that uses ``mrbcr._ffi.lib`` directly, can forget to check a status."""

import ctypes
import re
from ctypes import byref, c_size_t
from pathlib import Path

import numpy as np
import pytest

import mrbcr
from mrbcr import _ffi
from mrbcr._errors import error_for_status

HEADER = Path(__file__).resolve().parents[3] / "include" / "mrbcr.h"


def status_functions():
    """The functions include/mrbcr.h declares as returning an mrbcr_status."""
    return set(re.findall(r"^enum mrbcr_status (mrbcr_\w+)\(", HEADER.read_text(), re.M))


def test_every_declared_function_that_returns_a_status_checks_it():
    declared = set(_ffi.SIGNATURES)
    in_header = status_functions()
    assert declared - _ffi.NO_STATUS <= in_header, "declared functions missing from the header"
    checked = sorted(declared & in_header)
    assert checked == sorted(declared - _ffi.NO_STATUS) and len(checked) >= 30, checked
    unchecked = [
        name for name in checked if getattr(getattr(_ffi.lib, name), "errcheck", None) is None
    ]
    assert unchecked == [], f"status not checked: {unchecked}"
    # And no function that returns something else is mistaken for one.
    for name in _ffi.NO_STATUS:
        assert name not in in_header and getattr(getattr(_ffi.lib, name), "errcheck", None) is None


def test_a_failed_call_raises_with_the_thread_s_message():
    lib = _ffi.lib
    options = _ffi.OptionsHandle()
    assert lib.mrbcr_options_new(byref(options)) == 0  # success returns the status
    try:
        with pytest.raises(mrbcr.InvalidInputError, match="tile size 30 must be") as error:
            lib.mrbcr_options_set_tile(options, 30)
        assert error.value.status == 2 and isinstance(error.value, ValueError)
        with pytest.raises(mrbcr.InvalidInputError, match="unknown normalisation 'x'"):
            lib.mrbcr_options_set_normalization(options, b"x")
    finally:
        lib.mrbcr_options_free(options)
    with pytest.raises(mrbcr.NullParameterError, match="NULL"):
        lib.mrbcr_model_metadata_count(None, byref(c_size_t()))
    handle = _ffi.ModelHandle()
    with pytest.raises(mrbcr.MrbcrIOError, match="no-such-file.safetensors") as error:
        lib.mrbcr_model_load(b"/nonexistent/no-such-file.safetensors", byref(handle))
    assert isinstance(error.value, OSError) and error.value.status == 3
    assert not handle  # NULL: not written on failure


def test_running_out_of_memory_raises_memory_error(model):
    image = np.ones((1024, 1024), np.float32)
    with pytest.raises(MemoryError, match="memory") as error:
        mrbcr.deconvolve(model, image, tile=0, memory_limit=2**20)
    assert isinstance(error.value, mrbcr.OutOfMemoryError) and error.value.status == 9


@pytest.mark.parametrize(
    "status, kind",
    [
        (1, ValueError),
        (2, ValueError),
        (3, OSError),
        (4, mrbcr.ModelFileError),
        (5, mrbcr.CheckpointError),
        (6, mrbcr.CancelledError),
        (7, mrbcr.InternalError),
        (8, mrbcr.ImageFileError),
        (9, MemoryError),
        (10, mrbcr.InternalError),
        (11, mrbcr.TrainingError),
        (99, mrbcr.MrbcrError),  # a status of a newer library: still an error
    ],
)
def test_each_status_has_its_exception(status, kind):
    error = error_for_status(status, "the message")
    assert isinstance(error, kind) and isinstance(error, mrbcr.MrbcrError)
    assert error.status == status and str(error) == "the message"


def test_handles_are_typed_one_kind_is_refused_where_another_is_expected(model):
    lib = _ffi.lib
    options = _ffi.OptionsHandle()
    lib.mrbcr_options_new(byref(options))
    try:
        with pytest.raises(ctypes.ArgumentError):
            lib.mrbcr_model_metadata_count(options, byref(c_size_t()))  # options as a model
        with model._use() as handle:
            with pytest.raises(ctypes.ArgumentError):
                lib.mrbcr_options_set_tile(handle, 64)  # a model as options
            with pytest.raises(ctypes.ArgumentError):
                lib.mrbcr_train_options_set_steps(options, 5)  # options as training options
            count = c_size_t()
            lib.mrbcr_model_metadata_count(handle, byref(count))  # the right kind works
            assert count.value >= 7
    finally:
        lib.mrbcr_options_free(options)


def test_the_defaults_are_the_library_s():
    defaults = mrbcr.deconvolve_defaults()
    assert defaults == {
        "tile": 1024,
        "overlap": None,
        "normalization": "percentile:1:99.8",
        "output_range": "input",
        "threads": 0,
        "memory_limit": 0,
        "dtype": np.dtype(np.float32),
    }
    assert set(mrbcr.OUTPUT_RANGES) == {"input", "normalized"}
