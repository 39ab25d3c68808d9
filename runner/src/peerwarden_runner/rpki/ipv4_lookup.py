"""IPv4 route origin validation in one memory access: a summary for every /24.

The whole IPv4 space has 2**24 /24s, so a flat array of one packed summary per /24 (see
origin_summary and summary_level) turns validation of any route up to /24 into one array read
plus a few integer operations, whatever the number of VRPs and however they nest. Routes longer
than /24 (rare: most networks filter them) take the slow path over the exact store, because
VRPs longer than /24 are not in the /24 cells.
"""

from collections.abc import Callable

from peerwarden_runner.rpki.family_lookup import INVALID, NOT_FOUND, VALID, FamilyLookup, Validator
from peerwarden_runner.rpki.origin_summary import SummaryLayout
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.summary_cells import ArraySummaryCells
from peerwarden_runner.rpki.summary_level import SummaryLevel

IPV4_BITS = 32
CELL_LENGTH = 24
SHORTEST_LENGTH_BITS = 5  # 0..24 fits; the packed summary then fits in 64 bits


class Ipv4Lookup(FamilyLookup):
    """IPv4 VRPs: exact store plus the /24 summary array. `validate(network, length, origin)`."""

    def __init__(self) -> None:
        super().__init__(IPV4_BITS)
        self.layout = SummaryLayout(longest_route=CELL_LENGTH, length_bits=SHORTEST_LENGTH_BITS)
        self.cells = ArraySummaryCells(1 << CELL_LENGTH, self.layout)
        self.levels = [SummaryLevel(self.prefix_map, self.layout, self.cells, 0, CELL_LENGTH)]
        self.validate, self._retarget = _make_validator(self.cells, self.layout, self.validate_by_walk)

    def take_over(self, other: FamilyLookup) -> None:
        assert isinstance(other, Ipv4Lookup)
        super().take_over(other)
        self.cells = other.cells
        self._retarget(other.cells)


def _make_validator(
    cells: ArraySummaryCells, layout: SummaryLayout, slow_path: Validator
) -> tuple[Validator, Callable[[ArraySummaryCells], None]]:
    """A closure, so that the hot path reads only fast locals and cell variables, and a function
    that points it at other cells (for take_over) without changing the closure callers hold."""
    values = cells.values
    mask_by_group_and_asn = cells.groups.mask_by_key_and_asn
    cell_shift = IPV4_BITS - CELL_LENGTH
    longest_route, length_shift, length_field, asn_shift, multi_shift = layout.validator_fields()

    def validate_ipv4(network: int, length: int, origin_asn: int | None) -> RouteValidity:
        """RFC 6811 §2 state of IPv4 route network/length (an int, host bits zero).

        `origin_asn` None (AS_SET or empty AS_PATH) and 0 are never valid.
        """
        if length > longest_route:
            return slow_path(network, length, origin_asn)
        summary = values[network >> cell_shift]
        if summary >> asn_shift == origin_asn:  # the cell's single origin is the route's: the common case
            if summary >> length & 1:  # a mask bit is set only where a VRP covers and allows the length
                return VALID
            # origin 0 also lands here, for an empty cell or one of AS0 VRPs only
            return INVALID if summary and summary >> length_shift & length_field <= length else NOT_FOUND
        if not summary or summary >> length_shift & length_field > length:
            return NOT_FOUND  # no VRP as short as the route covers its first /24
        if (
            summary >> multi_shift
            and origin_asn
            and mask_by_group_and_asn.get(summary >> asn_shift << 32 | origin_asn, 0) >> length & 1
        ):
            return VALID
        return INVALID

    def retarget(new_cells: ArraySummaryCells) -> None:
        nonlocal values, mask_by_group_and_asn
        values = new_cells.values
        mask_by_group_and_asn = new_cells.groups.mask_by_key_and_asn

    return validate_ipv4, retarget
