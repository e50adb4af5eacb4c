"""The C ABI of libmrbcr (include/mrbcr.h) declared for ctypes: the library, its
structs, and argtypes/restype for every function. Every function that returns an
``mrbcr_status`` has an ``errcheck`` that raises the status's exception (``_errors``)
with the thread's last-error message: a call never returns a failed status.

The native objects are typed handles (``POINTER`` to an opaque structure per C
type), so passing one kind where the library expects another (training options for
deconvolution options, say) raises ``ctypes.ArgumentError`` instead of reaching C.

The library is found in this order (the first that exists is loaded):

1. the copy inside this package (a wheel's, or ``pip install ./bindings/python``):
   ``libmrbcr.so`` on Linux, ``libmrbcr.dylib`` on macOS, ``mrbcr.dll`` on Windows;
2. the file named by the environment variable ``MRBCR_LIBRARY``;
3. the repository's own build, ``target/release/``, when the package runs from its
   source tree (``bindings/python/src``).

If none exists, ImportError lists every place looked at.
"""

import ctypes
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

from ._errors import make_errcheck
from ._library_names import library_name

#: The ABI version these declarations describe (MRBCR_ABI_VERSION of mrbcr.h).
ABI_VERSION = 1

# mrbcr_pixel_type
PIXEL_TYPE_U8 = 0
PIXEL_TYPE_U16 = 1
PIXEL_TYPE_F32 = 2
PIXEL_TYPE_F64 = 3

# mrbcr_output_range
OUTPUT_RANGE_INPUT = 0
OUTPUT_RANGE_NORMALIZED = 1
#: MRBCR_OVERLAP_OF_MODEL: the overlap value that stands for the model's own (SIZE_MAX).
OVERLAP_OF_MODEL = 2 ** (8 * ctypes.sizeof(c_size_t)) - 1


class Model(Structure):
    """The opaque ``struct mrbcr_model`` (only pointers to it exist)."""


class Options(Structure):
    """The opaque ``struct mrbcr_options``."""


class TrainOptions(Structure):
    """The opaque ``struct mrbcr_train_options``."""


#: ``mrbcr_model *``, ``mrbcr_options *`` and ``mrbcr_train_options *``: a NULL one
#: is ``ModelHandle()`` (false), filled by the ``_new``/``_load`` functions through
#: ``byref``.
ModelHandle = POINTER(Model)
OptionsHandle = POINTER(Options)
TrainOptionsHandle = POINTER(TrainOptions)


class ImageIn(Structure):
    """mrbcr_image_in."""

    _fields_ = [
        ("data", c_void_p),
        ("pixel_type", c_uint32),
        ("width", c_size_t),
        ("height", c_size_t),
        ("planes", c_size_t),
        ("row_stride", c_size_t),
        ("plane_stride", c_size_t),
    ]


class ImageOut(Structure):
    """mrbcr_image_out (the same layout; the pixels are written)."""

    _fields_ = ImageIn._fields_


#: mrbcr_progress_callback: int (*)(double fraction, void *user_data).
PROGRESS_CALLBACK = CFUNCTYPE(c_int, c_double, c_void_p)

#: mrbcr_train_progress_callback: int (*)(uint64_t step, double train_loss,
#: double validation_loss, double seconds_per_step, void *user_data).
TRAIN_PROGRESS_CALLBACK = CFUNCTYPE(c_int, c_uint64, c_double, c_double, c_double, c_void_p)


def library_candidates():
    """Where the library is looked for, in order: (path, how it was found)."""
    name = library_name(sys.platform)
    package = Path(__file__).resolve().parent
    candidates = [(package / name, "inside the package")]
    configured = os.environ.get("MRBCR_LIBRARY")
    if configured:
        candidates.append((Path(configured), "MRBCR_LIBRARY"))
    else:
        candidates.append((None, "MRBCR_LIBRARY (not set)"))
    # bindings/python/src/mrbcr -> the repository's root, when run from the source tree.
    repository = package.parents[3] if len(package.parents) > 3 else None
    if repository is not None and (repository / "Cargo.toml").is_file():
        candidates.append((repository / "target" / "release" / name, "the repository's build"))
    return candidates


