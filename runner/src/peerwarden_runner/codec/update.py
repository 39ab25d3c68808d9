"""UPDATE messages (RFC 4271 §4.3, RFC 4760, RFC 7911): decoding, the routes they carry, re-encoding.

`decode_update` never raises.  It parses as far as the octets allow, and reports what is wrong
through `Update.error_action` and `Update.errors`, following RFC 7606 as tabulated in
`error_handling`.  A proxy that forwards an unchanged UPDATE sends the original octets (`raw`);
`Update.encode()` rebuilds the same octets from the parsed fields for a well-formed message.
"""

import struct
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import error_handling as rules
from peerwarden_runner.codec.aspath import AsPath, merge_as4_path
from peerwarden_runner.codec.attribute_blocks import (
    MP_CODES,
    NOT_YET,
    AttributeBlocks,
    DecodedSection,
    Span,
    section_key,
)
from peerwarden_runner.codec.attributes import ATTRIBUTE_SPECS, Attribute, AttributeMalformed
from peerwarden_runner.codec.context import DEFAULT_CONTEXT, NegotiatedContext
from peerwarden_runner.codec.errors import ErrorAction, UpdateError
from peerwarden_runner.codec.framing import message_octets
from peerwarden_runner.codec.mp_nlri import Address, MpNlriError, MpUnreach
from peerwarden_runner.codec.prefix import NlriError, Prefix, decode_prefixes
from peerwarden_runner.codec.update_encode import encode_update

__all__ = ["Update", "Route", "decode_update"]

_U16 = struct.Struct(">H")
_EMPTY_MAPPING: Mapping[int, Attribute] = MappingProxyType({})
_ROUTE_ATTRIBUTES_EXCLUDED = (c.MP_REACH_NLRI, c.MP_UNREACH_NLRI)
_TYPE_MASK = c.FLAG_OPTIONAL | c.FLAG_TRANSITIVE


class Route(NamedTuple):
    """One announced route: the prefix (with its path id), its next hop, and the UPDATE's attributes.

    `attributes` maps type code -> Attribute (MP_REACH/MP_UNREACH left out: their content is the
    prefix and next hop); it is shared by all routes of an UPDATE, read-only.
    """

    prefix: Prefix
    next_hop: Address | None
    attributes: Mapping[int, Attribute]


# routes that share a next hop and attributes: (next hop, attributes, prefixes); see Update.route_runs
RouteRun = tuple[Address | None, Mapping[int, Attribute], Sequence[Prefix]]


