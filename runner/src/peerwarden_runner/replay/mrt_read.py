"""Reading MRT files (RFC 6396): BGP4MP and BGP4MP_ET (MESSAGE, MESSAGE_AS4, their _LOCAL and RFC 8050
_ADDPATH variants, STATE_CHANGE, STATE_CHANGE_AS4), and TABLE_DUMP_V2 (PEER_INDEX_TABLE,
RIB_IPV4/IPV6_UNICAST/MULTICAST, RIB_GENERIC for those families, and their _ADDPATH variants),
what the runner writes (mrt.py) and route collectors publish (RouteViews and RIS RIB dumps and
update files).

Every record is yielded, or noted in `findings` with its offset (another MRT type, a malformed
body); a record the file ends inside is reported as truncation, never dropped silently."""

import ipaddress
import lzma
import struct

from peerwarden_runner.codec import NegotiatedContext, Prefix
from peerwarden_runner.codec import constants as c
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.records import MessageRecord, RibRecord, StateRecord, message_problem

TABLE_DUMP_V2, BGP4MP, BGP4MP_ET = 13, 16, 17
TYPE_NAMES = {11: "OSPFv2", 12: "TABLE_DUMP", 13: "TABLE_DUMP_V2", 16: "BGP4MP", 17: "BGP4MP_ET"}
# BGP4MP subtype -> (AS width, sent by the local side, ADD-PATH) for the message subtypes (RFC 6396 §4.4, RFC 8050)
MESSAGE_SUBTYPES = {
    1: (2, False, False),
    4: (4, False, False),
    6: (2, True, False),
    7: (4, True, False),
    8: (2, False, True),
    9: (4, False, True),
    10: (2, True, True),
    11: (4, True, True),
}
STATE_SUBTYPES = {0: 2, 5: 4}  # STATE_CHANGE, STATE_CHANGE_AS4 -> AS width
PEER_INDEX_TABLE, RIB_GENERIC, RIB_GENERIC_ADDPATH = 1, 6, 12
# TABLE_DUMP_V2 RIB subtype -> (family, ADD-PATH) (RFC 6396 §4.3, RFC 8050 §4)
RIB_SUBTYPES = {
    2: ((1, 1), False),
    3: ((1, 2), False),
    4: ((2, 1), False),
    5: ((2, 2), False),
    8: ((1, 1), True),
    9: ((1, 2), True),
    10: ((2, 1), True),
    11: ((2, 2), True),
}
ADDRESS_OCTETS = {1: 4, 2: 16}
BITS = {1: 32, 2: 128}
ALL_FAMILIES = frozenset(RIB_SUBTYPES[subtype][0] for subtype in (2, 3, 4, 5))
SECTIONS_KEPT = 100000
_HEADER = struct.Struct(">IHHI")
_U16, _U32 = struct.Struct(">H"), struct.Struct(">I")


class Malformed(ValueError):
    """A record whose body does not match its type's layout."""


def read_mrt(handle, findings: Findings):
    """Records (records.py) from an open binary file, in file order."""
    peers: list[tuple[str, int]] | None = None
    sections: dict[tuple[bytes, int], tuple] = {}  # a RIB dump repeats attribute sets: each split once
    offset = 0
    while True:
        try:
            header = handle.read(12)
            if not header:
                return
            if len(header) < 12:
                findings.truncate(offset, "%d octets of a 12-octet record header" % len(header))
                return
            seconds, kind, subtype, length = _HEADER.unpack(header)
            body = handle.read(length)
        except (EOFError, OSError, lzma.LZMAError) as error:
            findings.truncate(offset, "the compressed data ends or is corrupt (%s)" % (error or type(error).__name__))
            return
        if len(body) < length:
            findings.truncate(offset, "a record of %d octets, %d present" % (length, len(body)))
            return
        try:
            if kind == TABLE_DUMP_V2 and subtype == PEER_INDEX_TABLE:
                peers = _peer_index_table(body)
                records = []
            elif kind == TABLE_DUMP_V2:
                records = _rib(offset, seconds, subtype, body, peers, findings, sections)
            elif kind in (BGP4MP, BGP4MP_ET):
                records = _bgp4mp(offset, seconds, kind, subtype, body, findings)
            else:
                findings.note("MRT type %s subtype %d (not read)" % (TYPE_NAMES.get(kind, kind), subtype), offset)
                records = []
        except (Malformed, struct.error, ValueError, IndexError) as error:
            findings.note("malformed %s record (%s)" % (TYPE_NAMES.get(kind, kind), error), offset)
            records = []
        yield from records
        offset += 12 + length


