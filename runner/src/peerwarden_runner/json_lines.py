"""BGP messages as JSON lines, one message's JSON form (docs/json.md) per line: what the speaker's
--stdout writes and --stdin reads, and what the exec stage exchanges with its program.

Reading is strict, so nothing sent differs from what a line says: a line must be one JSON object
of a message type the reader takes; a "lossy" record (its fields cannot rebuild the message) is
refused rather than sent from its "raw"; the octets must fit the session (its context, its
message size) and an UPDATE must decode without any RFC 7606 finding. Every refusal is a
LineError saying why, for the caller to report with the line number.
"""

import json
from collections.abc import Collection
from typing import Any

from peerwarden_runner.codec import ErrorAction, NegotiatedContext, decode_update, from_json
from peerwarden_runner.codec import constants as c

LINE_LIMIT = 16 * 1024 * 1024  # a JSON UPDATE of an extended (65535-octet) message fits many times over
SHOWN = 200  # characters of a bad line quoted in its error


class LineError(ValueError):
    """A line that is not a message to send; str() says why."""


def dump_line(record: dict[str, Any]) -> bytes:
    """One record as a compact JSON line (UTF-8, newline-terminated)."""
    return json.dumps(record, separators=(",", ":")).encode("utf-8") + b"\n"


def parse_line(text: bytes | str) -> dict[str, Any]:
    """The JSON object on one line, which names its message "type"."""
    try:
        obj = json.loads(text)
    except ValueError as error:
        raise LineError("not JSON (%s): %r" % (error, text[:SHOWN])) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise LineError('expected a JSON message object ({"type": "update", ...}), got %r' % text[:SHOWN])
    return obj


def message_from_record(obj: dict[str, Any], ctx: NegotiatedContext, kinds: Collection[str] = ("update",)) -> bytes:
    """The octets of a record for a session whose direction has `ctx`; LineError saying what is wrong."""
    text = json.dumps(obj)[:SHOWN]
    if obj.get("type") not in kinds:
        raise LineError("expected a JSON %s object, got type %r" % (" or ".join(kinds), obj.get("type")))
    if obj.get("lossy"):
        raise LineError(
            'a "lossy" record (%s): its fields cannot rebuild the message, and it is not sent from its "raw"'
            % (obj.get("error", {}).get("reason") or "malformed")
        )
    try:
        raw = from_json(obj, ctx)
    except Exception as error:  # noqa: BLE001  (any field the encoder cannot use: say which and why)
        reason = "missing or unknown %s" % error if isinstance(error, KeyError) else str(error) or type(error).__name__
        raise LineError("cannot encode it: %s; the record: %s" % (reason, text)) from None
    if len(raw) > ctx.max_message_length:
        raise LineError(
            "the %s is %d octets, longer than the session allows (%d)" % (obj["type"], len(raw), ctx.max_message_length)
        )
    if raw[18] == c.UPDATE:
        update = decode_update(raw, ctx)
        if update.error_action != ErrorAction.NONE:
            raise LineError("the UPDATE is malformed (%s)" % update.reason)
    return raw