class Update:
    """A decoded UPDATE.

    * `withdrawn`, `nlri`: Prefixes of the Withdrawn Routes and NLRI fields (IPv4 unicast).
    * `attributes`: every attribute as received, in wire order, duplicates and malformed ones
      included, so the message can be encoded again exactly.
    * `effective`: type code -> Attribute for the attributes that count: the first of each type,
      minus those RFC 7606 says to discard or that are malformed.
    * `error_action`, `errors`, `error`, `reason`: the RFC 7606 verdict (see `error_handling`).
    * `section`: the DecodedSection the attributes came from or went to (attribute_blocks), or None.
    """

    __slots__ = ("raw", "ctx", "withdrawn", "attributes", "nlri", "errors", "error_action", "effective", "section")

    def __init__(
        self,
        withdrawn: Iterable[Prefix] = (),
        attributes: Iterable[Attribute] = (),
        nlri: Iterable[Prefix] = (),
        ctx: NegotiatedContext = DEFAULT_CONTEXT,
        raw: bytes = b"",
        errors: Iterable[UpdateError] = (),
        effective: dict[int, Attribute] | None = None,
        section: DecodedSection | None = None,
    ) -> None:
        self.raw = raw
        self.ctx = ctx
        self.withdrawn = tuple(withdrawn)
        self.attributes = tuple(attributes)
        self.nlri = tuple(nlri)
        self.errors = tuple(errors)
        decisive = rules.strongest(self.errors)
        self.error_action = decisive.action if decisive else ErrorAction.NONE
        if effective is None:
            effective = {}
            for attribute in self.attributes:
                effective.setdefault(attribute.code, attribute)
        self.effective = effective
        self.section = section

    # ---- the verdict ----

    @property
    def error(self) -> UpdateError | None:
        """The decisive UpdateError (strongest action, first of equals), or None."""
        return rules.strongest(self.errors)

    @property
    def reason(self) -> str:
        """The decisive finding's reason ("" when the UPDATE is fine)."""
        decisive = self.error
        if decisive is None:
            return ""
        if decisive.action == ErrorAction.TREAT_AS_WITHDRAW and not self.announced():
            # RFC 7606 §5.2: an UPDATE that announces nothing has nothing to withdraw
            return decisive.reason + " (no NLRI: nothing to withdraw)"
        return decisive.reason

    # ---- attribute access ----

    def attribute(self, code: int) -> Attribute | None:
        """The effective Attribute of a type, or None."""
        return self.effective.get(code)

    def get(self, code: int, default: Any = None) -> Any:
        """The decoded value of the effective attribute of a type, or `default`."""
        attribute = self.effective.get(code)
        return default if attribute is None or attribute.value is None else attribute.value

    origin = property(lambda self: self.get(c.ORIGIN))
    as_path = property(lambda self: self.get(c.AS_PATH))
    next_hop = property(lambda self: self.get(c.NEXT_HOP))
    med = property(lambda self: self.get(c.MULTI_EXIT_DISC))
    local_pref = property(lambda self: self.get(c.LOCAL_PREF))
    atomic_aggregate = property(lambda self: self.get(c.ATOMIC_AGGREGATE, False))
    aggregator = property(lambda self: self.get(c.AGGREGATOR))
    communities = property(lambda self: self.get(c.COMMUNITIES, ()))
    originator_id = property(lambda self: self.get(c.ORIGINATOR_ID))
    cluster_list = property(lambda self: self.get(c.CLUSTER_LIST, ()))
    mp_reach = property(lambda self: self.get(c.MP_REACH_NLRI))
    mp_unreach = property(lambda self: self.get(c.MP_UNREACH_NLRI))
    ext_communities = property(lambda self: self.get(c.EXTENDED_COMMUNITIES, ()))
    as4_path = property(lambda self: self.get(c.AS4_PATH))
    as4_aggregator = property(lambda self: self.get(c.AS4_AGGREGATOR))
    large_communities = property(lambda self: self.get(c.LARGE_COMMUNITY, ()))
    otc = property(lambda self: self.get(c.ONLY_TO_CUSTOMER))

    def full_as_path(self) -> AsPath | None:
        """The AS path to reason about: AS_PATH, merged with AS4_PATH when the sender is a 2-octet
        speaker (RFC 6793 §4.2.3), unless AGGREGATOR shows a 2-octet aggregator after the 4-octet
        one, in which case AS4_PATH is stale and ignored."""
        as_path: AsPath | None = self.as_path
        if as_path is None:
            return None
        as4_path = self.as4_path
        if self.ctx.four_octet_as or as4_path is None:
            return as_path
        aggregator = self.aggregator
        if aggregator is not None and aggregator.asn != c.AS_TRANS and self.as4_aggregator is not None:
            return as_path
        return merge_as4_path(as_path, as4_path)

    def origin_as(self, local_as: int | None = None) -> int | None:
        """The origin AS for route origin validation (RFC 6811 §2): last AS of a final AS_SEQUENCE,
        None for a final AS_SET or a missing path, `local_as` for an empty path."""
        section = self.section
        if section is not None and local_as is None:  # the same attributes, the same origin
            if section.origin is NOT_YET:
                path = self.full_as_path()
                section.origin = None if path is None else path.origin_as()
            return section.origin  # type: ignore[return-value]  # NOT_YET replaced just above
        path = self.full_as_path()
        if path is None:
            return None
        return path.origin_as(local_as)

    # ---- routes ----

    def announced(self) -> list[Prefix]:
        """Every prefix the message announces (NLRI field and MP_REACH_NLRI), whatever the verdict."""
        mp_reach = self.mp_reach
        if mp_reach is None:
            return list(self.nlri)
        return list(self.nlri) + list(mp_reach.nlri)

    def route_runs(self) -> list[RouteRun]:
        """The routes to install as runs that share a next hop: [(next_hop, attributes, prefixes)], one run for
        the NLRI field and one for MP_REACH_NLRI; [] unless the verdict is NONE or ATTRIBUTE_DISCARD.  The
        prefixes of a run are of one family, all with or all without a path id."""
        if self.error_action > ErrorAction.ATTRIBUTE_DISCARD:
            return []
        if self.section is not None:
            shared = self.section.shared
        else:
            shared = MappingProxyType(
                {
                    code: attribute
                    for code, attribute in self.effective.items()
                    if code not in _ROUTE_ATTRIBUTES_EXCLUDED
                }
            )
        runs: list[RouteRun] = []
        if self.nlri:
            runs.append((self.next_hop, shared, self.nlri))
        mp_reach = self.mp_reach
        if mp_reach is not None and mp_reach.nlri:
            hops = mp_reach.next_hops
            runs.append((hops[0] if hops else None, shared, mp_reach.nlri))
        return runs

    def routes(self) -> list[Route]:
        """The routes to install: [] unless the verdict is NONE or ATTRIBUTE_DISCARD."""
        new = tuple.__new__  # a million routes: skip NamedTuple's Python-level __new__
        return [
            new(Route, (prefix, next_hop, shared))
            for next_hop, shared, prefixes in self.route_runs()
            for prefix in prefixes
        ]

    def withdrawals(self) -> list[Prefix]:
        """Prefixes to remove: the withdrawn field and MP_UNREACH_NLRI, plus every announced prefix
        under treat-as-withdraw (RFC 7606 §2).  [] on a session reset, which drops them all anyway."""
        if self.error_action >= ErrorAction.AFI_SAFI_DISABLE:
            return []
        prefixes = list(self.withdrawn)
        mp_unreach = self.mp_unreach
        if mp_unreach is not None:
            prefixes.extend(mp_unreach.withdrawn)
        if self.error_action == ErrorAction.TREAT_AS_WITHDRAW:
            prefixes.extend(self.announced())
        return prefixes

    def end_of_rib(self) -> c.Family | None:
        """The family this UPDATE marks End-of-RIB for (RFC 4724 §2), or None."""
        if self.withdrawn or self.nlri or self.errors:
            return None
        if not self.attributes:
            return c.IPV4_UNICAST
        if len(self.attributes) == 1:
            mp_unreach: MpUnreach | None = self.mp_unreach
            if mp_unreach is not None and not mp_unreach.withdrawn and not mp_unreach.opaque_nlri:
                return mp_unreach.family
        return None

    def encode(self, ctx: NegotiatedContext | None = None) -> bytes:
        """The message octets rebuilt from the fields (equal to `raw` for a well-formed message)."""
        return encode_update(self.withdrawn, self.attributes, self.nlri, ctx or self.ctx, check_size=False)

    def __repr__(self) -> str:
        return "Update(withdrawn=%d, attributes=[%s], nlri=%d, action=%s)" % (
            len(self.withdrawn),
            ", ".join(a.name for a in self.attributes),
            len(self.nlri),
            self.error_action.label,
        )


