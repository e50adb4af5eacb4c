"""Training m-rBCR from Python: on one's own pairs of low- and high-quality TIFF
images, or on simulated widefield images, from fresh weights or fine-tuning a model.
Thin over the C library's ``mrbcr_train_*`` functions."""

import math
import os
from ctypes import byref, c_double
from typing import Callable, Optional, Sequence, Union

from . import _args, _ffi
from ._errors import invalid
from ._ffi import lib
from ._run import Run

PathLike = Union[str, os.PathLike]

#: ``progress(step, train_loss, validation_loss, seconds_per_step)``;
#: ``validation_loss`` is None when the step did not validate. Return False to stop.
ProgressCallback = Callable[[int, float, Optional[float], float], Optional[bool]]


def _settings(
    *,
    patch_size,
    batch_size,
    steps,
    learning_rate,
    final_learning_rate,
    seed,
    flips,
    noise,
    validate_every,
    patience,
    log_every,
    checkpoint_every,
    init,
    init_seed,
    resume,
    threads,
) -> dict:
    """The settings checked and converted for the C types (refused by name if they do
    not fit); ``init`` becomes None, ``"default"`` or an encoded path."""
    log_every = _args.u64(log_every, "log_every")
    if log_every == 0:
        raise invalid("log_every must be at least 1 (steps between progress calls)")
    if not (isinstance(init, str) and init == "default") and init is not None:
        init = _args.path(init, "init")
    return dict(
        patch_size=_args.size(patch_size, "patch_size"),
        batch_size=_args.size(batch_size, "batch_size"),
        steps=_args.u64(steps, "steps"),
        learning_rate=_args.real(learning_rate, "learning_rate"),
        final_learning_rate=(
            0.0
            if final_learning_rate is None
            else _args.real(final_learning_rate, "final_learning_rate")
        ),
        seed=_args.u64(seed, "seed"),
        flips=int(bool(flips)),
        noise=int(bool(noise)),
        validate_every=_args.u64(validate_every, "validate_every"),
        patience=_args.size(patience, "patience"),
        log_every=log_every,
        checkpoint_every=_args.u64(checkpoint_every, "checkpoint_every"),
        init=init,
        init_seed=_args.u64(init_seed, "init_seed"),
        resume=int(bool(resume)),
        threads=_args.threads(threads),
    )


def _options(output_dir: bytes, settings: dict) -> _ffi.TrainOptionsHandle:
    """A new ``mrbcr_train_options *`` with these (checked) settings; the caller frees
    it. The library is asked for a progress call at every step (the Python side
    reports every ``log_every`` steps), so that Ctrl-C stops the run after the step
    in progress."""
    s = settings
    options = _ffi.TrainOptionsHandle()
    lib.mrbcr_train_options_new(output_dir, byref(options))
    try:
        lib.mrbcr_train_options_set_patch_size(options, s["patch_size"])
        lib.mrbcr_train_options_set_batch_size(options, s["batch_size"])
        lib.mrbcr_train_options_set_steps(options, s["steps"])
        lib.mrbcr_train_options_set_learning_rate(
            options, s["learning_rate"], s["final_learning_rate"]
        )
        lib.mrbcr_train_options_set_seed(options, s["seed"])
        lib.mrbcr_train_options_set_augmentation(options, s["flips"], s["noise"])
        lib.mrbcr_train_options_set_validation(options, s["validate_every"], s["patience"])
        lib.mrbcr_train_options_set_log_every(options, 1)
        lib.mrbcr_train_options_set_checkpoint_every(options, s["checkpoint_every"])
        lib.mrbcr_train_options_set_resume(options, s["resume"])
        lib.mrbcr_train_options_set_threads(options, s["threads"])
        if s["init"] is None:
            lib.mrbcr_train_options_set_init_seed(options, s["init_seed"])
        elif s["init"] == "default":
            lib.mrbcr_train_options_set_init_default(options)
        else:
            lib.mrbcr_train_options_set_init_model_file(options, s["init"])
    except BaseException:
        lib.mrbcr_train_options_free(options)
        raise
    return options