# ---- BGP4MP ----


def _bgp4mp(offset, seconds, kind, subtype, body, findings):
    when = float(seconds)
    if kind == BGP4MP_ET:
        when += _U32.unpack_from(body)[0] / 1e6
        body = body[4:]
    if subtype in MESSAGE_SUBTYPES:
        width, local, add_path = MESSAGE_SUBTYPES[subtype]
        peer_as, local_as, peer_ip, local_ip, rest = _peers(body, width)
        message = bytes(rest)
        problem = message_problem(message)
        if problem:
            raise Malformed(problem)
        ctx = NegotiatedContext(
            four_octet_as=width == 4, add_path_receive=ALL_FAMILIES if add_path else frozenset(), families=ALL_FAMILIES
        )
        sender, sender_as = (local_ip, local_as) if local else (peer_ip, peer_as)
        return [MessageRecord(offset, when, sender, sender_as, ctx, message)]
    if subtype in STATE_SUBTYPES:
        peer_as, local_as, peer_ip, local_ip, rest = _peers(body, STATE_SUBTYPES[subtype])
        if len(rest) != 4:
            raise Malformed("a state change of %d octets, not 4" % len(rest))
        old, new = struct.unpack(">HH", rest)
        return [StateRecord(offset, when, peer_ip, peer_as, old, new)]
    findings.note("MRT %s subtype %d (not read)" % (TYPE_NAMES[kind], subtype), offset)
    return []


def _peers(body, width):
    """(peer AS, local AS, peer address, local address, the rest) of a BGP4MP body (RFC 6396 §4.4.1)."""
    if width == 4:
        peer_as, local_as, dummy, afi = struct.unpack_from(">IIHH", body)
        at = 12
    else:
        peer_as, local_as, dummy, afi = struct.unpack_from(">HHHH", body)
        at = 8
    size = ADDRESS_OCTETS.get(afi)
    if size is None:
        raise Malformed("address family %d" % afi)
    if len(body) < at + 2 * size:
        raise Malformed("the addresses do not fit")
    peer_ip = _address_text(body[at : at + size])
    local_ip = _address_text(body[at + size : at + 2 * size])
    return peer_as, local_as, peer_ip, local_ip, body[at + 2 * size :]


def _address_text(octets):
    address = ipaddress.ip_address(bytes(octets))
    mapped = getattr(address, "ipv4_mapped", None)  # our writer maps IPv4 under AFI 2 on a mixed session
    return str(mapped or address)


# ---- TABLE_DUMP_V2 ----


def _peer_index_table(body):
    """[(address, AS)] in index order (RFC 6396 §4.3.1)."""
    at = 4  # collector BGP ID
    (name_length,) = _U16.unpack_from(body, at)
    at += 2 + name_length
    (count,) = _U16.unpack_from(body, at)
    at += 2
    peers: list[tuple[str, int]] = []
    for dummy in range(count):
        peer_type = body[at]
        at += 5  # type, BGP ID
        size = 16 if peer_type & 1 else 4
        if len(body) < at + size:
            raise Malformed("peer entry %d does not fit" % len(peers))
        address = _address_text(body[at : at + size])
        at += size
        if peer_type & 2:
            (asn,) = _U32.unpack_from(body, at)
            at += 4
        else:
            (asn,) = _U16.unpack_from(body, at)
            at += 2
        peers.append((address, asn))
    return peers


