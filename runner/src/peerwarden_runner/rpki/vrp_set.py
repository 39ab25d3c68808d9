"""The reading side of a set of VRPs that changes by whole diffs (VrpTable, one source of a VrpUnion), and
the rule both apply a change by."""

from collections.abc import Iterable, Iterator

from peerwarden_runner.rpki.vrp import Vrp


class VrpSet:
    """`len`, `in` and iteration over the VRPs held in `_vrps`; `net_change` for `apply`."""

    def __init__(self) -> None:
        self._vrps: set[Vrp] = set()

    def __len__(self) -> int:
        return len(self._vrps)

    def __contains__(self, vrp: object) -> bool:
        return vrp in self._vrps

    def __iter__(self) -> Iterator[Vrp]:
        return iter(self._vrps)

    def net_change(self, added: Iterable[Vrp], removed: Iterable[Vrp]) -> tuple[set[Vrp], set[Vrp]]:
        """(added, removed) that really change the set when `removed` go and then `added` come: present
        VRPs are not added again, absent ones not removed, and one removed and added back is neither."""
        really_removed = {vrp for vrp in removed if vrp in self._vrps}
        really_added = {vrp for vrp in added if vrp not in self._vrps or vrp in really_removed}
        back = really_removed & really_added
        return really_added - back, really_removed - back