def _library_path() -> str:
    looked = []
    for path, how in library_candidates():
        if path is not None and path.is_file():
            return str(path)
        looked.append(f"  {how}: {path}" if path is not None else f"  {how}")
    raise ImportError(
        "mrbcr: the C library was not found. Looked at:\n"
        + "\n".join(looked)
        + "\nInstall a wheel of mrbcr for this platform (`pip install mrbcr-*.whl`), set "
        "MRBCR_LIBRARY to a " + library_name(sys.platform) + ", or build it in the repository with "
        "`cargo build --release`."
    )


#: Marks a function that returns an ``mrbcr_status`` (a C int, checked by errcheck).
STATUS = object()


def _signatures():
    status = STATUS
    model = ModelHandle
    options = OptionsHandle
    signatures = {
        "mrbcr_version": (c_char_p, []),
        "mrbcr_abi_version": (c_uint32, []),
        "mrbcr_last_error_message": (c_char_p, []),
        "mrbcr_model_load": (status, [c_char_p, POINTER(model)]),
        "mrbcr_model_from_bytes": (status, [POINTER(c_uint8), c_size_t, POINTER(model)]),
        "mrbcr_model_new_default": (status, [POINTER(model)]),
        "mrbcr_model_free": (None, [model]),
        "mrbcr_model_metadata_count": (status, [model, POINTER(c_size_t)]),
        "mrbcr_model_metadata_key": (status, [model, c_size_t, POINTER(c_void_p)]),
        "mrbcr_model_metadata": (
            status,
            [model, c_char_p, POINTER(c_void_p), POINTER(c_size_t)],
        ),
        "mrbcr_options_new": (status, [POINTER(options)]),
        "mrbcr_options_free": (None, [options]),
        "mrbcr_options_set_tile": (status, [options, c_size_t]),
        "mrbcr_options_set_overlap": (status, [options, c_size_t]),
        "mrbcr_options_set_normalization": (status, [options, c_char_p]),
        "mrbcr_options_set_percentiles": (status, [options, c_double, c_double]),
        "mrbcr_options_set_output_range": (status, [options, c_uint32]),
        "mrbcr_options_set_threads": (status, [options, c_size_t]),
        "mrbcr_options_set_memory_limit": (status, [options, c_uint64]),
        "mrbcr_options_get": (
            status,
            [
                options,
                POINTER(c_size_t),
                POINTER(c_size_t),
                POINTER(c_uint32),
                POINTER(c_size_t),
                POINTER(c_uint64),
            ],
        ),
        "mrbcr_options_get_normalization": (
            status,
            [options, ctypes.c_char_p, c_size_t, POINTER(c_size_t)],
        ),
        "mrbcr_deconvolve_defaults": (status, [POINTER(c_uint32)]),
        "mrbcr_deconvolve": (
            status,
            [
                model,
                options,
                POINTER(ImageIn),
                POINTER(ImageOut),
                PROGRESS_CALLBACK,
                c_void_p,
            ],
        ),
    }
    train_options = TrainOptionsHandle
    signatures.update(
        {
            "mrbcr_train_options_new": (status, [c_char_p, POINTER(train_options)]),
            "mrbcr_train_options_free": (None, [train_options]),
            "mrbcr_train_options_set_patch_size": (status, [train_options, c_size_t]),
            "mrbcr_train_options_set_batch_size": (status, [train_options, c_size_t]),
            "mrbcr_train_options_set_steps": (status, [train_options, c_uint64]),
            "mrbcr_train_options_set_learning_rate": (
                status,
                [train_options, c_double, c_double],
            ),
            "mrbcr_train_options_set_seed": (status, [train_options, c_uint64]),
            "mrbcr_train_options_set_augmentation": (status, [train_options, c_int, c_int]),
            "mrbcr_train_options_set_log_loss": (status, [train_options, c_int, c_double]),
            "mrbcr_train_options_set_validation": (status, [train_options, c_uint64, c_size_t]),
            "mrbcr_train_options_set_log_every": (status, [train_options, c_uint64]),
            "mrbcr_train_options_set_checkpoint_every": (status, [train_options, c_uint64]),
            "mrbcr_train_options_set_resume": (status, [train_options, c_int]),
            "mrbcr_train_options_set_threads": (status, [train_options, c_size_t]),
            "mrbcr_train_options_set_init_seed": (status, [train_options, c_uint64]),
            "mrbcr_train_options_set_init_default": (status, [train_options]),
            "mrbcr_train_options_set_init_model_file": (status, [train_options, c_char_p]),
            "mrbcr_train_options_get_patch_size": (status, [train_options, POINTER(c_size_t)]),
            "mrbcr_train_options_get_batch_size": (status, [train_options, POINTER(c_size_t)]),
            "mrbcr_train_options_get_steps": (status, [train_options, POINTER(c_uint64)]),
            "mrbcr_train_options_get_learning_rate": (
                status,
                [train_options, POINTER(c_double), POINTER(c_double)],
            ),
            "mrbcr_train_options_get_seed": (status, [train_options, POINTER(c_uint64)]),
            "mrbcr_train_options_get_augmentation": (
                status,
                [train_options, POINTER(c_int), POINTER(c_int)],
            ),
            "mrbcr_train_options_get_log_loss": (
                status,
                [train_options, POINTER(c_int), POINTER(c_double)],
            ),
            "mrbcr_train_options_get_validation": (
                status,
                [train_options, POINTER(c_uint64), POINTER(c_size_t)],
            ),
            "mrbcr_train_options_get_log_every": (status, [train_options, POINTER(c_uint64)]),
            "mrbcr_train_options_get_checkpoint_every": (
                status,
                [train_options, POINTER(c_uint64)],
            ),
            "mrbcr_train_options_get_resume": (status, [train_options, POINTER(c_int)]),
            "mrbcr_train_options_get_threads": (status, [train_options, POINTER(c_size_t)]),
            "mrbcr_train_options_get_init_seed": (status, [train_options, POINTER(c_uint64)]),
            "mrbcr_train_simulated_defaults": (
                status,
                [POINTER(c_size_t), POINTER(c_size_t), POINTER(c_uint64)],
            ),
            "mrbcr_train_tiff_pairs_defaults": (status, [POINTER(c_double)]),
            "mrbcr_train_simulated": (
                status,
                [
                    train_options,
                    c_void_p,  # const mrbcr_simulation_params * (NULL: the defaults)
                    POINTER(c_double),
                    c_size_t,
                    c_size_t,
                    c_size_t,
                    c_uint64,
                    TRAIN_PROGRESS_CALLBACK,
                    c_void_p,
                    POINTER(model),
                ],
            ),
            "mrbcr_train_tiff_pairs": (
                status,
                [
                    train_options,
                    c_char_p,
                    c_char_p,
                    c_double,
                    c_int,
                    TRAIN_PROGRESS_CALLBACK,
                    c_void_p,
                    POINTER(model),
                ],
            ),
        }
    )
    return signatures


#: name: (restype, argtypes) of every function the bindings use.
SIGNATURES = _signatures()

#: The declared functions that do not return an ``mrbcr_status``.
NO_STATUS = frozenset(name for name, (restype, _) in SIGNATURES.items() if restype is not STATUS)


def _declare(lib: ctypes.CDLL) -> None:
    errcheck = make_errcheck(lib.mrbcr_last_error_message)
    for name, (restype, argtypes) in SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        if restype is STATUS:
            function.restype = c_int
            function.errcheck = errcheck
        else:
            function.restype = restype


def _load() -> ctypes.CDLL:
    path = _library_path()
    # CDLL (not PyDLL): every call releases the GIL while the library works.
    lib = ctypes.CDLL(path)
    _declare(lib)
    found = lib.mrbcr_abi_version()
    if found != ABI_VERSION:
        raise ImportError(
            f"mrbcr: {path} implements C ABI version {found}, these bindings need "
            f"version {ABI_VERSION}: install matching versions"
        )
    return lib


lib = _load()
