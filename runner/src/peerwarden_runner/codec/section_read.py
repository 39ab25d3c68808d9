"""One attribute read straight from the octets of an attribute section that `fast_update.scan_update`
found clean, without decoding the others: what a filter, alert or ASPA stage asks of a one-prefix
UPDATE is usually one attribute (the AS path, the communities), and decoding the whole section for
it cost more than the stage itself.

scan_update has proven the section's headers add up, every type comes once with the flags and length
the full decoder wants, and no type is one the session rules would discard, so the value decoded here
is the one `update.decode_section` would find (tests/test_fast_update.py compares both on the fuzz
corpus). Hand-written: the octets' layout is the codec's own (RFC 4271 §4.3), no library reads it.
"""

import struct

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.aspath import AsPath, AsPathSegment
from peerwarden_runner.codec.attributes import ATTRIBUTE_SPECS, Attribute
from peerwarden_runner.codec.context import NegotiatedContext

__all__ = ["as_path_of", "communities_of", "find_attribute", "read_attribute", "value_span"]

_U16 = struct.Struct(">H")
_EXTENDED = c.FLAG_EXTENDED_LENGTH
_LEFT_OUT = (c.MP_REACH_NLRI, c.MP_UNREACH_NLRI)  # SectionAttributes leaves them out: the route's prefixes
_NUMBERS = [struct.Struct(">%dI" % count) for count in range(256)]  # N 4-octet numbers, for N < 256
_new = tuple.__new__  # skips the NamedTuples' Python-level __new__: one path per UPDATE
_EMPTY = AsPath(())


def as_path_of(data: bytes) -> AsPath:
    """The AsPath of 4-octet AS_PATH octets that scan_update found well-formed (what decode_as_path
    answers, without its checks: every segment's type and length are known good)."""
    if not data:
        return _EMPTY  # an empty path (a route of our own AS on an internal session)
    count = data[1]
    if len(data) == 2 + 4 * count:  # one segment: most paths
        return _new(AsPath, ((_new(AsPathSegment, (data[0], _NUMBERS[count].unpack_from(data, 2))),),))
    segments = []
    position, end = 0, len(data)
    while position < end:
        count = data[position + 1]
        segments.append(_new(AsPathSegment, (data[position], _NUMBERS[count].unpack_from(data, position + 2))))
        position += 2 + 4 * count
    return _new(AsPath, (tuple(segments),))


def communities_of(data: bytes) -> tuple[int, ...]:
    """COMMUNITIES octets (a non-zero multiple of 4, as scan_update checked) as ints."""
    count = len(data) >> 2
    numbers = _NUMBERS[count] if count < 256 else struct.Struct(">%dI" % count)
    return numbers.unpack(data)


def value_span(raw: bytes, position: int) -> tuple[int, int]:
    """(start, end) of the value of the attribute whose header is at `position` (RFC 4271 §4.3)."""
    if raw[position] & _EXTENDED:
        return position + 4, position + 4 + _U16.unpack_from(raw, position + 2)[0]
    return position + 3, position + 3 + raw[position + 2]


def find_attribute(raw: bytes, code: int) -> tuple[int, int, int] | None:
    """(flags, start, end) of the value of the attribute of type `code` in a clean section, or None."""
    position, end = 0, len(raw)
    while position < end:
        start, after = value_span(raw, position)
        if raw[position + 1] == code:
            return raw[position], start, after
        position = after
    return None


def read_attribute(raw: bytes, code: int, ctx: NegotiatedContext) -> Attribute | None:
    """The Attribute of type `code` of a clean section, decoded as decode_section decodes it, or None
    when the section has none (or it is MP_REACH_NLRI / MP_UNREACH_NLRI, which routes do not carry)."""
    if code in _LEFT_OUT:
        return None
    found = find_attribute(raw, code)
    if found is None:
        return None
    flags, start, end = found
    data = raw[start:end]
    if code == c.AS_PATH and ctx.four_octet_as:  # scan_update takes 4-octet sessions only
        return Attribute(flags, code, data, as_path_of(data))
    if code == c.COMMUNITIES:
        return Attribute(flags, code, data, communities_of(data))
    spec = ATTRIBUTE_SPECS.get(code)
    return Attribute(flags, code, data, spec.decode(data, ctx) if spec is not None else None)
