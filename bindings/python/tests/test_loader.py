"""Where the package finds the C library: inside the package first, then the file
named by MRBCR_LIBRARY, then the repository's build when run from the source tree;
an ImportError lists every place it looked."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import mrbcr
from mrbcr import _ffi

SOURCE = Path(__file__).resolve().parents[1] / "src" / "mrbcr"
BUNDLED = Path(_ffi.lib._name)


def import_from(package_parent: Path, **environment):
    """Imports a copy of the package in a child Python; (exit status, output)."""
    env = {k: v for k, v in os.environ.items() if k != "MRBCR_LIBRARY"}
    env.update(environment, PYTHONPATH=str(package_parent))
    child = subprocess.run(
        [sys.executable, "-c", "import mrbcr, mrbcr._ffi as f; print(f.lib._name)"],
        capture_output=True, text=True, env=env, cwd=package_parent,
    )
    return child.returncode, child.stdout + child.stderr


def copy_package(into: Path, with_library: bool) -> Path:
    shutil.copytree(SOURCE, into / "mrbcr", ignore=shutil.ignore_patterns("__pycache__"))
    if with_library:
        shutil.copy2(BUNDLED, into / "mrbcr" / _ffi.library_name(sys.platform))
    return into


def test_the_installed_package_loads_its_own_library():
    assert BUNDLED.parent == Path(mrbcr.__file__).resolve().parent
    assert BUNDLED.name == "libmrbcr.so" and sys.platform.startswith("linux")


def test_the_library_inside_the_package_comes_before_mrbcr_library(tmp_path):
    package = copy_package(tmp_path / "pkg", with_library=True)
    status, output = import_from(package, MRBCR_LIBRARY="/nonexistent/libmrbcr.so")
    assert status == 0, output
    assert output.strip() == str(package / "mrbcr" / "libmrbcr.so")


def test_without_a_library_inside_mrbcr_library_is_loaded(tmp_path):
    package = copy_package(tmp_path / "pkg", with_library=False)
    status, output = import_from(package, MRBCR_LIBRARY=str(BUNDLED))
    assert status == 0, output
    assert output.strip() == str(BUNDLED)


def test_no_library_anywhere_names_every_place_looked_at(tmp_path):
    package = copy_package(tmp_path / "pkg", with_library=False)
    status, output = import_from(package)
    assert status != 0
    assert "ImportError: mrbcr: the C library was not found. Looked at:" in output
    assert f"inside the package: {package / 'mrbcr' / 'libmrbcr.so'}" in output
    assert "MRBCR_LIBRARY (not set)" in output
    status, output = import_from(package, MRBCR_LIBRARY=str(tmp_path / "missing.so"))
    assert f"MRBCR_LIBRARY: {tmp_path / 'missing.so'}" in output and status != 0


def test_from_the_source_tree_the_repository_s_build_is_the_last_resort():
    built = SOURCE.parents[3] / "target" / "release" / "libmrbcr.so"
    status, output = import_from(SOURCE.parent)
    if built.is_file():
        assert status == 0 and output.strip() == str(built), output
    else:
        assert status != 0 and f"the repository's build: {built}" in output