class _Window:
    """Turns the library's progress call at every step into the caller's every
    ``log_every`` steps and at each validation, with the mean loss and seconds per
    step since the previous report: what the library itself reports with that
    ``log_every`` (the same sums in the same order, so the same numbers)."""

    def __init__(self, run: Run, log_every: int):
        self.run, self.log_every = run, log_every
        self.loss, self.seconds, self.steps = 0.0, 0.0, 0

    def __call__(self, step, train_loss, validation_loss, seconds_per_step, _user_data):
        self.loss += train_loss
        self.seconds += seconds_per_step
        self.steps += 1
        validated = not math.isnan(validation_loss)
        if step % self.log_every != 0 and not validated:
            return 0 if self.run.cancel.is_set() else 1
        report = (
            step,
            self.loss / self.steps,
            validation_loss if validated else None,
            self.seconds / self.steps,
        )
        self.loss, self.seconds, self.steps = 0.0, 0.0, 0
        return self.run.report(*report)


def _train(output_dir: PathLike, settings: dict, progress, start):
    """Runs ``start(options, callback, model_out)`` (an ``mrbcr_train_*`` call) and
    returns the trained :class:`Model`."""
    from . import Model

    directory = _args.path(output_dir, "output_dir")
    settings = _settings(**{**_DEFAULTS, **settings})
    run = Run(progress)
    callback = _ffi.TRAIN_PROGRESS_CALLBACK(_Window(run, settings["log_every"]))

    model_file = os.path.join(os.fsdecode(directory), "model.safetensors")

    def call():
        options = _options(directory, settings)
        try:
            handle = _ffi.ModelHandle()
            start(options, callback, byref(handle))
        finally:
            lib.mrbcr_train_options_free(options)
        # Owned at once: freed by garbage collection even if Ctrl-C comes now.
        return Model._from_handle(handle, f"the model {model_file!r}")

    return run.run(call)


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
    ``progress(step, train_loss, validation_loss, seconds_per_step)`` is called on the
    calling thread every ``log_every`` steps and at each validation; returning False
    stops the run (:class:`CancelledError`; its checkpoint is saved, so ``resume=True``
    continues it), and an exception raised in it stops the run and is re-raised here.
    Ctrl-C (in the main thread) stops the run after the step in progress, with its
    checkpoint saved, and raises KeyboardInterrupt. A run that diverges, or a checkpoint
    that cannot be resumed (damaged, of another network, of other settings), raises
    :class:`TrainingError`.

    Integers and paths the C types cannot hold (negative counts, values beyond 64
    bits, a NUL character in a path) raise :class:`InvalidInputError` naming the
    setting, before anything is written.
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
    low, high = _args.path(low, "low"), _args.path(high, "high")
    fraction = _args.real(validation_fraction, "validation_fraction")
    return _train(
        output_dir,
        settings,
        progress,
        lambda options, callback, model_out: lib.mrbcr_train_tiff_pairs(
            options, low, high, fraction, int(bool(same_units)), callback, None, model_out
        ),
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
    sizes = [_args.real(size, f"pixel_sizes_nm[{i}]") for i, size in enumerate(pixel_sizes_nm)]
    array = (c_double * len(sizes))(*sizes)
    images = _args.size(images, "images")
    validation_images = _args.size(validation_images, "validation_images")
    data_seed = _args.u64(data_seed, "data_seed")
    return _train(
        output_dir,
        settings,
        progress,
        lambda options, callback, model_out: lib.mrbcr_train_simulated(
            options,
            None,
            array,
            len(sizes),
            images,
            validation_images,
            data_seed,
            callback,
            None,
            model_out,
        ),
    )


train_pairs.__doc__ += _SETTINGS_DOC
train_simulated.__doc__ += _SETTINGS_DOC
