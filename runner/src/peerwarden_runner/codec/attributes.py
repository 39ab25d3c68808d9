"""Path attributes (RFC 4271 §4.3, §5): the wire TLV, the value of each known type, and builders.

An `Attribute` keeps its flags and value octets exactly as received, so an UPDATE that is encoded
again without changes is bit-exact, including attributes this module does not understand (RFC
4271 §5: optional transitive attributes must be passed on unchanged).  The decoded Python value
sits next to the octets; a value that RFC 7606 calls malformed is None and the reason is in the
Update's error list (see `error_handling`).

Decoded value types: ORIGIN int; AS_PATH / AS4_PATH AsPath; NEXT_HOP, ORIGINATOR_ID IPv4Address;
MULTI_EXIT_DISC, LOCAL_PREF, ONLY_TO_CUSTOMER int; ATOMIC_AGGREGATE True; AGGREGATOR /
AS4_AGGREGATOR Aggregator; COMMUNITIES tuple of ints; CLUSTER_LIST tuple of IPv4Address;
EXTENDED_COMMUNITIES tuple of 8-octet bytes; LARGE_COMMUNITY tuple of (global, local1, local2);
MP_REACH_NLRI MpReach; MP_UNREACH_NLRI MpUnreach; anything else None (octets only).
"""

import ipaddress
import struct
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.aspath import AsPath, decode_as4_path, decode_as_path, encode_as_path
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext
from peerwarden_runner.codec.mp_nlri import (
    MpReach,
    MpUnreach,
    decode_mp_reach,
    decode_mp_unreach,
    encode_mp_reach,
    encode_mp_unreach,
)

__all__ = [
    "Attribute",
    "AttributeSpec",
    "Aggregator",
    "AttributeMalformed",
    "ATTRIBUTE_SPECS",
    "ATTRIBUTE_NAMES",
    "ATTRIBUTE_CODES",
    "decode_value",
    "make_attribute",
    "unknown_attribute",
]

_SHORT_HEADER = struct.Struct(">BBB")
_LONG_HEADER = struct.Struct(">BBH")
_U32 = struct.Struct(">I")
_AGGREGATOR2 = struct.Struct(">H4s")
_AGGREGATOR4 = struct.Struct(">I4s")
# an attribute value decoder: (value octets, context) -> the decoded value, or AttributeMalformed
Decoder = Callable[[bytes, NegotiatedContext], Any]
Encoder = Callable[[Any, NegotiatedContext], bytes]  # (value, context) -> the value octets
WELL_KNOWN = c.FLAG_TRANSITIVE
OPTIONAL_TRANSITIVE = c.FLAG_OPTIONAL | c.FLAG_TRANSITIVE
OPTIONAL_NON_TRANSITIVE = c.FLAG_OPTIONAL


class AttributeMalformed(ValueError):
    """A value RFC 7606 calls malformed; `subcode` is the RFC 4271 §6.3 UPDATE error subcode."""

    def __init__(self, reason: str, subcode: int = c.UPDATE_ATTRIBUTE_LENGTH_ERROR) -> None:
        super().__init__(reason)
        self.subcode = subcode


class Aggregator(NamedTuple):
    """AGGREGATOR / AS4_AGGREGATOR (RFC 4271 §5.1.7, RFC 6793 §3): the AS and router that aggregated."""

    asn: int
    address: ipaddress.IPv4Address


