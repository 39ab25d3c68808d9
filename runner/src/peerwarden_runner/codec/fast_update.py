"""The fast path for the UPDATEs of a real table: one look at the octets that finds what the route
stages need (the prefixes, the next hop, the origin AS) and proves that the full decoder would find
nothing wrong, without building an Attribute per attribute.

`scan_update` answers a `ScannedUpdate` only for the common shapes: IPv4 unicast NLRI with NEXT_HOP,
or IPv6 unicast in MP_REACH_NLRI; withdrawals in the Withdrawn Routes field; the usual attributes
(ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF on an internal session, ATOMIC_AGGREGATE, AGGREGATOR,
COMMUNITIES, EXTENDED_COMMUNITIES, LARGE_COMMUNITY, MP_REACH_NLRI), each well-formed as
`update.decode_update` checks it, on a session with 4-octet AS numbers and without ADD-PATH.
Anything else, and anything RFC 7606 would have a finding about, is None: the caller then takes
the full decoder, so the verdicts stay the full decoder's (tests/test_fast_update.py compares both).

The attributes themselves are decoded only when a stage asks for them: `SectionAttributes` is the
read-only mapping (type code -> Attribute) of the section's octets, decoded on first use.
"""

import ipaddress
import struct
from collections.abc import Iterator, Mapping

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import Attribute
from peerwarden_runner.codec.context import NegotiatedContext
from peerwarden_runner.codec.mp_nlri import Address
from peerwarden_runner.codec.prefix import NlriError, Prefix, decode_prefixes
from peerwarden_runner.codec.section_read import read_attribute, value_span

__all__ = ["ScannedUpdate", "SectionAttributes", "scan_update", "section_hop_and_origin"]

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_MARKER = c.MARKER
_WELL_KNOWN = c.FLAG_TRANSITIVE
_OPTIONAL = c.FLAG_OPTIONAL
_OPTIONAL_TRANSITIVE = c.FLAG_OPTIONAL | c.FLAG_TRANSITIVE
_TYPE_MASK = c.FLAG_OPTIONAL | c.FLAG_TRANSITIVE
_EXTENDED = c.FLAG_EXTENDED_LENGTH
# type code -> (the flags it must have, its length: exact (>= 0), or -N: a non-zero multiple of N)
_SIMPLE = {
    c.NEXT_HOP: (_WELL_KNOWN, 4),
    c.MULTI_EXIT_DISC: (_OPTIONAL, 4),
    c.ATOMIC_AGGREGATE: (_WELL_KNOWN, 0),
    c.AGGREGATOR: (_OPTIONAL_TRANSITIVE, 8),
    c.COMMUNITIES: (_OPTIONAL_TRANSITIVE, -4),
    c.EXTENDED_COMMUNITIES: (_OPTIONAL_TRANSITIVE, -8),
    c.LARGE_COMMUNITY: (_OPTIONAL_TRANSITIVE, -12),
}
_INTERNAL_ONLY = {c.LOCAL_PREF: (_WELL_KNOWN, 4)}  # discarded on an external session: the full decoder says so
_MP_EXCLUDED = (c.MP_REACH_NLRI, c.MP_UNREACH_NLRI)
_HOPS_LIMIT = 4096
_hops: dict[bytes, Address] = {}  # next hop octets -> the address (a session has few; routes share them)
_ORIGINS_LIMIT = 1 << 17
_origins: dict[int, int] = {}  # origin AS -> one int object for all the routes it originates


