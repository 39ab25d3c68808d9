"""VRPs of one address family by exact prefix: the authoritative store behind the fast lookups.

Answers "which VRPs cover this prefix" (a walk over the prefix lengths in use, one dict probe
each) and "which VRPs lie inside this prefix". It is too slow for the per-route hot path (up to
~25 probes) but exact and cheap to update, so the summary structures are rebuilt from it when
VRPs change, and the rare routes they do not serve (IPv4 longer than /24) are validated with it.
"""

from bisect import insort
from collections.abc import Iterator

from peerwarden_runner.rpki.vrp import Vrp


class VrpPrefixMap:
    """VRPs keyed by (length, network >> host bits); all VRPs given must be of one family."""

    def __init__(self, max_bits: int):
        self.max_bits = max_bits
        self._by_length: list[dict[int, tuple[Vrp, ...]]] = [{} for dummy in range(max_bits + 1)]
        self._lengths_in_use: list[int] = []

    def __len__(self) -> int:
        return sum(len(vrps) for by_network in self._by_length for vrps in by_network.values())

    def add(self, vrp: Vrp) -> None:
        by_network = self._by_length[vrp.length]
        if not by_network:
            insort(self._lengths_in_use, vrp.length)
        key = vrp.network >> (self.max_bits - vrp.length)
        by_network[key] = by_network.get(key, ()) + (vrp,)

    def remove(self, vrp: Vrp) -> None:
        by_network = self._by_length[vrp.length]
        key = vrp.network >> (self.max_bits - vrp.length)
        remaining = tuple(other for other in by_network[key] if other != vrp)
        if remaining:
            by_network[key] = remaining
            return
        del by_network[key]
        if not by_network:
            self._lengths_in_use.remove(vrp.length)

    def clear(self) -> None:
        for by_network in self._by_length:
            by_network.clear()
        self._lengths_in_use.clear()

    def covering(self, network: int, length: int, min_length: int = 0) -> list[Vrp]:
        """VRPs with a length in min_length..length that cover network/length (RFC 6811 §2)."""
        found: list[Vrp] = []
        for vrp_length in self._lengths_in_use:
            if vrp_length > length:
                break
            if vrp_length >= min_length:
                found.extend(self._by_length[vrp_length].get(network >> (self.max_bits - vrp_length), ()))
        return found

    def inside(self, network: int, length: int, max_length: int) -> Iterator[Vrp]:
        """VRPs longer than `length` (up to `max_length`) that lie inside network/length.

        Per length, either probes every possible key in the range or scans the whole dict,
        whichever is smaller: a /8 has 65,536 /24s but an IPv6 /32 has 2**96 /128s.
        """
        for vrp_length in self._lengths_in_use:
            if vrp_length <= length:
                continue
            if vrp_length > max_length:
                break
            by_network = self._by_length[vrp_length]
            first = network >> (self.max_bits - vrp_length)
            count = 1 << (vrp_length - length)
            if count <= len(by_network):
                for key in range(first, first + count):
                    yield from by_network.get(key, ())
            else:
                end = first + count
                for key, vrps in by_network.items():
                    if first <= key < end:
                        yield from vrps

    def with_lengths(self, min_length: int, max_length: int) -> Iterator[Vrp]:
        """All VRPs whose length is in min_length..max_length, shortest first."""
        for vrp_length in self._lengths_in_use:
            if min_length <= vrp_length <= max_length:
                for vrps in self._by_length[vrp_length].values():
                    yield from vrps
