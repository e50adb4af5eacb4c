"""Arguments the C types cannot hold are refused by name, never wrapped or cut: an
integer beyond the C type (``tile=2**64`` used to become 0), a negative count
(``threads=-1`` used to become 2**64 - 1), a NUL character inside a path or a text
(it used to end the string there, so another file was read)."""

import time

import numpy as np
import pytest

import mrbcr

IMAGE = np.ones((40, 40), np.float32)


@pytest.mark.parametrize(
    "options, name",
    [
        (dict(tile=2**64), "tile"),
        (dict(tile=2**64 + 64, overlap=8), "tile"),
        (dict(tile=-32), "tile"),
        (dict(overlap=2**64 + 8), "overlap"),
        (dict(overlap=-1), "overlap"),
        (dict(threads=-1), "threads"),
        (dict(threads=2**64), "threads"),
        (dict(threads=-(2**64) + 1), "threads"),
        (dict(memory_limit=-1), "memory_limit"),
        (dict(memory_limit=2**64), "memory_limit"),
    ],
)
def test_integers_out_of_range_are_refused_by_name(model, options, name):
    with pytest.raises((ValueError, OverflowError), match=name) as error:
        mrbcr.deconvolve(model, IMAGE, **options)
    assert str(list(options.values())[0]) in str(error.value), "the message gives the value"


@pytest.mark.parametrize(
    "options, name",
    [
        (dict(tile=64.0), "tile"),
        (dict(tile=True), "tile"),
        (dict(overlap="8"), "overlap"),
        (dict(threads=1.5), "threads"),
        (dict(threads=None), "threads"),
        (dict(normalization=b"minmax"), "normalization"),
    ],
)
def test_arguments_of_the_wrong_type_are_refused_by_name(model, options, name):
    with pytest.raises(TypeError, match=name):
        mrbcr.deconvolve(model, IMAGE, **options)


def test_numpy_integers_are_accepted(model):
    result = mrbcr.deconvolve(model, IMAGE, tile=np.uint16(32), overlap=np.int64(8), threads=np.int8(1))
    assert result.shape == IMAGE.shape


def test_too_many_threads_are_refused_at_once(model):
    start = time.monotonic()
    with pytest.raises(ValueError, match="worker threads is too many"):
        mrbcr.deconvolve(model, IMAGE, threads=100_000)
    assert time.monotonic() - start < 10, "refused before starting threads"


def test_a_nul_inside_a_text_is_refused(model):
    with pytest.raises(ValueError, match="normalization .*NUL"):
        mrbcr.deconvolve(model, IMAGE, normalization="minmax\0 and then something else")


def test_a_nul_inside_a_model_path_is_refused_not_cut(model_path, tmp_path):
    (tmp_path / "model").write_bytes(model_path.read_bytes())
    cut_here = str(tmp_path / "model") + "\0.other"
    with pytest.raises(ValueError, match="path .*NUL"):
        mrbcr.Model(cut_here)  # it used to load tmp_path/model
    with pytest.raises(ValueError, match="path .*NUL"):
        mrbcr.Model(cut_here.encode())


@pytest.fixture
def pairs():
    import os
    from pathlib import Path

    d = Path(os.environ["MRBCR_TRAIN_FIXTURES"])
    return d / "low.tif", d / "high.tif"


TINY = dict(patch_size=16, batch_size=2, steps=2, validate_every=0, threads=1)


@pytest.mark.parametrize(
    "settings, name",
    [
        (dict(steps=2**64), "steps"),
        (dict(steps=-1), "steps"),
        (dict(seed=2**64 + 1), "seed"),
        (dict(init_seed=-5), "init_seed"),
        (dict(patch_size=2**64 + 16), "patch_size"),
        (dict(batch_size=-2), "batch_size"),
        (dict(patience=2**64), "patience"),
        (dict(validate_every=2**64 + 1), "validate_every"),
        (dict(log_every=-1), "log_every"),
        (dict(checkpoint_every=2**64), "checkpoint_every"),
        (dict(threads=-1), "threads"),
        (dict(learning_rate=10**400), "learning_rate"),
        (dict(final_learning_rate=-(10**400)), "final_learning_rate"),
        (dict(validation_fraction=10**400), "validation_fraction"),
        (dict(init="model\0.safetensors"), "init"),
    ],
)
def test_training_settings_out_of_range_are_refused_by_name(pairs, tmp_path, settings, name):
    low, high = pairs
    with pytest.raises((ValueError, OverflowError), match=name):
        mrbcr.train_pairs(low, high, tmp_path / "run", **{**TINY, **settings})
    assert not (tmp_path / "run").exists()


def test_training_paths_with_a_nul_are_refused(pairs, tmp_path):
    low, high = pairs
    for args, name in [
        ((str(low) + "\0x", high, tmp_path / "run"), "low"),
        ((low, str(high) + "\0x", tmp_path / "run"), "high"),
        ((low, high, str(tmp_path / "run") + "\0x"), "output_dir"),
    ]:
        with pytest.raises(ValueError, match=f"{name} .*NUL"):
            mrbcr.train_pairs(*args, **TINY)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "arguments, name",
    [
        (dict(images=2**64 + 2), "images"),
        (dict(validation_images=-1), "validation_images"),
        (dict(data_seed=2**64), "data_seed"),
        (dict(pixel_sizes_nm=[65.0, 10**400]), "pixel_sizes_nm"),
    ],
)
def test_simulated_training_arguments_are_refused_by_name(tmp_path, arguments, name):
    with pytest.raises((ValueError, OverflowError), match=name):
        mrbcr.train_simulated(tmp_path / "run", **{**TINY, **arguments})
    assert not (tmp_path / "run").exists()
