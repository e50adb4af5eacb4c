"""Deconvolve with ONNX Runtime instead of mrbcr's own engine: the same tiling,
normalisation and blending as ``mrbcr deconvolve``, each tile run by an ONNX Runtime
session on the model exported by ``mrbcr export-onnx`` (on a GPU with the CUDA
provider when ONNX Runtime has it, else on the CPU).

Needs only numpy and onnxruntime (``pip install onnxruntime``, or
``onnxruntime-gpu`` for CUDA), not the mrbcr library. The result matches the native
engine's within 1e-4 of the normalised range (tests/onnx/test_onnx_engine.py).

Usage::

    mrbcr export-onnx [MODEL.safetensors] -o model.onnx
    python onnx_engine.py model.onnx INPUT.tif OUTPUT.tif [--tile 512] [--overlap 128]
        [--norm percentile] [--cpu]

(reading and writing TIFF needs ``tifffile``). From Python::

    from onnx_engine import OnnxEngine
    engine = OnnxEngine("model.onnx")
    restored = engine.deconvolve(image)  # 2-D or planes x height x width, float32

Differences from the native engine: tiles run one at a time (the session uses every
core, or the GPU, for each); the normalisation is given explicitly (``--norm``, as
``mrbcr deconvolve``'s; the model's metadata names the one it was trained for).
"""

import argparse
import sys
import time

import numpy as np
import onnxruntime as ort

# mrbcr deconvolve's largest tile, and the bundled model's overlap (its file records it).
DEFAULT_TILE = 1024
DEFAULT_OVERLAP = 128
# Raw blend weight of pixels a tile should not contribute (as the native engine).
NEGLIGIBLE = 1e-9


def mirror(index, length):
    """Source indices of positions past an axis's end, mirrored about its last
    pixel's outer edge (numpy's ``symmetric`` mode), as the native engine."""
    period = 2 * length
    j = np.asarray(index) % period
    return np.where(j < length, j, period - 1 - j)


