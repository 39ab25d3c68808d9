"""Message framing (RFC 4271 §4.1): the 19-octet header, and cutting a byte stream into messages.

Readers cut what a socket gave them with `cut_messages` (the proxy and the speaker alike): each
header is checked as `parse_header` says, and nothing else is decoded on the forwarding path.
"""

import struct
from typing import cast

from peerwarden_runner.codec.constants import (
    ERR_HEADER,
    HEADER_BAD_LENGTH,
    HEADER_BAD_TYPE,
    HEADER_CONNECTION_NOT_SYNCHRONIZED,
    HEADER_LEN,
    KEEPALIVE,
    MARKER,
    MAX_EXTENDED_MESSAGE_LEN,
    MAX_MESSAGE_LEN,
    MIN_MESSAGE_LEN,
    NOTIFICATION,
    OPEN,
    ROUTE_REFRESH,
    UPDATE,
    Framed,
    Octets,
)
from peerwarden_runner.codec.errors import FramingError

__all__ = [
    "HEADER_LEN",
    "MARKER",
    "OPEN",
    "UPDATE",
    "NOTIFICATION",
    "KEEPALIVE",
    "ROUTE_REFRESH",
    "FramingError",
    "parse_header",
    "make_header",
    "split_messages",
    "cut_messages",
]

_LENGTH_AND_TYPE = struct.Struct(">HB")


def parse_header(header: Octets, extended: bool = False) -> tuple[int, int]:
    """(length, type) of a message from its first 19 octets; raise FramingError as RFC 4271 §6.1 says.

    `extended` is true once the receiver of this direction announced the Extended Message
    capability (RFC 8654); OPEN and KEEPALIVE stay limited to 4096 and 19 octets regardless
    (RFC 8654 §4).  The data of a length error is the erroneous length field and of a type error
    the type octet, as §6.1 requires, so the caller can send `encode_notification(e.code, e.subcode,
    e.data)` as is.
    """
    if len(header) < HEADER_LEN:
        raise FramingError(
            ERR_HEADER, HEADER_BAD_LENGTH, b"", "header truncated: %d of %d octets" % (len(header), HEADER_LEN)
        )
    if header[:16] != MARKER:
        # RFC 4271 §6.1: "Connection Not Synchronized", no data
        raise FramingError(ERR_HEADER, HEADER_CONNECTION_NOT_SYNCHRONIZED, b"", "marker is not all ones")
    length, kind = _LENGTH_AND_TYPE.unpack_from(header, 16)
    minimum = MIN_MESSAGE_LEN.get(kind)
    if minimum is None:
        raise FramingError(ERR_HEADER, HEADER_BAD_TYPE, bytes((kind,)), "unknown message type %d" % kind)
    if kind == KEEPALIVE:
        maximum = HEADER_LEN  # RFC 4271 §6.1: a KEEPALIVE is exactly the header
    elif extended and kind != OPEN:
        maximum = MAX_EXTENDED_MESSAGE_LEN
    else:
        maximum = MAX_MESSAGE_LEN
    if length < minimum or length > maximum:
        raise FramingError(
            ERR_HEADER,
            HEADER_BAD_LENGTH,
            header[16:18],
            "length %d out of range %d..%d for message type %d" % (length, minimum, maximum, kind),
        )
    return length, kind


def message_octets(data: Octets | Framed) -> bytes:
    """The octets of a message given as octets or as a decoded message that keeps them (`raw`)."""
    return bytes(cast(Octets, getattr(data, "raw", data)))


def is_whole_message(raw: bytes, kind: int) -> bool:
    """Is `raw` one whole message of type `kind`: the marker, the type, at least the type's minimum length,
    and a length field that counts the octets given?"""
    return (
        len(raw) >= MIN_MESSAGE_LEN[kind]
        and raw[:16] == MARKER
        and raw[18] == kind
        and _LENGTH_AND_TYPE.unpack_from(raw, 16)[0] == len(raw)
    )


def make_header(length: int, kind: int) -> bytes:
    """The 19-octet header of a message of `length` octets (header included)."""
    return MARKER + _LENGTH_AND_TYPE.pack(length, kind)


def split_messages(buffer: Octets, extended: bool = False) -> tuple[list[bytes], int]:
    """Cut the complete messages off the front of `buffer`: ([message bytes, ...], octets consumed).

    For protocol-style readers (asyncio.Protocol.data_received) that get arbitrary chunks; a
    trailing partial message is left for the next call.  Raises FramingError on a bad header.
    """
    messages, position, error = cut_messages(buffer, extended)
    if error is not None:
        raise error
    return messages, position


def cut_messages(
    buffer: Octets, extended: bool = False, until_open: bool = False
) -> tuple[list[bytes], int, FramingError | None]:
    """split_messages for a reader that must still act on the messages before a bad header: ([message
    bytes, ...], octets consumed, the FramingError of the header that follows them or None).

    `until_open`: stop after an OPEN, so that the caller cuts what follows it with the Extended
    Message capability it may have negotiated (RFC 8654). An UPDATE or KEEPALIVE header is checked
    inline (the bulk of a session); any other goes through parse_header, as does one that fails."""
    data = buffer if isinstance(buffer, bytes) else bytes(buffer)
    messages: list[bytes] = []
    append = messages.append
    unpack = _LENGTH_AND_TYPE.unpack_from
    longest_update = MAX_EXTENDED_MESSAGE_LEN if extended else MAX_MESSAGE_LEN
    position, end = 0, len(data)
    while end - position >= HEADER_LEN:
        length, kind = unpack(data, position + 16)
        if not (
            (length == HEADER_LEN and kind == KEEPALIVE or kind == UPDATE and 23 <= length <= longest_update)
            and data.startswith(MARKER, position)
        ):
            try:
                length, kind = parse_header(data[position : position + HEADER_LEN], extended)
            except FramingError as error:
                return messages, position, error
        if end - position < length:
            break
        append(data[position : position + length] if length < end else data)
        position += length
        if until_open and kind == OPEN:
            break
    return messages, position, None
