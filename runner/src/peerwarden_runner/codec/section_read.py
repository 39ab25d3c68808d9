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
from peerwarden_runner.codec.attributes import ATTRIBUTE_SPECS, Attribute
from peerwarden_runner.codec.context import NegotiatedContext

__all__ = ["find_attribute", "read_attribute"]

_U16 = struct.Struct(">H")
_EXTENDED = c.FLAG_EXTENDED_LENGTH
_LEFT_OUT = (c.MP_REACH_NLRI, c.MP_UNREACH_NLRI)  # SectionAttributes leaves them out: the route's prefixes


def find_attribute(raw: bytes, code: int) -> tuple[int, int, int] | None:
    """(flags, start, end) of the value of the attribute of type `code` in a clean section, or None."""
    position, end = 0, len(raw)
    while position < end:
        flags = raw[position]
        if flags & _EXTENDED:
            start = position + 4
            after = start + _U16.unpack_from(raw, position + 2)[0]
        else:
            start = position + 3
            after = start + raw[position + 2]
        if raw[position + 1] == code:
            return flags, start, after
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
    spec = ATTRIBUTE_SPECS.get(code)
    return Attribute(flags, code, data, spec.decode(data, ctx) if spec is not None else None)
