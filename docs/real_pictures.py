"""Montage of real-specimen benchmark cases for the README.

    target/release/mrbcr bench-quality --real ../shared/data/real-sharp --pictures /tmp/pictures \
        --model old.safetensors ...
    python3 docs/real_pictures.py /tmp/pictures docs/real-specimens.png 1 7 9 13 22 \
        --labels "truth,raw,Wiener,Richardson-Lucy,old default,authors,new default"

Each chosen case (`case_KK.tif`: truth, raw input, Wiener, Richardson-Lucy, then each
model) becomes a row; every panel is scaled by its own 0.5th and 99.8th percentiles
after an affine fit to the truth (as the benchmark scores it), so that panels compare
shapes, not intensity scales. Needs numpy, tifffile and pillow.
"""

import argparse

import numpy as np
import tifffile
from PIL import Image, ImageDraw

PANEL = 192


def fitted(output, truth):
    """`output` mapped by the least-squares affine fit onto `truth`."""
    a = np.vstack([output.ravel(), np.ones(output.size)]).T
    (gain, offset), *_ = np.linalg.lstsq(a, truth.ravel(), rcond=None)
    return gain * output + offset


def to_panel(image, low, high):
    scaled = np.clip((image - low) / (high - low + 1e-12), 0, 1)
    panel = Image.fromarray((scaled * 255).astype(np.uint8))
    return panel.resize((PANEL, PANEL), Image.NEAREST)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pictures")
    parser.add_argument("output")
    parser.add_argument("cases", type=int, nargs="+")
    parser.add_argument("--labels", required=True)
    args = parser.parse_args()
    labels = args.labels.split(",")
    header = 18
    rows = []
    for case in args.cases:
        stack = tifffile.imread(f"{args.pictures}/case_{case:02d}.tif").astype(np.float64)
        if len(labels) != stack.shape[0]:
            raise SystemExit(f"case {case} has {stack.shape[0]} panels, {len(labels)} labels given")
        truth = stack[0]
        low, high = np.percentile(truth, [0.5, 99.8])
        panels = [to_panel(truth, low, high)]
        panels += [to_panel(fitted(out, truth), low, high) for out in stack[1:]]
        rows.append(panels)
    width = PANEL * len(labels)
    sheet = Image.new("L", (width, header + PANEL * len(rows)), 255)
    draw = ImageDraw.Draw(sheet)
    for k, label in enumerate(labels):
        draw.text((k * PANEL + 4, 3), label, fill=0)
    for r, panels in enumerate(rows):
        for k, panel in enumerate(panels):
            sheet.paste(panel, (k * PANEL, header + r * PANEL))
    sheet.save(args.output)


if __name__ == "__main__":
    main()
