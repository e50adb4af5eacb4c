"""Native calls that Ctrl-C stops, through the library's progress callback.

Python runs signal handlers (KeyboardInterrupt) only in the main thread, between
bytecodes: never while that thread is inside a C call. So a call made from the main
thread runs on a worker thread while the main thread waits in short steps; Ctrl-C
there sets the cancel flag, the library's next progress call returns 0 (the library
then stops, zeroes its output and returns MRBCR_STATUS_CANCELLED), the worker is
joined, and KeyboardInterrupt is raised with no result. The caller's own progress
function still runs on the calling thread: the worker forwards each call to it.

Calls made from other threads run directly (no signal can reach them).

At interpreter exit, every call still running (in a daemon thread) is cancelled and
waited for, and no new call starts: a daemon thread that Python ends during
finalization while it is inside the library (Python ends such a thread when it next
asks for the GIL, here in the progress callback, by a forced unwind that the library's
panic boundary cannot pass) would abort the process.
"""

import atexit
import queue
import threading

from ._errors import CancelledError

#: Seconds between checks while waiting (the bound on how late a Ctrl-C is seen by
#: the waiting loops; the library stops at its next progress call).
_POLL = 0.1


class _InFlight:
    """The runs inside the library now, and whether the interpreter is exiting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runs = set()
        self.exiting = False
        self.idle = threading.Condition(self.lock)

    def enter(self, run: "Run") -> None:
        with self.lock:
            if self.exiting:
                raise RuntimeError("mrbcr: the interpreter is exiting: no new run starts")
            self.runs.add(run)

    def leave(self, run: "Run") -> None:
        with self.lock:
            self.runs.discard(run)
            self.idle.notify_all()

    def cancel_all_and_wait(self) -> None:
        """Cancels every run and waits until each has left the library (each stops at
        its next progress call); the GIL is released while waiting."""
        with self.lock:
            self.exiting = True
            for run in self.runs:
                run.cancel.set()
            while self.runs:
                self.idle.wait(_POLL)


_IN_FLIGHT = _InFlight()
atexit.register(_IN_FLIGHT.cancel_all_and_wait)


class Run:
    """One native call whose progress callback reports to ``progress`` (None: no
    one) and cancels the call on request: when ``progress`` returns False, when it
    raises (the exception is re-raised by :meth:`run`), or on Ctrl-C."""

    def __init__(self, progress):
        self.progress = progress
        self.cancel = threading.Event()
        self.raised = []
        self._forward = None  # a SimpleQueue to the waiting main thread

    def report(self, *args) -> int:
        """The body of the C progress callback, on whichever thread the library calls
        it: 1 to go on, 0 to cancel."""
        try:
            if self.cancel.is_set():
                return 0
            if self.progress is None:
                return 1
            if self._forward is None:
                return self._call(args)
            reply = queue.SimpleQueue()
            self._forward.put((args, reply))
            while True:
                try:
                    return reply.get(timeout=_POLL)
                except queue.Empty:
                    if self.cancel.is_set():
                        return 0
        except BaseException as error:  # never into the C caller
            self._fail(error)
            return 0

    def _call(self, args) -> int:
        """Calls ``progress(*args)`` on this thread."""
        try:
            go_on = self.progress(*args) is not False
        except BaseException as error:  # re-raised by run(), after the call stops
            self._fail(error)
            return 0
        if not go_on:
            self.cancel.set()
            return 0
        return 1

    def _fail(self, error: BaseException) -> None:
        self.raised.append(error)
        self.cancel.set()

    def run(self, call):
        """Runs ``call()`` (a native call whose progress callback calls
        :meth:`report`) and returns its result; raises KeyboardInterrupt if Ctrl-C
        stopped it, the exception ``progress`` raised, or the call's own."""
        _IN_FLIGHT.enter(self)
        try:
            return self._run(call)
        finally:
            _IN_FLIGHT.leave(self)

    def _run(self, call):
        if threading.current_thread() is not threading.main_thread():
            return self._finish(_outcome(call))
        forward = queue.SimpleQueue()
        self._forward = forward
        outcome = []

        def work():
            try:
                outcome.append(_outcome(call))
            finally:
                forward.put(None)

        worker = threading.Thread(target=work, name="mrbcr-call", daemon=True)
        interrupt = None
        try:
            worker.start()
            while True:
                try:
                    item = forward.get(timeout=_POLL)
                except queue.Empty:
                    if worker.is_alive():
                        continue
                    break
                if item is None:
                    break
                args, reply = item
                reply.put(self._call(args))
        except KeyboardInterrupt as error:
            interrupt = error
            self.cancel.set()
        # The worker uses memory the caller owns (images, out): wait for the library
        # to stop, however many times Ctrl-C is pressed meanwhile.
        while worker.is_alive():
            try:
                worker.join(_POLL)
            except KeyboardInterrupt:
                self.cancel.set()
        if interrupt is not None:
            raise interrupt
        return self._finish(outcome[0])

    def _finish(self, outcome):
        result, error = outcome
        if self.raised and (error is None or isinstance(error, CancelledError)):
            raise self.raised[0]
        if error is not None:
            raise error
        return result


def _outcome(call):
    """(result, None) or (None, the exception) of ``call()``."""
    try:
        return call(), None
    except BaseException as error:
        return None, error
