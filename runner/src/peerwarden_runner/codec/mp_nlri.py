"""MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4): routes of any family inside an UPDATE.

Only the prefix families (IPv4/IPv6 unicast and multicast) are parsed into Prefixes; for other
SAFIs (labelled, VPN, EVPN, flowspec...) the next hop and NLRI octets are kept as they are, which is
enough for a proxy that forwards them and for the JSON archive.
"""

import ipaddress
import struct
from collections.abc import Iterable
from typing import NamedTuple

from peerwarden_runner.codec.constants import AFI_IPV4, AFI_IPV6, PREFIX_FAMILIES, Family
from peerwarden_runner.codec.context import NegotiatedContext
from peerwarden_runner.codec.prefix import NlriError, Prefix, decode_prefixes, encode_prefixes

__all__ = [
    "MpReach",
    "MpUnreach",
    "MpNlriError",
    "decode_mp_reach",
    "decode_mp_unreach",
    "encode_mp_reach",
    "encode_mp_unreach",
    "next_hop_octets",
]

_FAMILY_AND_NEXT_HOP_LENGTH = struct.Struct(">HBB")
_FAMILY = struct.Struct(">HB")
# Next hop lengths a receiver can make sense of: RFC 4760 §3 / RFC 2545 §3 (IPv6: global, or global +
# link-local) and RFC 8950 §3 (IPv4 NLRI with an IPv6 next hop)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NextHops = tuple[Address, ...]
_VALID_NEXT_HOP_LENGTHS = {AFI_IPV4: (4, 16, 32), AFI_IPV6: (16, 32)}


class MpNlriError(ValueError):
    """A malformed MP_(UN)REACH_NLRI (RFC 7606 §5.3, §7.11); `family` is set when AFI/SAFI were readable."""

    def __init__(self, reason: str, family: Family | None = None) -> None:
        super().__init__(reason)
        self.family = family


class MpReach(NamedTuple):
    """Decoded MP_REACH_NLRI.

    `next_hops` are ipaddress objects (one, or IPv6 global + link-local) for the prefix families and
    empty for others, whose next hop octets stay in `next_hop_data`.  `nlri` holds Prefixes for the
    prefix families; `opaque_nlri` the NLRI octets of any other family.  `reserved` is the octet
    that RFC 4760 §3 says to send as 0 and ignore, kept for a bit-exact round trip.
    """

    afi: int
    safi: int
    next_hop_data: bytes
    nlri: tuple[Prefix, ...] = ()
    opaque_nlri: bytes = b""
    reserved: int = 0

    @property
    def family(self) -> Family:
        return (self.afi, self.safi)

    @property
    def next_hops(self) -> NextHops:
        return decode_next_hop(self.afi, self.safi, self.next_hop_data)


class MpUnreach(NamedTuple):
    """Decoded MP_UNREACH_NLRI: withdrawn Prefixes, or the octets of a family not parsed here."""

    afi: int
    safi: int
    withdrawn: tuple[Prefix, ...] = ()
    opaque_nlri: bytes = b""

    @property
    def family(self) -> Family:
        return (self.afi, self.safi)


def decode_next_hop(afi: int, safi: int, data: bytes) -> NextHops:
    """The next hop addresses of a prefix family (() for other families)."""
    if (afi, safi) not in PREFIX_FAMILIES:
        return ()
    if len(data) == 4:
        return (ipaddress.IPv4Address(data),)
    if len(data) == 16:
        return (ipaddress.IPv6Address(data),)
    if len(data) == 32:
        return (ipaddress.IPv6Address(data[:16]), ipaddress.IPv6Address(data[16:]))
    return ()


def next_hop_octets(next_hops: bytes | bytearray | Address | str | Iterable[Address | str]) -> bytes:
    """Wire form of a next hop list: addresses (objects or text) concatenated (RFC 2545 §3 order)."""
    if isinstance(next_hops, (bytes, bytearray)):
        return bytes(next_hops)
    if isinstance(next_hops, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        next_hops = (next_hops,)
    return b"".join(ipaddress.ip_address(hop).packed for hop in next_hops)


def decode_mp_reach(data: bytes, ctx: NegotiatedContext) -> MpReach:
    """Parse the value of MP_REACH_NLRI or raise MpNlriError."""
    if len(data) < 5:
        raise MpNlriError("MP_REACH_NLRI length %d < 5" % len(data))
    afi, safi, next_hop_length = _FAMILY_AND_NEXT_HOP_LENGTH.unpack_from(data)
    family = (afi, safi)
    nlri_start = 4 + next_hop_length + 1
    if nlri_start > len(data):
        raise MpNlriError(
            "MP_REACH_NLRI next hop length %d overruns the attribute (%d octets)" % (next_hop_length, len(data)), family
        )
    next_hop_data = data[4 : 4 + next_hop_length]
    reserved = data[nlri_start - 1]
    if family not in PREFIX_FAMILIES:
        return MpReach(afi, safi, next_hop_data, (), data[nlri_start:], reserved)
    if next_hop_length not in _VALID_NEXT_HOP_LENGTHS[afi]:
        # RFC 7606 §7.11: the NLRI cannot be located reliably after a next hop of unexpected length
        raise MpNlriError("MP_REACH_NLRI next hop length %d unexpected for AFI %d" % (next_hop_length, afi), family)
    try:
        nlri = decode_prefixes(data[nlri_start:], afi, safi, family in ctx.add_path_receive)
    except NlriError as error:
        raise MpNlriError("MP_REACH_NLRI: %s" % error, family) from None
    return MpReach(afi, safi, next_hop_data, tuple(nlri), b"", reserved)


def decode_mp_unreach(data: bytes, ctx: NegotiatedContext) -> MpUnreach:
    """Parse the value of MP_UNREACH_NLRI or raise MpNlriError."""
    if len(data) < 3:
        raise MpNlriError("MP_UNREACH_NLRI length %d < 3" % len(data))
    afi, safi = _FAMILY.unpack_from(data)
    family = (afi, safi)
    if family not in PREFIX_FAMILIES:
        return MpUnreach(afi, safi, (), data[3:])
    try:
        withdrawn = decode_prefixes(data[3:], afi, safi, family in ctx.add_path_receive)
    except NlriError as error:
        raise MpNlriError("MP_UNREACH_NLRI: %s" % error, family) from None
    return MpUnreach(afi, safi, tuple(withdrawn), b"")


def encode_mp_reach(value: MpReach, ctx: NegotiatedContext) -> bytes:
    """Value octets of MP_REACH_NLRI from an MpReach."""
    next_hop = value.next_hop_data
    if value.family in PREFIX_FAMILIES:
        nlri = encode_prefixes(value.nlri, value.family in ctx.add_path_receive)
    else:
        nlri = value.opaque_nlri
    return (
        _FAMILY_AND_NEXT_HOP_LENGTH.pack(value.afi, value.safi, len(next_hop))
        + next_hop
        + bytes((value.reserved,))
        + nlri
    )


def encode_mp_unreach(value: MpUnreach, ctx: NegotiatedContext) -> bytes:
    """Value octets of MP_UNREACH_NLRI from an MpUnreach."""
    if value.family in PREFIX_FAMILIES:
        nlri = encode_prefixes(value.withdrawn, value.family in ctx.add_path_receive)
    else:
        nlri = value.opaque_nlri
    return _FAMILY.pack(value.afi, value.safi) + nlri
