"""VrpTable: RFC 6811 route origin validation, change tracking, and the fast paths against the
definition (a brute-force reference over random, heavily nested VRP sets)."""

import random
from collections import Counter

import pytest

from peerwarden_runner.codec import Prefix
from peerwarden_runner.rpki import (
    IntPrefix,
    RouteValidity,
    Vrp,
    VrpDiff,
    VrpTable,
    affected_filter,
    covered_by,
    int_prefix,
    make_vrp,
    parse_prefix,
    prefix_covers,
)

VALID, INVALID, NOT_FOUND = RouteValidity.VALID, RouteValidity.INVALID, RouteValidity.NOT_FOUND


def table_of(*vrps):
    return VrpTable(make_vrp(prefix, max_length, asn) for prefix, max_length, asn in vrps)


def states(table, routes):
    """The table's RFC 6811 state of each (prefix, origin) route, in order."""
    return [table.validate(prefix, origin) for prefix, origin in routes]


def reference_validity(vrps, route, origin):
    """RFC 6811 §2, word for word, over all VRPs."""
    covering = [vrp for vrp in vrps if prefix_covers(vrp.prefix, route)]
    if not covering:
        return NOT_FOUND
    if origin is not None and any(
        vrp.asn == origin and vrp.asn != 0 and route.length <= vrp.max_length for vrp in covering
    ):
        return VALID
    return INVALID


# -- RFC 6811 cases --------------------------------------------------------------------------------------


def test_exact_match_is_valid():
    assert table_of(("192.0.2.0/24", 24, 65001)).validate("192.0.2.0/24", 65001) == VALID


def test_more_specific_within_max_length_is_valid():
    table = table_of(("198.51.100.0/22", 24, 65001))
    assert table.validate("198.51.101.0/24", 65001) == VALID
    assert table.validate("198.51.100.0/23", 65001) == VALID


def test_more_specific_beyond_max_length_is_invalid():
    table = table_of(("198.51.100.0/22", 23, 65001))
    assert table.validate("198.51.100.0/24", 65001) == INVALID


def test_other_origin_is_invalid():
    assert table_of(("192.0.2.0/24", 24, 65001)).validate("192.0.2.0/24", 65002) == INVALID


def test_one_matching_vrp_among_several_makes_it_valid():
    table = table_of(("192.0.2.0/24", 24, 65001), ("192.0.0.0/16", 24, 65002), ("192.0.2.0/24", 24, 65003))
    assert table.validate("192.0.2.0/24", 65002) == VALID
    assert table.validate("192.0.2.0/24", 65003) == VALID
    assert table.validate("192.0.2.0/24", 65004) == INVALID


def test_as0_vrp_makes_covered_routes_invalid():
    table = table_of(("203.0.113.0/24", 32, 0))
    assert table.validate("203.0.113.0/24", 65001) == INVALID
    assert table.validate("203.0.113.128/25", 65001) == INVALID
    assert table.validate("203.0.113.0/24", 0) == INVALID  # AS0 never matches, not even origin 0


def test_as0_vrp_beside_a_real_one_does_not_hide_it():
    table = table_of(("203.0.113.0/24", 24, 0), ("203.0.113.0/24", 24, 65001))
    assert table.validate("203.0.113.0/24", 65001) == VALID
    assert table.validate("203.0.113.0/24", 65002) == INVALID


def test_not_covered_is_notfound():
    table = table_of(("192.0.2.0/24", 24, 65001))
    assert table.validate("192.0.3.0/24", 65001) == NOT_FOUND
    assert table.validate("192.0.0.0/16", 65001) == NOT_FOUND  # less specific: not covered


def test_ipv6():
    table = table_of(("2001:db8::/32", 48, 65001), ("2001:db8:1::/48", 48, 65002))
    assert table.validate("2001:db8::/32", 65001) == VALID
    assert table.validate("2001:db8:ffff::/48", 65001) == VALID
    assert table.validate("2001:db8:1::/48", 65002) == VALID
    assert table.validate("2001:db8:1::/48", 65001) == VALID  # the /32 VRP covers it too
    assert table.validate("2001:db8:2::/48", 65002) == INVALID
    assert table.validate("2001:db8::/56", 65001) == INVALID  # beyond maxLength 48
    assert table.validate("2001:db9::/32", 65001) == NOT_FOUND
    assert table.validate("192.0.2.0/24", 65001) == NOT_FOUND  # families do not mix


