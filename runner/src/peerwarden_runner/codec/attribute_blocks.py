"""Attribute sections already decoded, by their octets: many peers send one prefix per UPDATE, and
consecutive UPDATEs often carry the same attributes, so decoding them and checking them (RFC 7606)
is done once per distinct section.

Only sections in which the checks found nothing are kept, so a malformed attribute always goes
through every check again. MP_REACH_NLRI and MP_UNREACH_NLRI carry prefixes, different in every
UPDATE: a section is keyed with their contents left out, and they are decoded each time.
"""

import struct
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from peerwarden_runner.codec import constants as c

_U16 = struct.Struct(">H")
MP_CODES = frozenset((c.MP_REACH_NLRI, c.MP_UNREACH_NLRI))
NOT_YET = object()

if TYPE_CHECKING:
    from peerwarden_runner.codec.attributes import Attribute

Span = tuple[int, int, int]  # (index of an MP attribute in the section, its start, its end)


class DecodedSection:
    """What a clean attribute section decodes to, apart from MP_REACH/MP_UNREACH_NLRI: `attributes` in
    wire order (None where an MP attribute sits, at the indexes `mp`), `effective` (by code, no MP
    attribute), `shared` (the read-only mapping the routes of an UPDATE share) and `origin` (the origin
    AS, once asked). Made from a decoded section without any finding: `effective` is then every
    attribute, by code, in wire order."""

    __slots__ = ("attributes", "mp", "effective", "shared", "origin")

    def __init__(self, attributes: Sequence["Attribute"], effective: dict[int, "Attribute"]) -> None:
        if MP_CODES.isdisjoint(effective):
            self.attributes: Sequence[Attribute] = attributes
            self.mp: tuple[int, ...] = ()
            self.effective = effective
        else:
            template: list[Attribute | None] = list(attributes)
            mp: list[int] = []
            kept = dict(effective)
            for index, attribute in enumerate(attributes):
                if attribute.code in MP_CODES:
                    template[index] = None
                    mp.append(index)
                    del kept[attribute.code]
            # the MP attributes' places are None, filled from each UPDATE (update._with_mp_attributes)
            self.attributes = cast("tuple[Attribute, ...]", tuple(template))
            self.mp, self.effective = tuple(mp), kept
        self.shared: Mapping[int, Attribute] = MappingProxyType(self.effective)
        self.origin: object = NOT_YET


class AttributeBlocks:
    """The sections of one direction of one session (one negotiated context: the same octets decode
    differently with 2- and 4-octet AS numbers), at most LIMIT; when full, it starts again.

    When every UPDATE has attributes of its own, looking sections up costs more than it saves, so:
    a section is kept only when it comes a second time in a row (`remember` the last one decoded,
    `get` keeps it if it is asked for), and after MISSES_TO_REST misses in a row the next REST
    UPDATEs are decoded without looking (`resting`)."""

    LIMIT = 1024
    MISSES_TO_REST, REST = 8, 56

    def __init__(self) -> None:
        self.sections: dict[bytes, DecodedSection] = {}
        self.last: tuple[bytes | None, Sequence[Attribute], dict[int, Attribute]] | None = None
        self.misses = self.rest = 0

    def __len__(self) -> int:
        return len(self.sections)

    def resting(self) -> bool:
        if self.rest:
            self.rest -= 1
            return True
        return False

    def get(self, key: bytes) -> DecodedSection | None:
        """The DecodedSection of a key, or None."""
        section = self.sections.get(key)
        if section is None and self.last is not None and self.last[0] == key:
            dummy, attributes, effective = self.last
            self.last = None
            section = DecodedSection(attributes, effective)
            if len(self.sections) >= self.LIMIT:
                self.sections.clear()
            self.sections[key] = section
        return section

    def missed(
        self, key: bytes | None, attributes: Sequence["Attribute"] | None, effective: dict[int, "Attribute"]
    ) -> None:
        """The section of `key` was decoded; `attributes` None when it had a finding (never kept)."""
        self.last = None if attributes is None else (key, attributes, effective)
        self.misses += 1
        if self.misses >= self.MISSES_TO_REST:
            self.misses, self.rest = 0, self.REST


def section_key(raw: bytes, position: int, end: int) -> tuple[bytes, list[Span]] | tuple[None, None]:
    """(key, [(index, start, end) of each MP attribute]) of an attribute section: its octets with each
    MP attribute's reduced to its flags and code (the key stays unambiguous: other attributes keep
    their length field). (None, None) when the headers do not add up or an MP attribute comes twice:
    such a section is never kept."""
    pieces: list[bytes] = []
    spans: list[Span] = []
    index, piece_start = 0, position
    while position < end:
        if end - position < 3:
            return None, None
        flags, code = raw[position], raw[position + 1]
        if flags & c.FLAG_EXTENDED_LENGTH:
            if end - position < 4:
                return None, None
            start = position + 4 + _U16.unpack_from(raw, position + 2)[0]
        else:
            start = position + 3 + raw[position + 2]
        if start > end:
            return None, None
        if code in MP_CODES:
            if any(raw[span[1] + 1] == code for span in spans):
                return None, None
            pieces.append(raw[piece_start:position])
            pieces.append(bytes((flags, code)))
            spans.append((index, position, start))
            piece_start = start
        index += 1
        position = start
    pieces.append(raw[piece_start:end])
    return b"".join(pieces), spans
