"""One level of cell summaries: VRPs of lengths lowest..cell_length, expanded to cell_length.

Each VRP of the level is recorded in every cell (prefix of `cell_length` bits) it covers, merged
into that cell's packed summary (see origin_summary). A route of length L >= lowest then finds
everything this level knows about it in the cell where it starts: a VRP of the level covers the
route exactly when it covers that cell and is not longer than L, and the summary's "shortest
length" and "valid lengths" fields already answer for every L.

Rebuilding a range relies on prefixes nesting: VRPs placed shortest first find the cells of
their range either untouched or all holding the same summary (written by VRPs that contain the
whole range), so each VRP costs one merge and one run fill, however many cells it covers.
"""
from typing import Union

from peerwarden_runner.rpki.origin_summary import SummaryLayout
from peerwarden_runner.rpki.summary_cells import ArraySummaryCells, DictSummaryCells
from peerwarden_runner.rpki.vrp import Vrp
from peerwarden_runner.rpki.vrp_prefix_map import VrpPrefixMap


class SummaryLevel:
    """Summaries of the VRPs with lengths `lowest`..`cell_length`, one per cell."""

    def __init__(self, prefix_map: VrpPrefixMap, layout: SummaryLayout,
                 cells: Union[ArraySummaryCells, DictSummaryCells], lowest: int, cell_length: int):
        self.prefix_map = prefix_map
        self.layout = layout
        self.cells = cells
        self.lowest = lowest
        self.cell_length = cell_length
        self.shift = prefix_map.max_bits - cell_length

    def holds_length(self, length: int) -> bool:
        return self.lowest <= length <= self.cell_length

    def rebuild(self, network: int, length: int) -> None:
        """Recompute every cell inside network/length (lowest <= length <= cell_length) from the
        prefix map, after VRPs with that exact prefix were added or removed."""
        first = network >> self.shift
        count = 1 << (self.cell_length - length)
        self.cells.clear(first, count)
        value, masks = 0, None
        for vrp in self.prefix_map.covering(network, length, min_length=self.lowest):
            value, masks = self.layout.merge(value, masks, vrp)
        if value:
            self.cells.fill(first, count, value, masks, previous=0)
        for vrp in self.prefix_map.inside(network, length, self.cell_length):  # shortest first
            self._place(vrp)

    def rebuild_all(self) -> None:
        self.cells.clear_all()
        for vrp in self.prefix_map.with_lengths(self.lowest, self.cell_length):  # shortest first
            self._place(vrp)

    def _place(self, vrp: Vrp) -> None:
        """Merge `vrp` into its run of cells, which hold one common summary (see module doc)."""
        first = vrp.network >> self.shift
        old = self.cells.get(first)
        value, masks = self.layout.merge(old, self.cells.groups.masks(old), vrp)
        self.cells.fill(first, 1 << (self.cell_length - vrp.length), value, masks, previous=old)
