"""Reading the runner's JSON-lines archive (runner/docs/json.md) back into messages: each line's
object goes through `from_json` with the context its direction negotiated (made from the OPEN
records met before it, 4-octet AS and no ADD-PATH until then), so edited or hand-written lines
(without "raw") are encoded as written. The sender of a message is its direction ("to-router",
"received", ...). A line that is not a message object is noted with its offset; a last line
without its newline that does not parse is the file's truncation."""

import json
import lzma

from peerwarden_runner.codec import DEFAULT_CONTEXT, CodecError, Open, decode_open, from_json, negotiate
from peerwarden_runner.codec import constants as c
from peerwarden_runner.directions import other
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.records import MessageRecord, message_problem

FAMILIES = frozenset({c.IPV4_UNICAST, c.IPV6_UNICAST})


def read_json_lines(handle, findings: Findings):
    """MessageRecords from an open binary file of JSON lines, in file order."""
    opens: dict[str, Open] = {}  # direction -> the Open its sender sent
    offset = 0
    while True:
        try:
            line = handle.readline()
        except (EOFError, OSError, lzma.LZMAError) as error:
            findings.truncate(offset, "the compressed data ends or is corrupt (%s)" % (error or type(error).__name__))
            return
        if not line:
            return
        start, offset = offset, offset + len(line)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as error:
            if not line.endswith(b"\n"):
                findings.truncate(start, "the last line is cut short (%s)" % error)
                return
            findings.note("a line that is not JSON", start)
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            findings.note('a JSON line that is not a message object (no "type")', start)
            continue
        direction = str(obj.get("direction", "?"))
        ctx = _context(opens, direction)
        try:
            raw = from_json(obj, ctx)
            problem = message_problem(raw)
            if problem:
                raise ValueError(problem)
            if obj["type"] == "open":
                opens[direction] = decode_open(raw)
        except (CodecError, ValueError, KeyError, TypeError) as error:
            findings.note("a %s record that does not encode (%s)" % (obj["type"], error), start)
            continue
        when = obj.get("time")
        when = float(when) if isinstance(when, (int, float)) and not isinstance(when, bool) else 0.0
        yield MessageRecord(start, when, direction, None, ctx, raw)


def _context(opens, direction):
    """The context of a direction: its receiver's OPEN against its sender's, once both crossed."""
    try:
        sender, receiver = opens.get(direction), opens.get(other(direction))
    except KeyError:  # not one of the runner's directions
        return DEFAULT_CONTEXT
    if sender is None or receiver is None:
        return DEFAULT_CONTEXT
    return negotiate(receiver, sender)
