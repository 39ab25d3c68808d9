"""NOTIFICATION messages (RFC 4271 §4.5) and the shutdown communication (RFC 8203, RFC 9003).

A proxy sends a NOTIFICATION to both ends when it ends a session; an operator-supplied reason
("maintenance until 14:00, ticket 1234") travels in Cease / Administrative Shutdown (6/2) or
Administrative Reset (6/4) as a length-prefixed UTF-8 string that routers show in their logs.
"""

from dataclasses import dataclass

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.errors import MessageError
from peerwarden_runner.codec.framing import is_whole_message, make_header, message_octets

__all__ = [
    "Notification",
    "decode_notification",
    "encode_notification",
    "shutdown_notification",
    "MAX_SHUTDOWN_MESSAGE",
    "error_name",
]

# RFC 9003 §2 raised the limit of RFC 8203 §2 (128) to 255 octets
MAX_SHUTDOWN_MESSAGE = 255

_CODE_NAMES = {
    c.ERR_HEADER: "Message Header Error",
    c.ERR_OPEN: "OPEN Message Error",
    c.ERR_UPDATE: "UPDATE Message Error",
    c.ERR_HOLD_TIMER: "Hold Timer Expired",
    c.ERR_FSM: "Finite State Machine Error",
    c.ERR_CEASE: "Cease",
    c.ERR_ROUTE_REFRESH: "ROUTE-REFRESH Message Error",
}
_SUBCODE_NAMES = {
    c.ERR_HEADER: {1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type"},
    c.ERR_OPEN: {
        0: "Unspecific",
        1: "Unsupported Version Number",
        2: "Bad Peer AS",
        3: "Bad BGP Identifier",
        4: "Unsupported Optional Parameter",
        6: "Unacceptable Hold Time",
        7: "Unsupported Capability",
        11: "Role Mismatch",
    },
    c.ERR_UPDATE: {
        1: "Malformed Attribute List",
        2: "Unrecognized Well-known Attribute",
        3: "Missing Well-known Attribute",
        4: "Attribute Flags Error",
        5: "Attribute Length Error",
        6: "Invalid ORIGIN Attribute",
        8: "Invalid NEXT_HOP Attribute",
        9: "Optional Attribute Error",
        10: "Invalid Network Field",
        11: "Malformed AS_PATH",
    },
    c.ERR_FSM: {
        1: "Receive Unexpected Message in OpenSent State",
        2: "Receive Unexpected Message in OpenConfirm State",
        3: "Receive Unexpected Message in Established State",
    },
    c.ERR_CEASE: {
        1: "Maximum Number of Prefixes Reached",
        2: "Administrative Shutdown",
        3: "Peer De-configured",
        4: "Administrative Reset",
        5: "Connection Rejected",
        6: "Other Configuration Change",
        7: "Connection Collision Resolution",
        8: "Out of Resources",
        9: "Hard Reset",
        10: "BFD Down",
    },
    c.ERR_ROUTE_REFRESH: {1: "Invalid Message Length"},
}
_SHUTDOWN_SUBCODES = (c.CEASE_ADMINISTRATIVE_SHUTDOWN, c.CEASE_ADMINISTRATIVE_RESET)


def error_name(code: int, subcode: int) -> str:
    """ "Cease / Administrative Shutdown" for (6, 2); numbers for what the registries do not name."""
    code_name = _CODE_NAMES.get(code, "Error %d" % code)
    subcode_name = _SUBCODE_NAMES.get(code, {}).get(subcode)
    if subcode_name is None:
        subcode_name = "Unspecific" if subcode == 0 else "subcode %d" % subcode
    return "%s / %s" % (code_name, subcode_name)


@dataclass(frozen=True)
class Notification:
    """A decoded NOTIFICATION: error code, subcode, data octets."""

    code: int
    subcode: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return error_name(self.code, self.subcode)

    @property
    def shutdown_message(self) -> str | None:
        """The RFC 8203/9003 text of a 6/2 or 6/4, or None when absent or malformed.

        RFC 9003 §2: a length running past the data or invalid UTF-8 must not break anything; the
        receiver just has no message to show.
        """
        if self.code != c.ERR_CEASE or self.subcode not in _SHUTDOWN_SUBCODES or not self.data:
            return None
        length = self.data[0]
        if length == 0 or 1 + length > len(self.data):
            return None
        try:
            return self.data[1 : 1 + length].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def encode(self) -> bytes:
        return encode_notification(self.code, self.subcode, self.data)


def decode_notification(data: c.Octets | c.Framed) -> Notification:
    """Decode a whole NOTIFICATION (header included); raise MessageError only if it is not one."""
    raw = message_octets(data)
    if not is_whole_message(raw, c.NOTIFICATION):
        raise MessageError(c.ERR_HEADER, c.HEADER_BAD_LENGTH, raw[16:18], "not a NOTIFICATION of at least 21 octets")
    return Notification(raw[19], raw[20], raw[21:])


def encode_notification(code: int, subcode: int, data: c.Octets = b"", max_length: int = c.MAX_MESSAGE_LEN) -> bytes:
    """A NOTIFICATION message; data that would make it longer than `max_length` is cut, since a peer
    that did not announce Extended Messages (RFC 8654) accepts no more than 4096 octets."""
    octets = bytes(data)[: max_length - 21]
    return make_header(21 + len(octets), c.NOTIFICATION) + bytes((code, subcode)) + octets


def shutdown_notification(text: str | None = "", reset: bool = False) -> bytes:
    """Cease / Administrative Shutdown (6/2), or Administrative Reset (6/4) with `reset`, carrying
    `text` as the RFC 9003 shutdown communication: one length octet and at most 255 octets of UTF-8.
    Longer text is cut at a character boundary rather than refused: a session is being closed
    and the reason is a courtesy.  Empty text sends no data at all (RFC 8203 §2 allows that).
    """
    subcode = c.CEASE_ADMINISTRATIVE_RESET if reset else c.CEASE_ADMINISTRATIVE_SHUTDOWN
    encoded = (text or "").encode("utf-8")
    if len(encoded) > MAX_SHUTDOWN_MESSAGE:
        encoded = encoded[:MAX_SHUTDOWN_MESSAGE].decode("utf-8", "ignore").encode("utf-8")
    data = bytes((len(encoded),)) + encoded if encoded else b""
    return encode_notification(c.ERR_CEASE, subcode, data)
