"""The platform smoke test of an installed mrbcr wheel (.ci/release-check): the Python
twin of smoke.c. Deconvolves the same fixed 16-bit image with the bundled model and the
same options (tiles of 128, overlap 32, 2 threads) and writes the result as raw
little-endian float32, so that it can be compared byte for byte with smoke.c's output
on Linux x86-64.

    python wheel_smoke.py OUTPUT.f32

Run it outside the repository, with the wheel installed: it fails unless mrbcr is
imported from outside the repository and the library it loaded is the one inside the
installed package.
"""

import sys
from pathlib import Path

import numpy as np

import mrbcr
from mrbcr import _ffi

WIDTH, HEIGHT, TILE, OVERLAP, THREADS = 160, 144, 128, 32, 2


def make_input() -> np.ndarray:
    """smoke.c's image: bright blocks, lines and dots on a background, with LCG noise."""
    pixels = np.empty((HEIGHT, WIDTH), dtype=np.uint16)
    noise = 12345
    for y in range(HEIGHT):
        for x in range(WIDTH):
            value = 300
            if (x // 20 + y // 24) % 3 == 0:
                value += 900
            if x == y or x == 2 * y or (x + y) % 37 == 0:
                value += 2500
            if x % 16 == 5 and y % 12 == 7:
                value += 8000
            noise = (noise * 1664525 + 1013904223) & 0xFFFFFFFF
            value += noise >> 25
            pixels[y, x] = value
    return pixels


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: wheel_smoke.py OUTPUT.f32")
    package = Path(mrbcr.__file__).resolve().parent
    loaded = Path(_ffi.lib._name).resolve()
    if loaded.parent != package:
        raise SystemExit(f"wheel_smoke: the library loaded is {loaded}, not the one inside {package}")
    if (package.parent / "Cargo.toml").exists() or "bindings" in package.parts:
        raise SystemExit(f"wheel_smoke: mrbcr was imported from the repository ({package}), not the wheel")
    print(f"mrbcr {mrbcr.version()}, ABI {mrbcr.abi_version()}, {loaded.name} from {package}")
    with mrbcr.Model() as model:
        restored = mrbcr.deconvolve(model, make_input(), tile=TILE, overlap=OVERLAP, threads=THREADS)
    assert restored.dtype == np.float32 and restored.shape == (HEIGHT, WIDTH)
    print(f"deconvolved {WIDTH} x {HEIGHT} pixels, mean {float(restored.astype(np.float64).mean()):.6f}")
    Path(sys.argv[1]).write_bytes(restored.astype("<f4").tobytes())


if __name__ == "__main__":
    main()
