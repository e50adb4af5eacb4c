"""Training m-rBCR from Python: on one's own pairs of low- and high-quality TIFF
images, or on simulated widefield images, from fresh weights or fine-tuning a model.
Thin over the C library's ``mrbcr_train_*`` functions."""

import math
import os
from ctypes import byref, c_double, c_int, c_size_t, c_uint64
from typing import Callable, Optional, Sequence, Union

from . import _args, _ffi
from ._errors import invalid
from ._ffi import lib
from ._run import Run

PathLike = Union[str, os.PathLike]

#: ``progress(step, train_loss, validation_loss, seconds_per_step)``;
#: ``validation_loss`` is None when the step did not validate. Return False to stop.
ProgressCallback = Callable[[int, float, Optional[float], float], Optional[bool]]


#: The settings of a run (those of ``mrbcr train``), each with its C conversion
#: (refused by name if it does not fit).
_CONVERSIONS = dict(
    patch_size=_args.size,
    batch_size=_args.size,
    steps=_args.u64,
    learning_rate=_args.real,
    final_learning_rate=_args.real,
    seed=_args.u64,
    flips=lambda value, _name: int(bool(value)),
    noise=lambda value, _name: int(bool(value)),
    log_loss=_args.real,
    validate_every=_args.u64,
    patience=_args.size,
    log_every=_args.u64,
    checkpoint_every=_args.u64,
    init=lambda value, name: (
        value if isinstance(value, str) and value == "default" else _args.path(value, name)
    ),
    init_seed=_args.u64,
    resume=lambda value, _name: int(bool(value)),
    threads=_args.threads,
)


def _settings(given: dict) -> dict:
    """The settings the caller gave (None: not given, the library's default), checked
    and converted for the C types: a name that is not a setting raises TypeError, a
    value that does not fit InvalidInputError naming it. ``init`` becomes ``"default"``
    or an encoded path."""
    unknown = sorted(set(given) - set(_CONVERSIONS))
    if unknown:
        raise TypeError(
            f"mrbcr: unknown training setting {unknown[0]!r}; the settings are "
            + ", ".join(_CONVERSIONS)
        )
    settings = {
        name: _CONVERSIONS[name](value, name) for name, value in given.items() if value is not None
    }
    if settings.get("log_every") == 0:
        raise invalid("log_every must be at least 1 (steps between progress calls)")
    return settings


def _read(getter, leading, *types):
    """The values ``getter(*leading, &a, &b, ...)`` writes, of the given C types."""
    values = [t() for t in types]
    getter(*leading, *(byref(v) for v in values))
    return [v.value for v in values]


def training_defaults() -> dict:
    """The defaults of the training settings and data arguments, as the library defines
    them (the same as ``mrbcr train``'s): what :func:`train_pairs` and
    :func:`train_simulated` use for a setting not given (or given as None).
    ``final_learning_rate`` None is a constant learning rate, ``log_loss`` None the
    mean of the samples' losses, ``init`` None fresh
    weights drawn with ``init_seed``, ``threads`` 0 every core. ``pixel_sizes_nm`` is
    left out: None passes the choice to the library."""
    options = _ffi.TrainOptionsHandle()
    lib.mrbcr_train_options_new(b"unused", byref(options))
    try:
        o = (options,)
        (patch_size,) = _read(lib.mrbcr_train_options_get_patch_size, o, c_size_t)
        (batch_size,) = _read(lib.mrbcr_train_options_get_batch_size, o, c_size_t)
        (steps,) = _read(lib.mrbcr_train_options_get_steps, o, c_uint64)
        first, last = _read(lib.mrbcr_train_options_get_learning_rate, o, c_double, c_double)
        (seed,) = _read(lib.mrbcr_train_options_get_seed, o, c_uint64)
        flips, noise = _read(lib.mrbcr_train_options_get_augmentation, o, c_int, c_int)
        log_loss, floor = _read(lib.mrbcr_train_options_get_log_loss, o, c_int, c_double)
        every, patience = _read(lib.mrbcr_train_options_get_validation, o, c_uint64, c_size_t)
        (log_every,) = _read(lib.mrbcr_train_options_get_log_every, o, c_uint64)
        (checkpoint_every,) = _read(lib.mrbcr_train_options_get_checkpoint_every, o, c_uint64)
        (init_seed,) = _read(lib.mrbcr_train_options_get_init_seed, o, c_uint64)
        (resume,) = _read(lib.mrbcr_train_options_get_resume, o, c_int)
        (threads,) = _read(lib.mrbcr_train_options_get_threads, o, c_size_t)
    finally:
        lib.mrbcr_train_options_free(options)
    images, validation_images, data_seed = _read(
        lib.mrbcr_train_simulated_defaults, (), c_size_t, c_size_t, c_uint64
    )
    (validation_fraction,) = _read(lib.mrbcr_train_tiff_pairs_defaults, (), c_double)
    return dict(
        patch_size=patch_size,
        batch_size=batch_size,
        steps=steps,
        learning_rate=first,
        final_learning_rate=None if last == 0 else last,
        seed=seed,
        flips=bool(flips),
        noise=bool(noise),
        log_loss=floor if log_loss else None,
        validate_every=every,
        patience=patience,
        log_every=log_every,
        checkpoint_every=checkpoint_every,
        init=None,
        init_seed=init_seed,
        resume=bool(resume),
        threads=threads,
        validation_fraction=validation_fraction,
        images=images,
        validation_images=validation_images,
        data_seed=data_seed,
    )


