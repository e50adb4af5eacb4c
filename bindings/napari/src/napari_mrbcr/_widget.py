"""The dock widget: an image layer in, a new restored layer out.

The options are those of ``mrbcr deconvolve``, with the defaults the mrbcr package
reads from the library (``mrbcr.deconvolve_defaults``). The work runs in a napari
``thread_worker`` (the viewer stays responsive), plane by plane for stacks (every
axis before the last two is a plane axis), with a progress bar; Cancel stops it
within one tile and adds no layer.
"""

import threading
from typing import TYPE_CHECKING, Dict, Optional

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    LineEdit,
    ProgressBar,
    PushButton,
    SpinBox,
    create_widget,
)
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Signal

import mrbcr

if TYPE_CHECKING:
    import napari

#: The progress bar's resolution (steps from 0 to done).
PROGRESS_STEPS = 1000

#: The "output type" choice that keeps the input's pixel type.
SAME_AS_INPUT = "same as input"

#: The overlap check box's text: ticked, the overlap is the one the model file records.
MODEL_OVERLAP = "the model's own"

#: What a cancelled run returns instead of a result.
CANCELLED = None


class _ProgressRelay(QObject):
    """Carries the fraction done from the worker thread to the progress bar (a queued
    Qt signal: the bar is only touched on the GUI thread)."""

    fraction = Signal(float)


