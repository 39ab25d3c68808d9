"""Building UPDATE messages: one from parts, withdrawals split to the size limit, MP attributes.

The encoders write exactly what they are given (attribute order, flags), so a decoded Update goes
back to the same octets; sizes are checked against the receiver's limit (RFC 4271 §4.1: 4096, or
65535 with RFC 8654 Extended Messages) because an oversized UPDATE ends the session.
"""

import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import Attribute, make_attribute
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext
from peerwarden_runner.codec.framing import make_header
from peerwarden_runner.codec.mp_nlri import Address, MpReach, MpUnreach, next_hop_octets
from peerwarden_runner.codec.prefix import Prefix, PrefixLike, as_prefix, encode_prefixes

__all__ = [
    "MessageTooLong",
    "encode_update",
    "encode_withdraw",
    "mp_reach_attribute",
    "mp_unreach_attribute",
    "END_OF_RIB_IPV4",
    "encode_end_of_rib",
]

_U16 = struct.Struct(">H")
# header, Withdrawn Routes Length, Total Path Attribute Length (RFC 4271 §4.3)
_UPDATE_OVERHEAD = c.HEADER_LEN + 2 + 2
# an MP_UNREACH_NLRI with the 2-octet length form, AFI and SAFI (RFC 4760 §4)
_MP_UNREACH_OVERHEAD = 4 + 3


class MessageTooLong(ValueError):
    """The message would exceed what the receiver accepts (ctx.max_message_length)."""


def encode_update(
    withdrawn: Iterable[PrefixLike] = (),
    attributes: Iterable[Attribute] = (),
    nlri: Iterable[PrefixLike] = (),
    ctx: NegotiatedContext | None = None,
    check_size: bool = True,
) -> bytes:
    """One UPDATE message from its three parts.

    `withdrawn` and `nlri` are IPv4 unicast prefixes (Prefix, "a.b.c.d/n" or ipaddress networks);
    other families travel in MP_REACH/MP_UNREACH_NLRI attributes (`mp_reach_attribute`,
    `mp_unreach_attribute`).  `attributes` are Attribute objects, written in the given order.
    Path ids are written when ADD-PATH is on for IPv4 unicast in `ctx`.
    """
    ctx = ctx or DEFAULT_CONTEXT
    add_path = c.IPV4_UNICAST in ctx.add_path_receive
    withdrawn_octets = encode_prefixes(_ipv4_unicast(withdrawn, "withdrawn"), add_path)
    attribute_octets = b"".join([attribute.encode() for attribute in attributes])
    nlri_octets = encode_prefixes(_ipv4_unicast(nlri, "nlri"), add_path)
    length = _UPDATE_OVERHEAD + len(withdrawn_octets) + len(attribute_octets) + len(nlri_octets)
    limit = ctx.max_message_length if check_size else c.MAX_EXTENDED_MESSAGE_LEN
    if length > limit:
        raise MessageTooLong("UPDATE of %d octets exceeds %d" % (length, limit))
    return b"".join(
        (
            make_header(length, c.UPDATE),
            _U16.pack(len(withdrawn_octets)),
            withdrawn_octets,
            _U16.pack(len(attribute_octets)),
            attribute_octets,
            nlri_octets,
        )
    )


