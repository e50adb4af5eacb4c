"""Checks the release's Fiji jar (.ci/release-check).

    python3 jar_check.py JAR NATIVES_DIR

Fails (exit status 1, one line per problem) unless:
- the jar holds exactly the five libraries of a release under SciJava's names,
  natives/linux_64/libmrbcr.so, natives/linux_arm64/libmrbcr.so,
  natives/windows_64/mrbcr.dll, natives/osx_64/libmrbcr.dylib and
  natives/osx_arm64/libmrbcr.dylib, each byte for byte the file of the same path in
  NATIVES_DIR (the release's dist/natives);
- every class is Java 8 bytecode (class-file major version 52: Fiji-Stable runs Java 8);
- it has plugins.config (ImageJ 1's menu entries) and the SciJava command's index
  (META-INF/json/org.scijava.plugin.Plugin).

Prints what it found.
"""

import struct
import sys
import zipfile
from pathlib import Path

NATIVES = [
    "linux_64/libmrbcr.so",
    "linux_arm64/libmrbcr.so",
    "windows_64/mrbcr.dll",
    "osx_64/libmrbcr.dylib",
    "osx_arm64/libmrbcr.dylib",
]
JAVA_8_MAJOR = 52
REQUIRED_ENTRIES = ["plugins.config", "META-INF/json/org.scijava.plugin.Plugin"]


def problems_of(jar: Path, natives_dir: Path):
    """The problems found (empty when the jar is right) and a summary line."""
    problems = []
    with zipfile.ZipFile(jar) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
        in_jar = sorted(name[len("natives/"):] for name in names if name.startswith("natives/"))
        if in_jar != sorted(NATIVES):
            problems.append(f"natives/ holds {in_jar}, expected {sorted(NATIVES)}")
        for native in NATIVES:
            if native in in_jar and archive.read("natives/" + native) != (natives_dir / native).read_bytes():
                problems.append(f"natives/{native} is not {natives_dir / native}")
        classes = [name for name in names if name.endswith(".class")]
        if len(classes) < 10:
            problems.append(f"only {len(classes)} classes")
        majors = {}
        for name in classes:
            head = archive.read(name)[:8]
            magic, _minor, major = struct.unpack(">IHH", head)
            if magic != 0xCAFEBABE:
                problems.append(f"{name} is not a class file")
            majors.setdefault(major, []).append(name)
        for major, offenders in majors.items():
            if major != JAVA_8_MAJOR:
                problems.append(
                    f"{len(offenders)} classes of major version {major}, not {JAVA_8_MAJOR} "
                    f"(Java 8), e.g. {offenders[0]}"
                )
        for entry in REQUIRED_ENTRIES:
            if entry not in names:
                problems.append(f"{entry} is missing")
    sizes = ", ".join(f"{native} {(natives_dir / native).stat().st_size}" for native in NATIVES)
    summary = (
        f"{jar}: {len(classes)} classes, all major version {JAVA_8_MAJOR} (Java 8); "
        f"natives byte for byte dist/natives' ({sizes} bytes); plugins.config and the SciJava index"
    )
    return problems, summary


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: jar_check.py JAR NATIVES_DIR")
    problems, summary = problems_of(Path(sys.argv[1]), Path(sys.argv[2]))
    if problems:
        for problem in problems:
            print(f"jar_check: {sys.argv[1]}: {problem}", file=sys.stderr)
        sys.exit(1)
    print(summary)


if __name__ == "__main__":
    main()
