"""Our own address space for the alert stage: which configured prefixes a route's prefix equals,
lies inside, or covers, found with a few dict lookups on integers per route (no loop over the
configured prefixes, no `ipaddress`: a full table is a million routes).

A prefix is kept as its "top": the integer of its first `length` bits. A route's prefix is
inside a configured one of length L when the route's top shifted right by (route length - L)
is the configured top; there is one dict per configured length. Most routes are not ours: one
set lookup (the ancestors of every configured prefix at the shortest configured length) turns
them away before those. A route covering configured prefixes (a less-specific) is found in one
more dict holding every strict ancestor (length, top) of every configured prefix.
"""

import socket
from typing import NamedTuple

from peerwarden_runner.codec import constants as c

FAMILIES = {4: (c.AFI_IPV4, 32, socket.AF_INET), 6: (c.AFI_IPV6, 128, socket.AF_INET6)}
# the top of a prefix from its packed octets (exactly ceil(length / 8) of them): drop the bits past the length
_DROP = tuple(((length + 7) // 8) * 8 - length for length in range(129))


class OwnedPrefix(NamedTuple):
    """One configured prefix: its text, family, length, top, allowed origins and longest allowed length."""

    text: str
    afi: int
    length: int
    top: int
    origins: frozenset
    max_length: int


def owned_prefix(text, origins, max_length=None):
    """An OwnedPrefix from "192.0.2.0/24" or "2001:db8::/32"; ValueError saying what is wrong."""
    address, slash, length_text = str(text).partition("/")
    version = 6 if ":" in address else 4
    afi, bits, family = FAMILIES[version]
    if not slash or not length_text.isdigit() or int(length_text) > bits:
        raise ValueError("%r is not a prefix (expected ADDRESS/LENGTH, a length of 0-%d)" % (text, bits))
    length = int(length_text)
    try:
        number = int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        raise ValueError("%r: %r is not an IPv%d address" % (text, address, version)) from None
    if number & ((1 << bits - length) - 1):
        raise ValueError("%r has host bits set beyond /%d" % (text, length))
    max_length = length if max_length is None else max_length
    if not length <= max_length <= bits:
        raise ValueError("max_length %r must be between the prefix length %d and %d" % (max_length, length, bits))
    return OwnedPrefix(str(text), afi, length, number >> bits - length, frozenset(origins), max_length)


class OwnSpace:
    """The configured prefixes, indexed for `match`."""

    def __init__(self, owned):
        self.owned = list(owned)
        by_length: dict[int, dict[int, dict[int, list[OwnedPrefix]]]] = {}  # afi -> {length: {top: [OwnedPrefix]}}
        # afi -> {(length, top): [OwnedPrefix]}, every strict ancestor but /0
        self.ancestors: dict[int, dict[tuple[int, int], list[OwnedPrefix]]] = {}
        for entry in self.owned:
            by_length.setdefault(entry.afi, {}).setdefault(entry.length, {}).setdefault(entry.top, []).append(entry)
            ancestors = self.ancestors.setdefault(entry.afi, {})
            for length in range(1, entry.length):
                ancestors.setdefault((length, entry.top >> entry.length - length), []).append(entry)
        # per family: (length, table) pairs, shortest first
        self.lengths = {afi: sorted(tables.items()) for afi, tables in by_length.items()}
        self.longest = {afi: pairs[-1][0] for afi, pairs in self.lengths.items()}
        # per family: the shortest configured length and the tops of every configured prefix cut to it
        self.gate = {}
        for afi, pairs in self.lengths.items():
            shortest = pairs[0][0]
            self.gate[afi] = (
                shortest,
                frozenset(entry.top >> entry.length - shortest for entry in self.owned if entry.afi == afi),
            )

    def __bool__(self):
        return bool(self.owned)

    def match(self, afi, length, packed):
        """("inside", [OwnedPrefix equal to or covering the route, shortest first]), ("covering",
        [OwnedPrefix the route covers]) or None; a default route (/0) covers nothing."""
        gate = self.gate.get(afi)
        if gate is None:
            return None
        top = int.from_bytes(packed, "big") >> _DROP[length]
        shortest, tops = gate
        if length >= shortest and top >> length - shortest not in tops:
            return self._covering(afi, length, top)
        inside = None
        for owned_length, table in self.lengths[afi]:
            if owned_length > length:
                break
            found = table.get(top >> length - owned_length)
            if found is not None:
                inside = found if inside is None else inside + found
        if inside is not None:
            return "inside", inside
        return self._covering(afi, length, top)

    def _covering(self, afi, length, top):
        if 0 < length < self.longest[afi]:
            covered = self.ancestors[afi].get((length, top))
            if covered is not None:
                return "covering", covered
        return None
