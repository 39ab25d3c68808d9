"""What the archive readers yield. `sender` names who sent the routes: the peer's address in an MRT
file (the message's sender, or the RIB entry's peer), the direction in a JSON-lines archive."""

import struct
from typing import NamedTuple

from peerwarden_runner.codec import NegotiatedContext, Prefix
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.mp_nlri import Address


class MessageRecord(NamedTuple):
    """One BGP message (header included), to be decoded with `ctx` (the recorded session's)."""

    offset: int
    time: float
    sender: str
    sender_as: int | None
    ctx: NegotiatedContext
    message: bytes


class StateRecord(NamedTuple):
    """A BGP state change of the recording side (RFC 4271 §8.2.2 numbers)."""

    offset: int
    time: float
    sender: str
    sender_as: int
    old: int
    new: int


class RibRecord(NamedTuple):
    """One route of a RIB dump (TABLE_DUMP_V2): its peer, prefix, next hop and attribute section
    (4-octet AS numbers, RFC 6396 §4.3.4; MP_REACH_NLRI taken out, its next hop in `next_hop`)."""

    offset: int
    time: float
    sender: str
    sender_as: int
    prefix: Prefix
    next_hop: Address | None
    attributes: bytes


def message_problem(message):
    """Why `message` is not one whole BGP message (marker, length field equal to its size), or None."""
    if len(message) < c.HEADER_LEN or message[:16] != c.MARKER:
        return "the BGP message has no marker"
    declared = struct.unpack_from(">H", message, 16)[0]
    if declared != len(message):
        return "the BGP message length %d is not the %d octets there" % (declared, len(message))
    return None
