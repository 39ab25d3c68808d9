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

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_UINTS = [struct.Struct(">%dI" % count) for count in range(1024)]  # n 4-octet numbers
_EXTENDED = c.FLAG_EXTENDED_LENGTH
_ORIGIN_TEXT = ['"igp"', '"egp"', '"incomplete"']
_SEGMENT_TEXT = {kind: '["%s",[' % name for kind, name in c.SEGMENT_NAMES.items()}
_KEYS = {code: '"%s":' % name for code, name in ATTRIBUTE_NAMES.items()}
_CANONICAL_FLAGS = {code: spec.flags for code, spec in ATTRIBUTE_SPECS.items()}
_NTOP, _INET = socket.inet_ntop, socket.AF_INET
_HOPS_LIMIT = 4096
_ipv6_hops: dict[bytes, str] = {}  # 16 octets -> text (ipaddress's, as the full decoder's str() gives)
# an AS_PATH's or COMMUNITIES' octets -> its _Item: routes share paths and community sets
_ITEMS_LIMIT = 1 << 14
_Item = tuple[str, str | None]
_items: dict[bytes, _Item] = {}
_END_OF_RIB_IPV4 = ',"end_of_rib":{"afi":1,"safi":1}'


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


def _numbers(data: bytes) -> tuple[int, ...]:
    """The 4-octet numbers of a value (an extended-length one can hold more than _UINTS has layouts for)."""
    count = len(data) >> 2
    return (_UINTS[count] if count < len(_UINTS) else struct.Struct(">%dI" % count)).unpack(data)


def _communities(data: bytes) -> str:
    return "[" + ",".join(['"%d:%d"' % (value >> 16, value & 0xFFFF) for value in _numbers(data)]) + "]"


def _as_path(section: bytes, position: int, end: int) -> str:
    segments = []
    while position < end:
        kind, count = section[position], section[position + 1]
        start = position + 2
        position = start + 4 * count
        segments.append(_SEGMENT_TEXT[kind] + ",".join(map(str, _UINTS[count].unpack_from(section, start))) + "]]")
    return "[" + ",".join(segments) + "]"


def _mp_reach(data: bytes, nlri: list[Prefix]) -> str:
    hop_length = data[3]
    hops = _ipv6_hop(data[4:20])
    if hop_length == 32:
        hops += "," + _ipv6_hop(data[20:36])
    text = '{"afi":%d,"safi":%d,"next_hop":[%s],"nlri":%s' % (data[1], data[2], hops, _texts(nlri))
    reserved = data[4 + hop_length]
    return text + (',"reserved":%d}' % reserved if reserved else "}")


def _value(code: int, data: bytes, scanned: ScannedUpdate) -> str:
    """The JSON text of the value of an attribute less common than those update_json formats itself."""
    if code == c.LARGE_COMMUNITY:
        values = _numbers(data)
        return "[" + ",".join(['"%d:%d:%d"' % values[i : i + 3] for i in range(0, len(values), 3)]) + "]"
    if code == c.EXTENDED_COMMUNITIES:
        return "[" + ",".join(['"%s"' % extended_to_text(data[i : i + 8]) for i in range(0, len(data), 8)]) + "]"
    if code == c.MP_REACH_NLRI:
        return _mp_reach(data, scanned.nlri)
    if code == c.ATOMIC_AGGREGATE:
        return "true"
    if code == c.AGGREGATOR:
        return '{"asn":%d,"address":"%s"}' % (_U32.unpack_from(data)[0], _NTOP(_INET, data[4:8]))
    raise ValueError("attribute type %d is not one scan_update accepts" % code)


def _item(code: int, flags: int, section: bytes, start: int, end: int, scanned: ScannedUpdate) -> _Item:
    """The '"name":value' text of one attribute, and its '"name":flags' text when its flags are not the RFC's."""
    if code == c.AS_PATH:
        value = _as_path(section, start, end)
    elif code == c.ORIGIN:
        value = _ORIGIN_TEXT[section[start]]
    elif code == c.NEXT_HOP:
        value = '"%s"' % _NTOP(_INET, section[start:end])
    elif code == c.MULTI_EXIT_DISC or code == c.LOCAL_PREF:
        value = str(_U32.unpack_from(section, start)[0])
    elif code == c.COMMUNITIES:
        value = _communities(section[start:end])
    else:
        value = _value(code, section[start:end], scanned)
    key = _KEYS[code]
    canonical = _CANONICAL_FLAGS[code] | (_EXTENDED if end - start > 255 else 0)
    return key + value, None if flags == canonical else key + str(flags)


def update_json(raw: bytes, scanned: ScannedUpdate) -> str:
    """The UPDATE keys of the JSON object of `raw`, which scan_update answered with `scanned`."""
    attributes = scanned.attributes
    if attributes is None:  # withdrawals only, or the IPv4 End-of-RIB
        tail = _END_OF_RIB_IPV4 if not scanned.withdrawn else ""
        return '"withdrawn":%s,"attributes":{},"nlri":[]%s,"raw":"%s"' % (_texts(scanned.withdrawn), tail, raw.hex())
    section = attributes.raw
    items: list[str] = []
    codes: list[int] = []
    flags_items: list[str] = []
    cache, keys, canonical, u32, ntop, inet = _items, _KEYS, _CANONICAL_FLAGS, _U32, _NTOP, _INET
    position, end = 0, len(section)
    while position < end:
        head = position
        flags, code = section[position], section[position + 1]
        if flags & _EXTENDED:
            start = position + 4
            position = start + _U16.unpack_from(section, position + 2)[0]
        else:
            start = position + 3
            position = start + section[position + 2]
        codes.append(code)
        if code == 2 or code == 8:  # AS_PATH, COMMUNITIES: costly to format, often shared
            key = section[head:position]
            known = cache.get(key)
            if known is None:
                if len(cache) >= _ITEMS_LIMIT:
                    cache.clear()
                known = cache[key] = _item(code, flags, section, start, position, scanned)
            items.append(known[0])
            if known[1] is not None:
                flags_items.append(known[1])
            continue
        if code == 1:  # ORIGIN
            items.append('"origin":' + _ORIGIN_TEXT[section[start]])
        elif code == 3:  # NEXT_HOP
            items.append('"next_hop":"' + ntop(inet, section[start:position]) + '"')
        elif code == 4:  # MULTI_EXIT_DISC
            items.append('"med":' + str(u32.unpack_from(section, start)[0]))
        else:
            entry = _item(code, flags, section, start, position, scanned)
            items.append(entry[0])
            if entry[1] is not None:
                flags_items.append(entry[1])
            continue
        if flags != canonical[code]:  # values of 1 and 4 octets: never Extended Length by the RFC
            flags_items.append(keys[code] + str(flags))
    nlri = "[]" if c.MP_REACH_NLRI in codes else _texts(scanned.nlri)
    text = '"withdrawn":%s,"attributes":{%s},"nlri":%s' % (_texts(scanned.withdrawn), ",".join(items), nlri)
    if codes != sorted(codes):
        text += ',"attribute_order":[%s]' % ",".join(map(str, codes))
    if flags_items:
        text += ',"attribute_flags":{%s}' % ",".join(flags_items)
    origin = scanned.origin
    return text + ',"origin_as":%s,"raw":"%s"' % ("null" if origin is None else origin, raw.hex())
