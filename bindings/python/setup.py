"""Build hook: bundles the mrbcr C library (libmrbcr.so) into the package.

The library is taken from the environment variable MRBCR_LIBRARY if it is set, else
from the repository's target/release/libmrbcr.so (build it first with
`cargo build --release`). Everything else is in pyproject.toml.
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
LIBRARY = "libmrbcr.so"


def library_to_bundle() -> Path:
    """The libmrbcr.so to copy into the package."""
    configured = os.environ.get("MRBCR_LIBRARY")
    path = Path(configured) if configured else HERE.parent.parent / "target" / "release" / LIBRARY
    if not path.is_file():
        raise SystemExit(
            f"mrbcr: cannot bundle the C library: {path} does not exist. Build it with "
            "`cargo build --release` in the repository, or set MRBCR_LIBRARY to a libmrbcr.so."
        )
    return path


class BuildWithLibrary(build_py):
    """build_py that also copies libmrbcr.so into the built package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "mrbcr" / LIBRARY
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library_to_bundle(), target)


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for this platform, not `any`."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
