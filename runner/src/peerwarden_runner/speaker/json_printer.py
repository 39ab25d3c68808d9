"""--stdout (alias --print): every message of the session, sent and received (keepalives too),
as one JSON line on stdout with its "direction" (docs/json.md), the exabgp-logger and bgpipe
--stdout case; a watcher like the archive, so it sees exactly what crossed. --stdin reads these
lines back (speaker/stdin_feed.py).

A received UPDATE comes decoded by the session (`crossed_decoded`): the fast scan's clean shapes are
written by codec/fast_json.py, the rest from the session's Update, never decoded a second time. The
lines of one read from the socket are written in blocks of up to BLOCK lines (one write each: few
system calls, and memory that does not grow with the read) and flushed when the session says the
batch is done (`batch_done`); any other message flushes at once, after the lines before it."""

import json
import sys
import time

from peerwarden_runner.codec.fast_json import update_json
from peerwarden_runner.codec.fast_update import ScannedUpdate
from peerwarden_runner.codec.json_form import to_json
from peerwarden_runner.directions import RECEIVED
from peerwarden_runner.stages.base import Watcher

BLOCK = 256  # lines (~130 KiB of one-prefix UPDATEs) joined into one write


class JsonPrinter(Watcher):
    name = "stdout"

    def __init__(self, session_name, stream=None):
        self.session_name = session_name
        self.stream = stream or sys.stdout
        self.pending = []  # lines not yet written
        self.unflushed = False  # lines written since the last flush
        # the keys after "time" every received UPDATE's object has (no % formatting: a name may hold "%")
        self.update_tail = ',"direction":%s,"peer":%s,' % (json.dumps(RECEIVED), json.dumps(session_name))

    def crossed(self, state, direction, raw):
        self._write(state, direction, raw, None)
        self.batch_done()

    def crossed_decoded(self, state, direction, raw, decoded):
        """A received UPDATE with the session's decode of it (ScannedUpdate or Update); written with the batch."""
        if isinstance(decoded, ScannedUpdate):
            pending = self.pending
            pending.append(
                '{"type":"update","time":%r%s%s}\n' % (time.time(), self.update_tail, update_json(raw, decoded))
            )
            if len(pending) >= BLOCK:
                self._write_pending()
        else:
            self._write(state, direction, raw, decoded)

    def _write(self, state, direction, raw, decoded):
        record = to_json(
            raw,
            state.contexts.get(direction),
            direction=direction,
            peer=self.session_name,
            time=time.time(),
            decoded=decoded,
        )
        self.pending.append(json.dumps(record, separators=(",", ":")) + "\n")

    def _write_pending(self):
        self.stream.write("".join(self.pending))
        self.pending.clear()
        self.unflushed = True

    def batch_done(self):
        if self.pending:
            self._write_pending()
        if self.unflushed:
            self.unflushed = False
            self.stream.flush()

    def close(self):
        self.batch_done()
