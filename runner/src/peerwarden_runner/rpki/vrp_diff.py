"""What changed in a VRP table, and which routes that can affect.

A route's validation state depends only on the VRPs covering it (RFC 6811 §2), so after a change
a consumer needs to re-validate only the routes covered by an added or removed VRP. With tens of
thousands of routes per session and a handful of VRP changes per sync, that is the difference
between re-validating everything every few minutes and almost nothing.
"""

from collections.abc import Callable, Iterable
from typing import NamedTuple

from peerwarden_runner.rpki.prefix import PrefixLike, int_prefix
from peerwarden_runner.rpki.vrp import Vrp


class VrpDiff(NamedTuple):
    """VRPs added and removed by one change. Unpacks as `(added, removed)`."""

    added: frozenset[Vrp]
    removed: frozenset[Vrp]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def changed(self) -> frozenset[Vrp]:
        return self.added | self.removed

    def affects(self, route: PrefixLike) -> bool:
        """True when some added or removed VRP covers `route`, i.e. its state may have changed.

        For many routes, build the predicate once with `affected_filter()`.
        """
        return affected_filter(self.changed())(route)


EMPTY_DIFF = VrpDiff(frozenset(), frozenset())


def affected_filter(changed: Iterable[Vrp]) -> Callable[[PrefixLike], bool]:
    """A predicate: is this route covered by any of the `changed` VRPs?

    Indexes the changed prefixes by length, so one call costs one set lookup per distinct
    changed prefix length that is not longer than the route.
    """
    by_family: dict[int, dict[int, set[int]]] = {4: {}, 6: {}}
    for vrp in changed:
        max_bits = 32 if vrp.version == 4 else 128
        by_family[vrp.version].setdefault(vrp.length, set()).add(vrp.network >> (max_bits - vrp.length))
    sorted_lengths: dict[int, tuple[tuple[int, int, set[int]], ...]] = {}
    for version, by_length in by_family.items():
        max_bits = 32 if version == 4 else 128
        sorted_lengths[version] = tuple((length, max_bits - length, by_length[length]) for length in sorted(by_length))

    def is_affected(route: PrefixLike) -> bool:
        version, network, route_length = int_prefix(route)
        for length, shift, networks in sorted_lengths[version]:
            if length > route_length:
                return False
            if (network >> shift) in networks:
                return True
        return False

    return is_affected


def compose_diffs(diffs: Iterable[VrpDiff]) -> VrpDiff:
    """The net effect of applying `diffs` in order (an add then a remove cancel out)."""
    added: set[Vrp] = set()
    removed: set[Vrp] = set()
    for diff in diffs:
        for vrp in diff.removed:
            if vrp in added:
                added.discard(vrp)
            else:
                removed.add(vrp)
        for vrp in diff.added:
            if vrp in removed:
                removed.discard(vrp)
            else:
                added.add(vrp)
    return VrpDiff(frozenset(added), frozenset(removed))
