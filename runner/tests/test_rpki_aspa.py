"""ASPA AS_PATH verification (rpki/aspa.py) against draft-ietf-sidrops-aspa-verification's procedures.

The topology (documentation ASes, RFC 5398), each AS's ASPA listing its providers:

        64510 (tier 1: AS0, no providers) ---peer--- 64511 (tier 1: AS0)
          |                                            |
        64500 (providers 64510)                      64501 (providers 64511)
          |                                            |
        64496 (providers 64500)                      64497 (providers 64501)
                                                     64499: publishes no ASPA

Paths are written as BGP sends them: the neighbour first, the origin last.
"""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerwarden_runner.codec import AsPath
from peerwarden_runner.codec.aspath import AsPathSegment
from peerwarden_runner.codec.constants import AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET
from peerwarden_runner.rpki.aspa import (
    AspaValidity,
    Hop,
    collapse,
    hop,
    verify_downstream,
    verify_path,
    verify_upstream,
)

VALID, UNKNOWN, INVALID = AspaValidity.VALID, AspaValidity.UNKNOWN, AspaValidity.INVALID
ASPAS = {
    64510: frozenset({0}),
    64511: frozenset({0}),
    64500: frozenset({64510}),
    64501: frozenset({64511}),
    64496: frozenset({64500}),
    64497: frozenset({64501}),
}


def test_the_hop_check_has_three_answers():
    assert hop(ASPAS, 64496, 64500) is Hop.PROVIDER
    assert hop(ASPAS, 64496, 64510) is Hop.NOT_PROVIDER  # an ASPA that does not list it
    assert hop(ASPAS, 64510, 64511) is Hop.NOT_PROVIDER  # AS0: no provider at all
    assert hop(ASPAS, 64499, 64500) is Hop.NO_ATTESTATION


def test_prepends_are_collapsed():
    assert collapse([64500, 64500, 64500, 64496, 64496]) == (64500, 64496)
    assert collapse([64500, 64496, 64500]) == (64500, 64496, 64500)  # not a prepend: a loop, kept
    assert collapse([]) == ()


@pytest.mark.parametrize(
    "path, expected",
    [
        ((64500,), VALID),  # a path of one AS: the neighbour originated it
        ((64500, 64496), VALID),  # from the customer 64500, its customer's route
        ((64510, 64500, 64496), VALID),  # all the way up
        ((64500, 64510, 64511, 64501), INVALID),  # 64500 leaks its provider's route up (64510 has no provider)
        ((64500, 64510), INVALID),  # 64510's ASPA does not list 64500
        ((64500, 64499), UNKNOWN),  # the origin publishes no ASPA
        ((64499, 64496), INVALID),  # 64496's ASPA does not list 64499: Not Provider+ beats no attestation
        ((64500, 64510, 64499), INVALID),  # Not Provider+ anywhere beats an unknown hop elsewhere
    ],
)
def test_upstream(path, expected):
    assert verify_upstream(path, ASPAS) is expected


@pytest.mark.parametrize(
    "path, expected",
    [
        ((64510,), VALID),
        ((64510, 64511), VALID),  # two ASes: a lateral link is always possible
        ((64500, 64510, 64511, 64501, 64497), VALID),  # up, across the tier-1 peering, down to us
        ((64510, 64500, 64496), VALID),  # only up: from 64496 to our provider 64510
        ((64501, 64511, 64510, 64500, 64496), VALID),  # up from 64496 to 64510, across, down to 64501
        ((64511, 64501, 64497, 64500, 64496), INVALID),  # 64497 passes 64500's route up to its provider: a leak
        ((64501, 64499, 64498), UNKNOWN),  # neither 64498 nor 64499 publishes an ASPA
    ],
)
def test_downstream(path, expected):
    assert verify_downstream(path, ASPAS) is expected


def test_the_same_path_from_a_provider_is_valid_and_from_a_customer_invalid():
    path = AsPath.sequence(64510, 64511, 64501)  # up to 64511, across to 64510
    assert verify_path(path, ASPAS, "provider", 64510)[0] is VALID
    assert verify_path(path, ASPAS, "customer", 64510)[0] is INVALID
    assert verify_path(path, ASPAS, "peer", 64510)[0] is INVALID  # a peer's routes must also only climb