class SectionAttributes(Mapping[int, Attribute]):
    """The effective attributes of an attribute section that `scan_update` found clean, MP_REACH_NLRI
    and MP_UNREACH_NLRI left out (what `Route.attributes` holds), decoded from `raw` on first use."""

    __slots__ = ("raw", "ctx", "_decoded", "_read")

    def __init__(self, raw: bytes, ctx: NegotiatedContext) -> None:
        self.raw = raw
        self.ctx = ctx
        self._decoded: dict[int, Attribute] | None = None
        self._read: dict[int, Attribute | None] | None = None  # attributes read one by one (section_read)

    def _effective(self) -> dict[int, Attribute]:
        decoded = self._decoded
        if decoded is None:
            from peerwarden_runner.codec.update import decode_section  # update imports this module

            decoded = self._decoded = {
                code: attribute
                for code, attribute in decode_section(self.raw, self.ctx).items()
                if code not in _MP_EXCLUDED
            }
        return decoded

    def __getitem__(self, code: int) -> Attribute:
        found = self.get(code)
        if found is None:
            raise KeyError(code)
        return found

    def get(self, code: int, default: Attribute | None = None) -> Attribute | None:  # type: ignore[override]
        """One attribute, read alone from the octets unless the whole section was decoded already."""
        if self._decoded is not None:
            return self._decoded.get(code, default)
        read = self._read
        if read is None:
            read = self._read = {}
        if code in read:
            found = read[code]
        else:
            found = read[code] = read_attribute(self.raw, code, self.ctx)
        return default if found is None else found

    def __iter__(self) -> Iterator[int]:
        return iter(self._effective())

    def __len__(self) -> int:
        return len(self._effective())

    def __repr__(self) -> str:
        return "SectionAttributes(%r)" % (self._effective(),)


class ScannedUpdate:
    """What `scan_update` found: `withdrawn` and `nlri` (Prefixes of one family each), the run's
    `next_hop`, the `origin` AS (RFC 6811: None for a path ending in an AS_SET or empty) and
    `attributes` (the lazy SectionAttributes, None when the UPDATE announces nothing)."""

    __slots__ = ("withdrawn", "nlri", "next_hop", "origin", "attributes")

    def __init__(
        self,
        withdrawn: list[Prefix],
        nlri: list[Prefix],
        next_hop: Address | None,
        origin: int | None,
        attributes: SectionAttributes | None,
    ) -> None:
        self.withdrawn, self.nlri, self.next_hop = withdrawn, nlri, next_hop
        self.origin, self.attributes = origin, attributes


def _next_hop(data: bytes) -> Address:
    address = _hops.get(data)
    if address is None:
        if len(_hops) >= _HOPS_LIMIT:
            _hops.clear()
        address = _hops[data] = ipaddress.IPv4Address(data) if len(data) == 4 else ipaddress.IPv6Address(data[:16])
    return address


def _origin_of(path: bytes) -> int | None | bool:
    """The origin AS of a 4-octet AS_PATH value (None: ends in an AS_SET, or empty or confederation:
    what AsPath.origin_as() answers), or False when decode_as_path would call it malformed."""
    position, end = 0, len(path)
    kind = count = 0
    while position < end:
        if position + 2 > end:
            return False
        kind, count = path[position], path[position + 1]
        if not 1 <= kind <= 4 or not count:
            return False
        position += 2 + 4 * count
    if position != end:
        return False
    if kind != c.AS_SEQUENCE:
        return None
    asn: int = _U32.unpack_from(path, end - 4)[0]
    shared = _origins.get(asn)
    if shared is None:
        if len(_origins) >= _ORIGINS_LIMIT:
            _origins.clear()
        shared = _origins[asn] = asn
    return shared


