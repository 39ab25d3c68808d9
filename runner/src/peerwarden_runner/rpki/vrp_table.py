"""The VRP table: the set of VRPs from one source, RFC 6811 validation, and change tracking.

One table per source (a VRP file, or an RTR client with its caches): a source replaces or
patches its own table, and the table can tell consumers what changed since a serial they saw, so
they re-validate only the affected routes.

Every change becomes visible at once: `apply` and `replace_all` are single synchronous calls,
and `replace_all_async` builds a large new content aside (letting the event loop run) before
swapping it in. So in an asyncio program no reader ever sees a half-applied update.
"""

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Protocol

from peerwarden_runner.rpki.family_lookup import REBUILD_ALL_MINIMUM, REBUILD_ALL_SHARE
from peerwarden_runner.rpki.gc_pause import collect_young, cyclic_gc_paused
from peerwarden_runner.rpki.ipv4_lookup import Ipv4Lookup
from peerwarden_runner.rpki.ipv6_lookup import IPV6_LEVEL_LENGTHS, Ipv6Lookup
from peerwarden_runner.rpki.prefix import PrefixLike, int_prefix
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import EMPTY_DIFF, VrpDiff, compose_diffs
from peerwarden_runner.rpki.vrp_set import VrpSet

DEFAULT_HISTORY_CHANGES = 64
DEFAULT_HISTORY_VRPS = 200_000
BULK_CHANGE = 10_000  # VRPs; a change this large runs with the cyclic GC paused (see gc_pause)
BUILD_STEP = 500  # VRPs between two looks at the clock in replace_all_async
BUILD_SLICE = 0.02  # seconds of building before other tasks get their turn


class _Pacer:
    """Decides when a long build lets the event loop run: every BUILD_SLICE seconds of work,
    whatever the cost of a step (IPv6 VRPs cost several times IPv4 ones)."""

    def __init__(self) -> None:
        self._since = time.monotonic()

    async def maybe_pause(self) -> None:
        if time.monotonic() - self._since >= BUILD_SLICE:
            await self.pause()

    async def pause(self) -> None:
        collect_young()  # what the paused collector would have done by now (see gc_pause)
        await asyncio.sleep(0)
        self._since = time.monotonic()


class VrpStore(Protocol):
    """What loading VRPs needs of where they go (the file watcher, the RTR client): a VrpTable, or
    one source of a VrpUnion (vrp_union.SourceVrps)."""

    def __len__(self) -> int: ...

    def __contains__(self, vrp: object) -> bool: ...

    def apply(self, added: Iterable[Vrp] = (), removed: Iterable[Vrp] = ()) -> VrpDiff: ...

    def replace_all(self, vrps: Iterable[Vrp]) -> VrpDiff: ...

    async def replace_all_async(self, vrps: Iterable[Vrp], *, adopt: bool = False) -> VrpDiff: ...

    def clear(self) -> VrpDiff: ...


