"""A native object shared by threads, freed only when no call uses it any more."""

import threading
from contextlib import contextmanager


class SharedHandle:
    """A pointer to a native object (a ``c_void_p``), its free function, and the
    number of calls using it. :meth:`use` lends the pointer for one call;
    :meth:`close` marks the object closed (new calls are refused) and frees it at
    once if no call uses it, else when the last call ends. Closing twice is harmless.

    It holds no reference to its Python owner, so the owner's ``weakref.finalize``
    may call :meth:`close` (garbage collection then frees nothing still in use)."""

    __slots__ = ("_pointer", "_free", "_lock", "_users", "_closed", "what")

    def __init__(self, pointer, free, what: str):
        self._pointer = pointer
        self._free = free
        self._lock = threading.Lock()
        self._users = 0
        self._closed = False
        self.what = what  # names the object in messages: "the model 'm.safetensors'"

    @property
    def closed(self) -> bool:
        return self._closed

    @contextmanager
    def use(self):
        """Lends the pointer for the duration of a ``with`` block: the object is not
        freed before the block ends, even if :meth:`close` is called meanwhile."""
        with self._lock:
            if self._closed:
                raise ValueError(f"mrbcr: {self.what} is closed: it cannot be used any more")
            self._users += 1
        try:
            yield self._pointer
        finally:
            with self._lock:
                self._users -= 1
                pointer = self._take_if_unused()
            if pointer is not None:
                self._free(pointer)

    def close(self) -> None:
        """Refuses new calls; frees the object now, or after the calls using it end."""
        with self._lock:
            self._closed = True
            pointer = self._take_if_unused()
        if pointer is not None:
            self._free(pointer)

    def _take_if_unused(self):
        """The pointer to free (taken out: freed once) if closed and unused; the lock
        is held."""
        if self._closed and self._users == 0 and self._pointer is not None:
            pointer, self._pointer = self._pointer, None
            return pointer
        return None