def scan_update(raw: bytes, ctx: NegotiatedContext) -> ScannedUpdate | None:
    """The ScannedUpdate of a whole UPDATE (header included) of a common shape, or None (see the module)."""
    size = len(raw)
    if size < 23 or raw[18] != c.UPDATE or _U16.unpack_from(raw, 16)[0] != size or raw[:16] != _MARKER:
        return None
    if not ctx.four_octet_as or ctx.add_path_receive:
        return None
    withdrawn_end = 21 + _U16.unpack_from(raw, 19)[0]
    if withdrawn_end + 2 > size:
        return None
    position = withdrawn_end + 2
    end = position + _U16.unpack_from(raw, withdrawn_end)[0]
    if end > size:
        return None
    try:
        withdrawn = decode_prefixes(raw[21:withdrawn_end], c.AFI_IPV4) if withdrawn_end > 21 else []
        nlri = decode_prefixes(raw[end:], c.AFI_IPV4) if end < size else []
    except NlriError:
        return None
    if position == end:  # withdrawals only (or End-of-RIB)
        return None if nlri else ScannedUpdate(withdrawn, [], None, None, None)
    seen = 0
    origin: int | None | bool = False
    next_hop: Address | None = None
    simple = _SIMPLE
    section_start = position
    while position < end:
        if end - position < 3:
            return None
        flags, code = raw[position], raw[position + 1]
        if flags & _EXTENDED:
            if end - position < 4:
                return None
            start = position + 4
            position = start + _U16.unpack_from(raw, position + 2)[0]
        else:
            start = position + 3
            position = start + raw[position + 2]
        if position > end or seen >> code & 1:
            return None
        seen |= 1 << code
        length = position - start
        kind = flags & _TYPE_MASK
        if code == c.AS_PATH:
            if kind != _WELL_KNOWN:
                return None
            origin = _origin_of(raw[start:position])
            if origin is False:
                return None
        elif code == c.ORIGIN:
            if kind != _WELL_KNOWN or length != 1 or raw[start] > 2:
                return None
        elif code == c.MP_REACH_NLRI:
            if kind != _OPTIONAL or nlri or length < 5:
                return None
            afi, safi, hop_length = raw[start + 1], raw[start + 2], raw[start + 3]
            if raw[start] or afi != c.AFI_IPV6 or safi != c.SAFI_UNICAST or hop_length not in (16, 32):
                return None
            nlri_start = start + 5 + hop_length
            if nlri_start >= position:
                return None  # no prefixes: left to the full decoder
            try:
                nlri = decode_prefixes(raw[nlri_start:position], c.AFI_IPV6)
            except NlriError:
                return None
            next_hop = _next_hop(raw[start + 4 : start + 4 + hop_length])
        else:
            rule = simple.get(code)
            if rule is None:
                rule = _INTERNAL_ONLY.get(code) if not ctx.ebgp else None
                if rule is None:
                    return None
            if kind != rule[0]:
                return None
            wanted = rule[1]
            if wanted >= 0:
                if length != wanted:
                    return None
            elif not length or length % -wanted:
                return None
            if code == c.NEXT_HOP:
                next_hop = _next_hop(raw[start:position])
    if origin is False or not seen >> c.ORIGIN & 1 or not nlri:
        return None  # no AS_PATH or ORIGIN, or attributes without routes: the full decoder tells what follows
    if seen >> c.MP_REACH_NLRI & 1:
        if seen >> c.NEXT_HOP & 1:
            return None  # NEXT_HOP beside MP_REACH_NLRI: rare, left to the full decoder
    elif not seen >> c.NEXT_HOP & 1:
        return None
    return ScannedUpdate(withdrawn, nlri, next_hop, origin, SectionAttributes(raw[section_start:end], ctx))


def section_hop_and_origin(section: bytes) -> tuple[Address | None, int | None]:
    """The next hop and origin AS `scan_update` found in an attribute section it found clean (the RIB
    keeps only the section's octets for such a route, and asks again when it needs them)."""
    position, end = 0, len(section)
    next_hop: Address | None = None
    origin: int | None = None
    while position < end:
        code = section[position + 1]
        start, position = value_span(section, position)
        if code == c.AS_PATH:
            found = _origin_of(section[start:position])
            origin = None if found is False else found
        elif code == c.NEXT_HOP:
            next_hop = _next_hop(section[start:position])
        elif code == c.MP_REACH_NLRI:
            next_hop = _next_hop(section[start + 4 : start + 4 + section[start + 3]])
    return next_hop, origin