class Attribute:
    """One path attribute: flags, type code, value octets (`data`) and the decoded `value`."""

    __slots__ = ("flags", "code", "data", "value")

    def __init__(self, flags: int, code: int, data: bytes, value: Any = None) -> None:
        self.flags = flags
        self.code = code
        self.data = data
        self.value = value

    @property
    def name(self) -> str:
        return ATTRIBUTE_NAMES.get(self.code, "attribute_%d" % self.code)

    @property
    def optional(self) -> bool:
        return bool(self.flags & c.FLAG_OPTIONAL)

    @property
    def transitive(self) -> bool:
        return bool(self.flags & c.FLAG_TRANSITIVE)

    @property
    def partial(self) -> bool:
        return bool(self.flags & c.FLAG_PARTIAL)

    @property
    def known(self) -> bool:
        return self.code in ATTRIBUTE_SPECS

    def encode(self) -> bytes:
        """The TLV as it goes on the wire; the Extended Length bit is kept as received and forced on
        when the value needs it (RFC 4271 §4.3)."""
        data = self.data
        flags = self.flags
        if flags & c.FLAG_EXTENDED_LENGTH or len(data) > 255:
            return _LONG_HEADER.pack(flags | c.FLAG_EXTENDED_LENGTH, self.code, len(data)) + data
        return _SHORT_HEADER.pack(flags, self.code, len(data)) + data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attribute):
            return NotImplemented
        return (self.flags, self.code, self.data) == (other.flags, other.code, other.data)

    def __hash__(self) -> int:
        return hash((self.flags, self.code, self.data))

    def __repr__(self) -> str:
        return "Attribute(%s, flags=0x%02x, %r)" % (
            self.name,
            self.flags,
            self.value if self.value is not None else self.data,
        )


# ---- value decoders: (octets, ctx) -> value, or raise AttributeMalformed ----


def _origin(data: bytes, ctx: NegotiatedContext) -> int:
    if len(data) != 1:
        raise AttributeMalformed("ORIGIN length %d != 1" % len(data))
    if data[0] not in c.ORIGIN_NAMES:
        raise AttributeMalformed("ORIGIN value %d undefined" % data[0], c.UPDATE_INVALID_ORIGIN)
    return data[0]


def _as_path(data: bytes, ctx: NegotiatedContext) -> AsPath:
    try:
        return decode_as_path(data, 4 if ctx.four_octet_as else 2)
    except ValueError as error:
        raise AttributeMalformed("AS_PATH: %s" % error, c.UPDATE_MALFORMED_AS_PATH) from None


def _as4_path(data: bytes, ctx: NegotiatedContext) -> AsPath:
    try:
        return decode_as4_path(data)
    except ValueError as error:
        raise AttributeMalformed("AS4_PATH: %s" % error, c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR) from None


def _ipv4(name: str) -> Decoder:
    def decode(data: bytes, ctx: NegotiatedContext) -> ipaddress.IPv4Address:
        if len(data) != 4:
            raise AttributeMalformed("%s length %d != 4" % (name, len(data)))
        return ipaddress.IPv4Address(data)

    return decode


def _u32(name: str) -> Decoder:
    def decode(data: bytes, ctx: NegotiatedContext) -> int:
        if len(data) != 4:
            raise AttributeMalformed("%s length %d != 4" % (name, len(data)))
        number: int = _U32.unpack(data)[0]
        return number

    return decode


def _atomic_aggregate(data: bytes, ctx: NegotiatedContext) -> bool:
    if data:
        raise AttributeMalformed("ATOMIC_AGGREGATE length %d != 0" % len(data))
    return True


def _aggregator(data: bytes, ctx: NegotiatedContext) -> Aggregator:
    expected = 8 if ctx.four_octet_as else 6
    if len(data) != expected:
        raise AttributeMalformed("AGGREGATOR length %d != %d" % (len(data), expected))
    asn, address = (_AGGREGATOR4 if expected == 8 else _AGGREGATOR2).unpack(data)
    return Aggregator(asn, ipaddress.IPv4Address(address))


def _as4_aggregator(data: bytes, ctx: NegotiatedContext) -> Aggregator:
    if len(data) != 8:
        raise AttributeMalformed("AS4_AGGREGATOR length %d != 8" % len(data), c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR)
    asn, address = _AGGREGATOR4.unpack(data)
    return Aggregator(asn, ipaddress.IPv4Address(address))


def _multiple(name: str, size: int) -> Callable[[bytes], int]:
    def check(data: bytes) -> int:
        if not data or len(data) % size:
            raise AttributeMalformed(
                "%s length %d is not a non-zero multiple of %d" % (name, len(data), size),
                c.UPDATE_OPTIONAL_ATTRIBUTE_ERROR,
            )
        return len(data) // size

    return check


_check_communities = _multiple("COMMUNITIES", 4)
_check_cluster_list = _multiple("CLUSTER_LIST", 4)
_check_extended = _multiple("EXTENDED_COMMUNITIES", 8)
_check_large = _multiple("LARGE_COMMUNITY", 12)


