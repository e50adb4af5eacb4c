"""Makes docs/napari-widget.png: the plugin's widget in a real napari window, after it
restored the sample (the input and the result side by side in napari's grid).

Needs a display: under Xvfb, with napari, a Qt binding, napari-mrbcr and the mrbcr
wheel installed (the napari venv of .ci/python-wheel-napari has them all):

    xvfb-run -s "-screen 0 1600x1000x24" target/napari-venv/bin/python docs/napari_screenshot.py
"""

from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

OUTPUT = Path(__file__).resolve().parent / "napari-widget.png"


def main() -> None:
    viewer = napari.Viewer(title="napari: m-rBCR deconvolution")
    viewer.window.resize(1500, 900)
    viewer.open_sample("napari-mrbcr", "widefield")
    _, widget = viewer.window.add_plugin_dock_widget("napari-mrbcr", "Deconvolve (m-rBCR)")
    widget.reset_choices()
    widget.image.value = viewer.layers["widefield-sample"]
    widget.run_button.native.click()
    application = QApplication.instance()
    while widget.worker is not None:
        application.processEvents()
    restored = viewer.layers["widefield-sample-mrbcr"]
    # The same display range for both, so that what deconvolution does is visible.
    restored.contrast_limits = viewer.layers["widefield-sample"].contrast_limits
    viewer.grid.enabled = True
    viewer.layers.selection.active = restored
    viewer.reset_view()
    application.processEvents()
    viewer.window.screenshot(str(OUTPUT), canvas_only=False)
    print(f"wrote {OUTPUT}")
    viewer.close()


if __name__ == "__main__":
    main()