class DeconvolveWidget(Container):
    """Deconvolve (m-rBCR): restores the chosen image layer into a new layer named
    ``<name>-mrbcr`` with the same scale and translation."""

    def __init__(self, viewer: "napari.viewer.Viewer"):
        defaults = mrbcr.deconvolve_defaults()
        self._viewer = viewer
        self._models: Dict[str, mrbcr.Model] = {}
        self._cancel = threading.Event()
        self.worker = None  # the running thread_worker, if any

        self.image = create_widget(annotation="napari.layers.Image", label="image")
        self.model_file = FileEdit(
            label="model file", mode="r", filter="*.safetensors", value="",
            tooltip="empty: the bundled default model",
        )
        self.tile = SpinBox(
            label="tile", value=defaults["tile"], min=0, max=1 << 20, step=4,
            tooltip="side of the square tiles (a multiple of 4, at least 32); 0: whole planes",
        )
        # The overlap: the model's own (what its file records, measured for that
        # model; None to mrbcr.deconvolve) unless the box is cleared for a number.
        self.overlap_of_model = CheckBox(
            label="overlap", text=MODEL_OVERLAP, value=defaults["overlap"] is None,
            tooltip="the overlap the model file records, measured for that model",
        )
        self.overlap = SpinBox(
            label="overlap (pixels)", value=defaults["overlap"] or 0, min=0, max=1 << 20,
            enabled=defaults["overlap"] is not None,
            tooltip="pixels shared by neighbouring tiles",
        )
        self.overlap_of_model.changed.connect(
            lambda of_model: setattr(self.overlap, "enabled", not of_model)
        )
        self.normalization = LineEdit(
            label="normalization", value=defaults["normalization"],
            tooltip="percentile, percentile:LOW:HIGH, minmax, per-tile-minmax or none",
        )
        self.output_range = ComboBox(
            label="output range", choices=list(mrbcr.OUTPUT_RANGES),
            value=defaults["output_range"],
        )
        self.output_type = ComboBox(
            label="output type",
            choices=[str(d) for d in mrbcr.PIXEL_DTYPES] + [SAME_AS_INPUT],
            value=str(defaults["dtype"]),
        )
        self.threads = SpinBox(
            label="threads", value=defaults["threads"], min=0, max=4096,
            tooltip="worker threads; 0: every core",
        )
        self.memory_limit = SpinBox(
            label="memory limit (MiB)", value=defaults["memory_limit"] >> 20, min=0,
            max=1 << 30, tooltip="working memory for the tiles; 0: what the system has",
        )
        self.run_button = PushButton(text="Deconvolve")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(value=0, min=0, max=PROGRESS_STEPS, label="progress")
        self.status = Label(value="")
        super().__init__(
            widgets=[
                self.image, self.model_file, self.tile, self.overlap_of_model, self.overlap,
                self.normalization,
                self.output_range, self.output_type, self.threads, self.memory_limit,
                self.run_button, self.cancel_button, self.progress, self.status,
            ]
        )
        self._relay = _ProgressRelay()
        self._relay.fraction.connect(self._show_progress)
        self.run_button.changed.connect(self.start)
        self.cancel_button.changed.connect(self.cancel)

    def options(self) -> dict:
        """The keyword arguments of ``mrbcr.deconvolve`` the fields give (the output
        dtype aside)."""
        memory = self.memory_limit.value
        return dict(
            tile=self.tile.value,
            overlap=None if self.overlap_of_model.value else self.overlap.value,
            normalization=self.normalization.value,
            output_range=self.output_range.value,
            threads=self.threads.value,
            memory_limit=(memory << 20) if memory else None,
        )

    def _model(self) -> mrbcr.Model:
        """The chosen model, loaded once per file (models are shared by threads)."""
        path = str(self.model_file.value) if str(self.model_file.value) not in ("", ".") else ""
        if path not in self._models:
            self._models[path] = mrbcr.Model(path) if path else mrbcr.Model()
        return self._models[path]

    def start(self) -> None:
        """Starts restoring the chosen layer in a worker thread."""
        layer = self.image.value
        if layer is None:
            show_error("m-rBCR: choose an image layer first")
            return
        if getattr(layer, "rgb", False) or getattr(layer, "multiscale", False):
            show_error(f"m-rBCR: {layer.name} is RGB or multiscale: split it into planes first")
            return
        data = np.asarray(layer.data)
        if data.ndim < 2:
            show_error(f"m-rBCR: {layer.name} has {data.ndim} dimension(s); 2 or more needed")
            return
        dtype = data.dtype if self.output_type.value == SAME_AS_INPUT else self.output_type.value
        self._cancel.clear()
        self.progress.value = 0
        self.status.value = f"restoring {layer.name}..."
        self.run_button.enabled = False
        self.cancel_button.enabled = True
        self.worker = create_worker(
            restore_planes, self._model, data, np.dtype(dtype), self.options(), self._cancel,
            self._relay.fraction.emit, _start_thread=False, _ignore_errors=True,  # shown by _failed
        )
        self.worker.returned.connect(lambda result: self._add_layer(layer, result))
        self.worker.errored.connect(self._failed)
        self.worker.finished.connect(self._done)
        self.worker.start()

    def cancel(self) -> None:
        """Asks the running restoration to stop (at its next tile); no layer is added."""
        self._cancel.set()
        self.status.value = "cancelling..."

    def _show_progress(self, fraction: float) -> None:
        self.progress.value = int(round(fraction * PROGRESS_STEPS))

    def _add_layer(self, source, result: Optional[np.ndarray]) -> None:
        if result is CANCELLED:
            self.status.value = "cancelled: no layer added"
            return
        self._viewer.add_image(
            result,
            name=f"{source.name}-mrbcr",
            scale=source.scale,
            translate=source.translate,
            colormap=source.colormap.name,
            blending=source.blending,
        )
        self.status.value = f"added {source.name}-mrbcr"
        show_info(f"m-rBCR: restored {source.name}")

    def _failed(self, error: Exception) -> None:
        self.status.value = f"failed: {error}"
        show_error(f"m-rBCR: {error}")

    def _done(self) -> None:
        self.run_button.enabled = True
        self.cancel_button.enabled = False
        self.worker = None


def restore_planes(model_source, data, dtype, options, cancel, report):
    """Restores ``data`` (..., height, width) plane by plane with ``model_source()``;
    ``report(fraction)`` after each tile. Returns the result (same shape, ``dtype``),
    or :data:`CANCELLED` once ``cancel`` is set (no partial result)."""
    model = model_source()
    planes = data.reshape((-1,) + data.shape[-2:])
    result = np.empty(planes.shape, dtype)
    count = len(planes)
    for index, plane in enumerate(planes):
        if cancel.is_set():
            return CANCELLED

        def progress(fraction, done=index):
            report((done + fraction) / count)
            return not cancel.is_set()

        try:
            mrbcr.deconvolve(model, plane, out=result[index], progress=progress, **options)
        except mrbcr.CancelledError:
            return CANCELLED
    return result.reshape(data.shape)
