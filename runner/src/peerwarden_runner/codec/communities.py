"""Text forms of communities (RFC 1997), extended communities (RFC 4360, RFC 5668, RFC 7153) and
large communities (RFC 8092), as used by the JSON form and by filters.

Every text form maps back to exactly the same octets: "64500:1" is one 32-bit community,
"64500:1:2" one large community, and extended communities carry their type in the text
("target:64500:1" is type 0x00/0x02, "target4:4200000000:1" type 0x02/0x02) or fall back to
"raw:<16 hex digits>" for a type this module does not spell out.
"""

import ipaddress
import struct

from peerwarden_runner.codec.constants import Octets

__all__ = [
    "WELL_KNOWN_COMMUNITIES",
    "community_to_text",
    "community_from_text",
    "large_to_text",
    "large_from_text",
    "extended_to_text",
    "extended_from_text",
]

# RFC 1997 §3, RFC 7999 (BLACKHOLE), RFC 8326 (GRACEFUL_SHUTDOWN), RFC 8642 (no-peer is 65535:65284)
WELL_KNOWN_COMMUNITIES = {
    "graceful-shutdown": 0xFFFF0000,
    "blackhole": 0xFFFF029A,
    "no-export": 0xFFFFFF01,
    "no-advertise": 0xFFFFFF02,
    "no-export-subconfed": 0xFFFFFF03,
    "no-peer": 0xFFFFFF04,
}

_TWO_OCTET_AS_NUMBER = struct.Struct(">BBHI")  # RFC 4360 §3.1: type, subtype, 2-octet AS, 4-octet number
_IPV4_ADDRESS_NUMBER = struct.Struct(">BB4sH")  # RFC 4360 §3.2: type, subtype, IPv4 address, 2-octet number
_FOUR_OCTET_AS_NUMBER = struct.Struct(">BBIH")  # RFC 5668 §2: type, subtype, 4-octet AS, 2-octet number
# (type, subtype) -> (text tag, layout) for the route target / route origin types; others are written raw
_EXTENDED_KINDS = {
    (0x00, 0x02): ("target", _TWO_OCTET_AS_NUMBER),
    (0x00, 0x03): ("origin", _TWO_OCTET_AS_NUMBER),
    (0x01, 0x02): ("target-ip", _IPV4_ADDRESS_NUMBER),
    (0x01, 0x03): ("origin-ip", _IPV4_ADDRESS_NUMBER),
    (0x02, 0x02): ("target4", _FOUR_OCTET_AS_NUMBER),
    (0x02, 0x03): ("origin4", _FOUR_OCTET_AS_NUMBER),
}
_EXTENDED_BY_TAG = {tag: (kind, layout) for kind, (tag, layout) in _EXTENDED_KINDS.items()}


def community_to_text(value: int) -> str:
    """ "high:low" of a 32-bit community."""
    return "%d:%d" % (value >> 16, value & 0xFFFF)


def community_from_text(text: str | int) -> int:
    """A 32-bit community from "high:low", a well-known name, or a plain integer."""
    if isinstance(text, int):
        return text
    name = text.strip().lower()
    if name in WELL_KNOWN_COMMUNITIES:
        return WELL_KNOWN_COMMUNITIES[name]
    high_text, separator, low_text = name.partition(":")
    if not separator:
        return int(name)
    high, low = int(high_text), int(low_text)
    if not (0 <= high <= 0xFFFF and 0 <= low <= 0xFFFF):
        raise ValueError("community %r out of range" % text)
    return (high << 16) | low


def large_to_text(value: tuple[int, int, int]) -> str:
    """ "global:local1:local2" of a large community given as a 3-tuple."""
    return "%d:%d:%d" % value


def large_from_text(text: object) -> tuple[int, int, int]:
    parts = tuple(int(part) for part in str(text).split(":"))
    if len(parts) != 3 or not all(0 <= part <= 0xFFFFFFFF for part in parts):
        raise ValueError("large community %r is not global:local1:local2" % text)
    return parts


def extended_to_text(octets: Octets) -> str:
    """Text of one 8-octet extended community (see the module docstring)."""
    kind = (octets[0], octets[1])
    known = _EXTENDED_KINDS.get(kind)
    if known is None:
        return "raw:" + bytes(octets).hex()
    tag, layout = known
    dummy, dummy_subtype, first, second = layout.unpack(octets)
    if layout is _IPV4_ADDRESS_NUMBER:
        first = ipaddress.IPv4Address(first)
    return "%s:%s:%d" % (tag, first, second)


def extended_from_text(text: str) -> bytes:
    """The 8 octets of an extended community from its text form."""
    tag, dummy, rest = text.partition(":")
    if tag == "raw":
        octets = bytes.fromhex(rest)
        if len(octets) != 8:
            raise ValueError("extended community %r is not 8 octets" % text)
        return octets
    (kind, subtype), layout = _EXTENDED_BY_TAG[tag]
    first, dummy, second = rest.rpartition(":")
    if layout is _IPV4_ADDRESS_NUMBER:
        return layout.pack(kind, subtype, ipaddress.IPv4Address(first).packed, int(second))
    return layout.pack(kind, subtype, int(first), int(second))