def decode_update(
    data: c.Octets | c.Framed,
    ctx: NegotiatedContext | None = None,
    *,
    afi_safi_disable: bool = False,
    blocks: AttributeBlocks | None = None,
) -> Update:
    """Decode a whole UPDATE message (header included) for a direction's context; never raises.

    `afi_safi_disable`: answer a malformed MP_REACH/MP_UNREACH_NLRI with AFI_SAFI_DISABLE instead of
    SESSION_RESET (RFC 7606 §5.3 allows either).
    `blocks`: an AttributeBlocks kept for this `ctx` and `afi_safi_disable`: an attribute section seen
    before without any finding is taken from it instead of being decoded and checked again.
    """
    ctx = ctx or DEFAULT_CONTEXT
    raw = message_octets(data)
    size = len(raw)
    if size < c.MIN_MESSAGE_LEN[c.UPDATE] or raw[:16] != c.MARKER or raw[18] != c.UPDATE:
        return Update(ctx=ctx, raw=raw, errors=[rules.header_error("not an UPDATE of at least 23 octets", raw[16:18])])
    declared = _U16.unpack_from(raw, 16)[0]
    if declared != size:
        return Update(
            ctx=ctx,
            raw=raw,
            errors=[rules.header_error("length field %d but %d octets given" % (declared, size), raw[16:18])],
        )
    errors: list[UpdateError] = []
    withdrawn_start = c.HEADER_LEN + 2
    withdrawn_end = withdrawn_start + _U16.unpack_from(raw, c.HEADER_LEN)[0]
    if withdrawn_end + 2 > size:
        errors.append(
            rules.length_field_error(
                "Withdrawn Routes Length %d overruns the message" % (withdrawn_end - withdrawn_start)
            )
        )
        return Update(ctx=ctx, raw=raw, errors=errors)
    attributes_start = withdrawn_end + 2
    attributes_end = attributes_start + _U16.unpack_from(raw, withdrawn_end)[0]
    if attributes_end > size:
        errors.append(
            rules.length_field_error(
                "Total Path Attribute Length %d overruns the message" % (attributes_end - attributes_start)
            )
        )
        attributes_end = attributes_start  # nothing after can be located
        nlri_data = b""
    else:
        nlri_data = raw[attributes_end:]
    add_path = c.IPV4_UNICAST in ctx.add_path_receive
    withdrawn = _prefixes(raw[withdrawn_start:withdrawn_end], add_path, "Withdrawn Routes", errors)
    nlri = _prefixes(nlri_data, add_path, "NLRI", errors)
    if blocks is None or blocks.resting():
        attributes, effective = _checked_attributes(
            raw, attributes_start, attributes_end, ctx, afi_safi_disable, errors
        )
        section = None
    else:
        attributes, effective, section = _cached_attributes(
            raw, attributes_start, attributes_end, ctx, afi_safi_disable, errors, blocks, bool(nlri)
        )
    if nlri or c.MP_REACH_NLRI in effective:
        # RFC 7606 §3: well-known mandatory attributes; NEXT_HOP only for the NLRI field (RFC 4760 §3)
        mandatory = (c.ORIGIN, c.AS_PATH, c.NEXT_HOP) if nlri else (c.ORIGIN, c.AS_PATH)
        seen = {attribute.code for attribute in attributes}
        errors.extend(rules.missing_mandatory(code) for code in mandatory if code not in seen)
    return Update(withdrawn, attributes, nlri, ctx, raw, errors, effective, section)


