"""Builds the wheel of the mrbcr Python package for one platform, with that platform's
C library inside: ``mrbcr-<version>-py3-none-<platform>.whl`` (ctypes needs no CPython
ABI, so one wheel serves every Python 3 of the platform).

    python bindings/python/build_wheel.py --library dist/natives/linux_64/libmrbcr.so \\
        --platform manylinux2014_x86_64 [--out dist]

The library may be any platform's (the release script calls this once per platform):
its file name and its binary header (ELF, PE or Mach-O machine) must match the
platform tag, or nothing is built. The running Python needs setuptools and wheel
(``pip install setuptools wheel``); nothing is downloaded.
"""

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src" / "mrbcr"))
from _library_names import LIBRARY_NAMES  # noqa: E402 (the names the loader looks for)

# ELF e_machine, PE Machine and Mach-O cputype of each architecture of a platform tag.
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}
PE_MACHINES = {"amd64": 0x8664, "arm64": 0xAA64}
MACHO_CPU_TYPES = {"x86_64": 0x01000007, "arm64": 0x0100000C, "universal2": None}


def expected_binary(platform: str):
    """(library file name, binary format, machine number or None for any) of a platform
    tag such as manylinux2014_x86_64, win_amd64 or macosx_11_0_arm64."""
    architecture = platform.rsplit("_", 1)[-1] if not platform.endswith("x86_64") else "x86_64"
    if platform.startswith(("manylinux", "musllinux", "linux")) and architecture in ELF_MACHINES:
        return LIBRARY_NAMES["linux"], "ELF", ELF_MACHINES[architecture]
    if platform.startswith("win_") and architecture in PE_MACHINES:
        return LIBRARY_NAMES["win32"], "PE", PE_MACHINES[architecture]
    if platform.startswith("macosx_") and architecture in MACHO_CPU_TYPES:
        return LIBRARY_NAMES["darwin"], "Mach-O", MACHO_CPU_TYPES[architecture]
    raise SystemExit(
        f"build_wheel: unknown platform tag {platform!r}: expected manylinux2014_x86_64, "
        "manylinux2014_aarch64, win_amd64, macosx_11_0_arm64, macosx_11_0_x86_64 or the like"
    )


def binary_kind(path: Path):
    """(format, machine) read from a shared library's header; machine None for a
    universal (fat) Mach-O file."""
    with open(path, "rb") as file:
        head = file.read(4096)
    if head[:4] == b"\x7fELF":
        little = head[5] == 1
        return "ELF", struct.unpack_from("<H" if little else ">H", head, 18)[0]
    if head[:2] == b"MZ" and len(head) >= 64:
        pe = struct.unpack_from("<I", head, 60)[0]
        if head[pe : pe + 4] == b"PE\0\0":
            return "PE", struct.unpack_from("<H", head, pe + 4)[0]
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        return "Mach-O", struct.unpack_from("<I", head, 4)[0]
    if head[:4] == b"\xca\xfe\xba\xbe":
        return "Mach-O", None
    return "unknown", None


def check_library(library: Path, platform: str) -> None:
    """Refuses a library that is not the platform's (by name and by binary header)."""
    name, form, machine = expected_binary(platform)
    if not library.is_file():
        raise SystemExit(f"build_wheel: {library} does not exist")
    if library.name != name:
        raise SystemExit(
            f"build_wheel: a {platform} wheel needs the library named {name}, not {library.name}"
        )
    found_form, found_machine = binary_kind(library)
    if found_form != form or (machine is not None and found_machine != machine):
        machine_text = "any" if machine is None else hex(machine)
        found_text = "?" if found_machine is None else hex(found_machine)
        raise SystemExit(
            f"build_wheel: {library} is a {found_form} file for machine {found_text}; "
            f"a {platform} wheel needs {form} for machine {machine_text}"
        )


def build(library: Path, platform: str, out: Path) -> Path:
    """Builds the wheel into ``out`` and returns its path."""
    check_library(library, platform)
    for module in ("setuptools", "wheel"):
        try:
            __import__(module)
        except ImportError:
            raise SystemExit(
                f"build_wheel: {sys.executable} lacks {module}: pip install setuptools wheel"
            ) from None
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mrbcr-wheel-") as work:
        work = Path(work)
        source = work / "source"
        # A copy, so that no build/ or egg-info lands in the repository and runs for
        # several platforms never share a build directory.
        shutil.copytree(
            HERE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests")
        )
        environment = dict(os.environ, MRBCR_LIBRARY=str(library.resolve()))
        built = work / "built"
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--no-build-isolation", "--wheel-dir", str(built), str(source)],
            env=environment,
            check=True,
        )
        (wheel,) = built.glob("mrbcr-*.whl")
        subprocess.run(
            [sys.executable, "-m", "wheel", "tags", "--remove", "--python-tag", "py3",
             "--abi-tag", "none", "--platform-tag", platform, str(wheel)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tagged,) = built.glob(f"mrbcr-*-py3-none-{platform}.whl")
        check_wheel(tagged, library)
        target = out / tagged.name
        shutil.move(str(tagged), target)
    return target


def check_wheel(wheel: Path, library: Path) -> None:
    """The wheel holds the library, byte for byte, inside the package, and says its tag."""
    with zipfile.ZipFile(wheel) as archive:
        inside = archive.read(f"mrbcr/{library.name}")
        wheel_info = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        tags = [
            line.split(":", 1)[1].strip()
            for line in archive.read(wheel_info).decode().splitlines()
            if line.startswith("Tag:")
        ]
    if inside != library.read_bytes():
        raise SystemExit(f"build_wheel: {wheel.name} holds another library than {library}")
    expected = wheel.name[:-4].split("-", 2)[2]
    if tags != [expected]:
        raise SystemExit(f"build_wheel: {wheel.name} declares the tags {tags}, not {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, required=True,
                        help="the platform's C library: libmrbcr.so, libmrbcr.dylib or mrbcr.dll")
    parser.add_argument("--platform", required=True,
                        help="the wheel's platform tag, e.g. manylinux2014_x86_64, win_amd64")
    parser.add_argument("--out", type=Path, default=HERE.parent.parent / "dist",
                        help="where the wheel goes (default: the repository's dist/)")
    arguments = parser.parse_args()
    wheel = build(arguments.library, arguments.platform, arguments.out)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    print(f"{wheel} ({wheel.stat().st_size} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
