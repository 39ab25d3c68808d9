"""RTR client against a real StayRTR on 127.0.0.1 (see rtr_lab): sync, Serial Notify, expiry."""

import asyncio

from peerwarden_runner.rpki import RouteValidity, make_vrp
from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers
from rtr_lab import INITIAL_VRPS, stayrtr  # noqa: F401 - the fixture

EXPECTED = frozenset(make_vrp(prefix, max_length, asn) for prefix, max_length, asn in INITIAL_VRPS)


def client_for(lab, timers):
    changes = asyncio.Queue()
    expiries = []
    client = RtrClient(
        [lab.cache()],
        on_change=lambda added, removed: changes.put_nowait((added, removed)),
        on_expire=lambda: expiries.append(True),
        timers=timers,
        use_cache_timers=False,
        min_backoff=0.1,
    )
    return client, changes, expiries


def test_initial_sync_then_serial_notify_follows_file_edits(stayrtr):  # noqa: F811
    async def scenario():
        # Refresh Interval 30 s: within this test only a Serial Notify can bring the edit in time
        client, changes, dummy_expiries = client_for(stayrtr, RtrTimers(refresh=30, retry=1, expire=120))
        client.start()
        initial = await asyncio.wait_for(changes.get(), 10)
        state = client.state
        assert client.table.validate("198.51.101.0/24", 65002) == RouteValidity.VALID
        stayrtr.write_vrps(INITIAL_VRPS[1:] + [("203.0.113.0/24", 24, 65004), ("2001:db8:1::/48", 48, 65005)])
        edit = await asyncio.wait_for(changes.get(), 10)
        after = client.state
        snapshot = client.table.snapshot()
        await client.stop()
        return initial, state, edit, after, snapshot

    initial, state, edit, after, snapshot = asyncio.run(scenario())
    assert initial == (EXPECTED, frozenset())
    assert state.connected and state.protocol_version == 2 and state.vrps == 3 and state.last_sync is not None
    assert state.session_id is not None and state.serial is not None and state.cache == stayrtr.cache().label
    assert edit == (
        {make_vrp("203.0.113.0/24", 24, 65004), make_vrp("2001:db8:1::/48", 48, 65005)},
        {make_vrp("192.0.2.0/24", 24, 65001)},
    )
    assert after.session_id == state.session_id and after.serial != state.serial and after.syncs >= 2
    assert snapshot == (EXPECTED - {make_vrp("192.0.2.0/24", 24, 65001)}) | edit[0]


def test_vrps_expire_when_the_cache_is_gone(stayrtr):  # noqa: F811
    async def scenario():
        client, changes, expiries = client_for(stayrtr, RtrTimers(refresh=1, retry=0.5, expire=1.5))
        client.start()
        await asyncio.wait_for(changes.get(), 10)
        stayrtr.stop()
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        dropped = await asyncio.wait_for(changes.get(), 10)
        waited = loop.time() - stopped_at
        state = client.state
        await client.stop()
        return dropped, waited, state, expiries

    dropped, waited, state, expiries = asyncio.run(scenario())
    assert dropped == (frozenset(), EXPECTED)
    assert waited < 5 and expiries == [True]
    assert state.expired and state.vrps == 0 and not state.connected and state.errors >= 1


# StayRTR 0.5 ("-protocol 2" is "draft-ietf-sidrops-8210bis-10") sends the ASPA PDU of that draft:
# flags, AFI flags and a provider count before the customer. The client reads the current form
# (8210bis-27 §5.12), so it must refuse that PDU with an Error Report, never read a wrong ASPA set,
# and a cache pinned to version 1 must still give its VRPs.
STAYRTR_ASPAS = {65001: [65002, 65010]}


def test_an_older_drafts_aspa_pdu_is_refused_with_an_error_report(stayrtr, caplog):  # noqa: F811
    import logging

    stayrtr.write_vrps(INITIAL_VRPS, aspas=STAYRTR_ASPAS)

    async def scenario():
        client, dummy_changes, dummy_expiries = client_for(stayrtr, RtrTimers(refresh=30, retry=1, expire=120))
        client.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while client.state.errors < 2 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        state = client.state
        await client.stop()
        return state

    with caplog.at_level(logging.INFO, logger="peerwarden_runner"):
        state = asyncio.run(scenario())
    # (the first sync may come before StayRTR re-read its file: then the ASPA arrives as an update)
    assert state.errors >= 2 and state.aspas == 0 and state.protocol_version == 2
    assert "sent Error Report (aspa provider list error)" in state.last_error
    assert "ASPA withdrawal of AS16777218 lists 3 provider(s)" in caplog.text  # flags 1, AFI 0, count 2 misread


def test_a_cache_pinned_to_version_1_gives_its_vrps_without_aspas(stayrtr):  # noqa: F811
    stayrtr.write_vrps(INITIAL_VRPS, aspas=STAYRTR_ASPAS)

    async def scenario():
        client = RtrClient([RtrCache("127.0.0.1", stayrtr.port, version=1)], use_cache_timers=False, min_backoff=0.1)
        client.start()
        await client.wait_synced(10)
        state, snapshot = client.state, client.table.snapshot()
        await client.stop()
        return state, snapshot

    state, snapshot = asyncio.run(scenario())
    assert state.protocol_version == 1 and state.errors == 0 and state.aspas == 0 and snapshot == EXPECTED
