"""The aspa stage fed by RTR v2 (`aspa: {rtr: true}`, the rpki stage's caches): a scripted cache
(rtr_fake_cache) announces ASPAs, routes are verified against them, and an incremental update of the
cache verifies the routes again (withdrawn / announced) through the same hooks as a file change;
with `file` too, the set is the union of both. And the config: `rtr` needs rpki caches.

ASPAs as test_stage_aspa: 64496's provider is 64500; 64500's is 64510; 64510 is a tier 1 (AS0).
Our router is AS65000; the peer 64500 is our customer."""

import asyncio
import json

import pytest

from peerwarden_runner import config
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import rtr_pdu
from peerwarden_runner.stages.aspa import AspaStage
from peerwarden_runner.stages.base import BuildContext
from peerwarden_runner.stages.rpki import RpkiStage
from rtr_fake_cache import FakeCache, full_sync, hold
from stage_helpers import announce, announced, open_session, withdrawn

ASPAS = {64496: [64500], 64500: [64510], 64510: [0]}
PEER_AS = 64500


def rpki_section(cache):
    return RpkiStage.check({"caches": [{"host": "127.0.0.1", "port": cache.port}]}, pytest.fail)


async def started(cache, aspa_section):
    """The rpki stage on `cache`, then the aspa stage (in that order, as wiring starts them)."""
    shared = {}
    context = BuildContext(shared=shared)
    rpki = RpkiStage.build(rpki_section(cache), context)
    tasks = await rpki.start()
    aspa = AspaStage.build(aspa_section, context)
    tasks += await aspa.start()
    return rpki, aspa, tasks


async def sent_after(state, count, timeout=10):
    for dummy in range(int(timeout / 0.02)):
        if len(state.session.sent) >= count:
            break
        await asyncio.sleep(0.02)
    return [raw for dummy, raw in state.session.sent]


async def stop(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_an_rtr_aspa_update_verifies_the_routes_again():
    update_now = asyncio.Event()

    async def script(cache, reader, writer, connection):
        assert await cache.receive(reader, connection) == rtr_pdu.ResetQuery(2)
        writer.write(full_sync(2, 21, 1, [], ASPAS))
        await update_now.wait()
        writer.write(rtr_pdu.encode_serial_notify(2, 21, 2))
        assert await cache.receive(reader, connection) == rtr_pdu.SerialQuery(2, 21, 1)
        writer.write(  # 64496 moves to provider 64501; 64510 gets a provider, 64500
            rtr_pdu.encode_cache_response(2, 21)
            + rtr_pdu.encode_aspa(2, 64496, [64501])
            + rtr_pdu.encode_aspa(2, 64510, [64500])
            + rtr_pdu.encode_end_of_data(2, 21, 2)
        )
        await hold(reader)

    async def run():
        async with FakeCache(script) as cache:
            rpki, aspa, tasks = await started(cache, {"file": None, "rtr": True})
            before = dict(aspa.aspas)
            pipeline = Pipeline({TO_ROUTER: [aspa.bind(BuildContext(role="customer"))]})
            state = open_session(pipeline, peer_as=PEER_AS)
            first = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["198.51.100.0/24"], path=(64500, 64496)))
            second = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["192.0.2.0/24"], path=(64500, 64510)))
            update_now.set()
            sent = await sent_after(state, 2)
            after = dict(aspa.aspas)
            await stop(tasks)
            return before, first, second, sent, after

    before, first, second, sent, after = asyncio.run(asyncio.wait_for(run(), 30))
    assert before == {customer: frozenset(providers) for customer, providers in ASPAS.items()}
    assert list(announced(first)) == ["198.51.100.0/24"]  # 64496 -> 64500: valid
    assert list(announced(second)) == []  # 64510 has no provider: held
    assert withdrawn(sent) == ["198.51.100.0/24"] and list(announced(sent)) == ["192.0.2.0/24"]
    assert after[64496] == {64501} and after[64510] == {64500}


def test_file_and_rtr_together_give_their_union(tmp_path):
    path = tmp_path / "rpki-client.json"
    entries = [{"customer_asid": 64496, "providers": [64502]}, {"customer_asid": 64499, "providers": [64500]}]
    path.write_text(json.dumps({"roas": [], "aspas": entries}))

    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(full_sync(2, 22, 1, [], ASPAS))
        await hold(reader)

    async def run():
        async with FakeCache(script) as cache:
            dummy_rpki, aspa, tasks = await started(cache, {"file": str(path), "rtr": True})
            aspas = dict(aspa.aspas)
            await stop(tasks)
            return aspas

    aspas = asyncio.run(asyncio.wait_for(run(), 30))
    assert aspas == {64496: {64500, 64502}, 64499: {64500}, 64500: {64510}, 64510: {0}}


SESSION = "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, to_router: [aspa], role: customer}]\n"


def test_config_rtr_needs_rpki_caches(tmp_path):
    path = tmp_path / "runner.yml"
    path.write_text(SESSION + "aspa: {rtr: true}\n")
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    assert "aspa.rtr: ASPAs over RTR come from the rpki stage's caches" in str(raised.value)
    path.write_text(SESSION + "aspa: {rtr: yes}\n")
    with pytest.raises(config.ConfigError, match="aspa.rtr"):
        config.load(path)
    path.write_text(SESSION + "aspa: {rtr: true}\nrpki: {caches: [{host: 127.0.0.1, port: 3323, version: 3}]}\n")
    with pytest.raises(config.ConfigError, match=r"rpki.caches\[0\].version"):
        config.load(path)
    path.write_text(SESSION + "aspa: {rtr: true}\nrpki: {caches: [{host: 127.0.0.1, port: 3323, version: 1}]}\n")
    with pytest.raises(config.ConfigError, match=r"aspa.rtr: every rpki cache is pinned below version 2"):
        config.load(path)
    caches = "[{host: 127.0.0.1, port: 3323, version: 1}, {host: 127.0.0.1, port: 3324}]"
    path.write_text(SESSION + "aspa: {rtr: true}\nrpki: {caches: %s}\n" % caches)
    checked = config.load(path)
    assert checked["aspa"] == {"file": None, "rtr": True}
    assert [cache["version"] for cache in checked["rpki"]["caches"]] == [1, None]