def _rib(offset, seconds, subtype, body, peers, findings, sections):
    if subtype in RIB_SUBTYPES:
        (afi, safi), add_path = RIB_SUBTYPES[subtype]
        at = 4  # sequence number
    elif subtype in (RIB_GENERIC, RIB_GENERIC_ADDPATH):
        afi, safi = struct.unpack_from(">HB", body, 4)
        add_path, at = subtype == RIB_GENERIC_ADDPATH, 7
        if (afi, safi) not in ALL_FAMILIES:
            findings.note("RIB_GENERIC of AFI %d SAFI %d (not read)" % (afi, safi), offset)
            return []
    else:
        findings.note("MRT TABLE_DUMP_V2 subtype %d (not read)" % subtype, offset)
        return []
    if peers is None:
        raise Malformed("a RIB entry before any PEER_INDEX_TABLE")
    length = body[at]
    if length > BITS[afi]:
        raise Malformed("prefix length %d" % length)
    octets = (length + 7) // 8
    packed = bytes(body[at + 1 : at + 1 + octets])
    at += 1 + octets
    (count,) = _U16.unpack_from(body, at)
    at += 2
    records = []
    for dummy in range(count):
        index, dummy = struct.unpack_from(">HI", body, at)
        at += 6
        path_id = None
        if add_path:
            (path_id,) = _U32.unpack_from(body, at)
            at += 4
        (size,) = _U16.unpack_from(body, at)
        at += 2
        if len(body) < at + size:
            raise Malformed("a RIB entry's attributes do not fit")
        if index >= len(peers):
            raise Malformed("peer index %d of a table of %d" % (index, len(peers)))
        key = (bytes(body[at : at + size]), afi)
        split = sections.get(key)
        if split is None:
            if len(sections) >= SECTIONS_KEPT:
                sections.clear()
            split = sections[key] = split_rib_attributes(*key)
        section, next_hop = split
        at += size
        address, asn = peers[index]
        prefix = Prefix(afi, safi, length, packed, path_id)
        records.append(RibRecord(offset, float(seconds), address, asn, prefix, next_hop, section))
    if at != len(body):
        raise Malformed("%d octets after the last RIB entry" % (len(body) - at))
    return records


def split_rib_attributes(section, afi):
    """(the section without MP_REACH_NLRI, the next hop) of a RIB entry: MP_REACH_NLRI there holds only
    the next hop length and next hop (RFC 6396 §4.3.4); the full form some writers use is read too."""
    kept, next_hop, at = [], None, 0
    while at < len(section):
        flags, code = section[at], section[at + 1]
        if flags & c.FLAG_EXTENDED_LENGTH:
            (size,) = _U16.unpack_from(section, at + 2)
            start = at + 4
        else:
            size, start = section[at + 2], at + 3
        if start + size > len(section):
            raise Malformed("attribute %d overruns the section" % code)
        data = section[start : start + size]
        if code == c.MP_REACH_NLRI:
            next_hop = _rib_next_hop(data)
        else:
            kept.append(section[at : start + size])
            if code == c.NEXT_HOP and afi == 1 and size == 4:
                next_hop = ipaddress.IPv4Address(data)
        at = start + size
    return b"".join(kept), next_hop


def _rib_next_hop(data):
    if data and data[0] == len(data) - 1:  # the abbreviated form: length, next hop
        hop = data[1:]
    elif len(data) >= 4 and len(data) >= 4 + data[3]:  # the full form: AFI, SAFI, length, next hop, ...
        hop = data[4 : 4 + data[3]]
    else:
        raise Malformed("MP_REACH_NLRI of %d octets" % len(data))
    if len(hop) in (4, 16):
        return ipaddress.ip_address(bytes(hop))
    if len(hop) == 32:  # global and link-local (RFC 2545 §3): the global one
        return ipaddress.IPv6Address(bytes(hop[:16]))
    raise Malformed("a next hop of %d octets" % len(hop))
