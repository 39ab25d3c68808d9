"""NLRI prefixes (RFC 4271 §4.3, RFC 4760 §5.1) with the optional ADD-PATH Path Identifier (RFC 7911 §3).

A full table is a million of these, so a `Prefix` is a plain tuple holding the octets exactly as
they were on the wire; the `ipaddress` network is only built when someone asks for it.  Keeping
the wire octets (rather than a masked network) also keeps re-encoding bit-exact when a sender set
bits past the prefix length, which RFC 4271 §4.3 tells receivers to ignore, not to reject.
"""

import ipaddress
import socket
import struct
from collections.abc import Iterable
from typing import NamedTuple

from peerwarden_runner.codec.constants import ADDRESS_BITS, AFI_IPV4, AFI_IPV6, SAFI_UNICAST, Family, Octets

__all__ = ["Prefix", "NlriError", "decode_prefixes", "encode_prefixes", "as_prefix", "prefix_texts"]

_PATH_ID = struct.Struct(">I")
_PATH_ID_AND_LENGTH = struct.Struct(">IB")
# octets needed for each prefix length, precomputed once (RFC 4271 §4.3: "the minimum number of octets")
_OCTETS = tuple((length + 7) >> 3 for length in range(256))
_LENGTH_OCTET = tuple(bytes((length,)) for length in range(256))
_IPV4_ZEROS = tuple(b"\x00" * (4 - n) for n in range(5))
_IPV6_ZEROS = tuple(b"\x00" * (16 - n) for n in range(17))
_NETWORK_CLASS: dict[int, type[ipaddress.IPv4Network] | type[ipaddress.IPv6Network]] = {
    AFI_IPV4: ipaddress.IPv4Network,
    AFI_IPV6: ipaddress.IPv6Network,
}
_ADDRESS_CLASS: dict[int, type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]] = {
    AFI_IPV4: ipaddress.IPv4Address,
    AFI_IPV6: ipaddress.IPv6Address,
}
_SOCKET_FAMILY = {AFI_IPV4: socket.AF_INET, AFI_IPV6: socket.AF_INET6}
_SLASH_LENGTH = tuple("/%d" % length for length in range(256))
_new_prefix = tuple.__new__
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NlriError(ValueError):
    """NLRI octets that cannot be parsed (RFC 7606 §5.3: "syntactically incorrect")."""


