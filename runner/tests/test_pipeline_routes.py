"""The pipeline between two speakers, in process: what the receiver gets, what the RIB remembers, what
the archive holds, with the rpki, limit and archive stages wired as the proxy wires them."""

import json
import logging

import pytest

from peerwarden_runner.archive import read_archive
from peerwarden_runner.codec import (
    Capability,
    Prefix,
    decode_open,
    decode_update,
    encode_open,
    encode_update,
    encode_withdraw,
    from_json,
    make_attribute,
    mp_reach_attribute,
    mp_unreach_attribute,
    negotiate,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline, SessionReset
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.rpki import RpkiStage

PEER_AS, ROUTER_AS = 64500, 65000


class Session:
    """Stands in for the proxy's session: collects what stages send on their own."""

    def __init__(self):
        self.sent = []

    def send(self, direction, raw):
        self.sent.append((direction, raw))


def opens(add_path=False):
    capabilities = [Capability.multiprotocol(1, 1), Capability.multiprotocol(2, 1)]
    if add_path:
        capabilities.append(Capability.add_path({(1, 1): c.ADD_PATH_BOTH, (2, 1): c.ADD_PATH_BOTH}))
    return (
        encode_open(PEER_AS, 90, "192.0.2.1", capabilities + [Capability.four_octet_as(PEER_AS)]),
        encode_open(ROUTER_AS, 90, "192.0.2.2", capabilities + [Capability.four_octet_as(ROUTER_AS)]),
    )


def start(pipeline, add_path=False):
    state = pipeline.new_session(Session())
    peer_open, router_open = opens(add_path)
    pipeline.process(state, TO_ROUTER, c.OPEN, peer_open)
    pipeline.process(state, TO_PEER, c.OPEN, router_open)
    return state


def ctx_of(add_path=False):
    peer_open, router_open = opens(add_path)
    return negotiate(decode_open(router_open), decode_open(peer_open))


def attributes(origin_as=PEER_AS, next_hop="192.0.2.1"):
    path = [["sequence", [PEER_AS] + ([origin_as] if origin_as != PEER_AS else [])]]
    result = [make_attribute(c.ORIGIN, 0), make_attribute(c.AS_PATH, path)]
    return result + ([make_attribute(c.NEXT_HOP, next_hop)] if next_hop else [])


def announce(prefixes, origin_as=PEER_AS, ctx=None):
    return encode_update(attributes=attributes(origin_as), nlri=[Prefix.parse(p) for p in prefixes], ctx=ctx)


def announce6(prefixes, origin_as=PEER_AS, ctx=None):
    reach = mp_reach_attribute(2, 1, "2001:db8::1", [Prefix.parse(p) for p in prefixes], ctx=ctx)
    return encode_update(attributes=attributes(origin_as, next_hop=None) + [reach], ctx=ctx)


def received(messages, ctx=None):
    """(announced, withdrawn) prefix texts over the messages written on."""
    announced, withdrawn = [], []
    for raw in messages:
        update = decode_update(raw, ctx or ctx_of())
        announced += [str(route.prefix) for route in update.routes()]
        withdrawn += [str(prefix) for prefix in update.withdrawals()]
    return announced, withdrawn


def rpki_pipeline(vrps, *more_stages):
    table = VrpTable([make_vrp(prefix, None, asn) for prefix, asn in vrps])
    metrics = Metrics()
    stage = RpkiStage(table, metrics)
    return Pipeline({TO_ROUTER: [stage, *more_stages]}, [], metrics), stage, table, metrics


def test_an_update_no_stage_changes_goes_on_as_the_original_bytes():
    pipeline, dummy, dummy, dummy = rpki_pipeline([("203.0.113.0/24", PEER_AS)], LimitStage(max_per_origin=10))
    state = start(pipeline)
    raw = announce(["203.0.113.0/24", "192.0.2.0/24"])
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw) == [raw]
    raw6 = announce6(["2001:db8:1::/48"])
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw6) == [raw6]
    assert pipeline.process(state, TO_PEER, c.UPDATE, raw) == [raw]  # no stages that way


