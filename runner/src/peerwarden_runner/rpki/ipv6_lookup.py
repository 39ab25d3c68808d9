"""IPv6 route origin validation over a few levels of sparse cells.

The IPv6 space is too large for one array, so VRPs are grouped into levels of at most 8 prefix
lengths (default cells /8, /16, /24, /32, /40, /48), each a dict of complete packed summaries
(see summary_level). A route probes, deepest level first, the cell where it starts in each level
that can hold VRPs as short as the route, and the first cell found answers. Empty levels are
skipped (real tables have no VRP shorter than /19), so a /48 route covered by a /48 VRP costs one
probe, and a NotFound one at most four. Routes longer than the deepest level (/48 by default: not
globally routable) take the slow path over the exact store.
"""

from collections.abc import Callable, Sequence
from typing import cast

from peerwarden_runner.rpki.family_lookup import INVALID, NOT_FOUND, VALID, FamilyLookup, Validator
from peerwarden_runner.rpki.origin_summary import SummaryLayout
from peerwarden_runner.rpki.route_validity import RouteValidity
from peerwarden_runner.rpki.summary_cells import DictSummaryCells
from peerwarden_runner.rpki.summary_level import SummaryLevel

IPV6_BITS = 128
IPV6_LEVEL_LENGTHS = (8, 16, 24, 32, 40, 48)
MAX_LEVEL_STRIDE = 8  # a VRP is stored in up to 2**stride cells

Probe = tuple[int, Callable[[int], int | None], Callable[[int, int], int]]


class Ipv6Lookup(FamilyLookup):
    """IPv6 VRPs: exact store plus levelled summary cells. `validate(network, length, origin)`."""

    def __init__(self, level_lengths: Sequence[int] = IPV6_LEVEL_LENGTHS):
        super().__init__(IPV6_BITS)
        lengths = list(level_lengths)
        if (
            lengths != sorted(set(lengths))
            or not 0 < lengths[0] <= MAX_LEVEL_STRIDE
            or lengths[-1] > IPV6_BITS
            or any(longer - shorter > MAX_LEVEL_STRIDE for shorter, longer in zip(lengths, lengths[1:]))
        ):
            raise ValueError(
                "IPv6 levels %r: increasing cell lengths, steps of at most %d" % (level_lengths, MAX_LEVEL_STRIDE)
            )
        self.layout = SummaryLayout(longest_route=lengths[-1], length_bits=lengths[-1].bit_length())
        lowest = 0
        for cell_length in lengths:
            cells = DictSummaryCells(self.layout)
            self.levels.append(SummaryLevel(self.prefix_map, self.layout, cells, lowest, cell_length))
            lowest = cell_length + 1
        self._plans: list[tuple[Probe, ...]] = []
        self._levels_changed()
        self.validate = _make_validator(self._plans, self.layout, self.validate_by_walk)

    def cell_count(self) -> int:
        return sum(len(cast(DictSummaryCells, level.cells)) for level in self.levels)

    def _levels_changed(self) -> None:
        """Per route length, the non-empty levels to probe, deepest first."""
        plans = []
        for route_length in range(self.layout.longest_route + 1):
            plans.append(
                tuple(
                    (
                        IPV6_BITS - level.cell_length,
                        cast(DictSummaryCells, level.cells).values.get,
                        level.cells.groups.mask_by_key_and_asn.get,
                    )
                    for level in reversed(self.levels)
                    if level.lowest <= route_length and level.cells.values
                )
            )
        self._plans[:] = plans


def _make_validator(plans: list[tuple[Probe, ...]], layout: SummaryLayout, slow_path: Validator) -> Validator:
    longest_route, length_shift, length_field, asn_shift, multi_shift = layout.validator_fields()

    def validate_ipv6(network: int, length: int, origin_asn: int | None) -> RouteValidity:
        """RFC 6811 §2 state of IPv6 route network/length (an int, host bits zero)."""
        if length > longest_route:
            return slow_path(network, length, origin_asn)
        for shift, summary_of, group_mask_of in plans[length]:
            summary = summary_of(network >> shift)
            if summary is None:
                continue
            # the deepest cell found knows every covering VRP (complete summary)
            if summary >> length_shift & length_field > length:
                return NOT_FOUND
            if summary >> asn_shift == origin_asn:
                return VALID if summary >> length & 1 else INVALID
            if (
                summary >> multi_shift
                and origin_asn
                and group_mask_of(summary >> asn_shift << 32 | origin_asn, 0) >> length & 1
            ):
                return VALID
            return INVALID
        return NOT_FOUND

    return validate_ipv6