def _communities(data: bytes, ctx: NegotiatedContext) -> tuple[int, ...]:
    return struct.unpack(">%dI" % _check_communities(data), data)


def _cluster_list(data: bytes, ctx: NegotiatedContext) -> tuple[ipaddress.IPv4Address, ...]:
    count = _check_cluster_list(data)
    return tuple(ipaddress.IPv4Address(data[i : i + 4]) for i in range(0, count * 4, 4))


def _extended_communities(data: bytes, ctx: NegotiatedContext) -> tuple[bytes, ...]:
    count = _check_extended(data)
    return tuple(data[i : i + 8] for i in range(0, count * 8, 8))


def _large_communities(data: bytes, ctx: NegotiatedContext) -> tuple[tuple[int, int, int], ...]:
    numbers = struct.unpack(">%dI" % (_check_large(data) * 3), data)
    return tuple(zip(numbers[0::3], numbers[1::3], numbers[2::3]))


def _mp_reach(data: bytes, ctx: NegotiatedContext) -> MpReach:
    return decode_mp_reach(data, ctx)  # MpNlriError is handled by the caller: it is not a plain malformation


def _mp_unreach(data: bytes, ctx: NegotiatedContext) -> MpUnreach:
    return decode_mp_unreach(data, ctx)


# ---- value encoders: (value, ctx) -> octets ----


def _encode_origin(value: Any, ctx: NegotiatedContext) -> bytes:
    if isinstance(value, str):
        value = {name: code for code, name in c.ORIGIN_NAMES.items()}[value]
    return bytes((value,))


def _encode_as_path(value: Any, ctx: NegotiatedContext) -> bytes:
    return encode_as_path(_as_path_value(value), 4 if ctx.four_octet_as else 2)


def _encode_as4_path(value: Any, ctx: NegotiatedContext) -> bytes:
    return encode_as_path(_as_path_value(value), 4)


def _as_path_value(value: AsPath | Iterable[tuple[str | int, Iterable[int | str]]]) -> AsPath:
    if isinstance(value, AsPath):
        return value
    return AsPath.from_list(value)


def _encode_ipv4(value: Any, ctx: NegotiatedContext) -> bytes:
    return ipaddress.IPv4Address(value).packed


def _encode_u32(value: Any, ctx: NegotiatedContext) -> bytes:
    return _U32.pack(value)


def _encode_atomic_aggregate(value: Any, ctx: NegotiatedContext) -> bytes:
    return b""


def _encode_aggregator(value: Any, ctx: NegotiatedContext) -> bytes:
    asn, address = value
    if ctx.four_octet_as:
        return _AGGREGATOR4.pack(asn, ipaddress.IPv4Address(address).packed)
    return _AGGREGATOR2.pack(asn if asn <= 0xFFFF else c.AS_TRANS, ipaddress.IPv4Address(address).packed)


def _encode_as4_aggregator(value: Any, ctx: NegotiatedContext) -> bytes:
    asn, address = value
    return _AGGREGATOR4.pack(asn, ipaddress.IPv4Address(address).packed)


def _encode_communities(value: Any, ctx: NegotiatedContext) -> bytes:
    return struct.pack(">%dI" % len(value), *value)


def _encode_cluster_list(value: Any, ctx: NegotiatedContext) -> bytes:
    return b"".join(ipaddress.IPv4Address(item).packed for item in value)


def _encode_extended(value: Any, ctx: NegotiatedContext) -> bytes:
    return b"".join(bytes(item) for item in value)


def _encode_large(value: Any, ctx: NegotiatedContext) -> bytes:
    return b"".join(struct.pack(">III", *item) for item in value)


class AttributeSpec(NamedTuple):
    """What RFC 4271 and its extensions say about one attribute type."""

    name: str
    flags: int  # the Optional and Transitive bits it must have (RFC 4271 §5, RFC 7606 §3)
    decode: Decoder
    encode: Encoder


