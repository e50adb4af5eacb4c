"""The exceptions of the bindings, one per ``mrbcr_status``, and the ctypes
``errcheck`` that raises them: every C function that returns a status has it (see
``_ffi``), so a failed call always raises, with the thread's last-error message."""


class MrbcrError(Exception):
    """A failure reported by the library: ``status`` is the ``mrbcr_status`` number,
    the message is the library's (a sentence for the end user)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class NullParameterError(MrbcrError, ValueError):
    """MRBCR_STATUS_NULL_PARAMETER: a required pointer was NULL (a bug in the bindings)."""


class InvalidInputError(MrbcrError, ValueError):
    """MRBCR_STATUS_INVALID_INPUT: bad sizes, options, normalisation text, NaN pixels...
    Also raised by the bindings themselves for an argument the C types cannot hold."""


class MrbcrIOError(MrbcrError, OSError):
    """MRBCR_STATUS_IO: a file could not be read or written."""


class ModelFileError(MrbcrError):
    """MRBCR_STATUS_MODEL_FILE: not a valid model file (names the file and tensor)."""


class CheckpointError(MrbcrError):
    """MRBCR_STATUS_CHECKPOINT: a TensorFlow checkpoint could not be imported."""


class CancelledError(MrbcrError):
    """MRBCR_STATUS_CANCELLED: the progress callback stopped the run."""


class InternalError(MrbcrError):
    """MRBCR_STATUS_PANIC or MRBCR_STATUS_INTERNAL: a bug in mrbcr (please report it)."""


class ImageFileError(MrbcrError):
    """MRBCR_STATUS_IMAGE_FILE: an image file could not be read or written."""


class TrainingError(MrbcrError):
    """MRBCR_STATUS_TRAINING: training cannot go on: the run diverged (a lower learning
    rate may help), or the checkpoint to resume is damaged, of another network or of a
    run with other settings."""


class OutOfMemoryError(MrbcrError, MemoryError):
    """MRBCR_STATUS_OUT_OF_MEMORY: the work needs more memory than the system (or the
    memory limit) gives; refused before it started, with the estimate."""


for _class in list(globals().values()):
    if isinstance(_class, type) and issubclass(_class, MrbcrError):
        _class.__module__ = "mrbcr"  # where users find them

#: The exception of each status; an unknown (newer) status raises MrbcrError.
ERRORS = {
    1: NullParameterError,
    2: InvalidInputError,
    3: MrbcrIOError,
    4: ModelFileError,
    5: CheckpointError,
    6: CancelledError,
    7: InternalError,
    8: ImageFileError,
    9: OutOfMemoryError,
    10: InternalError,
    11: TrainingError,
}


def error_for_status(status: int, message: str) -> MrbcrError:
    """The exception for a failed call's status and message."""
    return ERRORS.get(status, MrbcrError)(status, message)


def invalid(message: str) -> InvalidInputError:
    """An InvalidInputError found by the bindings, worded as the library's."""
    return InvalidInputError(2, f"invalid input: {message}")


def make_errcheck(last_error_message):
    """The ``errcheck`` of every function returning an ``mrbcr_status``: raises the
    status's exception with the message of ``last_error_message()``, which ctypes
    calls at once on the same thread (the message is per thread)."""

    def errcheck(status, function, _arguments):
        if status != 0:
            message = last_error_message()
            text = message.decode("utf-8", "replace") if message else ""
            name = getattr(function, "__name__", "an mrbcr function")
            raise error_for_status(status, text or f"{name} failed with status {status}")
        return status

    return errcheck


__all__ = [name for name, value in globals().items() if isinstance(value, type)]
del _class
