"""Several VRP sources behind one validating table (a local VRP file next to RTR caches): each
source keeps its own set, the table holds their union, and only what the union gains or loses
reaches the table and the rpki stage. A VRP two sources share stays until both drop it (an RTR
cache expiring leaves the file's VRPs in place)."""

from collections.abc import Callable, Iterable

from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_diff import VrpDiff
from peerwarden_runner.rpki.vrp_set import VrpSet
from peerwarden_runner.rpki.vrp_table import VrpTable

EMPTY = VrpDiff(frozenset(), frozenset())
LARGE_CHANGE = 10000  # above this many VRPs, the table is rebuilt aside (replace_all_async) rather than edited


class VrpUnion:
    def __init__(self, table: VrpTable, on_change: Callable[[VrpDiff], object] | None = None):
        self.table, self.on_change = table, on_change
        self.sources: list[SourceVrps] = []

    def source(self, name: str) -> "SourceVrps":
        """A new source's table, to give to a VrpFileWatcher or an RtrClient."""
        source = SourceVrps(name, self)
        self.sources.append(source)
        return source

    def _held_elsewhere(self, vrp: Vrp, source: "SourceVrps") -> bool:
        return any(vrp in other._vrps for other in self.sources if other is not source)

    def _union_diff(self, source: "SourceVrps", diff: VrpDiff) -> VrpDiff:
        """What the union gains and loses when `source` (already updated) changed by `diff`."""
        gained = frozenset(vrp for vrp in diff.added if vrp not in self.table)
        lost = frozenset(vrp for vrp in diff.removed if not self._held_elsewhere(vrp, source))
        return VrpDiff(gained, lost)

    def _tell(self, diff: VrpDiff) -> None:
        if diff and self.on_change is not None:
            self.on_change(diff)

    def changed(self, source: "SourceVrps", diff: VrpDiff) -> None:
        union = self._union_diff(source, diff)
        self.table.apply(added=union.added, removed=union.removed)
        self._tell(union)

    async def changed_async(self, source: "SourceVrps", diff: VrpDiff) -> None:
        union = self._union_diff(source, diff)
        if len(union.added) + len(union.removed) > LARGE_CHANGE:
            wanted = set().union(*(other._vrps for other in self.sources))
            await self.table.replace_all_async(wanted, adopt=True)
        else:
            self.table.apply(added=union.added, removed=union.removed)
        self._tell(union)


class SourceVrps(VrpSet):
    """One source's VRPs, with the part of VrpTable's interface that the file watcher and the RTR
    client use (apply, replace_all, replace_all_async, clear, len, in)."""

    def __init__(self, name: str, union: VrpUnion):
        super().__init__()
        self.name, self.union = name, union

    def _commit(self, added: Iterable[Vrp], removed: Iterable[Vrp]) -> VrpDiff:
        diff = VrpDiff(frozenset(added), frozenset(removed))
        if not diff:
            return EMPTY
        self._vrps.difference_update(diff.removed)
        self._vrps.update(diff.added)
        return diff

    def apply(self, added: Iterable[Vrp] = (), removed: Iterable[Vrp] = ()) -> VrpDiff:
        diff = self._commit(*self.net_change(added, removed))
        if diff:
            self.union.changed(self, diff)
        return diff

    def replace_all(self, vrps: Iterable[Vrp]) -> VrpDiff:
        wanted = set(vrps)
        diff = self._commit(wanted - self._vrps, self._vrps - wanted)
        if diff:
            self.union.changed(self, diff)
        return diff

    async def replace_all_async(self, vrps: Iterable[Vrp], *, adopt: bool = False) -> VrpDiff:
        wanted = vrps if adopt and isinstance(vrps, set) else set(vrps)
        diff = self._commit(wanted - self._vrps, self._vrps - wanted)
        if diff:
            await self.union.changed_async(self, diff)
        return diff

    def clear(self) -> VrpDiff:
        return self.replace_all(())
