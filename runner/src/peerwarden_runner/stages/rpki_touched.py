"""Which routes of a RIB a VRP change can touch, read from their keys (route_keys): re-validation looks at a
million keys, so most are turned away by their first address octets without being decoded.

A route's state depends only on the VRPs covering it (RFC 6811 §2); rpki/vrp_diff.py's affected_filter
says the same for one prefix at a time, this works on RIB keys in bulk.
"""

from peerwarden_runner.codec import constants as c
from peerwarden_runner.route_keys import key_prefix
from peerwarden_runner.rpki.prefix import nlri_int_prefix

# the key of an IPv6 unicast route without a path id: this tag, the length octet, the address octets
_IPV6_UNICAST_TAG = bytes((0x80, 0, c.AFI_IPV6, c.SAFI_UNICAST))


class TouchedKeys:
    """The RIB keys covered by any of `changed` (VRPs added or removed)."""

    def __init__(self, changed):
        changed = list(changed)
        by_length: dict[int, dict[int, set[int]]] = {4: {}, 6: {}}
        for vrp in changed:
            bits = 32 if vrp.version == 4 else 128
            by_length[vrp.version].setdefault(vrp.length, set()).add(vrp.network >> bits - vrp.length)
        self.lengths = {
            version: tuple(
                (length, (32 if version == 4 else 128) - length, networks)
                for length, networks in sorted(lengths.items())
            )
            for version, lengths in by_length.items()
        }
        # the quick test compares a key's first address octets with the changes': as many as the shortest
        # change has (IPv4 1 to 3, IPv6 2 to 4); a change shorter than that stands for every value it covers
        self.ipv4_octets, self.ipv4_heads = _heads(changed, 4, 32, 1, 3)
        self.ipv6_octets, self.ipv6_heads = _heads(changed, 6, 128, 2, 4)

    def candidates(self, keys):
        """The keys that may be touched: IPv4 routes and IPv6 unicast routes without a path id (almost
        all) are turned away when no change shares their first address octets; the others are all kept,
        for `route` to decide."""
        ipv4, ipv4_end, ipv4_length = self.ipv4_heads, 1 + self.ipv4_octets, 8 * self.ipv4_octets
        ipv6, ipv6_end, ipv6_length = self.ipv6_heads, 5 + self.ipv6_octets, 8 * self.ipv6_octets
        tag = _IPV6_UNICAST_TAG
        return [
            key
            for key in keys
            if (
                key[1:ipv4_end] in ipv4
                if ipv4_length <= key[0] < 0x80
                else key[5:ipv6_end] in ipv6
                if key[:4] == tag and key[4] >= ipv6_length
                else True
            )
        ]

    def route(self, key):
        """(Prefix, (version, network, length)) of a key a change covers, else None."""
        prefix = key_prefix(key)
        route = nlri_int_prefix(prefix)
        if route is None:
            return None
        version, network, route_length = route
        for length, shift, networks in self.lengths[version]:
            if length > route_length:
                return None
            if network >> shift in networks:
                return prefix, route
        return None


def _heads(changed, version, bits, fewest, most):
    """(octets, the set of first `octets` address octets of the `changed` VRPs of one family)."""
    lengths = [vrp.length for vrp in changed if vrp.version == version]
    octets = min(max(min(lengths, default=0) // 8, fewest), most)
    shift = bits - 8 * octets
    heads: set[bytes] = set()
    for vrp in changed:
        if vrp.version == version:
            first = vrp.network >> shift
            last = (vrp.network | (1 << bits - vrp.length) - 1) >> shift
            heads.update(head.to_bytes(octets, "big") for head in range(first, last + 1))
    return octets, frozenset(heads)
