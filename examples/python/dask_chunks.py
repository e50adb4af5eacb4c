"""Deconvolve an image larger than memory, chunk by chunk, with dask and mrbcr.

The image stays on disk (here a raw file, memory-mapped; any array dask reads works
the same: zarr, HDF5, TIFF through tifffile). ``dask.array.map_overlap`` hands each
chunk to mrbcr with a margin of ``depth`` pixels taken from its neighbours (mirrored at
the image's edges), mrbcr deconvolves it, and the margin is cut off again; the result
is written chunk by chunk into another memory-mapped file. Memory holds a few chunks
at a time, never the image.

Two things make the chunks agree where they meet:

- **One normalisation for the whole image.** mrbcr's own percentiles are per plane,
  so each chunk would get its own, and the chunks would differ in brightness. The
  percentiles are computed once over the whole image (exactly, from a histogram
  accumulated chunk by chunk, for 8- and 16-bit images; the minimum and maximum for
  float images), each chunk is scaled with them and given to mrbcr with
  ``normalization="none"``, and the result is scaled back.
- **A margin at least as wide as the tile overlap** (``depth >= overlap``), so that
  the pixels kept from each chunk were restored with context on every side, as they
  are inside one image. The default depth is twice the overlap.

Chunks run in parallel on dask's threads (mrbcr releases the GIL, and one model is
shared by all threads), so each uses one mrbcr thread by default.

Usage::

    python dask_chunks.py MODEL INPUT.raw OUTPUT.raw --shape PLANES HEIGHT WIDTH \\
        [--dtype uint16] [--chunk 1024] [--tile 256] [--overlap 64] [--depth 128]

INPUT.raw holds the planes one after the other, rows in order, native byte order;
OUTPUT.raw is written the same way, in the input's pixel type.
"""

import argparse
import functools
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np

import mrbcr


@functools.lru_cache(maxsize=None)
def load_model(path: str) -> mrbcr.Model:
    """The model, loaded once per process and shared by its threads."""
    return mrbcr.Model(path)


def global_scaling(image: da.Array, low: float = 1.0, high: float = 99.8):
    """The values of the whole image that map to 0 and 1: its `low` and `high`
    percentiles (the lower order statistic, from a histogram) for integer pixels, its
    minimum and maximum for floating-point ones. Reads the image once, chunk by chunk."""
    if np.issubdtype(image.dtype, np.integer):
        bins = int(np.iinfo(image.dtype).max) + 1
        partial = [
            dask.delayed(np.bincount)(block.ravel(), minlength=bins)
            for block in image.blocks.ravel()
        ]
        counts = np.sum(dask.compute(*partial), axis=0)
        cumulative = np.cumsum(counts) / counts.sum()
        lo = float(np.searchsorted(cumulative, low / 100.0))
        hi = float(np.searchsorted(cumulative, high / 100.0))
    else:
        lo, hi = (float(v) for v in dask.compute(image.min(), image.max()))
    if hi <= lo:  # a flat image
        hi = lo + 1.0
    return lo, hi


def deconvolve_chunked(
    model_path,
    image: da.Array,
    *,
    scaling,
    tile: int = 256,
    overlap: int = 64,
    depth: int = None,
    threads_per_chunk: int = 1,
) -> da.Array:
    """The lazy deconvolution of a (planes, height, width) dask array, in the input's
    pixel type. `scaling` = (low, high) from :func:`global_scaling`."""
    depth = 2 * overlap if depth is None else depth
    if depth < overlap:
        raise ValueError(f"depth {depth} must be at least the tile overlap {overlap}")
    low, high = scaling
    out_dtype = image.dtype
    path = str(model_path)

    def deconvolve_block(block: np.ndarray) -> np.ndarray:
        normalized = (block.astype(np.float32) - np.float32(low)) / np.float32(high - low)
        restored = mrbcr.deconvolve(
            load_model(path),
            normalized,
            tile=tile,
            overlap=overlap,
            normalization="none",
            threads=threads_per_chunk,
        )
        values = restored * np.float32(high - low) + np.float32(low)
        if np.issubdtype(out_dtype, np.integer):
            info = np.iinfo(out_dtype)
            values = np.clip(np.rint(values), info.min, info.max)
        return values.astype(out_dtype)

    return image.map_overlap(
        deconvolve_block,
        depth={0: 0, 1: depth, 2: depth},
        boundary="reflect",
        dtype=out_dtype,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="an mrbcr model file (.safetensors)")
    parser.add_argument("input", type=Path, help="the raw input image")
    parser.add_argument("output", type=Path, help="the raw output image to write")
    parser.add_argument("--shape", type=int, nargs=3, required=True,
                        metavar=("PLANES", "HEIGHT", "WIDTH"))
    parser.add_argument("--dtype", default="uint16", choices=["uint8", "uint16", "float32"])
    parser.add_argument("--chunk", type=int, default=1024, help="chunk side in pixels")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--depth", type=int, default=None,
                        help="margin around each chunk (default: twice the overlap)")
    args = parser.parse_args(argv)

    shape = tuple(args.shape)
    source = np.memmap(args.input, dtype=args.dtype, mode="r", shape=shape)
    image = da.from_array(source, chunks=(1, args.chunk, args.chunk))
    scaling = global_scaling(image)
    result = deconvolve_chunked(
        args.model, image, scaling=scaling, tile=args.tile, overlap=args.overlap,
        depth=args.depth,
    )
    target = np.memmap(args.output, dtype=args.dtype, mode="w+", shape=shape)
    da.store(result, target, lock=False)  # chunk by chunk; chunks never overlap
    target.flush()
    print(f"{args.output}: {shape[0]} planes of {shape[2]} x {shape[1]} in "
          f"{image.npartitions} chunks, scaled from [{scaling[0]:g}, {scaling[1]:g}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
