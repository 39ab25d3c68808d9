"""IP prefixes as plain integers: (version, network, length).

The RPKI code compares and hashes hundreds of thousands of prefixes, so it keeps them as
`(4 | 6, network as int, length)` tuples instead of `ipaddress` objects: those cost about ten
times the memory and their parsing and properties dominate a validation. `ipaddress` networks are
still accepted wherever a prefix is, for convenience.
"""

import ipaddress
import socket
from collections.abc import Callable
from typing import NamedTuple

IPV4_BITS = 32
IPV6_BITS = 128


class Prefix(NamedTuple):
    """An IP prefix: address family version (4 or 6), network address as an int, prefix length."""

    version: int
    network: int
    length: int

    @property
    def max_bits(self) -> int:
        return IPV4_BITS if self.version == 4 else IPV6_BITS

    def __str__(self) -> str:
        if self.version == 4:
            address = socket.inet_ntop(socket.AF_INET, self.network.to_bytes(4, "big"))
        else:
            address = socket.inet_ntop(socket.AF_INET6, self.network.to_bytes(16, "big"))
        return "%s/%d" % (address, self.length)


PrefixLike = Prefix | str | ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[int, int, int]


def max_bits_for(version: int) -> int:
    """Address width in bits of IP `version` (4 or 6)."""
    if version == 4:
        return IPV4_BITS
    if version == 6:
        return IPV6_BITS
    raise ValueError("IP version must be 4 or 6, not %r" % (version,))


def host_mask(length: int, max_bits: int) -> int:
    """The bits of an address that lie beyond a /`length` prefix."""
    return (1 << (max_bits - length)) - 1


def parse_prefix(text: str, *, strict: bool = True) -> Prefix:
    """Parse "192.0.2.0/24" or "2001:db8::/32".

    `strict`: host bits set (192.0.2.1/24) are an error, as they are in a VRP; otherwise they are
    cleared, as a route lookup wants. Uses inet_pton, which accepts only the canonical textual
    forms (no "10.1", no leading zeros in IPv4), and is much faster than `ipaddress`.
    """
    if not isinstance(text, str):
        raise ValueError("prefix must be a string like 192.0.2.0/24, not %s" % type(text).__name__)
    address_text, slash, length_text = text.partition("/")
    if not slash:
        raise ValueError("prefix %r has no /length" % (text,))
    if not (length_text.isascii() and length_text.isdigit()):
        raise ValueError("prefix %r: length %r is not a number" % (text, length_text))
    length = int(length_text)
    if ":" in address_text:
        version, family, max_bits = 6, socket.AF_INET6, IPV6_BITS
    else:
        version, family, max_bits = 4, socket.AF_INET, IPV4_BITS
    try:
        network = int.from_bytes(socket.inet_pton(family, address_text), "big")
    except OSError:
        raise ValueError("prefix %r: %r is not an IPv%d address" % (text, address_text, version)) from None
    if length > max_bits:
        raise ValueError("prefix %r: length %d is longer than %d" % (text, length, max_bits))
    stray_bits = network & host_mask(length, max_bits)
    if stray_bits:
        if strict:
            raise ValueError("prefix %r has host bits set beyond /%d" % (text, length))
        network ^= stray_bits
    return Prefix(version, network, length)


def as_prefix(value: PrefixLike, *, strict: bool = False) -> Prefix:
    """Any accepted prefix form -> Prefix (host bits cleared unless `strict`)."""
    if isinstance(value, Prefix):
        return value
    if isinstance(value, str):
        return parse_prefix(value, strict=strict)
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return Prefix(value.version, int(value.network_address), value.prefixlen)
    if isinstance(value, tuple) and len(value) == 3:
        version, network, length = value
        max_bits = max_bits_for(version)
        if not 0 <= length <= max_bits or not 0 <= network < (1 << max_bits):
            raise ValueError("prefix %r is out of range for IPv%d" % (value, version))
        stray_bits = network & host_mask(length, max_bits)
        if stray_bits and strict:
            raise ValueError("prefix %r has host bits set" % (value,))
        return Prefix(version, network ^ stray_bits, length)
    raise ValueError("not a prefix: %r" % (value,))


def prefix_covers(outer: Prefix, inner: Prefix) -> bool:
    """True when `inner` equals `outer` or is more specific than it (RFC 6811 §2, "Covered")."""
    if outer.version != inner.version or outer.length > inner.length:
        return False
    shift = outer.max_bits - outer.length
    return (inner.network >> shift) == (outer.network >> shift)


def covered_by(vrp_prefix: PrefixLike) -> Callable[[PrefixLike], bool]:
    """A predicate telling whether a route prefix is covered by `vrp_prefix`.

    Built once, used on many routes: when a VRP changes, only the routes it covers can change
    validation state, so a consumer filters its routes with this instead of re-validating all.
    """
    outer = as_prefix(vrp_prefix, strict=True)
    shift = outer.max_bits - outer.length
    wanted = outer.network >> shift

    def is_covered(route: PrefixLike) -> bool:
        inner = as_prefix(route)
        return inner.version == outer.version and inner.length >= outer.length and (inner.network >> shift) == wanted

    return is_covered