def test_origin_none_is_never_valid():
    table = table_of(("192.0.2.0/24", 24, 65001), ("2001:db8::/32", 32, 65001))
    assert table.validate("192.0.2.0/24", None) == INVALID
    assert table.validate("2001:db8::/32", None) == INVALID
    assert table.validate("192.0.3.0/24", None) == NOT_FOUND


def test_routes_longer_than_the_fast_paths_serve():
    table = table_of(("192.0.2.0/24", 32, 65001), ("192.0.2.128/25", 28, 65002), ("2001:db8::/32", 64, 65003))
    routes = [("192.0.2.1/32", 65001), ("192.0.2.128/28", 65002), ("192.0.2.128/29", 65002)]
    routes += [("2001:db8:0:1::/64", 65003), ("2001:db8:0:1::/65", 65003)]
    assert states(table, routes) == [VALID, VALID, INVALID, VALID, INVALID]


def test_short_vrps_including_the_default_route():
    table = table_of(("0.0.0.0/0", 0, 0), ("10.0.0.0/8", 16, 65001), ("::/0", 0, 0))
    routes = [("10.1.0.0/16", 65001), ("11.0.0.0/24", 65001), ("0.0.0.0/0", 65001), ("2001:db8::/32", 65001)]
    assert states(table, routes) == [VALID, INVALID, INVALID, INVALID]


def test_validate_accepts_every_prefix_form_and_the_int_fast_paths_agree():
    import ipaddress

    table = table_of(("192.0.2.0/24", 24, 65001))
    route = parse_prefix("192.0.2.0/24")
    assert table.validate(ipaddress.ip_network("192.0.2.0/24"), 65001) == VALID
    assert table.validate(route, 65001) == VALID
    assert table.validate((4, route.network, 24), 65001) == VALID
    assert table.validate_ipv4(route.network, 24, 65001) == VALID
    assert table.validate("192.0.2.77/24", 65001) == VALID  # a route's host bits are ignored
    assert table.validate_ipv6(parse_prefix("2001:db8::/32").network, 32, 65001) == NOT_FOUND
    assert VALID == "valid" and INVALID == "invalid" and NOT_FOUND == "notfound"


def test_covering_explains_a_result():
    table = table_of(("192.0.0.0/16", 24, 65002), ("192.0.2.0/24", 24, 65001), ("192.0.3.0/24", 24, 65003))
    assert sorted(vrp.asn for vrp in table.covering("192.0.2.0/24")) == [65001, 65002]
    assert table.is_covered("192.0.2.0/25") and not table.is_covered("192.1.0.0/16")


# -- changes ---------------------------------------------------------------------------------------------


def test_add_remove_replace_and_serial():
    table = VrpTable()
    first = make_vrp("192.0.2.0/24", 24, 65001)
    second = make_vrp("2001:db8::/32", 48, 65002)
    assert table.serial == 0 and len(table) == 0
    assert table.add(first) is True and table.add(first) is False
    assert table.serial == 1 and len(table) == 1 and first in table
    diff = table.replace_all([second])
    assert diff == VrpDiff(frozenset({second}), frozenset({first}))
    assert table.serial == 2 and table.count(4) == 0 and table.count(6) == 1
    assert table.replace_all([second]) == VrpDiff(frozenset(), frozenset())
    assert table.serial == 2  # no change, no new serial
    assert table.remove(second) is True and table.remove(second) is False
    assert table.validate("2001:db8::/32", 65002) == NOT_FOUND


def test_apply_removes_then_adds_and_reports_only_real_changes():
    first, second, third = (make_vrp("192.0.2.0/24", 24, asn) for asn in (1, 2, 3))
    table = VrpTable([first, second])
    diff = table.apply(added=[second, third], removed=[second, make_vrp("10.0.0.0/8", 8, 9)])
    assert diff == VrpDiff(frozenset({third}), frozenset())
    assert table.snapshot() == {first, second, third}


def test_changes_since_composes_and_forgets_old_history():
    table = VrpTable(history_changes=3)
    vrps = [make_vrp("10.%d.0.0/16" % index, 16, 65000 + index) for index in range(6)]
    start = table.serial
    table.add(vrps[0])
    table.add(vrps[1])
    table.remove(vrps[0])
    assert table.changes_since(start) == VrpDiff(frozenset({vrps[1]}), frozenset())
    middle = table.serial
    table.add(vrps[2])
    table.add(vrps[3])
    assert table.changes_since(middle) == VrpDiff(frozenset({vrps[2], vrps[3]}), frozenset())
    assert table.changes_since(start) is None  # beyond the 3 changes kept
    assert table.changes_since(table.serial) == VrpDiff(frozenset(), frozenset())
    assert table.changes_since(table.serial + 1) is None


