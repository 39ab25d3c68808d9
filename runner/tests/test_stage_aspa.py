"""The aspa stage: a route whose AS path breaks a customer-provider relation is held back (withdrawn if the
receiver had it), a valid one passes; a changed ASPA set (or file) verifies every route again, releasing
what became valid and withdrawing what became invalid; roles per session and direction; metrics and logs;
its config checks.

ASPAs (documentation ASes): 64496's provider is 64500; 64500's is 64510; 64510 and 64511 are tier 1s
(AS0). Our router is AS65000; the peer 64500, our customer unless a test says otherwise."""

import asyncio
import json
import logging
import os

import pytest

from peerwarden_runner import config
from peerwarden_runner.codec import Prefix, encode_update
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline
from peerwarden_runner.stages.aspa import AspaStage
from peerwarden_runner.stages.base import BuildContext
from peerwarden_runner.stages.metrics import Metrics
from stage_helpers import announce, announced, open_session, withdrawn

ASPAS = {64496: frozenset({64500}), 64500: frozenset({64510}), 64510: frozenset({0}), 64511: frozenset({0})}
PEER_AS, ROUTER_AS = 64500, 65000


def session(role="customer", aspas=ASPAS, metrics=None, peer_as=PEER_AS, router_as=ROUTER_AS):
    stage = AspaStage(aspas, metrics=metrics)
    view = stage.bind(BuildContext(metrics, "s1", role))
    pipeline = Pipeline({TO_ROUTER: [view], TO_PEER: [view]}, metrics=metrics)
    return stage, pipeline, open_session(pipeline, peer_as=peer_as, router_as=router_as)


def send(pipeline, state, prefixes, path, direction=TO_ROUTER):
    return pipeline.process(state, direction, c.UPDATE, announce(prefixes, path=path))


def test_an_invalid_path_is_held_and_a_valid_one_passes():
    stage, pipeline, state = session()
    assert announced(send(pipeline, state, ["198.51.100.0/24"], (64500, 64496))) == {"198.51.100.0/24": ((), ())}
    # the customer 64500 passes on a route from its provider 64510 (which has none): a leak
    assert announced(send(pipeline, state, ["192.0.2.0/24"], (64500, 64510, 64511))) == {}
    holds = state.memory[("rib", TO_ROUTER)].holds
    assert list(holds.values()) == ["aspa: invalid path (upstream)"]
    # unknown (no ASPA for 64499) is not invalid: it passes
    assert "203.0.113.0/24" in announced(send(pipeline, state, ["203.0.113.0/24"], (64500, 64499)))


def test_a_route_the_router_had_is_withdrawn_when_its_new_path_is_invalid():
    stage, pipeline, state = session()
    send(pipeline, state, ["198.51.100.0/24"], (64500, 64496))
    out = send(pipeline, state, ["198.51.100.0/24"], (64500, 64510))
    assert withdrawn(out) == ["198.51.100.0/24"] and announced(out) == {}


def test_the_neighbour_must_head_the_path_and_a_route_server_need_not():
    stage, pipeline, state = session()
    assert announced(send(pipeline, state, ["198.51.100.0/24"], (64496,))) == {}  # 64496 is not the neighbour
    assert "not the neighbour AS64500" in next(iter(state.memory[("rib", TO_ROUTER)].holds.values()))
    stage, pipeline, state = session(role="rs")  # a transparent route server: its clients' ASes first
    assert "198.51.100.0/24" in announced(send(pipeline, state, ["198.51.100.0/24"], (64496,)))


def test_routes_from_a_provider_are_verified_downstream():
    # up from 64496 to the tier 1 64510, across to 64511: valid from a provider, invalid from a customer
    path = (64511, 64510, 64500, 64496)
    stage, pipeline, state = session(role="provider", peer_as=64511)
    assert "192.0.2.0/24" in announced(send(pipeline, state, ["192.0.2.0/24"], path))
    stage, pipeline, state = session(role="peer", peer_as=64511)
    assert announced(send(pipeline, state, ["192.0.2.0/24"], path)) == {}


