"""The Python bindings against the Rust API (the fixtures' expected results, which C
is compared with too): every pixel type, stacks, strides, errors, progress, cancel,
threads."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mrbcr


def test_versions():
    assert mrbcr.abi_version() == 1
    assert mrbcr.version() == mrbcr.__version__ and mrbcr.version().count(".") == 2


def test_metadata(model):
    meta = model.metadata
    assert list(meta)[:7] == [
        "name",
        "description",
        "input_normalization",
        "train_patch_size",
        "provenance",
        "license",
        "created_by",
    ]
    assert meta["name"] == "ffi-test" == model.name
    assert meta["train_patch_size"] == "128"
    assert meta["license"] == "MIT"
    assert meta["provenance"] == ""
    assert meta["test_key"] == "test value"
    assert "ffi-test" in repr(model)


def test_results_are_bit_identical_to_the_rust_api(model, case):
    result = mrbcr.deconvolve(model, case.input(), dtype=case.output_dtype, **case.options())
    assert result.dtype == case.output_dtype
    np.testing.assert_array_equal(result, case.expected())
    assert result.tobytes() == case.expected().tobytes()  # bit for bit, NaN-safe


def test_planes_one_by_one_give_the_stack(model, case):
    planes = [
        mrbcr.deconvolve(model, plane, dtype=case.output_dtype, threads=1, **case.options())
        for plane in case.input()
    ]
    assert np.stack(planes).tobytes() == case.expected().tobytes()


def test_strided_views_are_used_in_place_or_copied(model, first_case):
    case = first_case
    image = case.input()
    # Padded rows: usable as they are.
    padded = np.zeros((case.planes, case.height + 3, case.width + 5), image.dtype)
    padded[:, : case.height, : case.width] = image
    view = padded[:, : case.height, : case.width]
    out = np.zeros((case.planes, case.height + 2, case.width + 7), case.output_dtype)
    out_view = out[:, : case.height, : case.width]
    returned = mrbcr.deconvolve(model, view, out=out_view, **case.options())
    assert returned is out_view
    assert out_view.tobytes() == case.expected().tobytes()
    assert not out[:, case.height :, :].any() and not out[:, :, case.width :].any()
    # Fortran order, reversed rows, non-native byte order: copied on the way in.
    for odd in (
        np.asfortranarray(image),
        image[:, ::-1, :][:, ::-1, :],
        image.astype(image.dtype.newbyteorder(">")),
    ):
        result = mrbcr.deconvolve(model, odd, dtype=case.output_dtype, **case.options())
        assert result.tobytes() == case.expected().tobytes()
    # A Fortran-order output is written through a temporary.
    fortran_out = np.asfortranarray(np.zeros_like(case.expected()))
    mrbcr.deconvolve(model, image, out=fortran_out, **case.options())
    assert np.array_equal(fortran_out, case.expected())


def test_output_type_defaults(model):
    image = (np.arange(48 * 40) % 97).astype(np.uint16).reshape(48, 40)
    assert mrbcr.deconvolve(model, image, tile=32, overlap=8).dtype == np.float32
    same = mrbcr.deconvolve(model, image, tile=32, overlap=8, dtype=image.dtype)
    assert same.dtype == np.uint16
    normalized = mrbcr.deconvolve(model, image, tile=32, overlap=8, output_range="normalized")
    assert normalized.dtype == np.float32 and normalized.shape == (48, 40)


def test_model_from_bytes(model_path, first_case):
    with mrbcr.Model.from_bytes(model_path.read_bytes()) as from_bytes:
        assert from_bytes.metadata["name"] == "ffi-test"
        result = mrbcr.deconvolve(
            from_bytes, first_case.input(), dtype=first_case.output_dtype, **first_case.options()
        )
    assert result.tobytes() == first_case.expected().tobytes()
    with pytest.raises(ValueError, match="closed"):
        from_bytes.metadata


def test_model_errors(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(mrbcr.MrbcrIOError, match="missing.safetensors") as error:
        mrbcr.Model(missing)
    assert isinstance(error.value, OSError) and error.value.status == 3
    not_a_model = tmp_path / "garbage.safetensors"
    not_a_model.write_bytes(b"\x01\x02\x03 not a model")
    with pytest.raises(mrbcr.ModelFileError, match="garbage.safetensors"):
        mrbcr.Model(not_a_model)
    with pytest.raises(mrbcr.ModelFileError, match=r"\(model in memory\)"):
        mrbcr.Model.from_bytes(b"")


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(normalization="gauss"), mrbcr.InvalidInputError, "unknown normalisation 'gauss'"),
        (dict(normalization="percentile:9:1"), mrbcr.InvalidInputError, "0 <= low < high"),
        (dict(tile=30), mrbcr.InvalidInputError, "tile size 30"),
        (dict(tile=32, overlap=32), mrbcr.InvalidInputError, "overlap 32 must be smaller"),
        (dict(output_range="raw"), mrbcr.InvalidInputError, "unknown output range 'raw'"),
        (
            dict(output_range="normalized", dtype=np.uint16),
            mrbcr.InvalidInputError,
            "needs the output range 'input'",
        ),
        (dict(dtype=np.int32), TypeError, "pixel type int32"),
    ],
)
def test_option_errors_carry_the_message(model, options, error, message):
    image = np.ones((40, 40), np.uint16)
    with pytest.raises(error, match=message):
        mrbcr.deconvolve(model, image, **options)


def test_image_errors(model):
    nan = np.zeros((2, 36, 40), np.float32)
    nan[1, 3, 5] = np.nan
    with pytest.raises(mrbcr.InvalidInputError, match="plane 2 .* row 3, column 5"):
        mrbcr.deconvolve(model, nan, tile=32, overlap=8)
    with pytest.raises(TypeError, match="int16"):
        mrbcr.deconvolve(model, np.zeros((40, 40), np.int16))
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        mrbcr.deconvolve(model, np.zeros((1, 1, 40, 40), np.uint8))
    with pytest.raises(mrbcr.InvalidInputError, match="empty"):
        mrbcr.deconvolve(model, np.zeros((0, 40), np.uint8))
    with pytest.raises(ValueError, match="must match"):
        mrbcr.deconvolve(model, np.zeros((40, 40), np.uint8), out=np.zeros((40, 44), np.uint8))


def test_progress_reports_and_cancels(model, first_case):
    case = first_case
    fractions = []
    result = mrbcr.deconvolve(
        model, case.input(), dtype=case.output_dtype, progress=fractions.append, **case.options()
    )
    assert result.tobytes() == case.expected().tobytes()
    assert len(fractions) > 1 and fractions == sorted(fractions) and fractions[-1] == 1.0

    calls = []

    def stop_at_second(fraction):
        calls.append(fraction)
        return len(calls) < 2

    out = np.full(case.expected().shape, 7, case.output_dtype)
    with pytest.raises(mrbcr.CancelledError, match="cancelled") as error:
        mrbcr.deconvolve(model, case.input(), out=out, progress=stop_at_second, **case.options())
    assert error.value.status == 6 and len(calls) == 2
    assert not out.any(), "a cancelled run leaves zeros, never a partial result"


def test_an_exception_in_the_callback_cancels_and_is_reraised(model, first_case):
    class Stop(Exception):
        pass

    def fail(fraction):
        raise Stop(f"at {fraction}")

    with pytest.raises(Stop, match="at "):
        mrbcr.deconvolve(model, first_case.input(), progress=fail, **first_case.options())


def test_threads_share_one_model(model, first_case):
    case = first_case

    def run(_):
        return mrbcr.deconvolve(
            model, case.input(), dtype=case.output_dtype, threads=1, **case.options()
        ).tobytes()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(8)))
    assert all(r == case.expected().tobytes() for r in results)


def test_the_gil_is_released_while_the_library_works(model):
    """Another Python thread keeps running during a deconvolution."""
    import threading
    import time

    ticks, done = [], threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    image = (np.arange(256 * 256) % 1009).astype(np.uint16).reshape(256, 256)
    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.01)
    start = time.perf_counter()
    mrbcr.deconvolve(model, image, tile=0, threads=1)
    end = time.perf_counter()
    done.set()
    counter.join()
    during = [t for t in ticks if start < t < end]
    assert len(during) >= 3, f"{len(during)} ticks in {end - start:.3f} s"