class Prefix(NamedTuple):
    """One NLRI: family, prefix length, the significant address octets as sent, and the path id.

    `packed` holds exactly ceil(length / 8) octets.  `path_id` is None unless ADD-PATH is in use
    for the family in this direction.  str() gives "192.0.2.0/24" (the address is shown unmasked
    so that a sender's stray host bits survive a round trip through text).
    """

    afi: int
    safi: int
    length: int
    packed: bytes
    path_id: int | None = None

    @classmethod
    def parse(cls, text: object, safi: int = SAFI_UNICAST, path_id: int | None = None) -> "Prefix":
        """A Prefix from "address/length" (IPv4 or IPv6); host bits are kept, not rejected."""
        address_text, separator, length_text = str(text).partition("/")
        afi = AFI_IPV6 if ":" in address_text else AFI_IPV4
        try:
            # inet_pton is the C parser; the archive replays millions of these
            packed = socket.inet_pton(_SOCKET_FAMILY[afi], address_text)
        except OSError:
            raise ValueError("%r is not an IPv4 or IPv6 address" % address_text) from None
        length = int(length_text) if separator else ADDRESS_BITS[afi]
        if not 0 <= length <= ADDRESS_BITS[afi]:
            raise ValueError("prefix length %d out of range in %r" % (length, text))
        return _new_prefix(cls, (afi, safi, length, packed[: _OCTETS[length]], path_id))

    @classmethod
    def from_network(cls, network: Network | str, safi: int = SAFI_UNICAST, path_id: int | None = None) -> "Prefix":
        """A Prefix from an ipaddress network (or anything ip_network() accepts)."""
        network = ipaddress.ip_network(network, strict=False)
        afi = AFI_IPV4 if network.version == 4 else AFI_IPV6
        length = network.prefixlen
        return cls(afi, safi, length, network.network_address.packed[: _OCTETS[length]], path_id)

    @property
    def family(self) -> Family:
        return (self.afi, self.safi)

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The address as sent (host bits included), an ipaddress address object."""
        zeros = _IPV4_ZEROS if self.afi == AFI_IPV4 else _IPV6_ZEROS
        return _ADDRESS_CLASS[self.afi](self.packed + zeros[len(self.packed)])

    @property
    def network(self) -> Network:
        """The ipaddress network (host bits masked), for lookups and comparisons."""
        zeros = _IPV4_ZEROS if self.afi == AFI_IPV4 else _IPV6_ZEROS
        whole = int.from_bytes(self.packed + zeros[len(self.packed)], "big")
        return _NETWORK_CLASS[self.afi]((whole, self.length), strict=False)

    def with_path_id(self, path_id: int | None) -> "Prefix":
        return self._replace(path_id=path_id)

    def encode(self, add_path: bool = False) -> bytes:
        """Wire form: [path id (4)] length (1) octets (RFC 7911 §3, RFC 4271 §4.3)."""
        if add_path:
            return _PATH_ID_AND_LENGTH.pack(self.path_id or 0, self.length) + self.packed
        return bytes((self.length,)) + self.packed

    def __str__(self) -> str:
        return prefix_texts((self,))[0]


PrefixLike = Prefix | Network | str  # what the encoders accept for a prefix (as_prefix)


def decode_prefixes(data: Octets, afi: int, safi: int = SAFI_UNICAST, add_path: bool = False) -> list[Prefix]:
    """Parse a run of NLRI (the withdrawn or NLRI field, or the tail of MP_(UN)REACH) into Prefixes.

    Raises NlriError for a prefix length beyond the family's address size or a prefix running
    past the end (RFC 7606 §5.3), the two cases a receiver cannot recover from.
    """
    if afi not in ADDRESS_BITS:
        raise NlriError("AFI %d has no prefix format" % afi)
    max_length = ADDRESS_BITS[afi]
    octets = _OCTETS
    end = len(data)
    position = 0
    prefixes: list[Prefix] = []
    append = prefixes.append
    if not add_path:
        while position < end:
            length = data[position]
            if length > max_length:
                raise NlriError("prefix length %d > %d at offset %d" % (length, max_length, position))
            start = position + 1
            position = start + octets[length]
            if position > end:
                raise NlriError("prefix /%d at offset %d runs past the end (%d octets)" % (length, start - 1, end))
            append(_new_prefix(Prefix, (afi, safi, length, data[start:position], None)))
        return prefixes
    unpack_path_id = _PATH_ID.unpack_from
    while position < end:
        if position + 5 > end:
            raise NlriError("ADD-PATH NLRI at offset %d truncated (%d octets left)" % (position, end - position))
        path_id = unpack_path_id(data, position)[0]
        length = data[position + 4]
        if length > max_length:
            raise NlriError("prefix length %d > %d at offset %d" % (length, max_length, position + 4))
        start = position + 5
        position = start + octets[length]
        if position > end:
            raise NlriError("prefix /%d at offset %d runs past the end (%d octets)" % (length, start - 1, end))
        append(_new_prefix(Prefix, (afi, safi, length, data[start:position], path_id)))
    return prefixes


def encode_prefixes(prefixes: Iterable[Prefix], add_path: bool = False) -> bytes:
    """The wire form of a run of prefixes (path ids written when `add_path`, 0 for a missing one)."""
    if add_path:
        pack = _PATH_ID_AND_LENGTH.pack
        return b"".join([pack(p.path_id or 0, p.length) + p.packed for p in prefixes])
    length_octet = _LENGTH_OCTET
    return b"".join([length_octet[p.length] + p.packed for p in prefixes])


def prefix_texts(prefixes: Iterable[Prefix]) -> list[str]:
    """The text forms ("192.0.2.0/24") of prefixes, without path ids; the C formatter of the
    socket module makes a million of them affordable (the archive writes every prefix it sees)."""
    ntop = socket.inet_ntop
    inet, inet6 = socket.AF_INET, socket.AF_INET6
    ipv4_zeros, ipv6_zeros, slash = _IPV4_ZEROS, _IPV6_ZEROS, _SLASH_LENGTH
    texts: list[str] = []
    append = texts.append
    for prefix in prefixes:
        afi, dummy, length, packed, dummy_path_id = prefix
        if afi == AFI_IPV4:
            append(ntop(inet, packed + ipv4_zeros[len(packed)]) + slash[length])
            continue
        text = ntop(inet6, packed + ipv6_zeros[len(packed)])
        if "." in text:  # ::ffff:192.0.2.1 and the like: keep the ipaddress form, all hex (RFC 5952 allows both)
            text = str(ipaddress.IPv6Address(packed + ipv6_zeros[len(packed)]))
        append(text + slash[length])
    return texts


def as_prefix(value: "PrefixLike", safi: int = SAFI_UNICAST) -> Prefix:
    """Accept a Prefix, "addr/len" text or an ipaddress network; used by the encoders' arguments."""
    if isinstance(value, Prefix):
        return value
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return Prefix.from_network(value, safi)
    return Prefix.parse(value, safi)
