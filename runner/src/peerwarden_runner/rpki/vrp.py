"""A Validated ROA Payload: (prefix, maxLength, origin ASN), RFC 6811 §2.

A flat, hashable tuple of ints, so that sets of 800,000 of them stay affordable and the
validation loop can read fields by position.
"""

from typing import NamedTuple

from peerwarden_runner.rpki.prefix import IntPrefix, PrefixLike, int_prefix

MAX_ASN = 0xFFFFFFFF


class Vrp(NamedTuple):
    """One VRP. `network` is the prefix's network address as an int (host bits zero)."""

    version: int
    network: int
    length: int
    max_length: int
    asn: int

    @property
    def prefix(self) -> IntPrefix:
        return IntPrefix(self.version, self.network, self.length)

    def __str__(self) -> str:
        return "%s-%d AS%d" % (self.prefix, self.max_length, self.asn)


def make_vrp(prefix: PrefixLike, max_length: int | None, asn: int) -> Vrp:
    """Build a checked VRP; `max_length` None means the prefix length (RFC 6482 §3.3).

    Raises ValueError saying what is wrong: maxLength must lie between the prefix length and
    the address width, and the ASN must fit in 32 bits (RFC 6793).
    """
    route = int_prefix(prefix, strict=True)
    if max_length is None:
        max_length = route.length
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise ValueError("maxLength must be an integer, not %r" % (max_length,))
    if not route.length <= max_length <= route.max_bits:
        raise ValueError("maxLength %d is outside %d..%d for %s" % (max_length, route.length, route.max_bits, route))
    if isinstance(asn, bool) or not isinstance(asn, int) or not 0 <= asn <= MAX_ASN:
        raise ValueError("ASN must be an integer 0..%d, not %r" % (MAX_ASN, asn))
    return Vrp(route.version, route.network, route.length, max_length, asn)