def _prefixes(data: bytes, add_path: bool, field_name: str, errors: list[UpdateError]) -> Sequence[Prefix]:
    if not data:
        return ()
    try:
        return decode_prefixes(data, c.AFI_IPV4, c.SAFI_UNICAST, add_path)
    except NlriError as error:
        errors.append(rules.nlri_field_error(field_name, str(error)))
        return ()


def _checked_attributes(
    raw: bytes, start: int, end: int, ctx: NegotiatedContext, afi_safi_disable: bool, errors: list[UpdateError]
) -> tuple[Sequence[Attribute], dict[int, Attribute]]:
    """The attribute section decoded and checked: (all attributes in order, effective ones by code)."""
    attributes, effective = _attributes(raw, start, end, ctx, afi_safi_disable, errors)
    _session_rules(effective, ctx, errors)
    return attributes, effective


def _cached_attributes(
    raw: bytes,
    start: int,
    end: int,
    ctx: NegotiatedContext,
    afi_safi_disable: bool,
    errors: list[UpdateError],
    blocks: AttributeBlocks,
    has_nlri: bool,
) -> tuple[Sequence[Attribute], dict[int, Attribute], DecodedSection | None]:
    """_checked_attributes through `blocks`: (attributes, effective, DecodedSection or None)."""
    key: bytes | None = raw[start:end]
    spans: list[Span] | None = []
    if not has_nlri:  # routes in MP_REACH_NLRI: the section differs in the MP attributes only
        key, spans = section_key(raw, start, end)
    if key is not None:
        section = blocks.get(key)
        if section is not None:
            if not spans and not section.mp:
                blocks.misses = 0
                return section.attributes, section.effective, section
            if spans and section.mp == tuple(span[0] for span in spans):
                found = _with_mp_attributes(raw, section, spans, ctx, afi_safi_disable)
                if found is not None:
                    blocks.misses = 0
                    return found[0], found[1], section
    before = len(errors)
    attributes, effective = _checked_attributes(raw, start, end, ctx, afi_safi_disable, errors)
    clean = len(errors) == before and key is not None and (spans or MP_CODES.isdisjoint(effective))
    blocks.missed(key, attributes if clean else None, effective)
    return attributes, effective, None