#: The C setters that take one setting, each with the setting's name.
_SINGLE_SETTINGS = (
    ("patch_size", lib.mrbcr_train_options_set_patch_size),
    ("batch_size", lib.mrbcr_train_options_set_batch_size),
    ("steps", lib.mrbcr_train_options_set_steps),
    ("seed", lib.mrbcr_train_options_set_seed),
    (
        "log_loss",
        lambda options, floor: lib.mrbcr_train_options_set_log_loss(options, 1, floor),
    ),
    ("checkpoint_every", lib.mrbcr_train_options_set_checkpoint_every),
    ("resume", lib.mrbcr_train_options_set_resume),
    ("threads", lib.mrbcr_train_options_set_threads),
)


#: The C setters that take two settings, each with the settings' names, the getter of
#: both and their C types: a setting given alone goes with the other's current value.
_PAIRED_SETTINGS = (
    (
        ("learning_rate", "final_learning_rate"),
        lib.mrbcr_train_options_get_learning_rate,
        lib.mrbcr_train_options_set_learning_rate,
        (c_double, c_double),
    ),
    (
        ("flips", "noise"),
        lib.mrbcr_train_options_get_augmentation,
        lib.mrbcr_train_options_set_augmentation,
        (c_int, c_int),
    ),
    (
        ("validate_every", "patience"),
        lib.mrbcr_train_options_get_validation,
        lib.mrbcr_train_options_set_validation,
        (c_uint64, c_size_t),
    ),
)


def _options(output_dir: bytes, settings: dict):
    """A new ``mrbcr_train_options *`` with the library's defaults changed by these
    (checked) settings, and the run's ``log_every``; the caller frees the options
    (:data:`_SINGLE_SETTINGS`, :data:`_PAIRED_SETTINGS`: a C setter of two settings
    gets the current value of the one not given). The library is asked for a progress
    call at every step (the Python side reports every ``log_every`` steps), so that
    Ctrl-C stops the run after the step in progress."""
    s = settings
    options = _ffi.TrainOptionsHandle()
    lib.mrbcr_train_options_new(output_dir, byref(options))
    try:
        for name, setter in _SINGLE_SETTINGS:
            if name in s:
                setter(options, s[name])
        for names, getter, setter, types in _PAIRED_SETTINGS:
            if any(name in s for name in names):
                current = _read(getter, (options,), *types)
                setter(options, *(s.get(name, value) for name, value in zip(names, current)))
        if "init" in s:
            if s["init"] == "default":
                lib.mrbcr_train_options_set_init_default(options)
            else:
                lib.mrbcr_train_options_set_init_model_file(options, s["init"])
        elif "init_seed" in s:
            lib.mrbcr_train_options_set_init_seed(options, s["init_seed"])
        if "log_every" in s:
            log_every = s["log_every"]
        else:
            (log_every,) = _read(lib.mrbcr_train_options_get_log_every, (options,), c_uint64)
        lib.mrbcr_train_options_set_log_every(options, 1)
    except BaseException:
        lib.mrbcr_train_options_free(options)
        raise
    return options, log_every


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
    settings = _settings(settings)
    run = Run(progress)

    model_file = os.path.join(os.fsdecode(directory), "model.safetensors")

    def call():
        options, log_every = _options(directory, settings)
        try:
            callback = _ffi.TRAIN_PROGRESS_CALLBACK(_Window(run, log_every))
            handle = _ffi.ModelHandle()
            start(options, callback, byref(handle))
        finally:
            lib.mrbcr_train_options_free(options)
        # Owned at once: freed by garbage collection even if Ctrl-C comes now.
        return Model._from_handle(handle, f"the model {model_file!r}")

    return run.run(call)


_SETTINGS_DOC = """
    Settings (those of ``mrbcr train``; one not given, or given as None, keeps the
    library's default, which :func:`training_defaults` reads, as it does the defaults
    of the data arguments above): ``patch_size`` (a multiple of 4), ``batch_size``,
    ``steps`` (in all: a resumed run counts the earlier ones), ``learning_rate`` and
    ``final_learning_rate`` (a cosine decay to it; None: constant), ``seed``, ``flips``
    and ``noise`` (augmentation), ``log_loss`` (a floor of at least 0: each step
    minimises the mean of ln(sample loss + floor), so that a patch counts by its
    relative error, as ``mrbcr train --log-loss``; None: the mean of the samples'
    losses), ``validate_every`` (0: never) and ``patience`` (0:
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
    validation_fraction: Optional[float] = None,
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
    if validation_fraction is None:
        (fraction,) = _read(lib.mrbcr_train_tiff_pairs_defaults, (), c_double)
    else:
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
    pixel_sizes_nm: Optional[Sequence[float]] = None,
    images: Optional[int] = None,
    validation_images: Optional[int] = None,
    data_seed: Optional[int] = None,
    progress: Optional[ProgressCallback] = None,
    **settings,
):
    """Trains m-rBCR on simulated widefield images (the simulator's training defaults,
    those of ``mrbcr train``), ``images`` for training and ``validation_images`` for
    validation, drawn with ``data_seed``, shared out evenly over ``pixel_sizes_nm``
    (None: the training defaults' pixel sizes). Each of the four not given, or None:
    the library's default.
    """
    sizes = [
        _args.real(size, f"pixel_sizes_nm[{i}]") for i, size in enumerate(pixel_sizes_nm or ())
    ]
    array = (c_double * len(sizes))(*sizes) if sizes else None
    default_images, default_validation_images, default_seed = _read(
        lib.mrbcr_train_simulated_defaults, (), c_size_t, c_size_t, c_uint64
    )
    images = default_images if images is None else _args.size(images, "images")
    validation_images = (
        default_validation_images
        if validation_images is None
        else _args.size(validation_images, "validation_images")
    )
    data_seed = default_seed if data_seed is None else _args.u64(data_seed, "data_seed")
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