def test_affected_routes_of_a_change():
    diff = VrpDiff(frozenset({make_vrp("192.0.2.0/24", 24, 1)}), frozenset({make_vrp("2001:db8::/32", 32, 2)}))
    assert diff.affects("192.0.2.0/25") and diff.affects("192.0.2.0/24")
    assert not diff.affects("192.0.0.0/16") and not diff.affects("192.0.3.0/24")
    assert diff.affects("2001:db8:1::/48") and not diff.affects("2001:db9::/32")
    is_affected = affected_filter(diff.changed())
    assert [is_affected(route) for route in ("192.0.2.128/25", "10.0.0.0/8")] == [True, False]


def test_covered_by_predicate():
    inside_documentation = covered_by("192.0.2.0/24")
    assert inside_documentation("192.0.2.0/24") and inside_documentation("192.0.2.64/26")
    assert not inside_documentation("192.0.0.0/16") and not inside_documentation("2001:db8::/32")
    with pytest.raises(ValueError, match="host bits"):
        covered_by("192.0.2.1/24")


def test_prefix_parsing_errors():
    for text, message in (
        ("192.0.2.0", "no /length"),
        ("192.0.2.0/33", "longer than 32"),
        ("192.0.2/24", "not an IPv4"),
        ("192.0.2.0/x", "not a number"),
        ("2001:db8::1/32", "host bits"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_prefix(text)
    assert str(int_prefix("2001:db8::/32")) == "2001:db8::/32"
    assert int_prefix("192.0.2.5/24") == IntPrefix(4, parse_prefix("192.0.2.0/24").network, 24)


def test_int_prefix_is_the_one_conversion_from_the_codecs_prefix():
    """The codec's Prefix (an NLRI as sent) converts like its text: host bits cleared, refused when strict."""
    for text in ("192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0", "10.1.2.3/32", "2001:db8::1/128"):
        assert int_prefix(Prefix.parse(text)) == int_prefix(text)
    assert int_prefix(Prefix.parse("192.0.3.0/23")) == int_prefix("192.0.2.0/23")  # a host bit as sent
    with pytest.raises(ValueError):
        int_prefix(Prefix.parse("192.0.3.0/23"), strict=True)
    assert int_prefix(Prefix.parse("192.0.2.0/24"), strict=True) == parse_prefix("192.0.2.0/24")
    with pytest.raises(ValueError):
        int_prefix(Prefix(25, 70, 8, b"\x01"))  # L2VPN EVPN: not a family RPKI covers


def test_make_vrp_checks():
    assert make_vrp("192.0.2.0/24", None, 1).max_length == 24
    with pytest.raises(ValueError, match="maxLength 23 is outside 24..32"):
        make_vrp("192.0.2.0/24", 23, 1)
    with pytest.raises(ValueError, match="ASN"):
        make_vrp("192.0.2.0/24", 24, 1 << 32)
    assert str(make_vrp("2001:db8::/32", 48, 65001)) == "2001:db8::/32-48 AS65001"


# -- the fast paths against the definition ---------------------------------------------------------------


def random_vrps(rng, count):
    """Nested, overlapping VRPs in 10.0.0.0/8 and 2001:db8::/32 (lengths chosen to hit every level,
    the slow paths beyond /24 and /48, and multi-origin cells)."""
    vrps = set()
    while len(vrps) < count:
        if rng.random() < 0.6:
            length = rng.choice((8, 9, 12, 15, 16, 17, 20, 22, 23, 24, 24, 24, 25, 28, 32))
            network = (
                (10 << 24 | rng.getrandbits(24) & rng.choice((0xFF0000, 0xFFFF00, 0xFFFFFF)))
                >> (32 - length)
                << (32 - length)
            )
            max_length = rng.choice((length, min(32, length + 1), min(32, length + 4), min(32, length + 8), 32))
            version = 4
        else:
            length = rng.choice((20, 29, 32, 33, 36, 40, 44, 47, 48, 48, 56, 64))
            network = (
                (0x20010DB8 << 96 | rng.getrandbits(96) & rng.choice((0, (1 << 96) - (1 << 80))))
                >> (128 - length)
                << (128 - length)
            )
            max_length = rng.choice((length, min(128, length + 4), min(128, length + 16)))
            version = 6
        vrps.add(Vrp(version, network, length, max_length, rng.choice((0, 65001, 65002, 65003, 65004))))
    return list(vrps)


def random_routes(rng, count):
    routes = []
    for dummy in range(count):
        if rng.random() < 0.6:
            length = rng.randint(6, 32)
            network = (
                (10 << 24 | rng.getrandbits(24) & rng.choice((0xFF0000, 0xFFFF00, 0xFFFFFF)))
                >> (32 - length)
                << (32 - length)
            )
            routes.append(IntPrefix(4, network, length))
        else:
            length = rng.randint(16, 72)
            network = (
                (0x20010DB8 << 96 | rng.getrandbits(96) & rng.choice((0, (1 << 96) - (1 << 80))))
                >> (128 - length)
                << (128 - length)
            )
            routes.append(IntPrefix(6, network, length))
    return [(route, rng.choice((None, 0, 65001, 65002, 65003, 65004, 65005))) for route in routes]


def assert_agrees_with_definition(table, routes):
    by_prefix = {}  # the reference only looks at VRPs with an ancestor prefix of the route: fast enough
    for vrp in table:
        by_prefix.setdefault(vrp.prefix, []).append(vrp)
    for route, origin in routes:
        candidates = []
        for length in range(route.length + 1):
            shift = route.max_bits - length
            candidates += by_prefix.get(IntPrefix(route.version, route.network >> shift << shift, length), [])
        assert table.validate(route, origin) == reference_validity(candidates, route, origin), (str(route), origin)


def assert_groups_consistent(table):
    """Every multi-origin group is held by exactly the cells that refer to it (no leak)."""
    cells = table._ipv4.cells  # noqa: SLF001 - white-box check of the reference counting
    held = Counter(
        value >> cells.groups.layout.asn_shift
        for value in cells.values[10 << 16 : 11 << 16]
        if value >> cells.groups.layout.multi_shift
    )
    assert held == Counter(cells.groups._cells_by_key)  # noqa: SLF001
    assert {key >> 32 for key in cells.groups.mask_by_key_and_asn} <= set(cells.groups.masks_by_key)


def test_fast_paths_agree_with_the_definition_after_builds_and_changes():
    rng = random.Random(6811)
    vrps = random_vrps(rng, 600)
    routes = random_routes(rng, 2000)
    table = VrpTable(vrps)
    assert_agrees_with_definition(table, routes)
    assert_groups_consistent(table)
    for dummy_round in range(25):  # small incremental changes: range rebuilds
        present = list(table)
        table.apply(added=random_vrps(rng, 8), removed=rng.sample(present, 8))
    assert_agrees_with_definition(table, routes)
    assert_groups_consistent(table)
    table.replace_all(random_vrps(rng, 4500))  # a big change (> 4096 VRPs): full rebuild
    assert_agrees_with_definition(table, routes)
    survivors = rng.sample(list(table), 100)
    table.replace_all(survivors)
    assert_agrees_with_definition(table, routes)
    assert_groups_consistent(table)
    table.clear()
    assert len(table) == 0 and table.validate("10.0.0.0/8", 65001) == NOT_FOUND
    assert not table._ipv4.cells.groups  # noqa: SLF001


def test_replace_all_async_builds_aside_lets_other_tasks_run_and_swaps_at_once(monkeypatch):
    import asyncio

    from peerwarden_runner.rpki import vrp_table

    monkeypatch.setattr(vrp_table, "BUILD_SLICE", 0.0)  # let others run after every step
    rng = random.Random(8210)
    old = random_vrps(rng, 300)
    new = random_vrps(rng, 6000)
    routes = random_routes(rng, 1000)
    table = VrpTable(old)
    validate_ipv4 = table.validate_ipv4  # held by a consumer across the swap
    ticks = []

    async def scenario():
        async def ticker():
            while True:
                ticks.append(len(table))
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        diff = await table.replace_all_async(new)
        ticking.cancel()
        return diff

    diff = asyncio.run(scenario())
    assert diff.added == set(new) - set(old) and diff.removed == set(old) - set(new)
    assert len(ticks) > 10 and set(ticks[:-1]) == {len(set(old))}  # the old contents answered meanwhile
    assert_agrees_with_definition(table, routes)
    route = next(vrp for vrp in new if vrp.version == 4 and vrp.asn and vrp.length <= 24)
    assert validate_ipv4(route.network, route.length, route.asn) == VALID
    assert table.serial == 1 and table.changes_since(0) == diff
