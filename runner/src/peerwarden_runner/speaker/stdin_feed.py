"""--stdin: JSON lines (docs/json.md, one message per line, as --stdout writes them) read and sent
to the router as BGP once the session is Established, like bgpipe's --stdin.

* UPDATE and ROUTE-REFRESH records are encoded for the session (its negotiated context) and sent;
  the session waits for Established first, and for the socket to drain after each message.
* OPEN, KEEPALIVE and NOTIFICATION records are not sent (the session makes its own): the first of
  each type is logged with its line number, all are counted in the end-of-input line.
* A line that is not a sendable message (not JSON, a "lossy" record, fields the session cannot
  encode exactly, a malformed UPDATE, longer than LINE_LIMIT) is logged with its line number and
  why; then `on_error: skip` goes on with the next line and `fatal` stops the speaker with a
  Cease and the runner exits with status 1.
* Blank lines are ignored. At the end of the input a line says how many lines were read, sent,
  skipped and refused; the session stays up. Messages are sent once: a session that comes up again
  does not get them again (they are a stream, not routes the speaker holds).

Lines are read by a thread (blocking reads work alike for a pipe, a file and a terminal; a daemon
thread does not keep the process alive) with os.read, split here (a line over the limit is
dropped as it comes, never held whole), and handed to the loop through a small bounded queue.
"""

import asyncio
import functools
import logging
import os
import sys
import threading
from collections import Counter
from logging import ERROR

from peerwarden_runner.json_lines import LINE_LIMIT, LineError, message_from_record, parse_line
from peerwarden_runner.log_summary import DECISIONS

LOG = logging.getLogger("peerwarden_runner.speaker")
ON_ERROR = ("skip", "fatal")
SENDABLE = ("update", "route_refresh")
SESSION_OWN = ("open", "keepalive", "notification")
QUEUED = 64  # lines read ahead of the session
TOO_LONG = object()  # in place of a line longer than the limit
END = object()


def read_lines(read, put, limit=LINE_LIMIT, chunk=65536):
    """Blocking: each line that read(n) gives to put() (newline kept), TOO_LONG in place of one whose
    text is over `limit` octets (never held whole), then END. put() returning False stops."""
    pending = bytearray()
    dropping = False  # inside a line already over the limit
    while data := read(chunk):
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if not dropping:
                pending += data[start : end + 1]
            line = TOO_LONG if dropping or len(pending) - 1 > limit else bytes(pending)
            pending.clear()
            dropping = False
            start = end + 1
            if not put(line):
                return
        if not dropping:
            pending += data[start:]
            if len(pending) > limit:
                pending.clear()
                dropping = True
    if (dropping or pending) and not put(TOO_LONG if dropping else bytes(pending)):
        return
    put(END)


class StdinFeed:
    def __init__(self, speaker, read=None, on_error="fatal", on_fatal=None, limit=LINE_LIMIT):
        """`read(n)`: up to n octets of the input, b"" at its end (default: os.read on stdin's file
        descriptor, which takes no lock a daemon thread could still hold when the runner exits)."""
        self.speaker, self.on_error, self.on_fatal, self.limit = speaker, on_error, on_fatal, limit
        self.read = read or functools.partial(os.read, sys.stdin.fileno())
        self.counts: Counter[str] = Counter()
        self.name = speaker.settings.name

    async def run(self):
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(QUEUED)

        def put(item):
            try:
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()
            except (RuntimeError, asyncio.CancelledError):  # the loop is gone: the runner is ending
                return False
            return True

        threading.Thread(target=read_lines, args=(self.read, put, self.limit), name="stdin", daemon=True).start()
        number = 0
        while (line := await queue.get()) is not END:
            number += 1
            self.counts["lines"] += 1
            if line is TOO_LONG:
                going_on = self._refused(number, "longer than %d octets" % self.limit)
            else:
                assert isinstance(line, bytes)  # not END nor TOO_LONG
                going_on = not line.strip() or await self._line(number, line)
            if not going_on:
                return
        LOG.info(
            "%s: stdin: end of input after %d line(s): %d message(s) sent, %d skipped (OPEN, KEEPALIVE, "
            "NOTIFICATION), %d refused; the session stays up",
            self.name,
            self.counts["lines"],
            self.counts["sent"],
            self.counts["skipped"],
            self.counts["refused"],
        )

    async def _line(self, number, line):
        """Send the line's message; False when it was refused and that is fatal."""
        try:
            record = parse_line(line)
            kind = record["type"]
            if kind in SESSION_OWN:
                self.counts["skipped"] += 1
                self.counts["skipped_" + kind] += 1
                if self.counts["skipped_" + kind] == 1:
                    LOG.info(
                        "%s: stdin line %d: %s records are not sent (the session makes its own): "
                        "skipped, and further ones counted",
                        self.name,
                        number,
                        kind.upper(),
                    )
                return True
            session = await self.speaker.established_session()
            raw = message_from_record(record, session.ctx_out, SENDABLE)
        except LineError as error:
            return self._refused(number, str(error))
        session.send(raw)
        self.counts["sent"] += 1
        await session.drain()
        return True

    def _refused(self, number, why):
        """Log the refusal; False (after on_fatal()) when it ends the input."""
        self.counts["refused"] += 1
        if self.on_error == "skip":  # counted, one line per interval (log_summary); each line at DEBUG
            reason = "line refused, skipped (stdin_errors: skip)"
            DECISIONS.record(LOG, self.name, "stdin", reason, "line %d: %s", number, why, level=ERROR, unit="line(s)")
            return True
        LOG.error("%s: stdin line %d refused, stopping (stdin_errors: fatal): %s", self.name, number, why)
        if self.on_fatal is not None:
            self.on_fatal()
        return False