def test_towards_the_peer_our_router_has_the_opposite_role():
    aspas = ASPAS | {ROUTER_AS: frozenset({64511})}
    down = (ROUTER_AS, 64511, 64510, 64500, 64496)  # from our provider 64511: we pass it down to a customer
    stage, pipeline, state = session(role="customer", aspas=aspas)
    assert "192.0.2.0/24" in announced(send(pipeline, state, ["192.0.2.0/24"], down, TO_PEER))
    stage, pipeline, state = session(role="provider", aspas=aspas)  # the same route up to a provider: a leak
    assert announced(send(pipeline, state, ["192.0.2.0/24"], down, TO_PEER)) == {}


def test_ibgp_is_not_verified():
    stage, pipeline, state = session(peer_as=ROUTER_AS)
    assert "192.0.2.0/24" in announced(send(pipeline, state, ["192.0.2.0/24"], (64510, 64511)))
    assert state.memory[("aspa", TO_ROUTER)] == {}


def test_a_changed_aspa_set_releases_what_became_valid_and_withdraws_what_became_invalid():
    metrics = Metrics()
    stage, pipeline, state = session(metrics=metrics)
    send(pipeline, state, ["198.51.100.0/24", "198.51.100.128/25"], (64500, 64496))  # valid
    send(pipeline, state, ["192.0.2.0/24"], (64500, 64510, 64511))  # invalid: held
    send(pipeline, state, ["203.0.113.0/24"], (64500, 64499))  # unknown: passes
    # 64510 gets a provider, 64500 (odd, but the ASPA says so); 64496 moves to the provider 64501
    changed = ASPAS | {64510: frozenset({64500}), 64496: frozenset({64501})}
    assert stage.aspas_changed(changed) == (0, 2)  # 64511 -> 64510 is still not provider+: still held
    sent = [raw for dummy, raw in state.session.sent]
    assert withdrawn(sent) == ["198.51.100.0/24", "198.51.100.128/25"]
    holds = state.memory[("rib", TO_ROUTER)].holds
    assert sorted(holds.values()) == ["aspa: invalid after an ASPA change"] * 2 + ["aspa: invalid path (upstream)"]
    state.session.sent.clear()
    released = changed | {64511: frozenset({64510}), 64496: frozenset({64500})}
    assert stage.aspas_changed(released) == (3, 0)
    assert sorted(announced(raw for dummy, raw in state.session.sent)) == [
        "192.0.2.0/24",
        "198.51.100.0/24",
        "198.51.100.128/25",
    ]
    assert holds == {}
    assert stage.aspas_changed(released) == (0, 0)  # nothing changed: nothing sent
    held = metrics.held.labels("aspa")._value.get()
    assert held == 3  # one on arrival, two after the first change
    counts = {values[0]: child.value for values, child in metrics.aspa_validations.children.items()}
    # on arrival, then after each of the three changes
    assert counts == {"valid": 2 + 0 + 3 + 3, "invalid": 1 + 3, "unknown": 1 + 1 + 1 + 1}


def test_a_background_pass_never_undoes_an_update_that_arrived_meanwhile():
    stage, pipeline, state = session()
    stage.slice_size = 10
    prefixes = ["10.0.%d.0/24" % index for index in range(50)]
    send(pipeline, state, prefixes, (64500, 64496))  # valid now

    async def run():
        stage.schedule(ASPAS | {64496: frozenset({64501})})  # 64496's path turns invalid
        await asyncio.sleep(0)  # the first slice is done
        assert len(withdrawn(raw for dummy, raw in state.session.sent)) == 10
        # the last route comes again meanwhile with a valid path: verified on arrival, against the new set
        out = send(pipeline, state, ["10.0.49.0/24"], (64500, 64500))
        assert list(announced(out)) == ["10.0.49.0/24"]
        await stage.wait_verified()

    asyncio.run(run())
    gone = withdrawn(raw for dummy, raw in state.session.sent)
    assert len(gone) == 49 and "10.0.49.0/24" not in gone
    assert len(state.memory[("rib", TO_ROUTER)].holds) == 49


