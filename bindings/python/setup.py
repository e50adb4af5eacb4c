"""Build hook: bundles the mrbcr C library into the package.

The library is the file named by the environment variable MRBCR_LIBRARY if it is set
(``build_wheel.py`` sets it to another platform's library), else this repository's
``target/release/`` build for this system (``cargo build --release`` first). It keeps
its file name inside the package: ``libmrbcr.so``, ``libmrbcr.dylib`` or ``mrbcr.dll``,
the names the loader (``mrbcr._ffi``) looks for. Everything else is in pyproject.toml.
"""

import os
import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src" / "mrbcr"))
from _library_names import LIBRARY_NAMES, library_name  # noqa: E402 (the loader's names)


def library_to_bundle() -> Path:
    """The C library to copy into the package."""
    configured = os.environ.get("MRBCR_LIBRARY")
    if configured:
        path = Path(configured)
    else:
        path = HERE.parent.parent / "target" / "release" / library_name(sys.platform)
    if not path.is_file():
        raise SystemExit(
            f"mrbcr: cannot bundle the C library: {path} does not exist. Build it with "
            "`cargo build --release` in the repository, or set MRBCR_LIBRARY to the library."
        )
    if path.name not in LIBRARY_NAMES.values():
        raise SystemExit(
            f"mrbcr: cannot bundle {path}: the library must be named one of "
            f"{', '.join(sorted(LIBRARY_NAMES.values()))} (the names the loader looks for)"
        )
    return path


class BuildWithLibrary(build_py):
    """build_py that also copies the C library into the built package."""

    def run(self):
        super().run()
        library = library_to_bundle()
        target = Path(self.build_lib) / "mrbcr" / library.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target)


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for a platform, not `any`
    (build_wheel.py sets the tag: py3-none-<platform>)."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
