"""The RPKI code's form of a prefix: plain integers, (version, network, length).

The runner has one Prefix, the codec's (codec/prefix.py: an NLRI as it was on the wire). The RPKI
code compares and hashes hundreds of thousands of prefixes by value, host bits cleared, so it keeps
them as `IntPrefix` tuples `(4 | 6, network as int, length)` instead: `ipaddress` objects cost
about ten times the memory and their parsing and properties dominate a validation. `int_prefix`
is the one conversion to it, from a Prefix, text, an `ipaddress` network or a tuple.
"""

import ipaddress
import socket
from collections.abc import Callable
from typing import NamedTuple

from peerwarden_runner.codec.constants import AFI_IPV4, AFI_IPV6
from peerwarden_runner.codec.prefix import Prefix

IPV4_BITS = 32
IPV6_BITS = 128
_new_int_prefix = tuple.__new__


class IntPrefix(NamedTuple):
    """An IP prefix as integers: address family version (4 or 6), network address (host bits zero), length."""

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


PrefixLike = IntPrefix | Prefix | str | ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[int, int, int]

_VERSIONS = {AFI_IPV4: (4, IPV4_BITS), AFI_IPV6: (6, IPV6_BITS)}
# a Prefix's packed octets as an int, host bits zero: `int.from_bytes(packed) >> DROP[length] << lift`, where
# DROP drops the bits past the length in the last octet and lift = address bits - length
DROP = tuple(((length + 7) // 8) * 8 - length for length in range(129))


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


def parse_prefix(text: str, *, strict: bool = True) -> IntPrefix:
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
    return IntPrefix(version, network, length)


def nlri_int_prefix(prefix: Prefix) -> IntPrefix | None:
    """The codec's Prefix as an IntPrefix (host bits cleared), or None for a family RPKI does not cover."""
    version = _VERSIONS.get(prefix.afi)
    if version is None:
        return None
    length = prefix.length
    return _new_int_prefix(
        IntPrefix, (version[0], int.from_bytes(prefix.packed, "big") >> DROP[length] << version[1] - length, length)
    )


def int_prefix(value: PrefixLike, *, strict: bool = False) -> IntPrefix:
    """Any accepted prefix form -> IntPrefix (host bits cleared unless `strict`)."""
    if isinstance(value, IntPrefix):
        return value
    if isinstance(value, Prefix):
        converted = nlri_int_prefix(value)
        if converted is None:
            raise ValueError("not an IPv4 or IPv6 prefix: %s (AFI %d)" % (value, value.afi))
        if strict and int.from_bytes(value.packed, "big") & (1 << DROP[value.length]) - 1:
            raise ValueError("prefix %s has host bits set" % (value,))
        return converted
    if isinstance(value, str):
        return parse_prefix(value, strict=strict)
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return IntPrefix(value.version, int(value.network_address), value.prefixlen)
    if isinstance(value, tuple) and len(value) == 3:
        version, network, length = value
        max_bits = max_bits_for(version)
        if not 0 <= length <= max_bits or not 0 <= network < (1 << max_bits):
            raise ValueError("prefix %r is out of range for IPv%d" % (value, version))
        stray_bits = network & host_mask(length, max_bits)
        if stray_bits and strict:
            raise ValueError("prefix %r has host bits set" % (value,))
        return IntPrefix(version, network ^ stray_bits, length)
    raise ValueError("not a prefix: %r" % (value,))


def prefix_covers(outer: IntPrefix, inner: IntPrefix) -> bool:
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
    outer = int_prefix(vrp_prefix, strict=True)
    shift = outer.max_bits - outer.length
    wanted = outer.network >> shift

    def is_covered(route: PrefixLike) -> bool:
        inner = int_prefix(route)
        return inner.version == outer.version and inner.length >= outer.length and (inner.network >> shift) == wanted

    return is_covered