def test_an_as_set_is_invalid_and_confederation_segments_are_left_out():
    with_set = AsPath((AsPathSegment(AS_SEQUENCE, (64500,)), AsPathSegment(AS_SET, (64496, 64497))))
    assert verify_path(with_set, ASPAS, "customer", 64500) == (INVALID, "the path has an AS_SET")
    confed = AsPath((AsPathSegment(AS_CONFED_SEQUENCE, (65530,)), AsPathSegment(AS_SEQUENCE, (64500, 64496))))
    assert verify_path(confed, ASPAS, "customer", 64500)[0] is VALID


def test_the_neighbour_must_head_the_path_except_behind_a_route_server():
    path = AsPath.sequence(64500, 64496)
    validity, why = verify_path(path, ASPAS, "customer", 64497)
    assert validity is INVALID and "not the neighbour AS64497" in why
    assert verify_path(path, ASPAS, "rs", 64999)[0] is VALID  # a transparent route server adds no AS
    assert verify_path(path, ASPAS, "rs-client", 64500)[0] is VALID
    assert verify_path(AsPath(()), ASPAS, "peer", 64500)[0] is INVALID  # empty over eBGP
    assert verify_path(None, ASPAS, "peer", 64500)[0] is INVALID
    with pytest.raises(ValueError, match="unknown sender role"):
        verify_path(path, ASPAS, "sibling", 64500)


def test_prepends_change_nothing():
    prepended = AsPath.sequence(64500, 64500, 64496, 64496, 64496)
    assert verify_path(prepended, ASPAS, "customer", 64500)[0] is VALID
    leak = AsPath.sequence(64500, 64500, 64510, 64510, 64511)
    assert verify_path(leak, ASPAS, "customer", 64500)[0] is INVALID


def test_unknown_ases_make_an_upstream_path_unknown_never_valid():
    assert verify_path(AsPath.sequence(64498, 64499), ASPAS, "customer", 64498)[0] is UNKNOWN


# ---- against a second formulation: a search over every place the path could peak ----


def _possible(aspas, customer, provider, certain):
    found = hop(aspas, customer, provider)
    return found is Hop.PROVIDER if certain else found is not Hop.NOT_PROVIDER


def _reference(path, aspas, downstream):
    """Valid when some split of the path (origin first) into up-hops, at most one lateral hop and down-hops
    holds with attested hops only; Invalid when none holds even with unattested hops allowed."""
    origin_first = path[::-1]
    hops = list(zip(origin_first, origin_first[1:]))

    def fits(certain):
        if not downstream:
            return all(_possible(aspas, a, b, certain) for a, b in hops)
        for up, lateral in itertools.product(range(len(hops) + 1), (0, 1)):
            if up + lateral > len(hops):
                continue
            climbs = all(_possible(aspas, a, b, certain) for a, b in hops[:up])
            descends = all(_possible(aspas, b, a, certain) for a, b in hops[up + lateral :])
            if climbs and descends:
                return True
        return False

    if fits(True):
        return VALID
    return UNKNOWN if fits(False) else INVALID


ASES = st.integers(1, 6)


@settings(max_examples=600, deadline=None)
@given(
    path=st.lists(ASES, min_size=1, max_size=7).map(collapse),
    aspas=st.dictionaries(ASES, st.frozensets(st.integers(0, 6), max_size=3), max_size=6),
)
def test_both_procedures_agree_with_the_search(path, aspas):
    assert verify_upstream(path, aspas) is _reference(path, aspas, False)
    assert verify_downstream(path, aspas) is _reference(path, aspas, True)


@settings(max_examples=400, deadline=None)
@given(
    asns=st.lists(ASES, min_size=1, max_size=8),
    aspas=st.dictionaries(ASES, st.frozensets(st.integers(0, 6), max_size=3), max_size=6),
    role=st.sampled_from(("customer", "provider", "peer")),
)
def test_one_sequence_is_verified_as_the_same_path_in_two_segments(asns, aspas, role):
    """verify_path reads a path of one AS_SEQUENCE without building a list (prepends collapsed only when
    there are some): the same ASes split into two sequences take the general way, with the same outcome."""
    cut = len(asns) // 2 or 1
    split = AsPath((AsPathSegment(AS_SEQUENCE, tuple(asns[:cut])), AsPathSegment(AS_SEQUENCE, tuple(asns[cut:]))))
    if not asns[cut:]:
        split = AsPath((AsPathSegment(AS_SEQUENCE, tuple(asns)), AsPathSegment(AS_CONFED_SEQUENCE, (9,))))
    assert verify_path(AsPath.sequence(*asns), aspas, role, asns[0]) == verify_path(split, aspas, role, asns[0])