ATTRIBUTE_SPECS = {
    c.ORIGIN: AttributeSpec("origin", WELL_KNOWN, _origin, _encode_origin),
    c.AS_PATH: AttributeSpec("as_path", WELL_KNOWN, _as_path, _encode_as_path),
    c.NEXT_HOP: AttributeSpec("next_hop", WELL_KNOWN, _ipv4("NEXT_HOP"), _encode_ipv4),
    c.MULTI_EXIT_DISC: AttributeSpec("med", OPTIONAL_NON_TRANSITIVE, _u32("MULTI_EXIT_DISC"), _encode_u32),
    c.LOCAL_PREF: AttributeSpec("local_pref", WELL_KNOWN, _u32("LOCAL_PREF"), _encode_u32),
    c.ATOMIC_AGGREGATE: AttributeSpec("atomic_aggregate", WELL_KNOWN, _atomic_aggregate, _encode_atomic_aggregate),
    c.AGGREGATOR: AttributeSpec("aggregator", OPTIONAL_TRANSITIVE, _aggregator, _encode_aggregator),
    c.COMMUNITIES: AttributeSpec("communities", OPTIONAL_TRANSITIVE, _communities, _encode_communities),
    c.ORIGINATOR_ID: AttributeSpec("originator_id", OPTIONAL_NON_TRANSITIVE, _ipv4("ORIGINATOR_ID"), _encode_ipv4),
    c.CLUSTER_LIST: AttributeSpec("cluster_list", OPTIONAL_NON_TRANSITIVE, _cluster_list, _encode_cluster_list),
    c.MP_REACH_NLRI: AttributeSpec("mp_reach", OPTIONAL_NON_TRANSITIVE, _mp_reach, encode_mp_reach),
    c.MP_UNREACH_NLRI: AttributeSpec("mp_unreach", OPTIONAL_NON_TRANSITIVE, _mp_unreach, encode_mp_unreach),
    c.EXTENDED_COMMUNITIES: AttributeSpec(
        "ext_communities", OPTIONAL_TRANSITIVE, _extended_communities, _encode_extended
    ),
    c.AS4_PATH: AttributeSpec("as4_path", OPTIONAL_TRANSITIVE, _as4_path, _encode_as4_path),
    c.AS4_AGGREGATOR: AttributeSpec("as4_aggregator", OPTIONAL_TRANSITIVE, _as4_aggregator, _encode_as4_aggregator),
    c.LARGE_COMMUNITY: AttributeSpec("large_communities", OPTIONAL_TRANSITIVE, _large_communities, _encode_large),
    c.ONLY_TO_CUSTOMER: AttributeSpec("otc", OPTIONAL_TRANSITIVE, _u32("ONLY_TO_CUSTOMER"), _encode_u32),
}
ATTRIBUTE_NAMES = {code: spec.name for code, spec in ATTRIBUTE_SPECS.items()}
ATTRIBUTE_CODES = {spec.name: code for code, spec in ATTRIBUTE_SPECS.items()}


def decode_value(code: int, data: bytes, ctx: NegotiatedContext) -> Any:
    """The decoded value of a known attribute (None for unknown types); raises AttributeMalformed or
    MpNlriError."""
    spec = ATTRIBUTE_SPECS.get(code)
    if spec is None:
        return None
    return spec.decode(data, ctx)


def make_attribute(
    code: int | str, value: Any, ctx: NegotiatedContext = DEFAULT_CONTEXT, flags: int | None = None, decode: bool = True
) -> Attribute:
    """Build an Attribute of a known type from a Python value, with the flags its RFC prescribes.

    `code` may be the type code or the JSON name ("med").  Values are the decoded types listed in
    the module docstring (text is accepted where unambiguous: "192.0.2.1", "igp").  The octets are
    encoded for `ctx` (2- or 4-octet AS numbers, ADD-PATH).  The octets are decoded back into
    `value` (which also validates them) unless `decode` is False, for callers that only want octets.
    """
    if isinstance(code, str):
        code = ATTRIBUTE_CODES[code]
    spec = ATTRIBUTE_SPECS[code]
    data = spec.encode(value, ctx)
    if flags is None:
        flags = spec.flags | (c.FLAG_EXTENDED_LENGTH if len(data) > 255 else 0)
    return Attribute(flags, code, data, spec.decode(data, ctx) if decode else None)


def unknown_attribute(flags: int, code: int, data: c.Octets) -> Attribute:
    """An attribute of a type not decoded here, carried as octets."""
    return Attribute(flags, code, bytes(data), None)