def test_a_route_another_stage_holds_keeps_that_reason_and_is_not_released_by_aspa():
    from peerwarden_runner.rpki import VrpTable, make_vrp
    from peerwarden_runner.stages.rpki import RpkiStage

    aspa = AspaStage(ASPAS)
    rpki = RpkiStage(VrpTable([make_vrp("192.0.2.0/24", 24, 64999)]))
    pipeline = Pipeline({TO_ROUTER: [rpki, aspa.bind(BuildContext(role="customer"))]})
    state = open_session(pipeline, peer_as=PEER_AS)
    assert announced(send(pipeline, state, ["192.0.2.0/24"], (64500, 64510))) == {}  # RPKI- and ASPA-invalid
    holds = state.memory[("rib", TO_ROUTER)].holds
    assert list(holds.values()) == ["rpki: invalid (origin AS64510)"]
    assert aspa.aspas_changed(ASPAS | {64510: frozenset({64500})}) == (0, 0)  # ASPA-valid now, RPKI still not
    assert state.session.sent == [] and list(holds.values()) == ["rpki: invalid (origin AS64510)"]


def test_a_withdrawn_route_is_forgotten_and_not_announced_again():
    stage, pipeline, state = session()
    send(pipeline, state, ["192.0.2.0/24"], (64500, 64510))
    pipeline.process(state, TO_ROUTER, c.UPDATE, encode_update(withdrawn=[Prefix.parse("192.0.2.0/24")]))
    assert state.memory[("aspa", TO_ROUTER)] == {}
    assert stage.aspas_changed(ASPAS | {64510: frozenset({64500})}) == (0, 0)
    assert state.session.sent == []


def test_held_routes_are_counted_in_one_line_at_session_end(caplog):
    stage, pipeline, state = session()
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.aspa"):
        for index in range(50):
            send(pipeline, state, ["10.%d.0.0/16" % index], (64500, 64510))
        pipeline.end_session(state)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1, lines  # 50 routes, one line (log_summary), written when the session ends
    assert lines[0].startswith("session: aspa: 50 route(s) held back: invalid path in ")
    assert "(e.g. 10.0.0.0/16 path 64500 64510: upstream; 10.1.0.0/16 path " in lines[0]


def write(path, aspas):
    temporary = path.with_suffix(".tmp")
    entries = [{"customer_asid": customer, "providers": sorted(providers)} for customer, providers in aspas.items()]
    temporary.write_text(json.dumps({"roas": [], "aspas": entries}))
    os.replace(temporary, path)


def test_a_changed_aspa_file_verifies_the_routes_again(tmp_path):
    path = tmp_path / "rpki-client.json"
    write(path, ASPAS)

    async def run():
        stage = AspaStage.build({"file": str(path), "rtr": False}, BuildContext())
        tasks = await stage.start()
        pipeline = Pipeline({TO_ROUTER: [stage.bind(BuildContext(role="customer"))]})
        state = open_session(pipeline, peer_as=PEER_AS)
        pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24"], path=(64500, 64496)))
        pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["192.0.2.0/24"], path=(64500, 64510)))
        write(path, ASPAS | {64496: frozenset({64501}), 64510: frozenset({64500})})
        for dummy in range(200):  # the watcher polls once a second
            if len(state.session.sent) >= 2:
                break
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return [raw for dummy, raw in state.session.sent]

    sent = asyncio.run(run())
    assert withdrawn(sent) == ["198.51.100.0/24"] and list(announced(sent)) == ["192.0.2.0/24"]


def problems_of(text, tmp_path):
    path = tmp_path / "runner.yml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    return str(raised.value)


SESSION = "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, to_router: [aspa]%s}]\n"


def test_config_needs_the_file_and_the_sessions_role(tmp_path):
    found = problems_of(SESSION % "" + "aspa: {file: /x.json}\n", tmp_path)
    assert "sessions[0].role: the aspa stage needs the session's role" in found
    found = problems_of(SESSION % ", role: peer" + "aspa: {file: /x.json, fiel: y}\n", tmp_path)
    assert "aspa" in found and "fiel" in found
    found = problems_of(SESSION % ", role: peer" + "aspa: {}\n", tmp_path)
    assert "aspa" in found and "file" in found
    found = problems_of(SESSION % ", role: sibling" + "aspa: {file: /x.json}\n", tmp_path)
    assert "sessions[0].role" in found


def test_config_accepts_a_session_with_a_role(tmp_path):
    path = tmp_path / "runner.yml"
    path.write_text(SESSION % ", role: rs" + "aspa: {file: /x.json}\n")
    checked = config.load(path)
    assert checked["aspa"] == {"file": "/x.json", "rtr": False} and checked["sessions"][0]["role"] == "rs"
