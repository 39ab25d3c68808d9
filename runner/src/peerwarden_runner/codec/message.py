"""`Message`: one framed BGP message as octets, decoded only on demand.

A proxy's common case is to forward: read a header, read the body, write the same octets.  A
Message therefore holds `raw` and `type` and nothing else until a property such as `.update` is
read; the decoded object is then cached.  An unchanged message is forwarded as `raw`, which keeps
the bytes on the wire identical to what the sender wrote.
"""

import asyncio
from collections.abc import Callable

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext
from peerwarden_runner.codec.errors import FramingError
from peerwarden_runner.codec.framing import parse_header
from peerwarden_runner.codec.keepalive import Keepalive, decode_keepalive
from peerwarden_runner.codec.notification import Notification, decode_notification
from peerwarden_runner.codec.open_message import Open, decode_open
from peerwarden_runner.codec.route_refresh import RouteRefresh, decode_route_refresh
from peerwarden_runner.codec.update import Update, decode_update

Decoded = Open | Update | Notification | Keepalive | RouteRefresh

__all__ = ["Message", "decode_message", "read_message"]


def _decode_update(raw: bytes, ctx: NegotiatedContext) -> Decoded:
    return decode_update(raw, ctx)


def _without_context(decoder: Callable[[bytes], Decoded]) -> Callable[[bytes, NegotiatedContext], Decoded]:
    return lambda raw, ctx: decoder(raw)


_DECODERS = {
    c.OPEN: _without_context(decode_open),
    c.UPDATE: _decode_update,
    c.NOTIFICATION: _without_context(decode_notification),
    c.KEEPALIVE: _without_context(decode_keepalive),
    c.ROUTE_REFRESH: _without_context(decode_route_refresh),
}


def decode_message(raw: c.Octets, ctx: NegotiatedContext | None = None) -> Decoded:
    """Decode any message (header included) into Open / Update / Notification / Keepalive / RouteRefresh.

    Raises FramingError for a bad header, MessageError for an unusable OPEN, NOTIFICATION or
    ROUTE-REFRESH; an UPDATE never raises (its problems are in Update.error_action).
    """
    octets, kind = _whole(raw, True)
    return _DECODERS[kind](octets, ctx or DEFAULT_CONTEXT)


def _whole(raw: c.Octets, extended: bool) -> tuple[bytes, int]:
    """(octets, type) of one whole message; FramingError for a bad header or a length field that is not
    the number of octets given."""
    octets = bytes(raw)
    length, kind = parse_header(octets[: c.HEADER_LEN], extended)
    if length != len(octets):
        raise FramingError(
            c.ERR_HEADER,
            c.HEADER_BAD_LENGTH,
            octets[16:18],
            "length field %d but %d octets given" % (length, len(octets)),
        )
    return octets, kind


class Message:
    """One message: `raw` octets (header included) and `type`; decoded views computed lazily.

    `ctx` is the NegotiatedContext of the message's direction, needed for UPDATEs only; it can
    also be given to `decode()`.  The type properties (`.open`, `.update`, ...) return None for a
    message of another type.
    """

    __slots__ = ("raw", "type", "ctx", "_decoded", "_decoded_ctx")

    def __init__(self, raw: c.Octets, ctx: NegotiatedContext | None = None) -> None:
        self.raw = bytes(raw)
        self.type = self.raw[18] if len(self.raw) > 18 else 0
        self.ctx = ctx
        self._decoded: Decoded | None = None
        self._decoded_ctx: NegotiatedContext | None = None

    @classmethod
    def parse(cls, raw: c.Octets, ctx: NegotiatedContext | None = None) -> "Message":
        """A Message after checking its header (FramingError when bad), for octets of unknown origin."""
        octets, dummy = _whole(raw, True if ctx is None else ctx.extended_message)
        return cls(octets, ctx)

    @property
    def length(self) -> int:
        return len(self.raw)

    @property
    def type_name(self) -> str:
        return c.MESSAGE_TYPE_NAMES.get(self.type, str(self.type))

    def decode(self, ctx: NegotiatedContext | None = None) -> Decoded:
        """The decoded message (cached per context)."""
        context = ctx or self.ctx or DEFAULT_CONTEXT
        if self._decoded is None or self._decoded_ctx is not context:
            self._decoded = decode_message(self.raw, context)
            self._decoded_ctx = context
        return self._decoded

    def _view(self, kind: int) -> Decoded | None:
        return self.decode() if self.type == kind else None

    open = property(lambda self: self._view(c.OPEN), doc="The Open, or None.")
    update = property(lambda self: self._view(c.UPDATE), doc="The Update, or None.")
    notification = property(lambda self: self._view(c.NOTIFICATION), doc="The Notification, or None.")
    keepalive = property(lambda self: self._view(c.KEEPALIVE), doc="The Keepalive, or None.")
    route_refresh = property(lambda self: self._view(c.ROUTE_REFRESH), doc="The RouteRefresh, or None.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.raw == other.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return "Message(%s, %d octets)" % (self.type_name, len(self.raw))


async def read_message(reader: asyncio.StreamReader, ctx: NegotiatedContext | None = None) -> Message:
    """Read one Message from an asyncio StreamReader (FramingError on a bad header,
    IncompleteReadError at end of stream)."""
    header = await reader.readexactly(c.HEADER_LEN)
    length, dummy = parse_header(header, bool(ctx and ctx.extended_message))
    body = await reader.readexactly(length - c.HEADER_LEN)
    return Message(header + body, ctx)
