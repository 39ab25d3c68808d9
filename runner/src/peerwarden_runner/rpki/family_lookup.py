"""What the IPv4 and IPv6 lookups share: the exact store, change application, the slow path.

A change first updates the prefix map (the truth), then rebuilds the summary cells under each
changed prefix. A large change (a full reload) rebuilds every level from scratch instead, which
is cheaper than thousands of overlapping range rebuilds.
"""

from collections.abc import Callable, Iterable, Iterator

from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.summary_level import SummaryLevel
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_prefix_map import VrpPrefixMap

VALID = RouteValidity.VALID
INVALID = RouteValidity.INVALID
NOT_FOUND = RouteValidity.NOT_FOUND

REBUILD_ALL_MINIMUM = 4096  # changes up to this many VRPs are applied range by range
REBUILD_ALL_SHARE = 8  # ... and so are changes up to 1/8 of the table

# validate(network as int with host bits zero, length, origin AS or None) -> the route's RFC 6811 state
Validator = Callable[[int, int, int | None], RouteValidity]


def validate_by_walk(prefix_map: VrpPrefixMap, network: int, length: int, origin_asn: int | None) -> RouteValidity:
    """RFC 6811 §2 straight from the definition, over the covering VRPs of the exact store.

    The reference the fast paths must agree with, and the path for routes they do not serve.
    """
    covered = False
    for vrp in prefix_map.covering(network, length):
        if origin_asn and vrp.asn == origin_asn and length <= vrp.max_length:
            return VALID
        covered = True
    return INVALID if covered else NOT_FOUND


class FamilyLookup:
    """Prefix map plus summary levels of one address family. Subclasses set `validate`."""

    validate: Validator

    def __init__(self, max_bits: int):
        self.max_bits = max_bits
        self.prefix_map = VrpPrefixMap(max_bits)
        self.levels: list[SummaryLevel] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def apply(self, added: Iterable[Vrp], removed: Iterable[Vrp]) -> None:
        """Record the change (the caller guarantees `removed` are present, `added` absent)."""
        changed_prefixes: set[tuple[int, int]] = set()
        removals = additions = 0
        for vrp in removed:
            self.prefix_map.remove(vrp)
            changed_prefixes.add((vrp.length, vrp.network))
            removals += 1
        for vrp in added:
            self.prefix_map.add(vrp)
            changed_prefixes.add((vrp.length, vrp.network))
            additions += 1
        self._count += additions - removals
        if removals + additions > max(REBUILD_ALL_MINIMUM, self._count // REBUILD_ALL_SHARE):
            for level in self.levels:
                level.rebuild_all()
        else:
            self._rebuild_ranges(changed_prefixes)
        self._levels_changed()

    def _rebuild_ranges(self, changed_prefixes: set[tuple[int, int]]) -> None:
        """Rebuild under each changed prefix in every level that has cells under it (its own and
        the deeper ones, whose complete summaries include it), skipping prefixes inside one
        already rebuilt in that level."""
        ordered = sorted(changed_prefixes)
        for level in self.levels:
            rebuilt: dict[int, set[int]] = {}
            for length, network in ordered:
                if length > level.cell_length:
                    break
                if self._inside_rebuilt(rebuilt, network, length):
                    continue
                level.rebuild(network, length)
                rebuilt.setdefault(length, set()).add(network >> (self.max_bits - length))

    def _inside_rebuilt(self, rebuilt: dict[int, set[int]], network: int, length: int) -> bool:
        for rebuilt_length, keys in rebuilt.items():
            if rebuilt_length <= length and (network >> (self.max_bits - rebuilt_length)) in keys:
                return True
        return False

    def load_in_steps(self, vrps: Iterable[Vrp], step: int) -> Iterator[None]:
        """Fill this (empty) lookup with `vrps`, yielding after about each `step` VRPs of work."""
        added = 0
        for vrp in vrps:
            self.prefix_map.add(vrp)
            added += 1
            if added % step == 0:
                yield
        self._count += added
        for level in self.levels:
            yield from level.rebuild_all_in_steps(step)
        self._levels_changed()

    def take_over(self, other: "FamilyLookup") -> None:
        """Become `other` (built aside with load_in_steps) in one step: its store and cells
        replace ours, and our `validate`, which callers may hold, now reads them."""
        self.prefix_map = other.prefix_map
        self.levels = other.levels
        self._count = other._count
        self._levels_changed()

    def clear(self) -> None:
        self.prefix_map.clear()
        self._count = 0
        for level in self.levels:
            level.cells.clear_all()
        self._levels_changed()

    def _levels_changed(self) -> None:
        """Hook: a level may have become empty or non-empty."""

    def covering(self, network: int, length: int) -> list[Vrp]:
        return self.prefix_map.covering(network, length)

    def validate_by_walk(self, network: int, length: int, origin_asn: int | None) -> RouteValidity:
        return validate_by_walk(self.prefix_map, network, length, origin_asn)
