# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""log_events from arguments to result: pick the sources, scan them, shape the answer.

Shared by the module (`source: file`, on the log host) and the action plugin (`source: device`,
on the controller, where netmiko is installed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import gzip
import os
import zlib
from datetime import datetime

try:
    import bz2
except ImportError:  # pragma: no cover - a Python built without it
    bz2 = None
try:
    import lzma
except ImportError:  # pragma: no cover - a Python built without it
    lzma = None
try:
    import zstandard
except ImportError:  # optional: .zst rotations are reported, not read, without it
    zstandard = None

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import KINDS
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, iso_utc, parse_since, parse_zone
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import LOGS
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

COMPRESSED_CHUNK = 1 << 16
# Told by the first bytes, not the name: rotated logs are not always named .gz/.xz/.bz2/.zst, and a
# glob such as *.log.* picks up every rotation whatever its compression.
COMPRESSIONS = (
    ("gzip", (b"\x1f\x8b",)),
    ("xz", (b"\xfd7zXZ\x00",)),
    ("bzip2", tuple(b"BZh" + digit for digit in (b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"))),
    ("zstd", (b"\x28\xb5\x2f\xfd",)),
)
OTHER_BINARY = (
    (b"PK\x03\x04", "a zip archive: unpack it and name the log files in it"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: unpack it and name the log files in it"),
    (b"\x04\x22\x4d\x18", "lz4-compressed, which is not read: decompress it (lz4 -d) or rotate with gzip, xz, bzip2 or zstd"),
    (b"\x7fELF", "a program, not a log"),
)
PROBE_SIZE = 8192


def run_log_events(params, now=None):
    """Scan what `params` (the module's options) name; returns events, stats and sources.

    Raises ValueError for bad options, OSError for unreadable files and DeviceError for routers
    that cannot be read: each message says what to fix.
    """
    now = now or datetime.now(UTC)
    selection = Selection(kinds=params.get("kinds") or KINDS, since=parse_since(params.get("since"), now),
                          peering_lans=params.get("peering_lans") or (),
                          exclude_addresses=params.get("exclude_addresses") or ())
    zone = parse_zone(params.get("timezone") or "UTC")
    if params.get("source", "device") == "file":
        platform = params.get("platform") or "auto"
        if platform != "auto":
            platform = driver_for(platform).name
        scanner = LogScanner(selection, zone, platform)
        sources = _scan_files(scanner, params, now)
    else:
        driver = driver_for(params.get("platform"), LOGS)
        scanner = LogScanner(selection, zone, driver.name)
        sources = _scan_device(scanner, params, driver, now)
    warnings = ["%s: %s" % (source["name"], source["error"]) for source in sources if source.get("error")]
    return {"events": scanner.events(now), "stats": scanner.stats, "sources": sources, "warnings": warnings}


def _scan_files(scanner, params, now):
    paths = _expand(params.get("path") or [])
    router, fallback = params.get("router"), params.get("inventory_hostname") or "unknown"
    sources = []
    for path in paths:
        before = scanner.begin_source()
        reference = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
        source = {"name": path, "last_modified": iso_utc(reference)}
        kind, problem = _file_kind(path)
        if kind not in (None, "text"):
            source["compression"] = kind
        if problem is not None:
            source["error"] = problem
        else:
            try:
                with _open(path, kind) as stream:
                    scanner.scan_stream(stream, min(reference, now), router=router, fallback_router=fallback,
                                        chunk_size=COMPRESSED_CHUNK if kind != "text" else None)
            except _damaged_errors(kind) as error:
                # A rotation still being written or cut short: what could be read counts, the rest is reported.
                source["error"] = ("compressed data (%s) is damaged or cut short (%s): only what came before "
                                   "was read" % (kind, error))
        sources.append(scanner.end_source(source, before))
    return sources


def _file_kind(path):
    """("text" | a compression, None) for a file to read, or (kind, why it is not read)."""
    with open(path, "rb") as probe:
        head = probe.read(PROBE_SIZE)
    for kind, magics in COMPRESSIONS:
        if head.startswith(magics):
            if kind == "zstd" and zstandard is None:
                return kind, ("zstd-compressed, and the Python package zstandard is not installed where the scan "
                              "runs: pip install zstandard (or decompress the file) to read it; not read")
            if (kind == "xz" and lzma is None) or (kind == "bzip2" and bz2 is None):
                return kind, "%s-compressed, and this Python has no %s module: decompress the file to read it; not read" % (
                    kind, "lzma" if kind == "xz" else "bz2")
            return kind, None
    for magic, what in OTHER_BINARY:
        if head.startswith(magic):
            return "binary", "not a log file, %s; not read" % what
    if b"\0" in head:
        return "binary", ("not a text log (NUL bytes in its first %d bytes: binary data, or UTF-16 text); not read"
                          % PROBE_SIZE)
    return "text", None


def _open(path, kind):
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "zstd":
        return _ZstdStream(path)
    return open(path, "rb")


class _ZstdStream:
    """A .zst file read frame after frame, raising EOFError when its last frame is cut short
    (zstandard's own stream_reader ends silently there, which would hide a damaged rotation)."""

    def __init__(self, path):
        self._raw = open(path, "rb")
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        self._in_frame = False
        self._pending = b""
        self._cut = False

    def read(self, size):
        while len(self._pending) < size and not self._cut:
            raw = self._raw.read(COMPRESSED_CHUNK)
            if not raw:
                self._cut = self._in_frame
                break
            out = []
            while raw:
                self._in_frame = True
                out.append(self._frame.decompress(raw))
                raw = b""
                if self._frame.eof:
                    raw = self._frame.unused_data
                    self._frame = self._decompressor.decompressobj()
                    self._in_frame = False
            self._pending += b"".join(out)
        if not self._pending and self._cut:
            raise EOFError("the file ends inside a zstd frame")
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def close(self):
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _damaged_errors(kind):
    """The exceptions that mean a compressed file is damaged or cut short (none for plain text)."""
    if kind == "gzip":
        return (EOFError, zlib.error, gzip.BadGzipFile)
    if kind == "xz":
        return (EOFError, lzma.LZMAError)
    if kind == "bzip2":
        return (EOFError, OSError, ValueError)  # bz2 says "Invalid data stream" as an OSError
    if kind == "zstd":
        return (EOFError, zstandard.ZstdError)
    return ()


def _expand(patterns):
    if not patterns:
        raise ValueError("source=file needs path: a list of log files (plain or .gz; globs allowed)")
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise ValueError("path: no file matches %r" % pattern)
        for path in matches:
            if os.path.isdir(path):
                raise ValueError("path: %s is a directory; name the log files in it (e.g. %s/*.log)" % (path, path))
            if not os.path.exists(path):
                raise ValueError("path: %s does not exist: check the path (and the host it is on)" % path)
            if not os.access(path, os.R_OK):
                raise ValueError("path: %s is not readable by this user: use become, or give the user read access"
                                 % path)
            paths.append(path)
    return paths


def _scan_device(scanner, params, driver, now):
    device = Device(params)
    router = params.get("router") or params.get("inventory_hostname") or device.host
    source = (router, router)
    sources = []
    for capture in driver.logs(device, params):
        before = scanner.begin_source()
        if capture.parse is not None:
            entries = 0
            for finding, stamp, line in capture.parse(capture.text, scanner.zone, now):
                scanner.account(finding, driver.name, line, source, now, stamp=stamp)
                entries += 1
            scanner.stats["lines_read"] += entries
        elif capture.stream is not None:
            scanner.scan_stream(capture.stream, now, router=router, fallback_router=router)
        else:
            scanner.scan_text(capture.text, now, router=router, fallback_router=router)
        sources.append(scanner.end_source({"name": capture.name}, before))
    return sources


__all__ = ["run_log_events"]
