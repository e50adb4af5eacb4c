"""The napari plugin in a real (headless) napari viewer: the widget opened through the
plugin's manifest adds a layer equal to ``mrbcr.deconvolve`` bit for bit, keeps scale
and translation, restores stacks plane by plane, takes a model file, cancels a long
run without adding anything, and the sample opens.

Run on a (virtual) X display, as .ci/python-wheel-napari does (napari's canvas needs
OpenGL), with MRBCR_MODEL_FILE set to a model file (.ci/run gives the authors' weights
imported by ``mrbcr import-tf``)."""

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

import mrbcr
from napari_mrbcr._widget import MODEL_OVERLAP, PROGRESS_STEPS, SAME_AS_INPUT, DeconvolveWidget

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "data" / "widefield-sample.tif"

#: A bound on a run's duration, so that a hang fails the test (not a speed check).
HANG = 600_000


@pytest.fixture
def viewer_and_widget(make_napari_viewer):
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-mrbcr", "Deconvolve (m-rBCR)")
    assert isinstance(widget, DeconvolveWidget)
    return viewer, widget


@pytest.fixture(scope="module")
def sample():
    return tifffile.imread(SAMPLE)


def restore(qtbot, widget, layer, **fields):
    """Sets the fields, clicks Deconvolve and waits for the run to end."""
    widget.reset_choices()
    widget.image.value = layer
    for name, value in fields.items():
        getattr(widget, name).value = value
    widget.run_button.native.click()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=HANG)


def test_the_widget_adds_the_restored_layer_equal_to_mrbcr_deconvolve(
    qtbot, viewer_and_widget, sample
):
    viewer, widget = viewer_and_widget
    image = sample[100:356, 60:316]
    layer = viewer.add_image(image, name="cells", scale=(0.065, 0.07), translate=(5.0, -3.0))
    restore(qtbot, widget, layer)
    assert [l.name for l in viewer.layers] == ["cells", "cells-mrbcr"]
    restored = viewer.layers["cells-mrbcr"]
    expected = mrbcr.deconvolve(mrbcr.Model(), image)  # the defaults, the bundled model
    assert restored.data.dtype == np.float32 and restored.data.tobytes() == expected.tobytes()
    assert tuple(restored.scale) == (0.065, 0.07) and tuple(restored.translate) == (5.0, -3.0)
    assert widget.progress.value == PROGRESS_STEPS and "added" in widget.status.value
    assert layer.data is image or np.array_equal(layer.data, image)  # the input untouched


def test_the_fields_start_at_the_library_s_defaults(viewer_and_widget):
    _, widget = viewer_and_widget
    defaults = mrbcr.deconvolve_defaults()
    options = widget.options()
    for name in ("tile", "overlap", "normalization", "output_range", "threads"):
        assert options[name] == defaults[name], name
    assert options["memory_limit"] is None and defaults["memory_limit"] == 0
    # The overlap is the model's (None): the box is ticked and the number unused; cleared,
    # the number counts.
    assert defaults["overlap"] is None and widget.overlap_of_model.value
    assert widget.overlap_of_model.text == MODEL_OVERLAP and not widget.overlap.enabled
    widget.overlap_of_model.value = False
    assert widget.overlap.enabled and widget.options()["overlap"] == widget.overlap.value == 0
    widget.overlap.value = 48
    assert widget.options()["overlap"] == 48
    assert widget.output_type.value == str(defaults["dtype"])
    assert str(widget.model_file.value) in ("", ".")  # the bundled model


def test_stacks_are_restored_plane_by_plane_with_a_model_file(qtbot, viewer_and_widget, sample):
    viewer, widget = viewer_and_widget
    model_file = os.environ.get("MRBCR_MODEL_FILE")
    if not model_file or not Path(model_file).is_file():
        raise pytest.UsageError("set MRBCR_MODEL_FILE to a model file (see .ci/run)")
    # (time, z, y, x): every axis before the last two is a plane axis.
    stack = np.stack([sample[i * 40 : i * 40 + 80, 100:196] for i in range(4)]).reshape(2, 2, 80, 96)
    layer = viewer.add_image(stack, name="stack", scale=(2.0, 0.5, 0.1, 0.1))
    restore(
        qtbot, widget, layer, model_file=model_file, tile=64, overlap_of_model=False, overlap=16,
        normalization="percentile:2:99.5", output_type=SAME_AS_INPUT,
    )
    restored = viewer.layers["stack-mrbcr"]
    with mrbcr.Model(model_file) as model:
        expected = mrbcr.deconvolve(
            model, stack.reshape(4, 80, 96), tile=64, overlap=16,
            normalization="percentile:2:99.5", dtype=np.uint16,
        ).reshape(stack.shape)
    assert restored.data.dtype == np.uint16 and restored.data.tobytes() == expected.tobytes()
    assert tuple(restored.scale) == (2.0, 0.5, 0.1, 0.1)


def test_cancel_stops_a_long_run_and_adds_no_layer(qtbot, viewer_and_widget):
    viewer, widget = viewer_and_widget
    rng = np.random.default_rng(3)
    large = rng.poisson(200, size=(4096, 4096)).astype(np.uint16)  # ~8000 tiles of 64
    layer = viewer.add_image(large, name="large")
    widget.reset_choices()
    widget.image.value = layer
    widget.overlap_of_model.value = False
    widget.tile.value, widget.overlap.value = 64, 16
    widget.run_button.native.click()
    assert widget.cancel_button.enabled and not widget.run_button.enabled
    # Progress reaches the bar while the run goes on: the GUI thread is free.
    qtbot.waitUntil(lambda: widget.progress.value > 0, timeout=HANG)
    widget.cancel_button.native.click()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=HANG)
    assert [l.name for l in viewer.layers] == ["large"]
    assert widget.status.value == "cancelled: no layer added"
    assert 0 < widget.progress.value < PROGRESS_STEPS // 2
    assert widget.run_button.enabled and not widget.cancel_button.enabled


def test_a_bad_option_is_reported_and_adds_no_layer(qtbot, viewer_and_widget, sample):
    viewer, widget = viewer_and_widget
    layer = viewer.add_image(sample[:64, :64], name="small")
    restore(qtbot, widget, layer, normalization="gauss")
    assert [l.name for l in viewer.layers] == ["small"]
    assert "unknown normalisation 'gauss'" in widget.status.value


def test_the_sample_opens_as_the_example_image(make_napari_viewer, sample):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-mrbcr", "widefield")
    (layer,) = viewer.layers
    assert layer.name == "widefield-sample"
    assert layer.data.dtype == np.uint16 and np.array_equal(layer.data, sample)
