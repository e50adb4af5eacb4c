"""A model is freed only when no call uses it: ``close()`` or garbage collection while
other threads deconvolve must not free the weights under them (it used to, and the
interpreter died of a segmentation fault). Calls after ``close()`` raise ValueError
naming the model."""

import gc
import os
import subprocess
import sys
import textwrap
import threading
import weakref

import numpy as np
import pytest

import mrbcr

# Four threads deconvolve with one model while a fifth (the main thread) closes it (or
# runs its finalizer, as garbage collection does), many times; run in a child process
# under PYTHONFAULTHANDLER, since a use-after-free kills the interpreter (and the
# fault handler then prints every thread's stack).
RACE = textwrap.dedent(
    """
    import sys, threading, time
    import numpy as np
    import mrbcr

    path, how, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    image = (np.arange(48 * 48) % 1009).astype(np.uint16).reshape(48, 48)
    expected = None
    finished = refused = 0
    for round in range(rounds):
        model = mrbcr.Model(path)
        if expected is None:
            expected = mrbcr.deconvolve(model, image, tile=32, overlap=8, threads=1)
        go = threading.Barrier(5)
        results = []

        def work():
            go.wait()
            for _ in range(3):
                try:
                    results.append(mrbcr.deconvolve(model, image, tile=32, overlap=8, threads=1))
                except ValueError as error:
                    results.append(str(error))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        go.wait()
        time.sleep(0.002 * (round % 5))
        if how == "close":
            model.close()
        else:
            model._finalizer()  # what the garbage collector calls
        for t in threads:
            t.join()
        for r in results:
            if isinstance(r, str):
                assert "closed" in r and path in r, r
                refused += 1
            else:
                assert r.tobytes() == expected.tobytes(), "a run gave a wrong result"
                finished += 1
    print("finished", finished, "refused", refused)
    """
)


@pytest.mark.parametrize("how", ["close", "finalizer"])
def test_closing_while_other_threads_deconvolve_never_frees_the_model_in_use(model_path, how):
    for attempt in range(3):
        child = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-c", RACE, str(model_path), how, "12"],
            env=dict(os.environ, PYTHONFAULTHANDLER="1"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert child.returncode == 0, (
            f"attempt {attempt}: exit status {child.returncode} "
            f"(-11 is a segmentation fault)\n{child.stderr[-3000:]}"
        )
        assert child.stdout.startswith("finished "), child.stdout


def test_a_closed_model_refuses_calls_and_names_itself(model_path):
    model = mrbcr.Model(model_path)
    model.close()
    model.close()  # twice is harmless
    with pytest.raises(ValueError, match=r"closed") as error:
        mrbcr.deconvolve(model, np.ones((40, 40), np.float32))
    assert str(model_path) in str(error.value)
    with pytest.raises(ValueError, match="closed"):
        model.metadata
    assert "closed" in repr(model)
    default = mrbcr.Model()
    default.close()
    with pytest.raises(ValueError, match="bundled default model .*closed"):
        default.metadata
    with mrbcr.Model.from_bytes(model_path.read_bytes()) as in_memory:
        pass
    with pytest.raises(ValueError, match=r"\(model in memory\) .*closed"):
        in_memory.name


def test_close_during_a_call_on_the_same_thread_waits_for_its_end(model, model_path, first_case):
    """close() from a progress callback: the run finishes with the weights it began
    with, and the model is freed after it."""
    mine = mrbcr.Model(model_path)
    closed_inside = []

    def close_now(fraction):
        if not closed_inside:
            mine.close()
            closed_inside.append(fraction)

    result = mrbcr.deconvolve(
        mine, first_case.input(), dtype=first_case.output_dtype, progress=close_now,
        **first_case.options()
    )
    assert closed_inside and result.tobytes() == first_case.expected().tobytes()
    with pytest.raises(ValueError, match="closed"):
        mrbcr.deconvolve(mine, first_case.input(), **first_case.options())


def test_garbage_collection_frees_the_model(model_path):
    model = mrbcr.Model(model_path)
    finalizer = model._finalizer
    assert finalizer.alive
    reference = weakref.ref(model)
    del model
    gc.collect()
    assert reference() is None and not finalizer.alive


def test_a_model_used_by_a_thread_outlives_its_last_reference_elsewhere(model_path, first_case):
    """The running thread keeps it: dropping every other reference mid-run is harmless."""
    case = first_case
    started, release = threading.Event(), threading.Event()
    out = {}

    def run(m):
        def hold(fraction):
            started.set()
            release.wait(30)

        out["result"] = mrbcr.deconvolve(
            m, case.input(), dtype=case.output_dtype, progress=hold, **case.options()
        )

    model = mrbcr.Model(model_path)
    worker = threading.Thread(target=run, args=(model,))
    worker.start()
    assert started.wait(60)
    del model
    gc.collect()
    release.set()
    worker.join(120)
    assert out["result"].tobytes() == case.expected().tobytes()


# The interpreter exits (its finalizers run, the model's among them) while a daemon
# thread is inside mrbcr_deconvolve, between progress calls.
EXIT_DURING_A_RUN = textwrap.dedent(
    """
    import sys, threading
    import numpy as np
    import mrbcr

    model = mrbcr.Model(sys.argv[1])
    image = (np.arange(1024 * 1024) % 4093).astype(np.uint16).reshape(1024, 1024)
    started = threading.Event()

    def work():
        mrbcr.deconvolve(model, image, tile=32, overlap=8, threads=1,
                         progress=lambda fraction: started.set())

    threading.Thread(target=work, daemon=True).start()
    assert started.wait(120)
    print("exiting during a run", flush=True)
    """
)


def test_the_interpreter_exits_cleanly_while_a_daemon_thread_deconvolves(model_path):
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", EXIT_DURING_A_RUN, str(model_path)],
        env=dict(os.environ, PYTHONFAULTHANDLER="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0 and child.stdout == "exiting during a run\n", (
        f"exit status {child.returncode}\n{child.stderr[-3000:]}"
    )
    assert "Fatal Python error" not in child.stderr, child.stderr[-3000:]
