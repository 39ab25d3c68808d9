"""The session archive's files: appended to, rotated by size or age and compressed when closed
(gzip), so that a year of sessions fits on a disk. Two formats share the rotation: JSON lines (one
message per line, reproducible bit-exact from its "raw" field) and MRT (RFC 6396, see mrt.py).

Writes are buffered and flushed within FLUSH_SECONDS of the first unflushed one (FlushSoon, on the
proxy's loop), so a crash loses at most that. A rotated file is compressed by a thread of its own
(zlib works without the GIL), so the sessions do not wait for it: the file keeps its name until
NAME.gz.part is whole and renamed NAME.gz, so a crash never leaves a half-compressed file in place
of the data; close() waits for every compression it started.
"""

import asyncio
import gzip
import json
import logging
import os
import shutil
import threading
import time
from typing import BinaryIO

FLUSH_SECONDS = 1.0
# gzip level 1: on BGP records a quarter of the CPU of gzip(1)'s default 6 for files ~12% larger
# (a one-prefix-per-UPDATE table: 1.1 vs 4.5 us per record, 28% vs 25% of the size)
COMPRESS_LEVEL = 1
LOG = logging.getLogger("peerwarden_runner.archive")


class FlushSoon:
    """Calls `flush` once, FLUSH_SECONDS after the first `wrote()` since the last flush: a bounded loss on a
    crash for one check per message. Without a running loop (tools, tests) the owner flushes at its end."""

    def __init__(self, flush, seconds=FLUSH_SECONDS):
        self.flush, self.seconds = flush, seconds
        self.timer: asyncio.TimerHandle | None = None

    def wrote(self):
        if self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(self.seconds, self._fire)
            except RuntimeError:
                return

    def _fire(self):
        self.timer = None
        try:
            self.flush()
        except OSError as error:  # a full or vanished disk: said, and tried again after the next message
            LOG.error("archive: cannot write to disk: %s", error)

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class RotatingFile:
    """Octets appended to DIRECTORY/PREFIX-STAMP-PID-SEQUENCE.SUFFIX; a new file after max_bytes or max_seconds
    (the sequence number keeps two files opened in the same second apart)."""

    def __init__(
        self, directory, prefix, suffix, max_bytes=256 * 1024 * 1024, max_seconds=3600, compress=True, clock=time.time
    ):
        self.directory, self.prefix, self.suffix = directory, prefix, suffix
        self.max_bytes, self.max_seconds, self.compress, self.clock = max_bytes, max_seconds, compress, clock
        os.makedirs(directory, exist_ok=True)
        self.handle: BinaryIO | None = None
        self.path = ""
        self.opened = 0.0
        self.written = 0
        self.compressing: list[threading.Thread] = []

    def _open(self) -> BinaryIO:
        self.opened = self.clock()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.opened))
        for sequence in range(10000):
            self.path = os.path.join(
                self.directory, "%s-%s-%d-%04d%s" % (self.prefix, stamp, os.getpid(), sequence, self.suffix)
            )
            if not os.path.exists(self.path) and not os.path.exists(self.path + ".gz"):
                break
        self.handle = open(self.path, "ab")  # noqa: SIM115  (open across writes; rotate() and close() close it)
        self.written = 0
        return self.handle

    def write(self, data):
        handle = self.handle if self.handle is not None else self._open()
        handle.write(data)
        self.written += len(data)
        if self.written >= self.max_bytes or self.clock() - self.opened >= self.max_seconds:
            self.rotate()

    def flush(self):
        if self.handle is not None:
            self.handle.flush()

    def rotate(self):
        """Close the current file and start compressing it; the next write opens a new one. Returns the
        name the file will have (NAME.gz once compressed)."""
        if self.handle is None:
            return None
        self.handle.close()
        self.handle = None
        closed = self.path
        if not self.compress:
            return closed
        self.compressing = [thread for thread in self.compressing if thread.is_alive()]
        thread = threading.Thread(target=_compress, args=(closed,), name="archive-gzip", daemon=True)
        thread.start()
        self.compressing.append(thread)
        return closed + ".gz"

    def close(self):
        """Rotate, and wait until every file rotated is compressed."""
        closed = self.rotate()
        for thread in self.compressing:
            thread.join()
        self.compressing = []
        return closed


def _compress(path):
    """PATH -> PATH.gz (written as PATH.gz.part, then renamed); PATH stays if the disk refuses."""
    try:
        with open(path, "rb") as source, gzip.open(path + ".gz.part", "wb", compresslevel=COMPRESS_LEVEL) as target:
            shutil.copyfileobj(source, target, 1 << 20)
        os.replace(path + ".gz.part", path + ".gz")
        os.unlink(path)
    except OSError as error:
        LOG.error("archive: cannot compress %s (left as it is): %s", path, error)


class RecordArchive(RotatingFile):
    """Records, one after the other, in PREFIX-...SUFFIX files; `count` of them written."""

    SUFFIX = ""

    def __init__(
        self, directory, prefix="bgp", max_bytes=256 * 1024 * 1024, max_seconds=3600, compress=True, clock=time.time
    ):
        super().__init__(directory, prefix, self.SUFFIX, max_bytes, max_seconds, compress, clock)
        self.count = 0

    def write(self, record):
        """Append one record."""
        self.count += 1
        super().write(self.encode(record))

    def encode(self, record):
        return record


class JsonLinesArchive(RecordArchive):
    """One message's JSON form per line, in PREFIX-...jsonl files."""

    SUFFIX = ".jsonl"

    def encode(self, record):
        """A record as an object, or already as its JSON text (the archive writer's fast path)."""
        text = record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))
        return (text + "\n").encode("utf-8")


class MrtArchive(RecordArchive):
    """MRT records (already encoded, see mrt.py) in PREFIX-...mrt files."""

    SUFFIX = ".mrt"


def read_archive(directory):
    """Every record in the archive's JSON lines files, oldest file first (for tests and replay)."""
    names = sorted(name for name in os.listdir(directory) if name.endswith((".jsonl", ".jsonl.gz")))
    for name in names:
        path = os.path.join(directory, name)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