def axis_plan(length, tile, overlap):
    """Tile starts and, for each tile, the blend weight of each of its positions
    inside the axis: mrbcr's tiling (crates/mrbcr/src/deconvolve/tiling.rs).

    The axis is extended to a multiple of 4; it gets as many tiles as tiles of
    ``tile`` need, all shrunk to the smallest equal size (a multiple of 4) with which
    that many still cover it; tiles start every ``tile - overlap`` pixels rounded down
    to a multiple of 4, the last aligned to the end; a tile's weight is negligible over
    the first 3/8 of the overlap at an inner edge, rises as sin^2 over the middle
    quarter, and the weights are normalised to sum to one."""
    extended = -(-length // 4) * 4

    def step_of(size):
        return max(max(size - overlap, 0) // 4 * 4, 4)

    def count_of(size):
        return 1 + -(-(extended - size) // step_of(size))

    tile = extended if tile == 0 else min(tile, extended)
    count = count_of(tile)
    while tile > 4 and count_of(tile - 4) == count:
        tile -= 4
    step = step_of(tile)
    starts = [0]
    while starts[-1] + tile < extended:
        starts.append(min(starts[-1] + step, extended - tile))
    margin = overlap * 3 // 8

    def ramp(d):
        d = np.asarray(d, dtype=np.float64)
        t = (d - margin + 0.5) / max(overlap - 2 * margin, 1)
        rising = np.maximum(np.sin(t * np.pi / 2) ** 2, NEGLIGIBLE)
        return np.where(d < margin, NEGLIGIBLE, np.where(d < overlap - margin, rising, 1.0))

    d = np.arange(tile)
    last = len(starts) - 1
    raw = [
        (ramp(d) if i > 0 else np.ones(tile)) * (ramp(tile - 1 - d) if i < last else np.ones(tile))
        for i in range(len(starts))
    ]
    total = np.zeros(extended)
    for start, r in zip(starts, raw):
        total[start:start + tile] += r
    weights = []
    for start, r in zip(starts, raw):
        end = min(start + tile, length)
        weights.append((r[: end - start] / total[start:end]).astype(np.float32))
    return tile, starts, weights


def parse_normalization(text):
    """``percentile``, ``percentile:LOW:HIGH``, ``minmax``, ``per-tile-minmax`` or
    ``none``, as ``mrbcr deconvolve --norm``."""
    text = text.strip()
    if text == "percentile":
        return ("percentile", 1.0, 99.8)
    if text.startswith("percentile:"):
        low, high = (float(v) for v in text.split(":")[1:3])
        if not 0 <= low < high <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100: {text}")
        return ("percentile", low, high)
    if text in ("minmax", "per-tile-minmax", "none"):
        return (text,)
    raise ValueError(f"unknown normalisation '{text}': expected percentile, "
                     "percentile:LOW:HIGH, minmax, per-tile-minmax or none")


def plane_scaling(plane, normalization):
    """(low, high) mapped to 0 and 1 for a whole plane, as the native engine; for
    per-tile-minmax, None (each tile gets its own)."""
    kind = normalization[0]
    if kind == "none":
        return (0.0, 1.0)
    if kind == "per-tile-minmax":
        return None
    lo, hi = float(plane.min()), float(plane.max())
    if kind == "percentile":
        p_lo, p_hi = np.percentile(plane.astype(np.float64), normalization[1:3])
        if p_hi > p_lo:
            return (float(p_lo), float(p_hi))
    return (lo, hi)


class OnnxEngine:
    """An ONNX Runtime session on an ``mrbcr export-onnx`` model, and mrbcr's tiling
    around it."""

    def __init__(self, onnx_path, *, cpu_only=False):
        available = ort.get_available_providers()
        providers = ["CPUExecutionProvider"]
        if not cpu_only and "CUDAExecutionProvider" in available:
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(onnx_path), providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name  # z0, the restored image

    @property
    def providers(self):
        """The execution providers the session uses, in order of preference."""
        return self.session.get_providers()

    def deconvolve(self, image, *, tile=DEFAULT_TILE, overlap=DEFAULT_OVERLAP,
                   normalization="percentile", output_range="input"):
        """Deconvolves a 2-D image or a 3-D stack (planes x height x width, each plane
        on its own). Returns float32 in the input's intensities (``output_range
        ="input"``) or the network's normalised range (``"normalized"``)."""
        image = np.asarray(image)
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValueError(f"expected a non-empty 2-D image or 3-D stack, got shape {image.shape}")
        if not np.all(np.isfinite(image)):
            raise ValueError("the image holds NaN or infinite values")
        if tile != 0 and (tile < 32 or tile % 4):
            raise ValueError(f"tile {tile} must be 0 or a multiple of 4 of at least 32")
        if tile != 0 and overlap >= tile:
            raise ValueError(f"overlap {overlap} must be smaller than the tile size {tile}")
        if output_range not in ("input", "normalized"):
            raise ValueError(f"unknown output range '{output_range}': expected input or normalized")
        norm = parse_normalization(normalization)
        stack = image[None] if image.ndim == 2 else image
        planes, height, width = stack.shape
        tile_h, rows, row_weights = axis_plan(height, tile, overlap)
        tile_w, cols, col_weights = axis_plan(width, tile, overlap)
        out = np.zeros(stack.shape, np.float32)
        for p in range(planes):
            plane = stack[p].astype(np.float64)
            whole = plane_scaling(plane, norm)
            for r0, wy in zip(rows, row_weights):
                src_rows = mirror(np.arange(r0, r0 + tile_h), height)
                for c0, wx in zip(cols, col_weights):
                    src = plane[np.ix_(src_rows, mirror(np.arange(c0, c0 + tile_w), width))]
                    lo, hi = whole if whole is not None else (float(src.min()), float(src.max()))
                    scale = 1.0 / (hi - lo) if hi > lo else 0.0
                    x = ((src - lo) * scale).astype(np.float32)
                    (z,) = self.session.run([self.output_name], {self.input_name: x[None, None]})
                    z = z[0, 0]
                    if output_range == "input":
                        z = (z.astype(np.float64) * (hi - lo) + lo).astype(np.float32)
                    h, w = len(wy), len(wx)
                    out[p, r0:r0 + h, c0:c0 + w] += np.outer(wy, wx) * z[:h, :w]
        return out[0] if image.ndim == 2 else out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("onnx_model", help="the model from `mrbcr export-onnx`")
    parser.add_argument("input", help="input TIFF (2-D or a stack)")
    parser.add_argument("output", help="output TIFF (float32)")
    parser.add_argument("--tile", type=int, default=DEFAULT_TILE)
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP)
    parser.add_argument("--norm", default="percentile")
    parser.add_argument("--output-range", default="input", choices=("input", "normalized"))
    parser.add_argument("--cpu", action="store_true", help="do not use a GPU even if present")
    args = parser.parse_args()
    import tifffile

    image = tifffile.imread(args.input)
    engine = OnnxEngine(args.onnx_model, cpu_only=args.cpu)
    start = time.perf_counter()
    restored = engine.deconvolve(image, tile=args.tile, overlap=args.overlap,
                                 normalization=args.norm, output_range=args.output_range)
    seconds = time.perf_counter() - start
    tifffile.imwrite(args.output, restored)
    print(f"wrote {args.output}: {image.shape} in {seconds:.2f} s on {engine.providers[0]}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
