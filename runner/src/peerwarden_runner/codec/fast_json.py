"""The JSON form (json_form.py) of an UPDATE that `fast_update.scan_update` found clean, made as text in
one walk of its attribute section: what `speaker --print` writes for each message of a real table.

`update_json(raw, scanned)` gives the object's UPDATE keys, from "withdrawn" to "raw", as the text
`json.dumps(to_json(raw, ctx), separators=(",", ":"))` has between the common keys and the closing
brace, character for character (tests/test_fast_json.py compares both on the codec fixtures, the fuzz
corpus and generated tables). Hand-written rather than json.dumps because the generic way builds an
Attribute, a value and a dict per attribute and then walks the dict again: about ten times the CPU.
Only the attribute types scan_update accepts appear here; every check was done by the scan.
"""

import ipaddress
import socket
import struct

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import ATTRIBUTE_NAMES, ATTRIBUTE_SPECS
from peerwarden_runner.codec.communities import extended_to_text
from peerwarden_runner.codec.fast_update import ScannedUpdate
from peerwarden_runner.codec.prefix import Prefix, prefix_texts

__all__ = ["update_json"]

_U32 = struct.Struct(">I")
_EXTENDED = c.FLAG_EXTENDED_LENGTH
_ORIGIN_TEXT = ['"igp"', '"egp"', '"incomplete"']
_KEYS = {code: '"%s":' % name for code, name in ATTRIBUTE_NAMES.items()}
_CANONICAL_FLAGS = {code: spec.flags for code, spec in ATTRIBUTE_SPECS.items()}
_ORIGIN_KEY, _AS_PATH_KEY, _NEXT_HOP_KEY, _MED_KEY = (
    _KEYS[c.ORIGIN],
    _KEYS[c.AS_PATH],
    _KEYS[c.NEXT_HOP],
    _KEYS[c.MULTI_EXIT_DISC],
)
_NTOP, _INET = socket.inet_ntop, socket.AF_INET
_HOPS_LIMIT = 4096
_ipv6_hops: dict[bytes, str] = {}  # 16 octets -> text (ipaddress's, as the full decoder's str() gives)
_END_OF_RIB_IPV4 = ',"end_of_rib":{"afi":1,"safi":1}'


_Layout = tuple[struct.Struct, str]


class _Layouts(dict[int, _Layout]):
    """count -> (a Struct that reads `count` values, the format that writes them as JSON text), made on
    first use: the value is formatted by one unpack and one % in C, not a Python loop per number."""

    def __init__(self, numbers: tuple[int, str], item: str, head: str, tail: str) -> None:
        super().__init__()
        self.numbers, self.item, self.head, self.tail = numbers, item, head, tail

    def __missing__(self, count: int) -> _Layout:
        layout = self[count] = (
            struct.Struct(">%d%s" % (count * self.numbers[0], self.numbers[1])),
            self.head + ",".join([self.item] * count) + self.tail,
        )
        return layout


# one AS_PATH segment of `count` ASNs, per segment type; COMMUNITIES and LARGE_COMMUNITY of `count` values
_SEGMENTS = {kind: _Layouts((1, "I"), "%d", '["' + name + '",[', "]]") for kind, name in c.SEGMENT_NAMES.items()}
_COMMUNITIES = _Layouts((2, "H"), '"%d:%d"', "[", "]")
_LARGE_COMMUNITIES = _Layouts((3, "I"), '"%d:%d:%d"', "[", "]")


def _texts(prefixes: list[Prefix]) -> str:
    if not prefixes:
        return "[]"
    return '["' + '","'.join(prefix_texts(prefixes)) + '"]'


def _ipv6_hop(data: bytes) -> str:
    text = _ipv6_hops.get(data)
    if text is None:
        if len(_ipv6_hops) >= _HOPS_LIMIT:
            _ipv6_hops.clear()
        text = _ipv6_hops[data] = '"%s"' % ipaddress.IPv6Address(data)
    return text


def _as_path(section: bytes, position: int, end: int) -> str:
    segments = []
    while position < end:
        kind, count = section[position], section[position + 1]
        start = position + 2
        position = start + 4 * count
        layout = _SEGMENTS[kind][count]
        segments.append(layout[1] % layout[0].unpack_from(section, start))
    return "[" + ",".join(segments) + "]"


def _mp_reach(data: bytes, nlri: list[Prefix]) -> str:
    hop_length = data[3]
    hops = _ipv6_hop(data[4:20])
    if hop_length == 32:
        hops += "," + _ipv6_hop(data[20:36])
    text = '{"afi":%d,"safi":%d,"next_hop":[%s],"nlri":%s' % (data[1], data[2], hops, _texts(nlri))
    reserved = data[4 + hop_length]
    return text + (',"reserved":%d}' % reserved if reserved else "}")


