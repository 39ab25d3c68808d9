"""The VRP table: the set of VRPs from one source, RFC 6811 validation, and change tracking.

One table per source (a VRP file, or an RTR client with its caches): a source replaces or
patches its own table, and the table can tell consumers what changed since a serial they saw, so
they re-validate only the affected routes.

All mutations happen in one synchronous call (`apply`, `replace_all`), so in an asyncio program
no reader ever sees a half-applied update.
"""
import gc
from collections import deque
from contextlib import contextmanager
from typing import Deque, Dict, FrozenSet, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from peerwarden_runner.rpki.prefix import PrefixLike, as_prefix
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import EMPTY_DIFF, VrpDiff, compose_diffs
from peerwarden_runner.rpki.ipv4_lookup import Ipv4Lookup
from peerwarden_runner.rpki.ipv6_lookup import IPV6_LEVEL_LENGTHS, Ipv6Lookup

DEFAULT_HISTORY_CHANGES = 64
DEFAULT_HISTORY_VRPS = 200_000
BULK_CHANGE = 10_000  # VRPs; a change this large runs with the cyclic GC paused


@contextmanager
def _cyclic_gc_paused(paused: bool):
    """Pause the cyclic garbage collector around a bulk change.

    A full load creates millions of tuples and ints but no reference cycles; with the collector
    on, its repeated passes over the growing heap add ~30% to the build time for nothing.
    """
    was_enabled = gc.isenabled()
    if paused and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if paused and was_enabled:
            gc.enable()


