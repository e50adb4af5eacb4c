"""Training from Python (mrbcr.train_pairs, mrbcr.train_simulated) through the C
library, on the TIFF pairs tests/ffi_train_fixtures.rs writes into the directory named
by MRBCR_TRAIN_FIXTURES (.ci/run sets it)."""

import inspect
import os
import re
from pathlib import Path

import pytest

import mrbcr

TINY = dict(patch_size=16, batch_size=2, steps=6, log_every=2, checkpoint_every=2, threads=2)


@pytest.fixture(scope="module")
def pairs():
    directory = os.environ.get("MRBCR_TRAIN_FIXTURES")
    if not directory:
        pytest.fail("set MRBCR_TRAIN_FIXTURES to the directory write_train_fixtures wrote")
    d = Path(directory)
    return d / "low.tif", d / "high.tif", d / "high-short.tif"


def test_training_on_pairs_reports_progress_and_returns_the_model(pairs, tmp_path):
    low, high, _ = pairs
    seen = []
    model = mrbcr.train_pairs(
        low,
        high,
        tmp_path / "run",
        validation_fraction=0.3,
        validate_every=3,
        patience=0,
        progress=lambda *p: seen.append(p),
        **TINY,
    )
    assert [p[0] for p in seen] == [2, 3, 4, 6]
    assert seen[0][2] is None and isinstance(seen[1][2], float)  # validated at 3 and 6
    assert all(p[1] > 0 for p in seen)
    meta = model.metadata
    assert meta["train.steps"] == "6"
    assert meta["data.pairs"] == "2 training, 1 validation"
    assert meta["provenance"].startswith("trained by mrbcr train")
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_a_stopped_run_resumes_to_the_uninterrupted_result(pairs, tmp_path):
    low, high, _ = pairs
    settings = dict(validate_every=0, init="default", **TINY)
    mrbcr.train_pairs(low, high, tmp_path / "whole", **settings)
    with pytest.raises(mrbcr.CancelledError, match="cancelled"):
        mrbcr.train_pairs(low, high, tmp_path / "halves", progress=lambda step, *_: step < 4, **settings)
    assert not (tmp_path / "halves" / "model.safetensors").exists()
    model = mrbcr.train_pairs(low, high, tmp_path / "halves", resume=True, **settings)
    assert model.metadata["train.init"] == "<bundled default model>"
    whole = (tmp_path / "whole" / "model.safetensors").read_bytes()
    assert (tmp_path / "halves" / "model.safetensors").read_bytes() == whole


def test_an_exception_in_the_callback_stops_and_is_reraised(pairs, tmp_path):
    low, high, _ = pairs

    def fail(*_):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        mrbcr.train_pairs(low, high, tmp_path / "run", validate_every=0, progress=fail, **TINY)


def test_bad_training_input_raises_with_the_library_message(pairs, tmp_path):
    low, high, short = pairs
    with pytest.raises(mrbcr.InvalidInputError, match="must match one to one"):
        mrbcr.train_pairs(low, short, tmp_path / "a", **TINY)
    with pytest.raises(mrbcr.InvalidInputError, match="multiple of 4"):
        mrbcr.train_pairs(low, high, tmp_path / "b", **{**TINY, "patch_size": 18})
    with pytest.raises(mrbcr.MrbcrIOError, match="missing.safetensors"):
        mrbcr.train_pairs(low, high, tmp_path / "c", init=tmp_path / "missing.safetensors", **TINY)
    with pytest.raises(mrbcr.InvalidInputError, match="pixel"):
        mrbcr.train_simulated(tmp_path / "d", pixel_sizes_nm=[300.0], images=1, **TINY)
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_training_on_simulated_images(tmp_path):
    model = mrbcr.train_simulated(
        tmp_path / "run",
        pixel_sizes_nm=[60.0, 70.0],
        images=2,
        validation_images=1,
        data_seed=3,
        validate_every=0,
        **{**TINY, "steps": 2},
    )
    meta = model.metadata
    assert meta["data.pixel_size_nm"].startswith("[60.0, 70.0]")
    assert meta["data.images"].startswith("2 of 256 x 256, seed 3")


def test_the_log_loss_reaches_the_run_and_a_negative_floor_is_refused(pairs, tmp_path):
    low, high, _ = pairs
    model = mrbcr.train_pairs(low, high, tmp_path / "log", validate_every=0, log_loss=0.5, **TINY)
    assert "ln(sample loss + 0.5)" in model.metadata["train.loss"]
    with pytest.raises(mrbcr.InvalidInputError, match="floor of the logarithmic batch loss"):
        mrbcr.train_pairs(low, high, tmp_path / "negative", log_loss=-1.0, **TINY)
    assert not (tmp_path / "negative").exists()


def test_training_defaults_are_the_core_s(pairs):
    """training_defaults() reads what write_train_fixtures wrote from the core's
    TrainConfig, SimulatedTraining and TiffTraining defaults (defaults.txt)."""
    lines = (pairs[0].parent / "defaults.txt").read_text().split("\n")
    core = {key: float(value) for key, value in (line.split() for line in lines if line)}
    defaults = mrbcr.training_defaults()
    as_numbers = {
        **defaults,
        "final_learning_rate": defaults["final_learning_rate"] or 0.0,
        "flips": int(defaults["flips"]),
        "noise": int(defaults["noise"]),
        "resume": int(defaults["resume"]),
        "log_loss": int(defaults["log_loss"] is not None),
        "log_loss_floor": defaults["log_loss"] or 0.0,
    }
    del as_numbers["init"]
    assert as_numbers == core
    assert defaults["init"] is None and isinstance(defaults["flips"], bool)


def test_no_front_end_default_of_its_own():
    """Every default of the training functions is the library's: the signatures give
    None (or False for the flag same_units), and each default a docstring names
    (``name`` (default X, or ``name`` (...; default X) is the library's."""
    for function in (mrbcr.train_pairs, mrbcr.train_simulated):
        for name, parameter in inspect.signature(function).parameters.items():
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                expected = False if name == "same_units" else None
                assert parameter.default is expected, f"{function.__name__}({name}=...)"
        assert ":func:`training_defaults`" in function.__doc__
    defaults = {**mrbcr.deconvolve_defaults(), **mrbcr.training_defaults()}
    named = 0
    for function in (mrbcr.train_pairs, mrbcr.train_simulated, mrbcr.deconvolve):
        text = " ".join(function.__doc__.split())
        pattern = r"``(\w+)`` \((?:[^()]*?[;,] )?default:? ([\w.+\-]+)"
        for name, value in re.findall(pattern, text):
            named += 1
            assert name in defaults, f"{function.__name__} documents a default of {name}"
            assert value == str(defaults[name]), (
                f"{function.__name__} documents {name} default {value}, the library's is "
                f"{defaults[name]}"
            )
    assert named >= 1  # deconvolve's dtype: the pattern finds what it is meant to
