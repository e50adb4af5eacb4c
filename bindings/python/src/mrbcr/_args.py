"""Arguments converted for the C types, refused by name when they do not fit.

ctypes itself would wrap an integer modulo 2**64 (``tile=2**64`` became 0,
``threads=-1`` became 2**64 - 1) and end a string at its first NUL character (a path
``"a\\0b"`` opened ``a``): nothing the bindings pass goes through unchecked."""

import ctypes
import operator
import os
from typing import Union

from ._errors import invalid

SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1
U64_MAX = 2**64 - 1


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"mrbcr: {name} must be an integer, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"mrbcr: {name} must be an integer, not {type(value).__name__} {value!r}"
        ) from None


def size(value, name: str) -> int:
    """A count for a C ``size_t``: an integer from 0 to SIZE_MAX."""
    number = _integer(value, name)
    if not 0 <= number <= SIZE_MAX:
        raise invalid(f"{name} {number} is out of range: it must be from 0 to {SIZE_MAX}")
    return number


def u64(value, name: str) -> int:
    """A value for a C ``uint64_t``: an integer from 0 to 2**64 - 1."""
    number = _integer(value, name)
    if not 0 <= number <= U64_MAX:
        raise invalid(f"{name} {number} is out of range: it must be from 0 to {U64_MAX}")
    return number


def threads(value, name: str = "threads") -> int:
    """A thread count: 0 (one per core) or positive. The library refuses counts
    above its limit (a few per core) with a message that gives it."""
    number = _integer(value, name)
    if number < 0:
        raise invalid(
            f"{name} {number} is negative: give 0 (one thread per core) or a positive count"
        )
    return size(number, name)


def real(value, name: str) -> float:
    """A C ``double``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"mrbcr: {name} must be a number, not {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise invalid(f"{name} {value} is too large for a floating-point number") from None
    except (TypeError, ValueError):
        raise TypeError(
            f"mrbcr: {name} must be a number, not {type(value).__name__} {value!r}"
        ) from None


def text(value, name: str) -> bytes:
    """A NUL-terminated UTF-8 string (``str``) for the library."""
    if not isinstance(value, str):
        raise TypeError(f"mrbcr: {name} must be a str, not {type(value).__name__} {value!r}")
    if "\0" in value:
        raise invalid(f"{name} {value!r} contains a NUL character")
    return value.encode("utf-8")


def path(value: Union[str, bytes, os.PathLike], name: str) -> bytes:
    """A file name as the operating system takes it (``os.fsencode``)."""
    try:
        encoded = os.fsencode(value)
    except TypeError:
        raise TypeError(
            f"mrbcr: the {name} path must be a str, bytes or os.PathLike, not "
            f"{type(value).__name__} {value!r}"
        ) from None
    if b"\0" in encoded:
        raise invalid(
            f"the {name} path {os.fsdecode(encoded)!r} contains a NUL character: no file "
            "name can"
        )
    return encoded