class VrpTable:
    """VRPs for IPv4 and IPv6 with fast RFC 6811 route origin validation.

    Hot path: `validate_ipv4(network, length, origin)` / `validate_ipv6(...)` take the route as
    ints (host bits zero); they are the lookups' own closures, so calling them costs no extra
    Python frame. `validate(prefix, origin)` accepts any prefix form and dispatches.

    `serial` increases by one with every change; `changes_since(serial)` returns the net diff
    since then while it is still in the bounded history.
    """

    def __init__(self, vrps: Iterable[Vrp] = (), *, ipv6_levels: Sequence[int] = IPV6_LEVEL_LENGTHS,
                 history_changes: int = DEFAULT_HISTORY_CHANGES, history_vrps: int = DEFAULT_HISTORY_VRPS):
        self._vrps: Set[Vrp] = set()
        self._ipv4 = Ipv4Lookup()
        self._ipv6 = Ipv6Lookup(ipv6_levels)
        self._by_version = {4: self._ipv4, 6: self._ipv6}
        self.validate_ipv4 = self._ipv4.validate
        self.validate_ipv6 = self._ipv6.validate
        self._serial = 0
        self._history: Deque[Tuple[int, VrpDiff]] = deque()
        self._history_changes = history_changes
        self._history_vrps = history_vrps
        self._history_size = 0
        self._oldest_serial_known = 0
        if vrps:
            initial = set(vrps)
            with _cyclic_gc_paused(len(initial) >= BULK_CHANGE):
                self._apply_unrecorded(initial, ())

    # -- reading ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._vrps)

    def __contains__(self, vrp: object) -> bool:
        return vrp in self._vrps

    def __iter__(self) -> Iterator[Vrp]:
        return iter(self._vrps)

    def snapshot(self) -> FrozenSet[Vrp]:
        return frozenset(self._vrps)

    @property
    def serial(self) -> int:
        """Bumped by every change; lets consumers notice (and ask for) changes cheaply."""
        return self._serial

    def validate(self, prefix: PrefixLike, origin_asn: Optional[int]) -> RouteValidity:
        """RFC 6811 §2 state of route `prefix` originated by `origin_asn` (None: AS_SET or empty path)."""
        route = as_prefix(prefix)
        return self._by_version[route.version].validate(route.network, route.length, origin_asn)

    def covering(self, prefix: PrefixLike) -> List[Vrp]:
        """The VRPs covering `prefix` (to explain a validation result)."""
        route = as_prefix(prefix)
        return self._by_version[route.version].covering(route.network, route.length)

    def is_covered(self, prefix: PrefixLike) -> bool:
        return bool(self.covering(prefix))

    def count(self, version: int) -> int:
        """Number of VRPs of IP `version` (4 or 6)."""
        return len(self._by_version[version])

    def stats(self) -> Dict[str, int]:
        """Sizes for metrics and benchmarks (cells: where memory goes besides the VRPs)."""
        return {
            "vrps": len(self._vrps), "ipv4": len(self._ipv4), "ipv6": len(self._ipv6),
            "ipv4_multi_origin_groups": len(self._ipv4.cells.groups), "ipv6_cells": self._ipv6.cell_count(),
        }

    # -- changing ---------------------------------------------------------------------------------

    def add(self, vrp: Vrp) -> bool:
        """Add one VRP; False if it was present already."""
        return bool(self.apply(added=(vrp,)))

    def remove(self, vrp: Vrp) -> bool:
        """Remove one VRP; False if it was not present."""
        return bool(self.apply(removed=(vrp,)))

    def apply(self, added: Iterable[Vrp] = (), removed: Iterable[Vrp] = ()) -> VrpDiff:
        """Remove then add, as one change; returns what really changed (present VRPs are not
        added again, absent ones not removed)."""
        really_removed = {vrp for vrp in removed if vrp in self._vrps}
        really_added = {vrp for vrp in added if vrp not in self._vrps or vrp in really_removed}
        really_removed_and_back = really_removed & really_added
        really_removed -= really_removed_and_back
        really_added -= really_removed_and_back
        return self._commit(really_added, really_removed)

    def replace_all(self, vrps: Iterable[Vrp]) -> VrpDiff:
        """Make the table hold exactly `vrps`; returns the difference to before."""
        wanted = vrps if isinstance(vrps, (set, frozenset)) else set(vrps)
        return self._commit(wanted - self._vrps, self._vrps - wanted)

    def clear(self) -> VrpDiff:
        return self.replace_all(())

    def changes_since(self, serial: int) -> Optional[VrpDiff]:
        """Net change between table serial `serial` and now; None when the history no longer
        reaches back that far (the consumer must then re-validate everything)."""
        if serial == self._serial:
            return EMPTY_DIFF
        if serial > self._serial or serial < self._oldest_serial_known:
            return None
        return compose_diffs(diff for diff_serial, diff in self._history if diff_serial > serial)

    def _commit(self, added: FrozenSet[Vrp] | Set[Vrp], removed: FrozenSet[Vrp] | Set[Vrp]) -> VrpDiff:
        if not added and not removed:
            return EMPTY_DIFF
        with _cyclic_gc_paused(len(added) + len(removed) >= BULK_CHANGE):
            self._apply_unrecorded(added, removed)
        diff = VrpDiff(frozenset(added), frozenset(removed))
        self._serial += 1
        self._remember(diff)
        return diff

    def _apply_unrecorded(self, added: Iterable[Vrp], removed: Iterable[Vrp]) -> None:
        """Apply a change known to be exact: every `removed` VRP present, every `added` absent."""
        added_by_version: Dict[int, List[Vrp]] = {4: [], 6: []}
        removed_by_version: Dict[int, List[Vrp]] = {4: [], 6: []}
        for vrp in removed:
            removed_by_version[vrp.version].append(vrp)
        for vrp in added:
            added_by_version[vrp.version].append(vrp)
        self._vrps.difference_update(removed)
        self._vrps.update(added)
        for version, lookup in self._by_version.items():
            if added_by_version[version] or removed_by_version[version]:
                lookup.apply(added_by_version[version], removed_by_version[version])

    def _remember(self, diff: VrpDiff) -> None:
        """Keep recent diffs, bounded both in count and in VRPs (a full reload can be huge)."""
        size = len(diff.added) + len(diff.removed)
        self._history.append((self._serial, diff))
        self._history_size += size
        while self._history and (len(self._history) > self._history_changes
                                 or self._history_size > self._history_vrps):
            oldest_serial, oldest = self._history.popleft()
            self._history_size -= len(oldest.added) + len(oldest.removed)
            self._oldest_serial_known = oldest_serial