def test_an_invalid_route_is_held_and_the_rest_announced():
    pipeline, dummy, dummy, metrics = rpki_pipeline([("198.51.100.0/24", 64999)])
    state = start(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24", "203.0.113.0/24"]))
    assert received(out) == (["203.0.113.0/24"], [])
    rib = state.memory[("rib", TO_ROUTER)]
    assert (rib.sent(), rib.held()) == (1, 1)
    assert metrics.held.labels("rpki")._value.get() == 1
    assert metrics.registry.get_sample_value("peerwarden_rpki_validations_total", {"state": "invalid"}) == 1
    assert metrics.registry.get_sample_value("peerwarden_rpki_validations_total", {"state": "notfound"}) == 1


def test_a_route_that_turns_invalid_is_withdrawn_from_the_receiver():
    pipeline, dummy, dummy, dummy = rpki_pipeline([("198.51.100.0/24", PEER_AS)])
    state = start(pipeline)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24"]))
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24"], origin_as=64999))
    assert received(out) == ([], ["198.51.100.0/24"])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24"], origin_as=64999))
    assert received(out) == ([], [])  # the receiver no longer has it: nothing to take back again


def test_ipv6_invalid_routes_are_held_and_withdrawn():
    pipeline, dummy, dummy, dummy = rpki_pipeline([("2001:db8::/32", 64999)])
    state = start(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db8:1::/48", "2001:db9::/48"]))
    assert received(out) == (["2001:db9::/48"], [])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db9::/48"], origin_as=64999))
    assert received(out) == (["2001:db9::/48"], [])  # not covered: notfound, passes
    withdraw = encode_update(attributes=[mp_unreach_attribute(2, 1, [Prefix.parse("2001:db9::/48")])])
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, withdraw) == [withdraw]
    rib = state.memory[("rib", TO_ROUTER)]
    assert (rib.sent(), rib.held()) == (0, 1)


def test_a_vrp_change_withdraws_passed_routes_and_announces_held_ones():
    pipeline, stage, table, dummy = rpki_pipeline([("198.51.100.0/24", 64999)])
    state = start(pipeline)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24", "203.0.113.0/24"]))
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db8:1::/48"]))
    diff = table.apply(
        added=[
            make_vrp("198.51.100.0/24", None, PEER_AS),
            make_vrp("203.0.113.0/24", None, 64999),
            make_vrp("2001:db8::/32", 48, 64999),
        ]
    )
    assert stage.vrps_changed(diff) == 3
    sent = [raw for direction, raw in state.session.sent if direction == TO_ROUTER]
    announced, withdrawn = received(sent)
    assert announced == ["198.51.100.0/24"]
    assert sorted(withdrawn) == ["2001:db8:1::/48", "203.0.113.0/24"]
    again = [decode_update(raw, ctx_of()) for raw in sent if received([raw])[0]][0]
    assert again.origin_as() == PEER_AS and str(again.next_hop) == "192.0.2.1"  # announced with its attributes
    assert stage.vrps_changed(table.apply(added=[make_vrp("10.0.0.0/8", None, 1)])) == 0


def test_withdrawals_and_re_announcements_keep_the_rib_exact():
    pipeline, dummy, dummy, dummy = rpki_pipeline([("198.51.100.0/24", 64999)])
    state = start(pipeline)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"]))
    rib = state.memory[("rib", TO_ROUTER)]
    assert (rib.sent(), rib.held()) == (2, 1)
    withdraw = encode_withdraw([Prefix.parse("198.51.100.0/24"), Prefix.parse("192.0.2.0/24")])[0]
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, withdraw) == [withdraw]
    assert (rib.sent(), rib.held()) == (1, 0)
    # one UPDATE withdrawing and announcing the same prefix: the announcement counts (RFC 4271 §9)
    both = encode_update(
        withdrawn=[Prefix.parse("203.0.113.0/24")], attributes=attributes(), nlri=[Prefix.parse("203.0.113.0/24")]
    )
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, both) == [both]
    assert (rib.sent(), rib.held()) == (1, 0)


