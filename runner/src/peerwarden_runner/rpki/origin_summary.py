"""Packed per-cell summaries of covering VRPs: what validation needs, in one integer.

RFC 6811 §2 asks two questions of the VRPs covering a route of length L from origin AS O:
  - is there any (then the route is at least Invalid rather than NotFound)?  That holds when the
    shortest of them is not longer than L;
  - does one have ASN O and maxLength >= L (then Valid)?  Per ASN, the set of route lengths a VRP
    set validates is a bit mask (bit L set for every L in length..maxLength).
So a cell's summary is (shortest VRP length, ASN, mask of valid route lengths). Most cells have
VRPs of a single origin, and then the summary is one int:

    bits 0 .. R            valid route lengths (R = longest route length served)
    next length_bits bits  shortest covering VRP length
    next bit               "present" (an AS0 /0 VRP would otherwise look like an empty cell)
    next 32 bits           origin ASN
    next bit               "multi": several origins; the per-ASN masks are kept beside the cell

Validation then costs a handful of shifts on one int that comes from one memory access, which
is what makes a million validations per second possible in CPython. A VRP for AS0 (RFC 6483 §4)
and a route without a single origin (None) never validate: AS0 contributes coverage, no mask.
"""

from peerwarden_runner.rpki.vrp import Vrp

AsnMasks = dict[int, int]


class SummaryLayout:
    """Bit positions of a packed summary for route lengths 0..`longest_route`."""

    def __init__(self, longest_route: int, length_bits: int):
        self.longest_route = longest_route
        self.length_shift = longest_route + 1
        self.length_field = (1 << length_bits) - 1
        self.present = 1 << (self.length_shift + length_bits)
        self.asn_shift = self.length_shift + length_bits + 1
        self.multi_shift = self.asn_shift + 32
        self.multi = 1 << self.multi_shift

    def validator_fields(self) -> tuple[int, int, int, int, int]:
        """(longest_route, length_shift, length_field, asn_shift, multi_shift): what the IPv4 and IPv6
        validators copy into fast locals, in one assignment."""
        return self.longest_route, self.length_shift, self.length_field, self.asn_shift, self.multi_shift

    def valid_lengths(self, vrp: Vrp) -> int:
        """Mask of the route lengths that `vrp` makes valid (none for AS0)."""
        if vrp.asn == 0 or vrp.length > self.longest_route:
            return 0
        longest = min(vrp.max_length, self.longest_route)
        return ((1 << (longest + 1)) - 1) ^ ((1 << vrp.length) - 1)

    def single(self, asn: int, shortest: int, mask: int) -> int:
        return asn << self.asn_shift | self.present | shortest << self.length_shift | mask

    def several(self, shortest: int) -> int:
        return self.multi | self.present | shortest << self.length_shift

    def shortest(self, value: int) -> int:
        return value >> self.length_shift & self.length_field

    def first_summary(self, vrp: Vrp) -> int:
        """The summary of a cell covered by `vrp` alone."""
        return self.single(vrp.asn, vrp.length, self.valid_lengths(vrp))

    def merge(self, value: int, masks: AsnMasks | None, vrp: Vrp) -> tuple[int, AsnMasks | None]:
        """The summary `value` (with its per-ASN `masks` when multi) plus `vrp`.

        Never mutates `masks`: the same dict may be shared by many cells.
        """
        if not value:
            return self.first_summary(vrp), None
        mask = self.valid_lengths(vrp)
        shortest = min(self.shortest(value), vrp.length)
        if value >> self.multi_shift:
            merged = dict(masks or {})
            if vrp.asn:
                merged[vrp.asn] = merged.get(vrp.asn, 0) | mask
            return self.several(shortest), merged
        asn = value >> self.asn_shift
        old_mask = value & ((1 << self.length_shift) - 1)
        if vrp.asn == 0 or vrp.asn == asn:
            return self.single(asn, shortest, old_mask | mask), None
        if asn == 0:  # only AS0 so far: it adds coverage, never validity
            return self.single(vrp.asn, shortest, mask), None
        return self.several(shortest), {asn: old_mask, vrp.asn: mask}
