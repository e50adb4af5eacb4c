"""The file name of the mrbcr C library on each operating system: shared by the loader
(``_ffi``), the build hook (``setup.py``) and the wheel builder (``build_wheel.py``)."""

#: ``sys.platform`` prefix -> the library's file name.
LIBRARY_NAMES = {"linux": "libmrbcr.so", "darwin": "libmrbcr.dylib", "win32": "mrbcr.dll"}


def library_name(platform: str) -> str:
    """The library's file name on ``platform`` (a ``sys.platform`` value); other Unix
    systems name shared libraries as Linux does."""
    for prefix, name in LIBRARY_NAMES.items():
        if platform.startswith(prefix):
            return name
    return LIBRARY_NAMES["linux"]
