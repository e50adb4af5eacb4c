"""The sample-data contribution: the simulated widefield image of mrbcr's examples."""

from pathlib import Path

import tifffile

#: The sample, inside the package (examples/data/widefield-sample.tif of the repository:
#: ``mrbcr simulate --seed 7 --size 512``).
SAMPLE = Path(__file__).resolve().parent / "widefield-sample.tif"


def widefield_sample():
    """The simulated 512 x 512 16-bit widefield image (filaments, puncta and rings
    blurred by a high-NA objective, with out-of-focus light and camera noise), as
    napari layer data."""
    return [(tifffile.imread(SAMPLE), {"name": "widefield-sample"}, "image")]
