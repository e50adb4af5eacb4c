"""mrbcr: m-rBCR deep-learning deconvolution of fluorescence microscopy images.

Python bindings over the mrbcr C library (ctypes; no compiler needed)::

    import mrbcr
    model = mrbcr.Model("m-rBCR-official.safetensors")
    restored = mrbcr.deconvolve(model, image)          # 2-D (H, W) or 3-D (planes, H, W)

Images are numpy arrays of uint8, uint16, float32 or float64. The work runs in the
library with the GIL released, so other Python threads keep running (and several
threads may deconvolve with one model at the same time). Errors raise
:class:`MrbcrError` subclasses carrying the library's message (every C call's status
is checked by ctypes ``errcheck``); Ctrl-C stops a run soon and raises
KeyboardInterrupt.

The C library is inside the package (a wheel for each platform); without it, the
file named by the environment variable ``MRBCR_LIBRARY`` is loaded (see ``_ffi``).
"""

import ctypes
import os
import weakref
from ctypes import byref, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import Callable, Dict, Optional, Union

import numpy as np

from . import _args, _ffi
from ._errors import (
    CancelledError,
    CheckpointError,
    ImageFileError,
    InternalError,
    InvalidInputError,
    ModelFileError,
    MrbcrError,
    MrbcrIOError,
    NullParameterError,
    OutOfMemoryError,
    TrainingError,
)
from ._ffi import lib
from ._handle import SharedHandle
from ._run import Run

__all__ = [
    "CancelledError",
    "CheckpointError",
    "ImageFileError",
    "InternalError",
    "InvalidInputError",
    "MrbcrError",
    "MrbcrIOError",
    "Model",
    "ModelFileError",
    "NullParameterError",
    "OUTPUT_RANGES",
    "OutOfMemoryError",
    "PIXEL_DTYPES",
    "TrainingError",
    "abi_version",
    "deconvolve",
    "deconvolve_defaults",
    "train_pairs",
    "train_simulated",
    "training_defaults",
    "version",
]

__version__ = lib.mrbcr_version().decode()


def version() -> str:
    """The library's version, e.g. ``"0.1.0"``."""
    return __version__


def abi_version() -> int:
    """The C ABI version of the loaded library."""
    return lib.mrbcr_abi_version()


