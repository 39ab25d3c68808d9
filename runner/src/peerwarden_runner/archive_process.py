"""The session archive in a child process: the proxy's loop hands over each message's octets through
a pipe (a few microseconds per message), and the child makes the JSON form and writes the files, so
the cost of writing every prefix as text (the bulk of an archive) stays off the loop. A common-shape
UPDATE is written as text in one walk (codec/fast_json.py, as `speaker --stdout` does), anything else
through the JSON form's objects: the same characters either way (tests/test_fast_json.py).

The parent hands over blocks, not messages: the records of one turn of the proxy's loop (a read's
worth of UPDATEs) go down the pipe in one write at the end of it, or as soon as they fill BLOCK octets
(without a running loop, at once). A write per one-prefix UPDATE cost the proxy more than the UPDATE's
own stages.

Nothing is lost on the way: a write blocks when the pipe is full (the child sets the pace, as a
disk would), `flush()` returns once the child has written everything sent before it, and `close()`
waits for the child to rotate and compress its last file. A child that died is started again and
given the block it did not take, after every direction's context.

Records on the pipe: b"C" + length + pickled NegotiatedContext (the context of the direction that
follows), b"M" + time + direction + length + message octets, b"F" (flush, answered with one octet),
b"f" (flush, unanswered: sent within a second of a message, so a crash of either side loses at most
that), and end of file (close).
"""

import asyncio
import fcntl
import json
import logging
import os
import pickle
import struct
import subprocess
import sys
from typing import Any

from peerwarden_runner.archive import FlushSoon
from peerwarden_runner.codec import DEFAULT_CONTEXT
from peerwarden_runner.codec.constants import UPDATE
from peerwarden_runner.codec.fast_json import update_json
from peerwarden_runner.codec.fast_update import scan_update
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER

LOG = logging.getLogger("peerwarden_runner.archive")
_LENGTH = struct.Struct(">I")
_MESSAGE = struct.Struct(">dBI")  # time, direction index, length
_DIRECTIONS = (TO_ROUTER, TO_PEER, "sent", "received")  # the proxy's and the speaker's (speaker/session.py)
_PIPE_SIZE = 1 << 20  # F_SETPIPE_SZ: room for ~250 full-size UPDATEs before a write waits
BLOCK = 65536  # octets of records handed over at once, at most (and at the end of each turn of the loop)
_F_SETPIPE_SZ = 1031


