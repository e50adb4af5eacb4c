"""Deconvolves frames as a camera delivers them, shaped like acquisition software
(pymmcore-plus or pycro-manager style): the acquisition loop only hands each frame to
a queue, and a background thread restores the frames one after another, printing the
latency of each (from the frame's arrival to its restored result).

The camera is simulated from the sample image (examples/data/widefield-sample.tif):
each frame is a crop that drifts by a few pixels, with fresh Poisson noise. With a
real camera, call ``restorer.submit(frame)`` from the camera's new-frame callback
(``mmc.mda.events.frameReady`` in pymmcore-plus, an image-process function in
pycro-manager).

    python examples/python/acquisition.py --frames 10 --interval 0.5
    python examples/python/acquisition.py --model m-rBCR-official.safetensors --size 256

Needs numpy, tifffile (to read the sample) and the mrbcr package.
"""

import argparse
import queue
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import tifffile

import mrbcr

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "widefield-sample.tif"


class BackgroundRestorer:
    """A queue of frames and a thread that deconvolves them in order with one model.
    ``submit`` never blocks the acquisition: when ``capacity`` frames already wait,
    the new frame is dropped (and counted), as a camera cannot wait."""

    def __init__(self, model, on_result, capacity=8, **options):
        self.model = model
        self.options = options
        self.on_result = on_result
        self.dropped = 0
        self._frames = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._work, name="mrbcr-restorer")
        self._thread.start()

    def submit(self, index, frame):
        """Queues a frame (called by the acquisition loop as each frame arrives)."""
        try:
            self._frames.put_nowait((index, frame, time.perf_counter()))
        except queue.Full:
            self.dropped += 1

    def close(self):
        """Waits until every queued frame is restored, then ends the thread."""
        self._frames.put(None)
        self._thread.join()

    def _work(self):
        while True:
            item = self._frames.get()
            if item is None:
                return
            index, frame, arrived = item
            started = time.perf_counter()
            restored = mrbcr.deconvolve(self.model, frame, **self.options)
            finished = time.perf_counter()
            self.on_result(index, restored, started - arrived, finished - arrived)


def simulated_camera(frames, size, interval, seed=1):
    """Yields (index, frame): uint16 crops of the sample drifting by 3 pixels a
    frame, with Poisson noise, one every ``interval`` seconds."""
    sample = tifffile.imread(SAMPLE).astype(np.float64)
    rng = np.random.default_rng(seed)
    limit = sample.shape[0] - size
    next_time = time.perf_counter()
    for index in range(frames):
        offset = (3 * index) % (limit + 1)
        crop = sample[offset : offset + size, offset : offset + size]
        frame = rng.poisson(np.maximum(crop, 0)).astype(np.uint16)
        next_time += interval
        time.sleep(max(0.0, next_time - time.perf_counter()))
        yield index, frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a model file (default: the bundled model)")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--size", type=int, default=256, help="frame side, pixels (at most 512)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between frames")
    parser.add_argument("--tile", type=int, help="tile side (default: the library's)")
    parser.add_argument("--overlap", type=int, help="tile overlap (default: the library's)")
    parser.add_argument("--threads", type=int, default=0, help="0: every core")
    arguments = parser.parse_args()

    model = mrbcr.Model(arguments.model) if arguments.model else mrbcr.Model()
    latencies = []

    def on_result(index, restored, waited, latency):
        latencies.append(latency)
        print(
            f"frame {index:3d}: latency {latency * 1000:7.1f} ms "
            f"(queued {waited * 1000:6.1f} ms), restored {restored.shape[1]}x{restored.shape[0]} "
            f"{restored.dtype}, mean {restored.mean():.1f}",
            flush=True,
        )

    restorer = BackgroundRestorer(
        model, on_result, tile=arguments.tile, overlap=arguments.overlap,
        threads=arguments.threads,
    )
    started = time.perf_counter()
    for index, frame in simulated_camera(arguments.frames, arguments.size, arguments.interval):
        restorer.submit(index, frame)
    acquired = time.perf_counter() - started
    restorer.close()
    model.close()
    print(
        f"{arguments.frames} frames acquired in {acquired:.1f} s, {len(latencies)} restored, "
        f"{restorer.dropped} dropped; latency median {statistics.median(latencies) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