class VrpTable(VrpSet):
    """VRPs for IPv4 and IPv6 with fast RFC 6811 route origin validation.

    Hot path: `validate_ipv4(network, length, origin)` / `validate_ipv6(...)` take the route as
    ints (host bits zero); they are the lookups' own closures, so calling them costs no extra
    Python frame. `validate(prefix, origin)` accepts any prefix form and dispatches.

    `serial` increases by one with every change; `changes_since(serial)` returns the net diff
    since then while it is still in the bounded history.
    """

    def __init__(
        self,
        vrps: Iterable[Vrp] = (),
        *,
        ipv6_levels: Sequence[int] = IPV6_LEVEL_LENGTHS,
        history_changes: int = DEFAULT_HISTORY_CHANGES,
        history_vrps: int = DEFAULT_HISTORY_VRPS,
    ):
        super().__init__()
        self._ipv4 = Ipv4Lookup()
        self._ipv6_levels = ipv6_levels
        self._ipv6 = Ipv6Lookup(ipv6_levels)
        self._by_version = {4: self._ipv4, 6: self._ipv6}
        self.validate_ipv4 = self._ipv4.validate
        self.validate_ipv6 = self._ipv6.validate
        self._serial = 0
        self._history: deque[tuple[int, VrpDiff]] = deque()
        self._history_changes = history_changes
        self._history_vrps = history_vrps
        self._history_size = 0
        self._oldest_serial_known = 0
        if vrps:
            initial = set(vrps)
            with cyclic_gc_paused(len(initial) >= BULK_CHANGE):
                self._apply_unrecorded(initial, ())

    # -- reading ----------------------------------------------------------------------------------

    def snapshot(self) -> frozenset[Vrp]:
        return frozenset(self._vrps)

    @property
    def serial(self) -> int:
        """Bumped by every change; lets consumers notice (and ask for) changes cheaply."""
        return self._serial

    def validate(self, prefix: PrefixLike, origin_asn: int | None) -> RouteValidity:
        """RFC 6811 §2 state of route `prefix` originated by `origin_asn` (None: AS_SET or empty path)."""
        route = int_prefix(prefix)
        return self._by_version[route.version].validate(route.network, route.length, origin_asn)

    def covering(self, prefix: PrefixLike) -> list[Vrp]:
        """The VRPs covering `prefix` (to explain a validation result)."""
        route = int_prefix(prefix)
        return self._by_version[route.version].covering(route.network, route.length)

    def is_covered(self, prefix: PrefixLike) -> bool:
        return bool(self.covering(prefix))

    def count(self, version: int) -> int:
        """Number of VRPs of IP `version` (4 or 6)."""
        return len(self._by_version[version])

    def stats(self) -> dict[str, int]:
        """Sizes for metrics and benchmarks (cells: where memory goes besides the VRPs)."""
        return {
            "vrps": len(self._vrps),
            "ipv4": len(self._ipv4),
            "ipv6": len(self._ipv6),
            "ipv4_multi_origin_groups": len(self._ipv4.cells.groups),
            "ipv6_cells": self._ipv6.cell_count(),
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
        return self._commit(*self.net_change(added, removed))

    def replace_all(self, vrps: Iterable[Vrp]) -> VrpDiff:
        """Make the table hold exactly `vrps`; returns the difference to before."""
        wanted = vrps if isinstance(vrps, (set, frozenset)) else set(vrps)
        return self._commit(wanted - self._vrps, self._vrps - wanted)

    def clear(self) -> VrpDiff:
        return self.replace_all(())

    async def replace_all_async(self, vrps: Iterable[Vrp], *, adopt: bool = False) -> VrpDiff:
        """`replace_all` for asyncio: a large change (a first load, a reset) is built aside in
        steps, letting other tasks run at least every BUILD_SLICE seconds (a full table takes
        seconds to build), then swapped in at once; until then the old contents answer.
        Small changes are applied directly, as `replace_all` would. `adopt`: `vrps` is a set
        the caller hands over and will not touch again (saves copying a million entries).

        The cyclic GC's automatic runs are paused during the build (see gc_pause). One full
        collection will still come later; a daemon may call gc.freeze() once its tables are
        loaded to spare it that.
        """
        wanted = vrps if isinstance(vrps, (set, frozenset)) else set(vrps)
        added, removed = wanted - self._vrps, self._vrps - wanted
        if len(added) + len(removed) <= max(REBUILD_ALL_MINIMUM, len(wanted) // REBUILD_ALL_SHARE):
            return self._commit(added, removed)
        serial = self._serial
        pacer = _Pacer()
        with cyclic_gc_paused(True):
            by_version: dict[int, list[Vrp]] = {4: [], 6: []}
            for index, vrp in enumerate(wanted):
                by_version[vrp.version].append(vrp)
                if index % BUILD_STEP == 0:
                    await pacer.maybe_pause()
            fresh_ipv4, fresh_ipv6 = Ipv4Lookup(), Ipv6Lookup(self._ipv6_levels)
            for fresh, version in ((fresh_ipv4, 4), (fresh_ipv6, 6)):
                for dummy_step in fresh.load_in_steps(by_version[version], BUILD_STEP):
                    await pacer.maybe_pause()
            diff = VrpDiff(frozenset(added), frozenset(removed))  # C loops, ~0.1 s for a million
            await pacer.pause()
            new_vrps = wanted if adopt and isinstance(wanted, set) else set(wanted)
            await pacer.pause()
            if self._serial != serial:  # changed meanwhile: the build is stale, do it the blocking way
                return self.replace_all(new_vrps)
            self._ipv4.take_over(fresh_ipv4)
            self._ipv6.take_over(fresh_ipv6)
            self._vrps = new_vrps
        self._serial += 1
        self._remember(diff)
        return diff

    def changes_since(self, serial: int) -> VrpDiff | None:
        """Net change between table serial `serial` and now; None when the history no longer
        reaches back that far (the consumer must then re-validate everything)."""
        if serial == self._serial:
            return EMPTY_DIFF
        if serial > self._serial or serial < self._oldest_serial_known:
            return None
        return compose_diffs(diff for diff_serial, diff in self._history if diff_serial > serial)

    def _commit(self, added: frozenset[Vrp] | set[Vrp], removed: frozenset[Vrp] | set[Vrp]) -> VrpDiff:
        if not added and not removed:
            return EMPTY_DIFF
        with cyclic_gc_paused(len(added) + len(removed) >= BULK_CHANGE):
            self._apply_unrecorded(added, removed)
        diff = VrpDiff(frozenset(added), frozenset(removed))
        self._serial += 1
        self._remember(diff)
        return diff

    def _apply_unrecorded(self, added: Iterable[Vrp], removed: Iterable[Vrp]) -> None:
        """Apply a change known to be exact: every `removed` VRP present, every `added` absent."""
        added_by_version: dict[int, list[Vrp]] = {4: [], 6: []}
        removed_by_version: dict[int, list[Vrp]] = {4: [], 6: []}
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
        while self._history and (len(self._history) > self._history_changes or self._history_size > self._history_vrps):
            oldest_serial, oldest = self._history.popleft()
            self._history_size -= len(oldest.added) + len(oldest.removed)
            self._oldest_serial_known = oldest_serial
