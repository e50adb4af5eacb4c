"""napari-mrbcr: m-rBCR deep-learning deconvolution in napari.

A dock widget (Plugins > Deconvolve (m-rBCR)) restores an image layer into a new layer
with the ``mrbcr`` package, and a sample (File > Open Sample > m-rBCR deconvolution)
gives a simulated widefield image to try it on. The contributions are declared in
``napari.yaml``.
"""

__version__ = "0.1.0"
