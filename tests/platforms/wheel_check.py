"""Checks one Python wheel of the release (.ci/release-check), whatever its platform.

    python3 wheel_check.py WHEEL PLATFORM_TAG LIBRARY VERSION

Fails (exit status 1, one line per problem) unless:
- the file is named mrbcr-VERSION-py3-none-PLATFORM_TAG.whl and its WHEEL file says
  the same single tag and Root-Is-Purelib: false;
- its METADATA names mrbcr VERSION, Python >= 3.9 and numpy;
- the package holds the Python modules and exactly one native library, LIBRARY's file
  name (libmrbcr.so, mrbcr.dll or libmrbcr.dylib), byte for byte LIBRARY;
- every file's size and SHA-256 are the ones RECORD lists (what pip trusts).

Prints what it found.
"""

import base64
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path

MODULES = ["__init__.py", "_ffi.py", "_library_names.py"]
NATIVE_SUFFIXES = (".so", ".dll", ".dylib", ".pyd")


def record_digest(data: bytes) -> str:
    """A RECORD hash: sha256= and the urlsafe base64 digest without padding."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def problems_of(wheel: Path, tag: str, library: Path, version: str):
    """The problems found (empty when the wheel is right) and a summary line."""
    problems = []
    expected_name = f"mrbcr-{version}-py3-none-{tag}.whl"
    if wheel.name != expected_name:
        problems.append(f"named {wheel.name}, expected {expected_name}")
    dist_info = f"mrbcr-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for required in (f"{dist_info}/WHEEL", f"{dist_info}/METADATA", f"{dist_info}/RECORD"):
            if required not in names:
                return [f"{required} is missing"], ""
        wheel_info = archive.read(f"{dist_info}/WHEEL").decode()
        tags = [line.split(":", 1)[1].strip() for line in wheel_info.splitlines() if line.startswith("Tag:")]
        if tags != [f"py3-none-{tag}"]:
            problems.append(f"WHEEL declares the tags {tags}, expected ['py3-none-{tag}']")
        if "Root-Is-Purelib: false" not in wheel_info:
            problems.append("WHEEL does not say Root-Is-Purelib: false")
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        for line in ("Name: mrbcr", f"Version: {version}", "Requires-Python: >=3.9"):
            if line not in metadata.splitlines():
                problems.append(f"METADATA lacks '{line}'")
        if not any(line.startswith("Requires-Dist: numpy") for line in metadata.splitlines()):
            problems.append("METADATA does not require numpy")
        for module in MODULES:
            if f"mrbcr/{module}" not in names:
                problems.append(f"mrbcr/{module} is missing")
        natives = sorted(name for name in names if name.endswith(NATIVE_SUFFIXES))
        if natives != [f"mrbcr/{library.name}"]:
            problems.append(f"holds the native libraries {natives}, expected ['mrbcr/{library.name}']")
        elif archive.read(f"mrbcr/{library.name}") != library.read_bytes():
            problems.append(f"mrbcr/{library.name} is not {library}")
        record = list(csv.reader(io.StringIO(archive.read(f"{dist_info}/RECORD").decode())))
        listed = {row[0] for row in record}
        if listed != names:
            problems.append(f"RECORD lists {sorted(listed ^ names)} differently from the archive")
        for path, digest, size in record:
            if path == f"{dist_info}/RECORD" or path not in names:
                continue
            data = archive.read(path)
            if digest != record_digest(data) or size != str(len(data)):
                problems.append(f"{path} does not match its RECORD line")
    summary = (
        f"{wheel.name}: tag py3-none-{tag}, mrbcr {version}, mrbcr/{library.name} byte for byte "
        f"{library} ({library.stat().st_size} bytes), {len(names)} files matching RECORD"
    )
    return problems, summary


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit("usage: wheel_check.py WHEEL PLATFORM_TAG LIBRARY VERSION")
    wheel, tag, library, version = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    problems, summary = problems_of(wheel, tag, library, version)
    if problems:
        for problem in problems:
            print(f"wheel_check: {wheel.name}: {problem}", file=sys.stderr)
        sys.exit(1)
    print(summary)


if __name__ == "__main__":
    main()