class ArchiveProcess:
    """The parent's side: `send(raw, ctx, direction, time)`, `flush()`, `close()`."""

    def __init__(self, directory, prefix, max_bytes, max_seconds, compress, peer):
        os.makedirs(directory, exist_ok=True)  # an unusable directory is an error at start, not at the first message
        self.arguments = [directory, prefix, str(max_bytes), str(max_seconds), "1" if compress else "0", peer]
        self.child: Any = None  # the writer: a subprocess.Popen with stdin and stdout pipes
        self.contexts = {}  # direction index -> the context its messages are read with
        self.pending = bytearray()  # records not handed over yet
        self.scheduled = False  # a hand-over waits for the end of this turn of the loop
        self.soon = FlushSoon(self._flush_unanswered)

    def _start(self):
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        environment = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                [package_parent] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            ),
        )
        self.child = subprocess.Popen(
            [sys.executable, "-m", "peerwarden_runner.archive_process"] + self.arguments,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            bufsize=0,
        )
        try:
            fcntl.fcntl(self.child.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
        except OSError:
            pass  # the default pipe size only makes writes wait sooner

    @staticmethod
    def _context_record(index, ctx):
        context = pickle.dumps((index, ctx))
        return b"C" + _LENGTH.pack(len(context)) + context

    def _hand_over(self, tail=b""):
        """The pending records (and `tail`, a flush record) down the pipe; a new child, told every
        direction's context first, when the one before has died."""
        self.scheduled = False
        data = bytes(self.pending) + tail
        self.pending.clear()
        if not data:
            return True
        for attempt in (1, 2):
            try:
                if self.child is None:
                    self._start()
                    data = b"".join(self._context_record(*known) for known in self.contexts.items()) + data
                view = memoryview(data)
                while view:
                    view = view[self.child.stdin.write(view) :]
                return True
            except (BrokenPipeError, ValueError):
                LOG.error("archive: the writer process ended (exit status %s); starting it again", self.child.poll())
                self.child = None
                if attempt == 2:
                    LOG.error("archive: %d octets of records could not be archived", len(data))
        return False

    def send(self, raw, ctx, direction, time):
        """Archive one message as it crossed."""
        index = _DIRECTIONS.index(direction)  # an unknown direction is a programming error, not a record to mislabel
        pending = self.pending
        if self.contexts.get(index, False) is not ctx:
            pending += self._context_record(index, ctx)
            self.contexts[index] = ctx
        pending += b"M" + _MESSAGE.pack(time, index, len(raw)) + raw
        if len(pending) >= BLOCK:
            self._hand_over()
        elif not self.scheduled:
            try:
                asyncio.get_running_loop().call_soon(self._hand_over)
                self.scheduled = True
            except RuntimeError:  # no loop (tools, tests): at once
                self._hand_over()
        self.soon.wrote()

    def _flush_unanswered(self):
        if self.child is not None or self.pending:
            self._hand_over(b"f")

    def flush(self):
        """Return once the child has written every message sent so far."""
        if self.child is None and not self.pending:
            return
        if self._hand_over(b"F"):
            self.child.stdout.read(1)

    def close(self):
        """Let the child write, rotate and compress what it has, and end."""
        self.soon.cancel()
        if self.pending:
            self._hand_over()
        if self.child is None:
            return
        child, self.child = self.child, None
        try:
            child.stdin.close()
        except BrokenPipeError:
            pass
        child.wait()
        child.stdout.close()


_READ = 1 << 20  # octets taken from the pipe at once: the records in them are written as one block


def serve(stream, answer, archive, peer):
    """The child's loop: records from `stream` into the JsonLinesArchive `archive` (as JSON text), until
    end of file. What the pipe holds is read at once and its records cut from it, and their lines
    written in one block: a one-prefix UPDATE is a hundred octets, so a call per record would cost
    more than its line."""
    contexts: dict[int, Any] = {}
    unpack_message, message_size = _MESSAGE.unpack_from, 1 + _MESSAGE.size
    data, position = b"", 0
    while True:
        chunk = stream.read1(_READ)
        if not chunk:
            if position < len(data):
                raise EOFError
            return
        data, position = data[position:] + chunk if position < len(data) else chunk, 0
        end, lines = len(data), []
        while position < end:
            kind = data[position]
            if kind == 0x4D:  # M: a message
                if end - position < message_size:
                    break
                time, index, length = unpack_message(data, position + 1)
                if end - position < message_size + length:
                    break
                raw = data[position + message_size : position + message_size + length]
                lines.append(_line(raw, contexts.get(index), _DIRECTIONS[index], peer, time))
                position += message_size + length
            elif kind == 0x43:  # C: a direction's context
                if end - position < 1 + _LENGTH.size:
                    break
                length = _LENGTH.unpack_from(data, position + 1)[0]
                if end - position < 1 + _LENGTH.size + length:
                    break
                index, ctx = pickle.loads(data[position + 1 + _LENGTH.size : position + 1 + _LENGTH.size + length])
                contexts[index] = ctx
                position += 1 + _LENGTH.size + length
            elif kind in (0x46, 0x66):  # F: flush and answer, f: flush
                archive.write_lines(lines)
                lines = []
                archive.flush()
                if kind == 0x46:
                    answer.write(b"F")
                    answer.flush()
                position += 1
            else:
                raise ValueError("archive writer: unknown record %r" % bytes((kind,)))
        archive.write_lines(lines)


_TAILS: dict[tuple[str, str], str] = {}  # (direction, peer) -> an UPDATE line's keys after "time"


def _line(raw, ctx, direction, peer, time):
    """The message's JSON line (without its newline): a common-shape UPDATE written as text in one walk
    (codec/fast_json.py, the same characters as json.dumps of its JSON form), anything else through it."""
    if len(raw) > 18 and raw[18] == UPDATE:
        scanned = scan_update(raw, ctx or DEFAULT_CONTEXT)
        if scanned is not None:
            tail = _TAILS.get((direction, peer))
            if tail is None:
                tail = ',"direction":%s,"peer":%s,' % (json.dumps(direction), json.dumps(peer))
                _TAILS[direction, peer] = tail
            return '{"type":"update","time":' + repr(time) + tail + update_json(raw, scanned) + "}"
    return json.dumps(_record(raw, ctx, direction, peer, time), separators=(",", ":"))


def _record(raw, ctx, direction, peer, time):
    from peerwarden_runner.codec.json_form import to_json

    try:
        return to_json(raw, ctx, direction=direction, peer=peer, time=time)
    except Exception as error:  # noqa: BLE001  (a message the JSON form cannot describe is still archived)
        LOG.error("archive writer: %r; the message is archived as octets only", error)
        return {
            "type": raw[18] if len(raw) > 18 else 0,
            "time": time,
            "direction": direction,
            "peer": peer,
            "lossy": True,
            "error": {"reason": repr(error)},
            "raw": raw.hex(),
        }


def main(arguments):
    from peerwarden_runner.archive import JsonLinesArchive

    directory, prefix, max_bytes, max_seconds, compress, peer = arguments
    archive = JsonLinesArchive(
        directory, prefix=prefix, max_bytes=int(max_bytes), max_seconds=float(max_seconds), compress=compress == "1"
    )
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer, archive, peer)
    except EOFError:
        LOG.error("archive writer: the runner ended in the middle of a record")
    finally:
        archive.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
