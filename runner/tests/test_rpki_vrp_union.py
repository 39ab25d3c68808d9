"""A VRP file and RTR caches together: the table validates against their union, a VRP both hold
stays until both drop it, and the rpki stage hears only what the union gained or lost."""

import asyncio
import json

from peerwarden_runner.rpki import RouteValidity, VrpTable, make_vrp
from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher
from peerwarden_runner.rpki.vrp_union import LARGE_CHANGE, VrpUnion

A = make_vrp("203.0.113.0/24", 24, 64500)
B = make_vrp("198.51.100.0/24", 24, 64501)
C = make_vrp("2001:db8::/32", 48, 64502)


def union_with_log():
    table, heard = VrpTable(), []
    union = VrpUnion(table, on_change=heard.append)
    return table, union, union.source("file"), union.source("rtr"), heard


def test_shared_vrp_stays_until_both_sources_drop_it():
    table, union, local, rtr, heard = union_with_log()
    local.replace_all([A, C])
    rtr.replace_all([A, B])
    assert set(table) == {A, B, C}
    assert [(set(d.added), set(d.removed)) for d in heard] == [({A, C}, set()), ({B}, set())]
    rtr.clear()  # the RTR data expired: the file's VRPs (A among them) stay
    assert set(table) == {A, C} and heard[-1].removed == {B}
    assert table.validate("203.0.113.0/24", 64500) == RouteValidity.VALID
    local.apply(removed=[A])
    assert set(table) == {C} and heard[-1].removed == {A}


def test_a_change_the_union_does_not_see_is_not_told():
    table, union, local, rtr, heard = union_with_log()
    local.replace_all([A])
    rtr.apply(added=[A])  # already valid through the file
    rtr.apply(removed=[A])
    assert set(table) == {A} and len(heard) == 1
    rtr.apply(added=[B])
    assert not rtr.apply(added=[B], removed=[B])  # removed and added back in one change: nothing
    assert set(table) == {A, B} and len(heard) == 2


def test_large_change_is_built_aside():
    table, union, local, rtr, heard = union_with_log()
    many = {make_vrp("10.%d.%d.0/24" % (i // 256, i % 256), 24, 65000 + i % 7) for i in range(LARGE_CHANGE + 5)}
    asyncio.run(rtr.replace_all_async(set(many), adopt=True))
    local.replace_all([A])
    assert len(table) == len(many) + 1 and len(heard[0].added) == len(many)
    asyncio.run(rtr.replace_all_async(set()))
    assert set(table) == {A} and len(heard[-1].removed) == len(many)


def test_file_watcher_feeds_its_source(tmp_path):
    table, union, local, rtr, heard = union_with_log()
    rtr.replace_all([B])
    path = tmp_path / "local.json"
    path.write_text(json.dumps({"roas": [{"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS64500"}]}))
    asyncio.run(VrpFileWatcher(str(path), local).load())
    assert set(table) == {A, B} and len(local) == 1
    assert table.validate("198.51.100.0/24", 64500) == RouteValidity.INVALID
