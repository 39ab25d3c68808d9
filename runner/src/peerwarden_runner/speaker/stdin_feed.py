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
thread does not keep the process alive) and handed to the loop through a small bounded queue.
"""

import asyncio
import logging
import sys
import threading
from collections import Counter

from peerwarden_runner.json_lines import LINE_LIMIT, LineError, message_from_record, parse_line

LOG = logging.getLogger("peerwarden_runner.speaker")
ON_ERROR = ("skip", "fatal")
SENDABLE = ("update", "route_refresh")
SESSION_OWN = ("open", "keepalive", "notification")
QUEUED = 64  # lines read ahead of the session
TOO_LONG = object()  # in place of a line longer than the limit
END = object()


def read_lines(stream, put, limit=LINE_LIMIT):
    """Blocking: each line of `stream` (binary) to put(), TOO_LONG for one over `limit`, then END."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            break
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # the rest of the long line, never held whole
                line = stream.readline(limit + 1)
            line = TOO_LONG
        if not put(line):
            return
    put(END)


class StdinFeed:
    def __init__(self, speaker, stream=None, on_error="fatal", on_fatal=None, limit=LINE_LIMIT):
        self.speaker, self.on_error, self.on_fatal, self.limit = speaker, on_error, on_fatal, limit
        self.stream = stream if stream is not None else sys.stdin.buffer
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

        threading.Thread(target=read_lines, args=(self.stream, put, self.limit), name="stdin", daemon=True).start()
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
        if self.on_error == "skip":
            LOG.error("%s: stdin line %d refused, skipped (stdin_errors: skip): %s", self.name, number, why)
            return True
        LOG.error("%s: stdin line %d refused, stopping (stdin_errors: fatal): %s", self.name, number, why)
        if self.on_fatal is not None:
            self.on_fatal()
        return False
