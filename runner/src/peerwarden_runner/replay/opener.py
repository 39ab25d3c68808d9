"""An archive file opened for reading, decompressed by its magic bytes rather than its name
(gzip, bzip2, xz: the compressions route collectors and our rotation use)."""

import bz2
import gzip
import lzma
from typing import BinaryIO

MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))


def open_archive(path) -> BinaryIO:
    """The file's octets, decompressed. A truncated compressed stream raises EOFError while reading,
    corrupt compressed data OSError or lzma.LZMAError (the readers report both)."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    for magic, opener in MAGIC:
        if head.startswith(magic):
            return opener(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")  # noqa: SIM115  (the caller closes it)


def compression(path) -> str:
    """The compression's name, for log lines ("gzip", "bz2", "xz" or "none")."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    for magic, opener in MAGIC:
        if head.startswith(magic):
            return opener.__module__.replace("lzma", "xz")
    return "none"
