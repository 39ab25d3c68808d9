"""Re-validation after a VRP change runs in slices while UPDATEs keep coming: whatever interleaves, the
receiver ends up holding exactly the routes the current VRPs let through, with their latest attributes."""

import asyncio
import random

import pytest

from peerwarden_runner.codec import Prefix, decode_update, encode_update, mp_unreach_attribute
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import RouteValidity, VrpTable, make_vrp
from peerwarden_runner.rpki.vrp_union import VrpUnion
from peerwarden_runner.stages.rpki import RpkiStage
from stage_helpers import announce, open_session

PEER_AS, OTHER_AS = 65001, 64999
FAMILIES = {
    "ipv4": (["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(600)], "10.0.0.0/8", 24, "10.0.0.0/10"),
    "ipv6": ([str(Prefix.parse("2001:db8:%x::/48" % i)) for i in range(600)], "2001:db8::/32", 48, "2001:db8::/34"),
}


class Wire:
    """What the receiver gets, in order: the pipeline's output and what the rpki stage sends on its own."""

    def __init__(self):
        self.messages = []

    def send(self, direction, raw):
        assert direction == TO_ROUTER
        self.messages.append(raw)

    def holds(self):
        """prefix text -> origin AS the receiver has now."""
        table = {}
        for raw in self.messages:
            update = decode_update(raw)
            for prefix in update.withdrawals():
                table.pop(str(prefix), None)
            origin = update.origin_as()
            for route in update.routes():
                table[str(route.prefix)] = origin
        return table


def withdrawal(prefix):
    parsed = Prefix.parse(prefix)
    if parsed.afi == c.AFI_IPV6:
        return encode_update(attributes=[mp_unreach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, [parsed])])
    return encode_update(withdrawn=[parsed])


def setup(slice_size):
    table = VrpTable()
    stage = RpkiStage(table)
    stage.slice_size = slice_size
    pipeline = Pipeline({TO_ROUTER: [stage]})
    state = open_session(pipeline)
    wire = Wire()
    state.session = wire
    return table, stage, pipeline, state, wire


def feed(pipeline, state, wire, raw):
    wire.messages.extend(pipeline.process(state, TO_ROUTER, c.UPDATE, raw))


def expected(table, routes):
    """What the receiver must hold: every route the peer has announced and not withdrawn, unless invalid."""
    return {
        prefix: origin for prefix, origin in routes.items() if table.validate(prefix, origin) != RouteValidity.INVALID
    }


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_updates_during_a_re_validation_end_as_the_current_vrps_say(family):
    prefixes, space, max_length, quarter = FAMILIES[family]

    async def scenario():
        table, stage, pipeline, state, wire = setup(slice_size=8)
        rng = random.Random(7)
        routes = {}
        for index, prefix in enumerate(prefixes):
            origin = (PEER_AS, OTHER_AS)[index % 2]
            routes[prefix] = origin
            feed(pipeline, state, wire, announce([prefix], path=(PEER_AS, origin) if origin != PEER_AS else (PEER_AS,)))
        assert wire.holds() == routes  # no VRPs yet: all not-found, all announced
        stage.schedule(table.apply(added=[make_vrp(space, max_length, OTHER_AS)]))  # PEER_AS routes turn invalid
        during = 0
        for step in range(400):
            if step == 150:  # a second change while the first runs: a quarter of the space is PEER_AS's again
                stage.schedule(table.apply(added=[make_vrp(quarter, max_length, PEER_AS)]))
            prefix = rng.choice(prefixes + ["192.0.2.0/24" if family == "ipv4" else "2001:db9::/48"])
            if rng.random() < 0.3:
                routes.pop(prefix, None)
                feed(pipeline, state, wire, withdrawal(prefix))
            else:
                origin = rng.choice((PEER_AS, OTHER_AS))
                routes[prefix] = origin
                feed(
                    pipeline,
                    state,
                    wire,
                    announce([prefix], path=(PEER_AS, origin) if origin != PEER_AS else (PEER_AS,)),
                )
            during += stage.revalidating()
            await asyncio.sleep(0)
        assert during > 100  # the UPDATEs did come while re-validation ran
        await stage.wait_revalidated()
        return table, wire, routes

    table, wire, routes = asyncio.run(scenario())
    holds = wire.holds()
    assert holds == expected(table, routes)
    assert OTHER_AS in holds.values() and PEER_AS in holds.values()  # both kinds survived: the test saw both


def test_a_change_undone_while_it_is_re_validated_leaves_every_route_announced():
    prefixes = FAMILIES["ipv4"][0][:100] + FAMILIES["ipv6"][0][:100]

    async def scenario():
        table, stage, pipeline, state, wire = setup(slice_size=4)
        for prefix in prefixes:
            feed(pipeline, state, wire, announce([prefix], path=(PEER_AS,)))
        vrps = [make_vrp("10.0.0.0/8", 24, OTHER_AS), make_vrp("2001:db8::/32", 48, OTHER_AS)]
        stage.schedule(table.apply(added=vrps))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert stage.revalidating()
        stage.schedule(table.apply(removed=vrps))
        await stage.wait_revalidated()
        return wire

    wire = asyncio.run(scenario())
    assert wire.holds() == {prefix: PEER_AS for prefix in prefixes}
    assert any(decode_update(raw).withdrawals() for raw in wire.messages)  # some were taken back meanwhile


def test_a_session_that_ends_during_a_re_validation_is_left_alone():
    async def scenario():
        table, stage, pipeline, state, wire = setup(slice_size=4)
        for prefix in FAMILIES["ipv4"][0][:200]:
            feed(pipeline, state, wire, announce([prefix]))
        stage.schedule(table.apply(added=[make_vrp("10.0.0.0/8", 24, OTHER_AS)]))
        await asyncio.sleep(0)
        sent = len(wire.messages)
        pipeline.end_session(state)
        await stage.wait_revalidated()
        return sent, wire

    sent, wire = asyncio.run(scenario())
    assert 0 < sent == len(wire.messages)


def test_the_sync_and_sliced_re_validations_send_the_same():
    prefixes = FAMILIES["ipv4"][0][:50] + FAMILIES["ipv6"][0][:50]  # 10.0.0-49.0/24, 2001:db8:0-31::/48
    vrps = [make_vrp("10.0.0.0/19", 24, OTHER_AS), make_vrp("2001:db8::/44", 48, OTHER_AS)]  # 10.0.0-31, 2001:db8:0-f
    outcomes = []
    for sliced in (False, True):
        table, stage, pipeline, state, wire = setup(slice_size=3)
        for prefix in prefixes:
            feed(pipeline, state, wire, announce([prefix]))
        diff = table.apply(added=vrps)
        count = asyncio.run(stage.revalidate(diff)) if sliced else stage.vrps_changed(diff)
        outcomes.append((count, wire.holds()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 32 + 16 and len(outcomes[0][1]) == 100 - 48


def test_a_vrp_union_schedules_re_validation_in_the_background():
    async def scenario():
        table, stage, pipeline, state, wire = setup(slice_size=4)
        union = VrpUnion(table, on_change=stage.schedule)
        for prefix in FAMILIES["ipv4"][0][:40]:
            feed(pipeline, state, wire, announce([prefix]))
        union.source("file").apply(added=[make_vrp("10.0.0.0/8", 24, OTHER_AS)])
        assert stage.revalidating()  # returned at once; the work goes on in the background
        await stage.wait_revalidated()
        return wire

    assert asyncio.run(scenario()).holds() == {}


def test_re_validation_withdrawals_are_counted():
    """A route withdrawn after a VRP change counts in routes_held_total{stage="rpki"}, and every route
    validated again in rpki_validations_total."""
    from peerwarden_runner.stages.metrics import Metrics

    metrics = Metrics()
    table = VrpTable()
    stage = RpkiStage(table, metrics)
    pipeline = Pipeline({TO_ROUTER: [stage]}, metrics=metrics)
    state = open_session(pipeline)
    wire = Wire()
    state.session = wire
    for prefix in FAMILIES["ipv4"][0][:10]:
        feed(pipeline, state, wire, announce([prefix]))
    sample = metrics.registry.get_sample_value
    before = sample("peerwarden_rpki_validations_total", {"state": "notfound"}) or 0
    stage.vrps_changed(table.apply(added=[make_vrp("10.0.0.0/8", 24, OTHER_AS)]))
    assert sample("peerwarden_routes_held_total", {"stage": "rpki"}) == 10
    assert before == 10 and sample("peerwarden_rpki_validations_total", {"state": "invalid"}) == 10