def _with_mp_attributes(
    raw: bytes, section: DecodedSection, spans: list[Span], ctx: NegotiatedContext, afi_safi_disable: bool
) -> tuple[tuple[Attribute, ...], dict[int, Attribute]] | None:
    """A known section's attributes with its MP attributes decoded from this UPDATE: (attributes,
    effective), or None when one of them has a finding (the whole section is then checked again)."""
    attributes = list(section.attributes)
    errors: list[UpdateError] = []
    for index, start, end in spans:
        decoded, dummy = _attributes(raw, start, end, ctx, afi_safi_disable, errors)
        if errors:
            return None
        attributes[index] = decoded[0]
    return tuple(attributes), {attribute.code: attribute for attribute in attributes}


def _attributes(
    raw: bytes, position: int, end: int, ctx: NegotiatedContext, afi_safi_disable: bool, errors: list[UpdateError]
) -> tuple[tuple[Attribute, ...], dict[int, Attribute]]:
    """Parse the path attribute section: (all attributes in order, effective ones by code)."""
    attributes: list[Attribute] = []
    effective: dict[int, Attribute] = {}
    seen: set[int] = set()
    specs = ATTRIBUTE_SPECS
    while position < end:
        remaining = end - position
        flags = raw[position]
        extended = flags & c.FLAG_EXTENDED_LENGTH
        if remaining < (4 if extended else 3):
            errors.append(rules.attribute_header_underrun(remaining, flags))
            break
        code = raw[position + 1]
        if extended:
            length = _U16.unpack_from(raw, position + 2)[0]
            start = position + 4
        else:
            length = raw[position + 2]
            start = position + 3
        position = start + length
        if position > end:
            errors.append(rules.attribute_overrun(flags, code, length, end - start, afi_safi_disable))
            break
        data = raw[start:position]
        attribute = Attribute(flags, code, data)
        attributes.append(attribute)
        if code in seen:
            errors.append(rules.duplicate(flags, code, data))
            continue
        seen.add(code)
        spec = specs.get(code)
        if spec is None:
            if not flags & c.FLAG_OPTIONAL:
                errors.append(rules.unrecognized_well_known(flags, code, data))
            else:
                effective[code] = attribute
            continue
        if flags & _TYPE_MASK != spec.flags:
            errors.append(rules.flags_conflict(flags, code, data, spec.flags, afi_safi_disable))
            continue
        if not length and code not in rules.MAY_BE_EMPTY and code not in _ROUTE_ATTRIBUTES_EXCLUDED:
            errors.append(
                rules.malformed(
                    flags,
                    code,
                    data,
                    "%s has length zero" % c.ATTRIBUTE_RFC_NAMES[code],
                    c.UPDATE_ATTRIBUTE_LENGTH_ERROR,
                )
            )
            continue
        try:
            attribute.value = spec.decode(data, ctx)
        except AttributeMalformed as error:
            errors.append(rules.malformed(flags, code, data, str(error), error.subcode))
            continue
        except MpNlriError as error:
            errors.append(rules.mp_error(flags, code, data, str(error), error.family, afi_safi_disable))
            continue
        effective[code] = attribute
    return tuple(attributes), effective


def decode_section(section: bytes, ctx: NegotiatedContext) -> dict[int, Attribute]:
    """The effective attributes (type code -> Attribute) of an attribute section on its own, as
    decode_update finds them (for fast_update.SectionAttributes: a section it found clean)."""
    errors: list[UpdateError] = []
    dummy, effective = _checked_attributes(section, 0, len(section), ctx, False, errors)
    return effective


def _session_rules(effective: dict[int, Attribute], ctx: NegotiatedContext, errors: list[UpdateError]) -> None:
    """Discards that depend on the session rather than on the octets (RFC 6793 §6, RFC 7606 §7.5/7.9/7.10)."""
    if ctx.four_octet_as:
        for code in (c.AS4_PATH, c.AS4_AGGREGATOR):
            if code in effective:
                del effective[code]
                errors.append(rules.as4_between_new_speakers(code))
    if ctx.ebgp:
        for code in (c.LOCAL_PREF, c.ORIGINATOR_ID, c.CLUSTER_LIST):
            if code in effective:
                del effective[code]
                errors.append(rules.external_peer_discard(code))
