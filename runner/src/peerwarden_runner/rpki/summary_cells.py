"""Storage for packed cell summaries: a flat array (IPv4 /24s) or a dict (sparse IPv6 cells).

Both offer the same small interface so that SummaryLevel does not care which it fills:
`get(key)` (0 when empty), `fill(first, count, value, masks, previous)` over a run of cells,
`clear(first, count)`, `clear_all()`, and `groups`: the per-ASN masks of "multi" summaries.
Runs are filled at C speed (slice assignment, dict.fromkeys), which is what keeps a full build
of 800,000 VRPs, whose short prefixes expand to millions of cells, within seconds.

A multi summary (several origins) refers to its per-ASN masks by a group id kept in the
summary's ASN field; a run of cells shares one group, and groups are reference counted by cells,
so memory follows the number of distinct groups, not the millions of cells under a /8.
"""

import mmap
from array import array
from collections import Counter
from collections.abc import Iterable

from peerwarden_runner.rpki.origin_summary import AsnMasks, SummaryLayout

CELL_BYTES = 8  # one uint64 per cell


class MultiOriginGroups:
    """Per-ASN masks of multi summaries, by key (the summary shifted right by `asn_shift`).

    `mask_by_key_and_asn` holds the same masks flattened, keyed by key << 32 | ASN: the
    validation hot path then needs one dict probe (one cache miss or two) instead of two nested.
    """

    def __init__(self, layout: SummaryLayout):
        self.layout = layout
        self.masks_by_key: dict[int, AsnMasks] = {}
        self.mask_by_key_and_asn: dict[int, int] = {}
        self._cells_by_key: dict[int, int] = {}
        self._free_ids: list[int] = []
        self._next_id = 0

    def __len__(self) -> int:
        return len(self.masks_by_key)

    def masks(self, value: int) -> AsnMasks | None:
        return self.masks_by_key.get(value >> self.layout.asn_shift) if value >> self.layout.multi_shift else None

    def attach(self, value: int, masks: AsnMasks | None, cells: int) -> int:
        """The summary to store in `cells` cells: `value` with a new group id if it is multi."""
        if masks is None:
            return value
        group_id = self._free_ids.pop() if self._free_ids else self._next_id
        if group_id == self._next_id:
            self._next_id += 1
        key = (1 << 32) | group_id  # the multi bit, seen from the ASN field, plus the id
        self.masks_by_key[key] = masks
        self._cells_by_key[key] = cells
        for asn, mask in masks.items():
            if mask:
                self.mask_by_key_and_asn[key << 32 | asn] = mask
        return value | group_id << self.layout.asn_shift

    def release(self, values: Iterable[tuple[int, int]]) -> None:
        """Forget cells: (summary, how many cells held it) pairs; frees groups no cell holds."""
        multi_shift = self.layout.multi_shift
        asn_shift = self.layout.asn_shift
        for value, cells in values:
            if value >> multi_shift:
                key = value >> asn_shift
                remaining = self._cells_by_key[key] - cells
                if remaining:
                    self._cells_by_key[key] = remaining
                else:
                    del self._cells_by_key[key]
                    for asn in self.masks_by_key.pop(key):
                        self.mask_by_key_and_asn.pop(key << 32 | asn, None)
                    self._free_ids.append(key & 0xFFFFFFFF)

    def clear(self) -> None:
        self.masks_by_key.clear()
        self.mask_by_key_and_asn.clear()
        self._cells_by_key.clear()
        self._free_ids.clear()
        self._next_id = 0


class ArraySummaryCells:
    """`size` cells of uint64 in an anonymous memory map.

    Why a map instead of `array("Q", bytes(...))`: the kernel hands out zero pages lazily, so the
    2**24 IPv4 /24 cells (128 MiB of address space) cost memory only where VRPs are, an empty
    table costs nothing, and `clear_all` can give the memory back (MADV_DONTNEED).
    Why not a list or dict: one cache miss per lookup instead of three (slot, key, value object).
    """

    def __init__(self, size: int, layout: SummaryLayout):
        self.size = size
        flags = {}
        if hasattr(mmap, "MAP_PRIVATE") and hasattr(mmap, "MAP_ANONYMOUS"):
            flags = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS}
        self._memory = mmap.mmap(-1, size * CELL_BYTES, **flags)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            self._memory.madvise(mmap.MADV_HUGEPAGE)
        self.values = memoryview(self._memory).cast("Q")
        self.groups = MultiOriginGroups(layout)

    def get(self, key: int) -> int:
        return self.values[key]

    def fill(self, first: int, count: int, value: int, masks: AsnMasks | None, previous: int | None) -> None:
        """Store `value` (+ `masks` if multi) in cells first..first+count-1; `previous`: what they
        all held before, when known (saves scanning the run)."""
        if previous is None or previous >> self.groups.layout.multi_shift:
            self._release(first, count, previous)
        if masks is not None:
            value = self.groups.attach(value, masks, count)
        if count == 1:
            self.values[first] = value
        else:
            self.values[first : first + count] = array("Q", (value,)) * count

    def clear(self, first: int, count: int) -> None:
        if count == self.size:
            self.clear_all()
            return
        self._release(first, count, None)
        if count == 1:
            self.values[first] = 0
        else:
            self.values[first : first + count] = array("Q", bytes(count * CELL_BYTES))

    def clear_all(self) -> None:
        if hasattr(mmap, "MADV_DONTNEED"):
            self._memory.madvise(mmap.MADV_DONTNEED)  # private anonymous pages read back as zero
        else:
            self.values[:] = array("Q", bytes(self.size * CELL_BYTES))
        self.groups.clear()

    def _release(self, first: int, count: int, previous: int | None) -> None:
        if not len(self.groups):
            return
        if previous is not None:
            self.groups.release(((previous, count),))
        else:
            self.groups.release(Counter(self.values[first : first + count]).items())


class DictSummaryCells:
    """Sparse cells in a dict, for address spaces too large for an array (IPv6)."""

    def __init__(self, layout: SummaryLayout):
        self.values: dict[int, int] = {}
        self.groups = MultiOriginGroups(layout)

    def __len__(self) -> int:
        return len(self.values)

    def get(self, key: int) -> int:
        return self.values.get(key, 0)

    def fill(self, first: int, count: int, value: int, masks: AsnMasks | None, previous: int | None) -> None:
        if previous is not None:
            self.groups.release(((previous, count),))
        else:
            self._drop(first, count)
        value = self.groups.attach(value, masks, count)
        if count == 1:
            self.values[first] = value
        else:
            self.values.update(dict.fromkeys(range(first, first + count), value))

    def clear(self, first: int, count: int) -> None:
        self._drop(first, count)

    def clear_all(self) -> None:
        self.values.clear()
        self.groups.clear()

    def _drop(self, first: int, count: int) -> None:
        """Delete cells first..first+count-1, probing or scanning, whichever is less work."""
        values = self.values
        if count <= len(values):
            dropped = [values.pop(key) for key in range(first, first + count) if key in values]
        else:
            end = first + count
            keys = [key for key in values if first <= key < end]
            dropped = [values.pop(key) for key in keys]
        if dropped and len(self.groups):
            self.groups.release(Counter(dropped).items())