def test_add_path_routes_are_told_apart_by_their_path_id():
    pipeline, dummy, dummy, dummy = rpki_pipeline([("198.51.100.0/24", 64999)])
    state = start(pipeline, add_path=True)
    ctx = ctx_of(add_path=True)
    nlri = [
        Prefix.parse("198.51.100.0/24", path_id=1),
        Prefix.parse("203.0.113.0/24", path_id=1),
        Prefix.parse("203.0.113.0/24", path_id=2),
    ]
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, encode_update(attributes=attributes(), nlri=nlri, ctx=ctx))
    routes = [route.prefix for raw in out for route in decode_update(raw, ctx).routes()]
    assert routes == nlri[1:]
    rib = state.memory[("rib", TO_ROUTER)]
    assert (rib.sent(), rib.held()) == (2, 1)
    withdraw = encode_update(withdrawn=[nlri[2]], ctx=ctx)
    pipeline.process(state, TO_ROUTER, c.UPDATE, withdraw)
    assert (rib.sent(), rib.held()) == (1, 1)


def test_limit_refuses_the_excess_per_origin_and_counts_withdrawals():
    limit = LimitStage(max_per_origin=2, max_length=(24, 48))
    pipeline = Pipeline({TO_ROUTER: [limit]})
    state = start(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.%d.0/24" % i for i in range(4)], 64501))
    assert received(out) == (["10.0.0.0/24", "10.0.1.0/24"], [])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.0.0/24"], 64501))  # a replacement
    assert received(out) == (["10.0.0.0/24"], [])
    withdraw = encode_withdraw([Prefix.parse("10.0.0.0/24")])[0]
    pipeline.process(state, TO_ROUTER, c.UPDATE, withdraw)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.3.0/24", "10.0.4.0/24"], 64501))
    assert received(out) == (["10.0.3.0/24"], [])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.9.0.0/24"], 64502))  # another origin
    assert received(out) == (["10.9.0.0/24"], [])


def test_limit_refuses_prefixes_out_of_length_bounds_in_both_families():
    pipeline = Pipeline({TO_ROUTER: [LimitStage(max_length=(24, 48), min_length=(8, 16))]})
    state = start(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.0.0/25", "10.0.0.0/7", "10.0.0.0/24"]))
    assert received(out) == (["10.0.0.0/24"], [])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db8::/49", "2001:db8::/48", "2000::/15"]))
    assert received(out) == (["2001:db8::/48"], [])


def test_limit_per_block_and_the_session_total():
    pipeline = Pipeline({TO_ROUTER: [LimitStage(max_prefixes=3, max_per_block=(2, 16))]})
    state = start(pipeline)
    out = pipeline.process(
        state,
        TO_ROUTER,
        c.UPDATE,
        announce(["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24", "10.2.0.0/24", "10.3.0.0/24"]),
    )
    assert received(out) == (["10.1.0.0/24", "10.1.1.0/24", "10.2.0.0/24"], [])
    withdraw = encode_withdraw([Prefix.parse("10.1.0.0/24")])[0]
    pipeline.process(state, TO_ROUTER, c.UPDATE, withdraw)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.1.2.0/24"]))
    assert received(out) == (["10.1.2.0/24"], [])


def test_limit_per_block_ipv6_and_ipv4_each_by_its_own_limit(caplog):
    """64/16-style limits per family: IPv6 /32 blocks counted apart from IPv4 /16 blocks, a prefix
    shorter than the block length not counted, a withdrawal making room again."""
    pipeline = Pipeline({TO_ROUTER: [LimitStage(max_per_block=(1, 16), max_per_block_ipv6=(2, 32))]})
    state = start(pipeline)
    six = ["2001:db8:1::/48", "2001:db8:2::/48", "2001:db8:3::/48", "2001:db9:1::/48", "2001::/16"]
    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.limit"):
        out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(six))
        DECISIONS.flush()  # refusals are counted, a line per interval (log_summary)
    assert received(out) == (["2001:db8:1::/48", "2001:db8:2::/48", "2001:db9:1::/48", "2001::/16"], [])
    assert "1 route(s) held back: max_per_block_ipv6 in " in caplog.text
    assert "(e.g. 2001:db8:3::/48: block 2001:db8::/32 over max_per_block_ipv6 2)" in caplog.text
    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.limit"):
        out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.1.0.0/24", "10.1.1.0/24", "10.2.0.0/24"]))
        DECISIONS.flush()
    assert received(out) == (["10.1.0.0/24", "10.2.0.0/24"], [])
    assert "(e.g. 10.1.1.0/24: block 10.1.0.0/16 over max_per_block 1)" in caplog.text
    pipeline.process(state, TO_ROUTER, c.UPDATE, encode_withdraw([Prefix.parse("2001:db8:1::/48")])[0])
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db8:3::/48"]))
    assert received(out) == (["2001:db8:3::/48"], [])


def test_limit_per_block_ipv6_alone_leaves_ipv4_uncounted():
    pipeline = Pipeline({TO_ROUTER: [LimitStage(max_per_block_ipv6=(1, 32))]})
    state = start(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.1.%d.0/24" % i for i in range(5)]))
    assert len(received(out)[0]) == 5
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce6(["2001:db8:1::/48", "2001:db8:2::/48"]))
    assert received(out) == (["2001:db8:1::/48"], [])


def test_limit_with_cease_ends_the_session():
    pipeline = Pipeline({TO_ROUTER: [LimitStage(max_prefixes=1, cease=True)]})
    state = start(pipeline)
    with pytest.raises(SessionReset) as reset:
        pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.0.0.0/24", "10.0.1.0/24"]))
    assert (reset.value.code, reset.value.subcode) == (6, 1)


def test_treat_as_withdraw_takes_the_routes_back():
    pipeline, dummy, dummy, dummy = rpki_pipeline([])
    state = start(pipeline)
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["203.0.113.0/24"]))
    broken = bytearray(announce(["203.0.113.0/24"]))
    broken[23 + 3] = 7  # ORIGIN value 7: undefined (RFC 7606 §7.1: treat-as-withdraw)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, bytes(broken))
    assert received(out) == ([], ["203.0.113.0/24"])
    assert state.memory[("rib", TO_ROUTER)].sent() == 0