class Model:
    """A loaded m-rBCR model. Immutable: one model may be used by several threads at
    once. Freed when garbage-collected, or at once with :meth:`close` (or ``with``).

    ``Model()`` is the default model bundled in the library (no file needed);
    ``Model(path)`` loads a model file; :meth:`from_bytes` reads one held in memory.

    Closing (or garbage collection) while other threads deconvolve with the model is
    safe: they finish with it, and it is freed when the last of them ends; calls
    that start after :meth:`close` raise ValueError.
    """

    def __init__(self, path: Optional[Union[str, os.PathLike]] = None):
        handle = _ffi.ModelHandle()
        if path is None:
            lib.mrbcr_model_new_default(byref(handle))
            what = "the bundled default model"
        else:
            encoded = _args.path(path, "model")
            lib.mrbcr_model_load(encoded, byref(handle))
            what = f"the model {os.fsdecode(encoded)!r}"
        self._own(handle, what)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from the bytes of a model file."""
        buffer = (c_uint8 * len(data)).from_buffer_copy(data) if data else (c_uint8 * 1)()
        handle = _ffi.ModelHandle()
        lib.mrbcr_model_from_bytes(buffer, len(data), byref(handle))
        return cls._from_handle(handle, "the model (model in memory)")

    @classmethod
    def _from_handle(cls, handle: _ffi.ModelHandle, what: str) -> "Model":
        """A Model owning a ``mrbcr_model *`` the library made (e.g. by training)."""
        model = cls.__new__(cls)
        model._own(handle, what)
        return model

    def _own(self, handle: _ffi.ModelHandle, what: str) -> None:
        self._shared = SharedHandle(handle, lib.mrbcr_model_free, what)
        # Garbage collection closes it too; the finalizer holds no reference to self.
        self._finalizer = weakref.finalize(self, self._shared.close)

    def _use(self):
        """``with model._use() as pointer:`` lends the ``mrbcr_model *`` for one call;
        the model is not freed before the block ends. Raises ValueError if closed."""
        return self._shared.use()

    @property
    def handle(self) -> _ffi.ModelHandle:
        """The ``mrbcr_model *`` (for calls to the C library). It is not protected
        against :meth:`close` in another thread, unlike the bindings' own calls."""
        if self._shared.closed:
            raise ValueError(f"mrbcr: {self._shared.what} is closed: it cannot be used any more")
        return self._shared._pointer

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._shared.closed

    @property
    def metadata(self) -> Dict[str, str]:
        """What the model file says about the weights: ``name``, ``description``,
        ``input_normalization``, ``train_patch_size``, ``provenance``, ``license``,
        ``created_by``, ``tile_overlap`` (always there, maybe empty), then any other key
        of the file."""
        entries = {}
        with self._use() as model:  # the strings belong to the model: copied in here
            count = c_size_t()
            lib.mrbcr_model_metadata_count(model, byref(count))
            for index in range(count.value):
                key_pointer = c_void_p()
                lib.mrbcr_model_metadata_key(model, index, byref(key_pointer))
                key = ctypes.string_at(key_pointer.value)
                value_pointer, length = c_void_p(), c_size_t()
                lib.mrbcr_model_metadata(model, key, byref(value_pointer), byref(length))
                value = ctypes.string_at(value_pointer.value, length.value)
                entries[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        return entries

    @property
    def name(self) -> str:
        """The model's name (may be empty)."""
        return self.metadata["name"]

    def close(self) -> None:
        """Frees the model: now, or when the calls using it in other threads end. It
        cannot be used afterwards (ValueError). Closing twice is harmless."""
        self._finalizer()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            return f"<mrbcr.Model {self.name!r}>"
        except ValueError:
            return f"<mrbcr.Model: {self._shared.what} (closed)>"


_PIXEL_TYPES = {
    np.dtype(np.uint8): _ffi.PIXEL_TYPE_U8,
    np.dtype(np.uint16): _ffi.PIXEL_TYPE_U16,
    np.dtype(np.float32): _ffi.PIXEL_TYPE_F32,
    np.dtype(np.float64): _ffi.PIXEL_TYPE_F64,
}

_OUTPUT_RANGES = {"input": _ffi.OUTPUT_RANGE_INPUT, "normalized": _ffi.OUTPUT_RANGE_NORMALIZED}

#: The pixel types :func:`deconvolve` reads and writes (numpy dtypes).
PIXEL_DTYPES = tuple(_PIXEL_TYPES)

#: The values of :func:`deconvolve`'s ``output_range``.
OUTPUT_RANGES = tuple(_OUTPUT_RANGES)


def _default_dtype() -> np.dtype:
    """The library's pixel type of a result when none is chosen
    (``mrbcr_deconvolve_defaults``), as a numpy dtype."""
    pixel_type = c_uint32()
    lib.mrbcr_deconvolve_defaults(byref(pixel_type))
    return {number: dtype for dtype, number in _PIXEL_TYPES.items()}[pixel_type.value]


#: The dtype of a result when neither ``dtype`` nor ``out`` is given, the library's:
#: float32, as the command-line tool's ``--output-type`` default (nothing rounded or
#: clipped).
DEFAULT_DTYPE = _default_dtype()


def deconvolve_defaults() -> Dict[str, object]:
    """The defaults of :func:`deconvolve`'s options, as the library defines them (the
    same as ``mrbcr deconvolve``'s): ``tile``, ``overlap`` (``None``: the model's own,
    the one its file records as measured for it, else 128), ``normalization`` (text),
    ``output_range`` (``"input"`` or ``"normalized"``), ``threads`` (0: every core),
    ``memory_limit`` (0: what the system has), and ``dtype`` (of the result)."""
    options = _ffi.OptionsHandle()
    lib.mrbcr_options_new(byref(options))
    try:
        tile, overlap, threads = c_size_t(), c_size_t(), c_size_t()
        output_range, memory_limit = c_uint32(), c_uint64()
        lib.mrbcr_options_get(
            options, byref(tile), byref(overlap), byref(output_range), byref(threads),
            byref(memory_limit)
        )
        length = c_size_t()
        lib.mrbcr_options_get_normalization(options, None, 0, byref(length))
        text = ctypes.create_string_buffer(length.value + 1)
        lib.mrbcr_options_get_normalization(options, text, len(text), byref(length))
    finally:
        lib.mrbcr_options_free(options)
    ranges = {number: name for name, number in _OUTPUT_RANGES.items()}
    return {
        "tile": tile.value,
        "overlap": None if overlap.value == _ffi.OVERLAP_OF_MODEL else overlap.value,
        "normalization": text.value.decode("utf-8"),
        "output_range": ranges[output_range.value],
        "threads": threads.value,
        "memory_limit": memory_limit.value,
        "dtype": DEFAULT_DTYPE,
    }


def _pixel_type(dtype: np.dtype, what: str) -> int:
    try:
        return _PIXEL_TYPES[np.dtype(dtype).newbyteorder("=")]
    except KeyError:
        raise TypeError(
            f"mrbcr: the {what} has pixel type {np.dtype(dtype)}; expected uint8, uint16, "
            "float32 or float64"
        ) from None


def _passable(array: np.ndarray) -> bool:
    """True if the library can use the array's memory as it is: native byte order,
    aligned, pixels adjacent within rows, rows and planes at positive strides."""
    planes_stride, row_stride, pixel_stride = array.strides
    return (
        array.dtype.isnative
        and array.flags.aligned
        and pixel_stride == array.itemsize
        and row_stride > 0
        and planes_stride > 0
    )


def _descriptor(structure, array: np.ndarray):
    """An mrbcr_image_in/_out for a 3-D array the library can use as it is."""
    planes, height, width = array.shape
    return structure(
        array.ctypes.data,
        _PIXEL_TYPES[array.dtype],
        width,
        height,
        planes,
        array.strides[1],
        array.strides[0],
    )


def _as_stack(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim == 2:
        return array[np.newaxis]
    if array.ndim == 3:
        return array
    raise ValueError(
        f"mrbcr: the {what} must be 2-D (height, width) or 3-D (planes, height, width), "
        f"not of shape {array.shape}"
    )


class _LibraryDefault:
    """The default of an argument whose ``None`` means something else (or is refused):
    not given, the library's default is kept (no setter is called)."""

    def __repr__(self) -> str:
        return "<the library's default>"


_LIBRARY_DEFAULT = _LibraryDefault()


def deconvolve(
    model: Model,
    image: np.ndarray,
    *,
    tile: Optional[int] = None,
    overlap: Optional[int] = None,
    normalization: Optional[str] = None,
    output_range: Optional[str] = None,
    threads: int = _LIBRARY_DEFAULT,  # type: ignore[assignment]
    memory_limit: Optional[int] = None,
    dtype: Optional[np.dtype] = None,
    out: Optional[np.ndarray] = None,
    progress: Optional[Callable[[float], Optional[bool]]] = None,
) -> np.ndarray:
    """Deconvolves an image (2-D: height x width) or a stack (3-D: planes x height x
    width, each plane processed on its own) of uint8, uint16, float32 or float64.

    Options (as the C library's ``mrbcr_options``; ``None`` keeps the library's
    default): ``tile`` (a multiple of 4 of at least 32, or 0 for whole planes),
    ``overlap`` (below ``tile``; by default the model's own), ``normalization``
    (``percentile``, ``percentile:LOW:HIGH``, ``minmax``, ``per-tile-minmax``,
    ``none``), ``output_range`` (``input``: in the input's intensities; ``normalized``:
    the network's own range, float outputs only), ``threads`` (0 = every core; at
    most 4 per core; not given: the library's default; ``None`` is refused),
    ``memory_limit`` (bytes the tiles' work may take; fewer tiles
    run at once, same result; a run that cannot fit raises :class:`OutOfMemoryError`,
    a MemoryError, before it starts).

    The result goes into ``out`` if given (same shape; any supported dtype; written in
    place), else into a new array of ``dtype`` (default float32, as the command-line
    tool: nothing rounded or clipped; pass the input's dtype to get it back in kind).
    The input is used in place
    when its memory layout allows, else copied once (``np.ascontiguousarray``).

    ``progress(fraction)`` is called on the calling thread after each tile, with the
    fraction done (0 to 1]; returning ``False`` cancels (:class:`CancelledError`), and
    an exception raised in it cancels the run and is re-raised here. Ctrl-C (in the
    main thread) cancels the run at its next tile and raises KeyboardInterrupt. A run
    that fails or is cancelled leaves ``out`` zeroed or untouched, never half done.

    Returns the result (``out`` if given). Raises :class:`InvalidInputError` for bad
    options or pixels (NaN) and for integers the C types cannot hold (named),
    :class:`CancelledError`, :class:`TypeError` for an unsupported dtype or an
    argument of the wrong type, :class:`ValueError` for a bad shape or a closed model.
    """
    tile = None if tile is None else _args.size(tile, "tile")
    overlap = None if overlap is None else _args.size(overlap, "overlap")
    threads = None if threads is _LIBRARY_DEFAULT else _args.threads(threads)
    memory_limit = None if memory_limit is None else _args.u64(memory_limit, "memory_limit")
    normalization_text = (
        None if normalization is None else _args.text(normalization, "normalization")
    )
    if output_range is not None and (
        not isinstance(output_range, str) or output_range not in _OUTPUT_RANGES
    ):
        raise InvalidInputError(
            2, f"invalid input: unknown output range '{output_range}': expected input or normalized"
        )
    image = np.asarray(image)
    _pixel_type(image.dtype, "image")
    stack = _as_stack(image, "image")
    if not _passable(stack):
        stack = np.ascontiguousarray(stack, dtype=stack.dtype.newbyteorder("="))

    if out is None:
        if dtype is None:
            dtype = DEFAULT_DTYPE
        result = np.empty(image.shape, dtype=np.dtype(dtype).newbyteorder("="))
        _pixel_type(result.dtype, "output")
    else:
        result = out
        _pixel_type(result.dtype, "output")
        if result.shape != image.shape:
            raise ValueError(
                f"mrbcr: out has shape {result.shape}, the image {image.shape}: they must match"
            )
        if not result.flags.writeable:
            raise ValueError("mrbcr: out is read-only")
    result_stack = _as_stack(result, "output")
    target = result_stack
    if not _passable(result_stack) or np.may_share_memory(result_stack, stack):
        target = np.empty(result_stack.shape, dtype=result_stack.dtype.newbyteorder("="))

    run = Run(progress)
    callback = _ffi.PROGRESS_CALLBACK(lambda fraction, _user_data: run.report(fraction))

    def call():
        # Everything native happens here (on a worker thread if this is the main
        # thread), which holds the arrays, the options and the model until the
        # library returns.
        source = byref(_descriptor(_ffi.ImageIn, stack))
        destination = byref(_descriptor(_ffi.ImageOut, target))
        options = _ffi.OptionsHandle()
        lib.mrbcr_options_new(byref(options))
        try:
            if tile is not None:
                lib.mrbcr_options_set_tile(options, tile)
            if overlap is not None:
                lib.mrbcr_options_set_overlap(options, overlap)
            if normalization_text is not None:
                lib.mrbcr_options_set_normalization(options, normalization_text)
            if output_range is not None:
                lib.mrbcr_options_set_output_range(options, _OUTPUT_RANGES[output_range])
            if threads is not None:
                lib.mrbcr_options_set_threads(options, threads)
            if memory_limit is not None:
                lib.mrbcr_options_set_memory_limit(options, memory_limit)
            with model._use() as handle:
                lib.mrbcr_deconvolve(handle, options, source, destination, callback, None)
        finally:
            lib.mrbcr_options_free(options)

    run.run(call)
    if target is not result_stack:
        result_stack[...] = target
    return result


from .training import train_pairs, train_simulated, training_defaults  # noqa: E402 (needs Model)
