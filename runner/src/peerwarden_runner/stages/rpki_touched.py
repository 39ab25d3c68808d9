"""Which routes of a RIB a VRP change can touch, read from their keys (route_keys): re-validation looks at a
million keys, so most are turned away by their first address octets without being decoded.

A route's state depends only on the VRPs covering it (RFC 6811 §2); rpki/vrp_diff.py's affected_filter
says the same for one prefix at a time, this works on RIB keys in bulk.
"""
from peerwarden_runner.codec import constants as c
from peerwarden_runner.route_keys import key_prefix

_VERSIONS = {c.AFI_IPV4: (4, 32), c.AFI_IPV6: (6, 128)}
# a prefix's packed octets as an int, host bits zero: `int.from_bytes(packed) >> DROP[length] << lift`, where
# DROP drops the bits past the length in the last octet and lift = address bits - length
DROP = tuple(((length + 7) // 8) * 8 - length for length in range(129))
# the key of an IPv6 unicast route without a path id: this tag, the length octet, the address octets
_IPV6_UNICAST_TAG = bytes((0x80, 0, c.AFI_IPV6, c.SAFI_UNICAST))
_HEAD_BITS = {4: 8, 6: 16}  # the address bits of a key the quick test looks at


def rpki_prefix(prefix):
    """The codec's Prefix as the (version, network int with host bits zero, length) the VRP table
    takes, or None for a family RPKI does not cover."""
    version = _VERSIONS.get(prefix.afi)
    if version is None:
        return None
    length = prefix.length
    return version[0], int.from_bytes(prefix.packed, "big") >> DROP[length] << version[1] - length, length


class TouchedKeys:
    """The RIB keys covered by any of `changed` (VRPs added or removed)."""

    def __init__(self, changed):
        by_length = {4: {}, 6: {}}
        heads = {4: set(), 6: set()}
        for vrp in changed:
            bits = 32 if vrp.version == 4 else 128
            by_length[vrp.version].setdefault(vrp.length, set()).add(vrp.network >> bits - vrp.length)
            head_bits = _HEAD_BITS[vrp.version]
            shift = bits - head_bits
            first = vrp.network >> shift
            last = (vrp.network | (1 << bits - vrp.length) - 1) >> shift
            heads[vrp.version].update(range(first, last + 1))
        self.lengths = {version: tuple((length, (32 if version == 4 else 128) - length, networks)
                                       for length, networks in sorted(lengths.items()))
                        for version, lengths in by_length.items()}
        self.ipv4_heads = frozenset(heads[4])
        self.ipv6_heads = frozenset(head.to_bytes(2, "big") for head in heads[6])

    def candidates(self, keys):
        """The keys that may be touched: IPv4 routes of /8 or longer and IPv6 unicast routes of /16 or longer
        (without a path id: almost all) are turned away when no change shares their first octet (two for
        IPv6); the others are all kept, for `route` to decide."""
        ipv4, ipv6, tag = self.ipv4_heads, self.ipv6_heads, _IPV6_UNICAST_TAG
        return [key for key in keys if (
            key[1] in ipv4 if 8 <= key[0] < 0x80 else key[5:7] in ipv6 if key[:4] == tag and key[4] >= 16 else True)]

    def route(self, key):
        """(Prefix, (version, network, length)) of a key a change covers, else None."""
        prefix = key_prefix(key)
        route = rpki_prefix(prefix)
        if route is None:
            return None
        version, network, route_length = route
        for length, shift, networks in self.lengths[version]:
            if length > route_length:
                return None
            if network >> shift in networks:
                return prefix, route
        return None
