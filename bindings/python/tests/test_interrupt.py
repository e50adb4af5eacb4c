"""Ctrl-C (SIGINT) stops a long deconvolution or training run soon, through the C
library's cancel callback, and raises KeyboardInterrupt with no partial result; it
used to be noticed only once the whole run had ended. Each run is a child process
that receives a real SIGINT."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# A child started from a non-interactive shell's background job inherits SIGINT
# ignored, and Python then never installs its Ctrl-C handler: give the child the
# handler an interactive Python has, as at a terminal.
PRELUDE = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import sys, time
import numpy as np
import mrbcr
def say(*words):
    print(*words, flush=True)
"""

# A run of thousands of tiles: hours, unless it is cancelled. A 3-D out is written in
# place, so the zeros show that the library's run was entered and cancelled.
DECONVOLVE = """
model = mrbcr.Model(sys.argv[1])
image = (np.arange(2048 * 2048) % 4093).astype(np.float32).reshape(1, 2048, 2048)
out = np.full(image.shape, 7, np.float32)
progress = None
if sys.argv[2] == "progress":
    def progress(fraction):
        say("tile", fraction)
        time.sleep(0.01)
say("running")
try:
    result = mrbcr.deconvolve(model, image, out=out, tile=32, overlap=8, threads=1, progress=progress)
except KeyboardInterrupt:
    say("interrupted", "zeros" if not out.any() else "PARTIAL RESULT")
    raise
say("FINISHED")
"""

# Tiny steps, but a billion of them.
TRAIN = """
low, high, run = sys.argv[1], sys.argv[2], sys.argv[3]
say("running")
try:
    mrbcr.train_pairs(low, high, run, patch_size=16, batch_size=2, steps=10**9,
                      validate_every=0, log_every=10**6, checkpoint_every=10**8, threads=1)
except KeyboardInterrupt:
    import os
    say("interrupted", sorted(os.listdir(run)))
    raise
say("FINISHED")
"""


def interrupt(script, args, signal_after, grace=90):
    """Starts `script`, sends SIGINT once it has printed `signal_after` (and had a
    moment to get into the library), and returns (exit status, stdout, stderr, seconds
    from the signal to the exit)."""
    child = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in child.stdout:
            lines.append(line)
            if line.startswith(signal_after):
                break
        else:
            pytest.fail(f"the child ended early:\n{''.join(lines)}\n{child.stderr.read()}")
        time.sleep(2)  # into the library's call
        os.kill(child.pid, signal.SIGINT)
        sent = time.monotonic()
        try:
            out, err = child.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            pytest.fail(f"still running {grace} s after SIGINT: Ctrl-C is not honoured")
        return child.returncode, "".join(lines) + out, err, time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def assert_interrupted(status, out, err):
    assert status in (-signal.SIGINT, 130), f"exit status {status}\n{out}\n{err[-3000:]}"
    assert err.rstrip().endswith("KeyboardInterrupt"), err[-3000:]
    assert "Exception ignored" not in err, err[-3000:]
    assert "interrupted" in out and "FINISHED" not in out, out


@pytest.mark.parametrize("progress", ["no-progress", "progress"])
def test_ctrl_c_stops_a_deconvolution(model_path, progress):
    signal_after = "tile" if progress == "progress" else "running"
    status, out, err, seconds = interrupt(DECONVOLVE, [model_path, progress], signal_after)
    assert_interrupted(status, out, err)
    assert "interrupted zeros" in out, "the library's cancelled run zeroes its output"
    assert seconds < 60


def test_ctrl_c_stops_training_with_its_checkpoint_saved(tmp_path):
    fixtures = os.environ.get("MRBCR_TRAIN_FIXTURES")
    if not fixtures:
        pytest.fail("set MRBCR_TRAIN_FIXTURES to the directory write_train_fixtures wrote")
    low, high = os.path.join(fixtures, "low.tif"), os.path.join(fixtures, "high.tif")
    run = tmp_path / "run"
    status, out, err, seconds = interrupt(TRAIN, [low, high, run], "running")
    assert_interrupted(status, out, err)
    assert seconds < 60
    files = os.listdir(run)
    assert "model.safetensors" not in files
    assert any("checkpoint" in name for name in files), files
