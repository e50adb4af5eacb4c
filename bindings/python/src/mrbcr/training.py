"""Training m-rBCR from Python: on one's own pairs of low- and high-quality TIFF
images, or on simulated widefield images, from fresh weights or fine-tuning a model.
Thin over the C library's ``mrbcr_train_*`` functions."""

import math
import os
from ctypes import byref, c_double, c_void_p
from typing import Callable, Optional, Sequence, Union

from . import _ffi
from ._ffi import lib

PathLike = Union[str, os.PathLike]

#: ``progress(step, train_loss, validation_loss, seconds_per_step)``;
#: ``validation_loss`` is None when the step did not validate. Return False to stop.
ProgressCallback = Callable[[int, float, Optional[float], float], Optional[bool]]


def _options(
    output_dir: PathLike,
    *,
    patch_size: int,
    batch_size: int,
    steps: int,
    learning_rate: float,
    final_learning_rate: Optional[float],
    seed: int,
    flips: bool,
    noise: bool,
    validate_every: int,
    patience: int,
    log_every: int,
    checkpoint_every: int,
    init: Union[None, str, PathLike],
    init_seed: int,
    resume: bool,
    threads: int,
) -> c_void_p:
    """A new ``mrbcr_train_options *`` with these settings (the caller frees it)."""
    from . import _check

    options = c_void_p()
    _check(lib.mrbcr_train_options_new(os.fsencode(output_dir), byref(options)))
    try:
        _check(lib.mrbcr_train_options_set_patch_size(options, patch_size))
        _check(lib.mrbcr_train_options_set_batch_size(options, batch_size))
        _check(lib.mrbcr_train_options_set_steps(options, steps))
        _check(
            lib.mrbcr_train_options_set_learning_rate(
                options, learning_rate, final_learning_rate or 0.0
            )
        )
        _check(lib.mrbcr_train_options_set_seed(options, seed))
        _check(lib.mrbcr_train_options_set_augmentation(options, int(flips), int(noise)))
        _check(lib.mrbcr_train_options_set_validation(options, validate_every, patience))
        _check(lib.mrbcr_train_options_set_log_every(options, log_every))
        _check(lib.mrbcr_train_options_set_checkpoint_every(options, checkpoint_every))
        _check(lib.mrbcr_train_options_set_resume(options, int(resume)))
        _check(lib.mrbcr_train_options_set_threads(options, threads))
        if init is None:
            _check(lib.mrbcr_train_options_set_init_seed(options, init_seed))
        elif isinstance(init, str) and init == "default":
            _check(lib.mrbcr_train_options_set_init_default(options))
        else:
            _check(lib.mrbcr_train_options_set_init_model_file(options, os.fsencode(init)))
    except BaseException:
        lib.mrbcr_train_options_free(options)
        raise
    return options


def _run(options: c_void_p, call, progress: Optional[ProgressCallback]):
    """Runs ``call(callback, model_out)`` and returns the trained :class:`Model`."""
    from . import Model, _check

    raised = []

    def report(step, train_loss, validation_loss, seconds_per_step, _user_data):
        try:
            validation = None if math.isnan(validation_loss) else validation_loss
            return 0 if progress(step, train_loss, validation, seconds_per_step) is False else 1
        except BaseException as error:  # re-raised below, after the run stops
            raised.append(error)
            return 0

    callback = _ffi.TRAIN_PROGRESS_CALLBACK(report if progress else 0)
    handle = c_void_p()
    try:
        status = call(callback, byref(handle))
    finally:
        lib.mrbcr_train_options_free(options)
    if raised:
        raise raised[0]
    _check(status)
    model = Model.__new__(Model)
    model._handle = handle
    return model


_DEFAULTS = dict(
    patch_size=128,
    batch_size=8,
    steps=10_000,
    learning_rate=1e-3,
    final_learning_rate=None,
    seed=1,
    flips=True,
    noise=True,
    validate_every=200,
    patience=10,
    log_every=10,
    checkpoint_every=100,
    init=None,
    init_seed=1,
    resume=False,
    threads=0,
)

_SETTINGS_DOC = """
    Settings (those of ``mrbcr train``): ``patch_size`` (a multiple of 4), ``batch_size``,
    ``steps`` (in all: a resumed run counts the earlier ones), ``learning_rate`` and
    ``final_learning_rate`` (a cosine decay to it; None: constant), ``seed``, ``flips``
    and ``noise`` (augmentation), ``validate_every`` (0: never) and ``patience`` (0:
    never stop early), ``log_every`` (steps between progress calls),
    ``checkpoint_every``, ``init`` (None: fresh weights drawn with ``init_seed``;
    ``"default"``: the bundled default model; a path: that model file), ``resume``
    (continue the run whose checkpoint is in ``output_dir``), ``threads`` (0: every
    core; the result does not depend on it).

    ``output_dir`` receives the checkpoint, ``best.safetensors`` and, at the end,
    ``model.safetensors``, which is returned loaded as a :class:`Model`.
    ``progress(step, train_loss, validation_loss, seconds_per_step)`` is called every
    ``log_every`` steps and at each validation; returning False stops the run
    (:class:`CancelledError`; its checkpoint is saved, so ``resume=True`` continues
    it), and an exception raised in it stops the run and is re-raised here.
"""


def train_pairs(
    low: PathLike,
    high: PathLike,
    output_dir: PathLike,
    *,
    validation_fraction: float = 0.1,
    same_units: bool = False,
    progress: Optional[ProgressCallback] = None,
    **settings,
):
    """Trains m-rBCR (or fine-tunes a model) on your own pairs: ``low`` and ``high``
    are each a TIFF file (one plane or a stack) or a folder of TIFF files, matched
    plane by plane (files by name, then pages). The last ``validation_fraction`` of
    the pairs is held out for validation. ``same_units``: the high-quality images are
    in the units of the low-quality ones (same camera and settings), so the model
    learns to keep intensities.
    """
    options = _options(output_dir, **{**_DEFAULTS, **settings})
    return _run(
        options,
        lambda callback, model_out: lib.mrbcr_train_tiff_pairs(
            options,
            os.fsencode(low),
            os.fsencode(high),
            validation_fraction,
            int(same_units),
            callback,
            None,
            model_out,
        ),
        progress,
    )


def train_simulated(
    output_dir: PathLike,
    *,
    pixel_sizes_nm: Sequence[float] = (65.0,),
    images: int = 192,
    validation_images: int = 8,
    data_seed: int = 1000,
    progress: Optional[ProgressCallback] = None,
    **settings,
):
    """Trains m-rBCR on simulated widefield images (the simulator's training
    defaults: 256 x 256 images, NA 1.1 to 1.4, emission 500 to 620 nm, 10 to 5000
    photons at the brightest pixel), ``images`` for training and
    ``validation_images`` for validation, shared out evenly over ``pixel_sizes_nm``.
    """
    options = _options(output_dir, **{**_DEFAULTS, **settings})
    sizes = (c_double * len(pixel_sizes_nm))(*pixel_sizes_nm)
    return _run(
        options,
        lambda callback, model_out: lib.mrbcr_train_simulated(
            options,
            None,
            sizes,
            len(pixel_sizes_nm),
            images,
            validation_images,
            data_seed,
            callback,
            None,
            model_out,
        ),
        progress,
    )


train_pairs.__doc__ += _SETTINGS_DOC
train_simulated.__doc__ += _SETTINGS_DOC