def encode_withdraw(prefixes: Iterable[PrefixLike], ctx: NegotiatedContext | None = None) -> list[bytes]:
    """UPDATE messages withdrawing `prefixes`, as many as the size limit needs.

    IPv4 unicast goes in the Withdrawn Routes field, every other family in MP_UNREACH_NLRI
    (RFC 4760 §4), one family per message.  Returns a list of message octets (empty for no prefixes).
    """
    ctx = ctx or DEFAULT_CONTEXT
    by_family: defaultdict[c.Family, list[Prefix]] = defaultdict(list)
    for given in prefixes:
        prefix = as_prefix(given)
        by_family[prefix.family].append(prefix)
    messages: list[bytes] = []
    limit = ctx.max_message_length
    for family in sorted(by_family):
        add_path = family in ctx.add_path_receive
        if family == c.IPV4_UNICAST:
            for chunk in _chunks(by_family[family], add_path, limit - _UPDATE_OVERHEAD):
                messages.append(encode_update(withdrawn=chunk, ctx=ctx))
        else:
            for chunk in _chunks(by_family[family], add_path, limit - _UPDATE_OVERHEAD - _MP_UNREACH_OVERHEAD):
                messages.append(
                    encode_update(attributes=[mp_unreach_attribute(family[0], family[1], chunk, ctx)], ctx=ctx)
                )
    return messages


END_OF_RIB_IPV4 = make_header(_UPDATE_OVERHEAD, c.UPDATE) + b"\x00\x00\x00\x00"


def encode_end_of_rib(afi: int = c.AFI_IPV4, safi: int = c.SAFI_UNICAST, ctx: NegotiatedContext | None = None) -> bytes:
    """The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE, or an empty MP_UNREACH_NLRI."""
    if (afi, safi) == c.IPV4_UNICAST:
        return END_OF_RIB_IPV4
    return encode_update(attributes=[mp_unreach_attribute(afi, safi, (), ctx)], ctx=ctx)


def mp_reach_attribute(
    afi: int,
    safi: int,
    next_hops: bytes | bytearray | Address | str | Iterable[Address | str],
    prefixes: Iterable[PrefixLike] = (),
    ctx: NegotiatedContext | None = None,
    opaque_nlri: c.Octets = b"",
    reserved: int = 0,
) -> Attribute:
    """An MP_REACH_NLRI attribute (RFC 4760 §3).

    `next_hops`: an address, a list of addresses (IPv6 global then link-local, RFC 2545 §3), or the
    raw next hop octets for families not parsed here (then pass `opaque_nlri` too).
    """
    ctx = ctx or DEFAULT_CONTEXT
    value = MpReach(
        afi, safi, next_hop_octets(next_hops), tuple(as_prefix(p, safi) for p in prefixes), bytes(opaque_nlri), reserved
    )
    return make_attribute(c.MP_REACH_NLRI, value, ctx)


def mp_unreach_attribute(
    afi: int,
    safi: int,
    prefixes: Iterable[PrefixLike] = (),
    ctx: NegotiatedContext | None = None,
    opaque_nlri: c.Octets = b"",
) -> Attribute:
    """An MP_UNREACH_NLRI attribute (RFC 4760 §4)."""
    ctx = ctx or DEFAULT_CONTEXT
    value = MpUnreach(afi, safi, tuple(as_prefix(p, safi) for p in prefixes), bytes(opaque_nlri))
    return make_attribute(c.MP_UNREACH_NLRI, value, ctx)


def _ipv4_unicast(prefixes: Iterable[PrefixLike], field_name: str) -> list[Prefix]:
    result: list[Prefix] = []
    for given in prefixes:
        prefix = given if type(given) is Prefix else as_prefix(given)
        if prefix.afi != c.AFI_IPV4 or prefix.safi != c.SAFI_UNICAST:
            raise ValueError(
                "the %s field carries IPv4 unicast only, not %s (use MP_(UN)REACH_NLRI)" % (field_name, prefix)
            )
        result.append(prefix)
    return result


def _chunks(prefixes: Sequence[Prefix], add_path: bool, budget: int) -> Iterator[list[Prefix]]:
    """Runs of prefixes whose encoding fits in `budget` octets."""
    chunk: list[Prefix] = []
    used = 0
    for prefix in prefixes:
        size = len(prefix.packed) + (5 if add_path else 1)
        if chunk and used + size > budget:
            yield chunk
            chunk = []
            used = 0
        chunk.append(prefix)
        used += size
    if chunk:
        yield chunk
