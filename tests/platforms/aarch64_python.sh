#!/usr/bin/env bash
# An aarch64 Python for .ci/release-check, run under qemu-aarch64: Debian's own
# python3.x for arm64 (the interpreter, its standard library and the libraries they
# link), downloaded by apt-get and unpacked into a folder, not installed, so nothing of
# this machine changes but dpkg's list of foreign architectures (arm64 added, which
# apt-get needs to fetch arm64 packages). The C library comes from the aarch64 cross
# toolchain's glibc (/usr/aarch64-linux-gnu, Debian's libc6-arm64-cross).
#
#     aarch64_python.sh DIR
#
# leaves DIR/run-python, which runs that interpreter (without site, so that no
# package of this machine's Pythons is seen: add packages with PYTHONPATH).
set -euo pipefail
dir=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -x "$dir/run-python" ] && "$dir/run-python" -c "import ctypes, zlib" 2>/dev/null; then
    exit 0
fi
for tool in qemu-aarch64 dpkg-deb apt-get; do
    command -v "$tool" >/dev/null || { echo "aarch64_python.sh: $tool not found" >&2; exit 1; }
done
[ -f /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || {
    echo "aarch64_python.sh: /usr/aarch64-linux-gnu has no aarch64 glibc (apt-get install libc6-arm64-cross)" >&2
    exit 1
}
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
fi
apt-get update -qq
minimal=$(apt-cache depends python3-minimal:arm64 | grep -o 'python3\.[0-9]*-minimal' | head -1)
[ -n "$minimal" ] || { echo "aarch64_python.sh: apt knows no python3-minimal for arm64" >&2; exit 1; }
python=${minimal%-minimal}
# The interpreter, its standard library and the libraries they depend on (ctypes'
# libffi, zlib, ...), as apt lists them; glibc is the cross toolchain's.
interpreter=("$python-minimal" "lib$python-minimal" "lib$python-stdlib")
mapfile -t libraries < <(apt-cache depends "${interpreter[@]/%/:arm64}" |
    sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^<][^ ]*\):arm64$/\2/p' |
    grep -vxE "libc6|lib$python-minimal|$python-minimal" | sort -u)
packages=("${interpreter[@]}" "${libraries[@]}")
rm -rf "$dir/debs" "$dir/root" && mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && apt-get download -qq "${packages[@]/%/:arm64}" 2>&1 | grep -v "unsandboxed" || true)
for deb in "$dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$dir/root"
done
[ -x "$dir/root/usr/bin/$python" ] || { echo "aarch64_python.sh: $python:arm64 did not unpack" >&2; exit 1; }
libraries=$dir/root/lib/aarch64-linux-gnu:$dir/root/usr/lib/aarch64-linux-gnu
cat >"$dir/run-python" <<EOF
#!/bin/sh
# Debian's $python for arm64 under qemu-aarch64 (made by tests/platforms/aarch64_python.sh).
exec qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=$libraries "$dir/root/usr/bin/$python" -S "\$@"
EOF
chmod +x "$dir/run-python"
"$dir/run-python" -c "import ctypes, zlib, platform; print('aarch64 Python:', platform.python_version(), platform.machine())"