def test_a_malformed_mp_reach_resets_the_session():
    pipeline, dummy, dummy, dummy = rpki_pipeline([])
    state = start(pipeline)
    broken = bytearray(announce6(["2001:db8::/48"]))
    position = broken.index(bytes((c.MP_REACH_NLRI,))) + 2 + 3  # next hop length octet
    broken[position] = 5
    with pytest.raises(SessionReset):
        pipeline.process(state, TO_ROUTER, c.UPDATE, bytes(broken))


def test_the_archive_holds_exactly_what_crossed(tmp_path):
    archive = ArchiveStage(str(tmp_path), session_name="edge", compress=False)
    table = VrpTable([make_vrp("198.51.100.0/24", None, 64999)])
    pipeline = Pipeline({TO_ROUTER: [RpkiStage(table)]}, [archive])
    state = start(pipeline)
    written = []
    for raw in (
        announce(["198.51.100.0/24", "203.0.113.0/24"]),
        announce6(["2001:db8:1::/48", "::ffff:0:0/96"]),
        encode_withdraw([Prefix.parse("203.0.113.0/24")])[0],
    ):
        written += pipeline.process(state, TO_ROUTER, c.UPDATE, raw)
    pipeline.close()
    records = list(read_archive(str(tmp_path)))
    assert [r["type"] for r in records] == ["open", "open", "update", "update", "update"]
    updates = records[2:]
    assert [bytes.fromhex(r["raw"]) for r in updates] == written
    ctx = ctx_of()
    assert [from_json(r, ctx) for r in updates] == written
    assert updates[0]["nlri"] == ["203.0.113.0/24"] and updates[0]["direction"] == TO_ROUTER
    assert updates[1]["attributes"]["mp_reach"]["nlri"] == ["2001:db8:1::/48", "::ffff:0:0/96"]
    assert updates[1]["origin_as"] == PEER_AS and updates[0]["peer"] == "edge"
    assert updates[2]["withdrawn"] == ["203.0.113.0/24"]
    json.dumps(records)