def _value(code: int, section: bytes, start: int, end: int, scanned: ScannedUpdate) -> str:
    """The JSON text of the value of an attribute less common than those update_json formats itself."""
    if code == c.LOCAL_PREF:
        return str(_U32.unpack_from(section, start)[0])
    if code == c.LARGE_COMMUNITY:
        layout = _LARGE_COMMUNITIES[(end - start) // 12]
        return layout[1] % layout[0].unpack_from(section, start)
    if code == c.EXTENDED_COMMUNITIES:
        return "[" + ",".join(['"%s"' % extended_to_text(section[i : i + 8]) for i in range(start, end, 8)]) + "]"
    if code == c.MP_REACH_NLRI:
        return _mp_reach(section[start:end], scanned.nlri)
    if code == c.ATOMIC_AGGREGATE:
        return "true"
    if code == c.AGGREGATOR:
        return '{"asn":%d,"address":"%s"}' % (
            _U32.unpack_from(section, start)[0],
            _NTOP(_INET, section[start + 4 : end]),
        )
    raise ValueError("attribute type %d is not one scan_update accepts" % code)


def _codes(section: bytes) -> list[int]:
    """The type codes of a section, in their order (for "attribute_order", when they are not sorted)."""
    codes, position, end = [], 0, len(section)
    while position < end:
        codes.append(section[position + 1])
        if section[position] & _EXTENDED:
            position += 4 + (section[position + 2] << 8 | section[position + 3])
        else:
            position += 3 + section[position + 2]
    return codes


def update_json(raw: bytes, scanned: ScannedUpdate) -> str:
    """The UPDATE keys of the JSON object of `raw`, which scan_update answered with `scanned`."""
    attributes = scanned.attributes
    if attributes is None:  # withdrawals only, or the IPv4 End-of-RIB
        tail = _END_OF_RIB_IPV4 if not scanned.withdrawn else ""
        return '"withdrawn":%s,"attributes":{},"nlri":[]%s,"raw":"%s"' % (_texts(scanned.withdrawn), tail, raw.hex())
    section = attributes.raw
    items: list[str] = []
    append = items.append
    flags_items: list[str] = []
    canonical, u32 = _CANONICAL_FLAGS, _U32
    last, ordered, reach = 0, True, False
    position, end = 0, len(section)
    while position < end:
        flags, code = section[position], section[position + 1]
        if flags & _EXTENDED:
            start = position + 4
            position = start + (section[position + 2] << 8 | section[position + 3])
        else:
            start = position + 3
            position = start + section[position + 2]
        if code < last:
            ordered = False
        last = code
        if code == 2:  # AS_PATH
            if position > start and start + 2 + 4 * section[start + 1] == position:  # one segment, the usual path
                layout = _SEGMENTS[section[start]][section[start + 1]]
                append(_AS_PATH_KEY + "[" + layout[1] % layout[0].unpack_from(section, start + 2) + "]")
            else:
                append(_AS_PATH_KEY + _as_path(section, start, position))
        elif code == 1:
            append(_ORIGIN_KEY + _ORIGIN_TEXT[section[start]])
        elif code == 3:
            append(_NEXT_HOP_KEY + '"' + _NTOP(_INET, section[start:position]) + '"')
        elif code == 4:
            append(_MED_KEY + str(u32.unpack_from(section, start)[0]))
        elif code == 8:  # COMMUNITIES
            layout = _COMMUNITIES[(position - start) >> 2]
            append(_KEYS[8] + layout[1] % layout[0].unpack_from(section, start))
        else:
            reach = reach or code == c.MP_REACH_NLRI
            append(_KEYS[code] + _value(code, section, start, position, scanned))
        # not the RFC's flags (Extended Length is the RFC's for a value of more than 255 octets)
        if flags != canonical[code] and flags != canonical[code] | (_EXTENDED if position - start > 255 else 0):
            flags_items.append(_KEYS[code] + str(flags))
    nlri = "[]" if reach else _texts(scanned.nlri)
    withdrawn = _texts(scanned.withdrawn) if scanned.withdrawn else "[]"
    text = '"withdrawn":%s,"attributes":{%s},"nlri":%s' % (withdrawn, ",".join(items), nlri)
    if not ordered:
        text += ',"attribute_order":[%s]' % ",".join(map(str, _codes(section)))
    if flags_items:
        text += ',"attribute_flags":{%s}' % ",".join(flags_items)
    origin = scanned.origin
    return text + ',"origin_as":%s,"raw":"%s"' % ("null" if origin is None else origin, raw.hex())
