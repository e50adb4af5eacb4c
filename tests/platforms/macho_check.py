"""Checks a macOS dylib of the release (.ci/release-check), where no Mac can run it.

    python3 macho_check.py LIBRARY ARCH MAX_MINOS INSTALL_NAME SYMBOLS_FILE

Reads the Mach-O file and fails (exit status 1, one line per problem) unless:
- it is a thin 64-bit dylib for ARCH (x86_64 or arm64);
- its minimum macOS version (LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX) is at most
  MAX_MINOS (e.g. 11.0);
- its install name is INSTALL_NAME;
- it links only system libraries (/usr/lib, /System/Library);
- it exports every symbol named in SYMBOLS_FILE (one C name a line, without the
  leading underscore Mach-O adds);
- it carries a code signature whose code directory's page hashes match the file (a
  file changed after signing, by a strip for instance, does not load). macOS refuses
  unsigned arm64 code; the x86_64 library is signed (ad hoc) the same way, so that
  both are one kind of file to macOS's checks.

Prints what it found: architecture, minos, install name, signature, exports.
"""

import hashlib
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
MH_DYLIB = 6
CPU_TYPES = {"x86_64": 0x01000007, "arm64": 0x0100000C}
LC_SYMTAB = 0x2
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
LC_REEXPORT_DYLIB = 0x8000001F
LC_LOAD_WEAK_DYLIB = 0x80000018
N_EXT = 0x01
N_TYPE = 0x0E
N_SECT = 0x0E
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_ADHOC = 0x2
HASHES = {1: hashlib.sha1, 2: hashlib.sha256}


def version_text(packed):
    """A Mach-O version (xxxx.yy.zz nibbles) as text."""
    return f"{packed >> 16}.{(packed >> 8) & 0xFF}.{packed & 0xFF}"


def dylib_name(data, offset):
    """The path of a dylib command at `offset`."""
    name_offset = struct.unpack_from("<I", data, offset + 8)[0]
    size = struct.unpack_from("<I", data, offset + 4)[0]
    raw = data[offset + name_offset : offset + size]
    return raw.split(b"\0", 1)[0].decode()


def exported_symbols(data, symoff, nsyms, stroff):
    """Names of the external symbols defined in a section (the exports)."""
    names = set()
    for i in range(nsyms):
        strx, n_type, _, _, _ = struct.unpack_from("<IBBHQ", data, symoff + 16 * i)
        if n_type & N_EXT and n_type & N_TYPE == N_SECT:
            end = data.index(b"\0", stroff + strx)
            names.add(data[stroff + strx : end].decode())
    return names


def check_signature(data, dataoff, datasize, problems):
    """Checks the code directory's page hashes; returns a description."""
    magic, _, count = struct.unpack_from(">III", data, dataoff)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        problems.append(f"the code signature has magic {magic:#x}, not an embedded signature")
        return "broken"
    for i in range(count):
        _, blob = struct.unpack_from(">II", data, dataoff + 12 + 8 * i)
        cd = dataoff + blob
        if struct.unpack_from(">I", data, cd)[0] != CSMAGIC_CODEDIRECTORY:
            continue
        (_, _, _, flags, hash_offset, _, _, n_code_slots, code_limit, hash_size, hash_type, _,
         page_log2) = struct.unpack_from(">IIIIIIIIIBBBB", data, cd)
        if hash_type not in HASHES:
            problems.append(f"the code directory uses an unknown hash type {hash_type}")
            return "unknown hash"
        page = 1 << page_log2
        bad = 0
        for slot in range(n_code_slots):
            start = slot * page
            piece = data[start : min(start + page, code_limit)]
            expected = data[cd + hash_offset + slot * hash_size : cd + hash_offset + (slot + 1) * hash_size]
            if HASHES[hash_type](piece).digest()[:hash_size] != expected:
                bad += 1
        if bad:
            problems.append(f"{bad} of {n_code_slots} code pages do not match their signature hashes")
        if code_limit != dataoff:
            problems.append(f"the signature covers {code_limit} bytes, the code ends at {dataoff}")
        kind = "ad-hoc" if flags & CS_ADHOC else "with an identity"
        return f"{kind}, {n_code_slots} pages of {page} bytes, {'hashes match' if not bad else 'HASHES DIFFER'}"
    problems.append("the code signature has no code directory")
    return "no code directory"


def main():
    path, arch, max_minos, install_name, symbols_file = sys.argv[1:6]
    with open(path, "rb") as f:
        data = f.read()
    with open(symbols_file) as f:
        wanted = {line.strip() for line in f if line.strip()}
    problems = []
    magic, cputype, _, filetype, ncmds, _, _, _ = struct.unpack_from("<IiiIIIII", data, 0)
    if magic != MH_MAGIC_64:
        print(f"{path}: not a thin 64-bit Mach-O file (magic {magic:#x})")
        return 1
    if cputype != CPU_TYPES[arch]:
        problems.append(f"CPU type {cputype:#x}, expected {arch} ({CPU_TYPES[arch]:#x})")
    if filetype != MH_DYLIB:
        problems.append(f"file type {filetype}, expected a dylib ({MH_DYLIB})")

    minos = None
    identity = None
    signature = None
    linked = []
    exports = set()
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        if cmd == LC_BUILD_VERSION:
            _, _, _, minos_packed, _ = struct.unpack_from("<IIIII", data, offset)
            minos = version_text(minos_packed)
        elif cmd == LC_VERSION_MIN_MACOSX:
            minos = version_text(struct.unpack_from("<I", data, offset + 8)[0])
        elif cmd == LC_ID_DYLIB:
            identity = dylib_name(data, offset)
        elif cmd in (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB):
            linked.append(dylib_name(data, offset))
        elif cmd == LC_SYMTAB:
            symoff, nsyms, stroff, _ = struct.unpack_from("<IIII", data, offset + 8)
            exports = exported_symbols(data, symoff, nsyms, stroff)
        elif cmd == LC_CODE_SIGNATURE:
            dataoff, datasize = struct.unpack_from("<II", data, offset + 8)
            signature = check_signature(data, dataoff, datasize, problems)
        offset += size

    def version_tuple(text):
        parts = [int(part) for part in text.split(".")]
        return tuple(parts + [0] * (3 - len(parts)))

    if minos is None:
        problems.append("no minimum macOS version (LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX)")
    elif version_tuple(minos) > version_tuple(max_minos):
        problems.append(f"minimum macOS {minos}, newer than {max_minos}")
    if identity != install_name:
        problems.append(f"install name {identity}, expected {install_name}")
    for library in linked:
        if not library.startswith(("/usr/lib/", "/System/Library/")):
            problems.append(f"links {library}, which is not a system library")
    missing = sorted(name for name in wanted if "_" + name not in exports)
    if missing:
        problems.append(f"{len(missing)} symbols not exported: {', '.join(missing[:10])}")
    if signature is None:
        problems.append("no code signature")

    print(f"{path}: {arch}, minos {minos}, install name {identity}, "
          f"links {', '.join(linked)}; signature: {signature or 'none'}; "
          f"{len(exports)} exports, {len(wanted) - len(missing)} of the {len(wanted)} expected")
    for problem in problems:
        print(f"{path}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
