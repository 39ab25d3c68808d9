"""The session archive: every message that crossed, one JSON object per line, in files rotated by
size or age and compressed when closed (gzip), so that a year of sessions fits on a disk and any
message can be reproduced bit-exact from its "raw" field.

Writes are buffered and flushed by the proxy's loop at a bounded interval; a rotation renames the
current file first and compresses it afterwards, so a crash never leaves a half-compressed file
in place of the data.
"""
import gzip
import json
import os
import shutil
import time


class JsonLinesArchive:
    def __init__(self, directory, prefix="bgp", max_bytes=256 * 1024 * 1024, max_seconds=3600, compress=True,
                 clock=time.time):
        self.directory, self.prefix = directory, prefix
        self.max_bytes, self.max_seconds, self.compress, self.clock = max_bytes, max_seconds, compress, clock
        os.makedirs(directory, exist_ok=True)
        self.handle = None
        self.path = None
        self.opened = 0.0
        self.written = 0
        self.count = 0

    def _open(self):
        self.opened = self.clock()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.opened))
        self.path = os.path.join(self.directory, "%s-%s-%d.jsonl" % (self.prefix, stamp, os.getpid()))
        self.handle = open(self.path, "a", encoding="utf-8")
        self.written = 0

    def write(self, record):
        """Append one message's JSON form."""
        if self.handle is None:
            self._open()
        line = json.dumps(record, separators=(",", ":")) + "\n"
        self.handle.write(line)
        self.written += len(line)
        self.count += 1
        if self.written >= self.max_bytes or self.clock() - self.opened >= self.max_seconds:
            self.rotate()

    def flush(self):
        if self.handle is not None:
            self.handle.flush()

    def rotate(self):
        """Close the current file and compress it; the next write opens a new one."""
        if self.handle is None:
            return None
        self.handle.close()
        self.handle = None
        closed = self.path
        if self.compress:
            with open(closed, "rb") as source, gzip.open(closed + ".gz.part", "wb") as target:
                shutil.copyfileobj(source, target)
            os.replace(closed + ".gz.part", closed + ".gz")
            os.unlink(closed)
            closed += ".gz"
        return closed

    def close(self):
        return self.rotate()


def read_archive(directory):
    """Every record in the archive's files, oldest file first (for tests and replay)."""
    names = sorted(name for name in os.listdir(directory) if name.endswith((".jsonl", ".jsonl.gz")))
    for name in names:
        path = os.path.join(directory, name)
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
