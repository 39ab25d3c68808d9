"""One level of cell summaries: cells of `cell_length` bits for the VRPs of lengths lowest..cell_length.

A cell of the level exists where a VRP of the level covers it (each such VRP is expanded to all
the cells it covers), and its packed summary (see origin_summary) is *complete*: it merges every
VRP covering the cell, including the shorter ones of shallower levels. So the first existing cell
a route finds, probing levels deepest first, answers for it entirely: a VRP covers the route
exactly when it covers that cell and is not longer than the route, and the summary's "shortest
length" and "valid lengths" fields answer for any route length.

Rebuilding relies on prefixes nesting: VRPs placed shortest first find the cells of their range
either empty or all holding the same summary (written by VRPs containing the whole range), so
each VRP costs one merge and one run fill, however many cells it covers.
"""

from collections.abc import Iterable, Iterator

from peerwarden_runner.rpki.origin_summary import AsnMasks, SummaryLayout
from peerwarden_runner.rpki.summary_cells import ArraySummaryCells, DictSummaryCells
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_prefix_map import VrpPrefixMap


class SummaryLevel:
    """Complete summaries of the cells covered by VRPs with lengths `lowest`..`cell_length`."""

    def __init__(
        self,
        prefix_map: VrpPrefixMap,
        layout: SummaryLayout,
        cells: ArraySummaryCells | DictSummaryCells,
        lowest: int,
        cell_length: int,
    ):
        self.prefix_map = prefix_map
        self.layout = layout
        self.cells = cells
        self.lowest = lowest
        self.cell_length = cell_length
        self.shift = prefix_map.max_bits - cell_length

    def holds_length(self, length: int) -> bool:
        return self.lowest <= length <= self.cell_length

    def rebuild(self, network: int, length: int) -> None:
        """Recompute every cell inside network/length (length <= cell_length) from the prefix map,
        after VRPs with that exact prefix were added or removed. A prefix shorter than the level
        changes the summaries of the level's cells inside it (they include their ancestors)."""
        first = network >> self.shift
        count = 1 << (self.cell_length - length)
        self.cells.clear(first, count)
        if length >= self.lowest and self.prefix_map.covering(network, length, min_length=self.lowest):
            # a VRP of this level covers the whole range: every cell in it exists
            value, masks = self._merged(self.prefix_map.covering(network, length))
            self.cells.fill(first, count, value, masks, previous=0)
        for vrp in self.prefix_map.inside(network, length, self.cell_length):  # shortest first
            if vrp.length >= self.lowest:
                self._place(vrp)

    def rebuild_all(self) -> None:
        for dummy_step in self.rebuild_all_in_steps(0):
            pass

    def rebuild_all_in_steps(self, step: int) -> Iterator[None]:
        """Rebuild every cell, yielding after each `step` VRPs (0: never), so that an asyncio
        caller can let other tasks run during a large build."""
        self.cells.clear_all()
        placed = 0
        for vrp in self.prefix_map.with_lengths(self.lowest, self.cell_length):  # shortest first
            self._place(vrp)
            placed += 1
            if placed == step:
                placed = 0
                yield

    def _place(self, vrp: Vrp) -> None:
        """Merge `vrp` into its run of cells, which hold one common summary (see module doc).

        An empty run has no VRP of this level above it, but may have shallower ancestors: they
        are merged first, so the summary is complete.
        """
        first = vrp.network >> self.shift
        count = 1 << (self.cell_length - vrp.length)
        old = self.cells.get(first)
        if not old and self.lowest == 0:  # the common case of a full build, kept short
            self.cells.fill(first, count, self.layout.first_summary(vrp), None, previous=0)
            return
        if old or self.lowest == 0:
            value, masks = self.layout.merge(old, self.cells.groups.masks(old), vrp)
        else:
            value, masks = self._merged(self.prefix_map.covering(vrp.network, self.lowest - 1))
            value, masks = self.layout.merge(value, masks, vrp)
        self.cells.fill(first, count, value, masks, previous=old)

    def _merged(self, vrps: Iterable[Vrp]) -> tuple[int, AsnMasks | None]:
        value, masks = 0, None
        for vrp in vrps:
            value, masks = self.layout.merge(value, masks, vrp)
        return value, masks
