"""Compact keys for per-route tables: a full table is a million entries, so a prefix is kept as one
bytes object (its NLRI octets) instead of a Prefix tuple, and turned back into a Prefix on demand.

IPv4 unicast without a path id, the bulk of any table, is keyed by its wire form (length octet and
address octets); every other key starts with a tag octet >= 0x80 (an IPv4 length is <= 32), the
AFI and SAFI, and the path id when there is one.
"""

import struct

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.prefix import Prefix

_LENGTH_OCTET = tuple(bytes((length,)) for length in range(256))
_TAGGED = 0x80
_WITH_PATH_ID = 0x40
_TAG = struct.Struct(">BHB")  # tag, AFI, SAFI
_PATH_ID = struct.Struct(">I")
_new_prefix = tuple.__new__


def route_key(prefix):
    """The key of one Prefix."""
    afi, safi, length, packed, path_id = prefix
    if path_id is None:
        if afi == c.AFI_IPV4 and safi == c.SAFI_UNICAST:
            return _LENGTH_OCTET[length] + packed
        return _TAG.pack(_TAGGED, afi, safi) + _LENGTH_OCTET[length] + packed
    return _TAG.pack(_TAGGED | _WITH_PATH_ID, afi, safi) + _PATH_ID.pack(path_id) + _LENGTH_OCTET[length] + packed


def run_keys(prefixes):
    """The keys of a run of prefixes of one family, all with or all without a path id (as one NLRI
    field decodes): the same as route_key for each, in one pass."""
    if not prefixes:
        return []
    first = prefixes[0]
    octet = _LENGTH_OCTET
    if first.path_id is None:
        if first.afi == c.AFI_IPV4 and first.safi == c.SAFI_UNICAST:
            return [octet[prefix[2]] + prefix[3] for prefix in prefixes]
        tag = _TAG.pack(_TAGGED, first.afi, first.safi)
        return [tag + octet[prefix[2]] + prefix[3] for prefix in prefixes]
    return [route_key(prefix) for prefix in prefixes]


def key_prefix(key):
    """The Prefix of a key (the inverse of route_key)."""
    first = key[0]
    if first < _TAGGED:
        return _new_prefix(Prefix, (c.AFI_IPV4, c.SAFI_UNICAST, first, key[1:], None))
    tag, afi, safi = _TAG.unpack_from(key)
    position, path_id = _TAG.size, None
    if tag & _WITH_PATH_ID:
        path_id = _PATH_ID.unpack_from(key, position)[0]
        position += _PATH_ID.size
    return _new_prefix(Prefix, (afi, safi, key[position], key[position + 1 :], path_id))
