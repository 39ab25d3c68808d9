"""RTR version 2 (draft-ietf-sidrops-8210bis-27) against scripted caches (rtr_fake_cache): version
negotiation and fallback (§7), ASPA announce / replace / withdraw in resets and incremental updates
(§5.12), and each malformed or inconsistent ASPA PDU answered with its Error Report (§12) and never
applied."""

import asyncio
import logging
import re

import pytest

from peerwarden_runner.rpki import rtr_pdu
from peerwarden_runner.rpki.aspa_table import AspaTable
from rtr_fake_cache import FIRST, SECOND, FakeCache, client_for, full_sync, hold, next_change, run

ASPAS = {65001: [65002, 65010], 65003: [0]}  # 65003: AS 0, no provider at all


def aspa_synced(script, aspa_changes_wanted, **options):
    """A client of one FakeCache running `script`, until its AspaTable told `aspa_changes_wanted`
    changes: (the cache, those changes (customer sets), the ASPAs after each, the client's state)."""

    async def scenario():
        told = asyncio.Queue()
        aspas = AspaTable(on_change=lambda customers: told.put_nowait((customers, dict(aspas.aspas))))
        async with FakeCache(script) as cache:
            client, dummy_changes = client_for(cache.cache(), aspas=aspas, **options)
            client.start()
            seen = [await next_change(told) for dummy in range(aspa_changes_wanted)]
            state = client.state
            await client.stop()
            return cache, [customers for customers, dummy in seen], [after for dummy, after in seen], state

    return run(scenario)


def synced_then_reset(session_id, notify, response, next_session_id, next_aspas):
    """A cache: on the first connection a version 2 sync of FIRST and ASPAS, then `notify`; the
    client's query after it answered with `response` (None: not answered), and the client's Error
    Report awaited. On the next connection a sync of FIRST and `next_aspas` in `next_session_id`."""

    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        if connection == 1:
            writer.write(full_sync(2, session_id, 1, [FIRST], ASPAS) + notify)
            await cache.receive(reader, connection)
            if response is not None:
                writer.write(response)
                await cache.receive(reader, connection)
        else:
            writer.write(full_sync(2, next_session_id, 3, [FIRST], next_aspas))
        await hold(reader)

    return script


def test_version_2_is_asked_first_and_its_aspas_are_kept():
    async def script(cache, reader, writer, connection):
        assert await cache.receive(reader, connection) == rtr_pdu.ResetQuery(2)
        writer.write(full_sync(2, 11, 1, [FIRST], ASPAS))
        await hold(reader)

    cache, [customers], [aspas], state = aspa_synced(script, 1)
    assert cache.connections == 1 and state.protocol_version == 2 and state.vrps == 1 and state.aspas == 2
    assert customers == {65001, 65003} and aspas == {65001: frozenset({65002, 65010}), 65003: frozenset({0})}


def test_a_version_1_cache_refusing_version_2_is_asked_again_in_version_1(caplog):
    """§7: an RFC 8210 cache answers a version 2 query with Unsupported Protocol Version in version 1;
    the client reconnects at once in version 1 and stays there (no ASPAs)."""

    async def script(cache, reader, writer, connection):
        query = await cache.receive(reader, connection)
        if query.version == 2:
            writer.write(rtr_pdu.encode_error_report(1, rtr_pdu.ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, b"", "v1"))
            await writer.drain()
            return
        writer.write(full_sync(1, 12, 5, [FIRST, SECOND]))
        writer.write(rtr_pdu.encode_serial_notify(1, 12, 6))
        await cache.receive(reader, connection)
        writer.write(rtr_pdu.encode_cache_response(1, 12) + rtr_pdu.encode_end_of_data(1, 12, 6))
        await hold(reader)

    async def scenario():
        async with FakeCache(script) as cache:
            client, changes = client_for(cache.cache())
            client.start()
            added, dummy_removed = await next_change(changes)
            while client.state.serial != 6:
                await asyncio.sleep(0.02)
            state = client.state
            await client.stop()
            return cache, added, state

    with caplog.at_level(logging.INFO, logger="peerwarden_runner"):
        cache, added, state = run(scenario)
    assert [pdus[0] for pdus in cache.pdus.values()] == [rtr_pdu.ResetQuery(2), rtr_pdu.ResetQuery(1)]
    assert cache.pdus[2][1] == rtr_pdu.SerialQuery(1, 12, 5)  # later queries stay in version 1
    assert added == {FIRST, SECOND} and state.protocol_version == 1 and state.aspas == 0 and state.errors == 0
    assert "cache refuses version 2 (unsupported protocol version: v1); retrying with version 1" in caplog.text


def test_aspa_announce_replace_and_withdraw_in_incremental_updates():
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(full_sync(2, 13, 1, [FIRST], ASPAS))
        writer.write(rtr_pdu.encode_serial_notify(2, 13, 2))
        assert await cache.receive(reader, connection) == rtr_pdu.SerialQuery(2, 13, 1)
        writer.write(
            rtr_pdu.encode_cache_response(2, 13)
            + rtr_pdu.encode_aspa(2, 64500, [64501])  # a new customer
            + rtr_pdu.encode_aspa(2, 65001, [65002])  # replaces 65001's whole set (§5.12)
            + rtr_pdu.encode_aspa(2, 65003, announce=False)
            + rtr_pdu.encode_end_of_data(2, 13, 2)
        )
        writer.write(rtr_pdu.encode_serial_notify(2, 13, 3))
        assert await cache.receive(reader, connection) == rtr_pdu.SerialQuery(2, 13, 2)
        writer.write(  # withdrawn and announced again in one response: the announcement stands
            rtr_pdu.encode_cache_response(2, 13)
            + rtr_pdu.encode_aspa(2, 64500, announce=False)
            + rtr_pdu.encode_aspa(2, 64500, [64502])
            + rtr_pdu.encode_end_of_data(2, 13, 3)
        )
        await hold(reader)

    dummy_cache, customers, aspas, state = aspa_synced(script, 3)
    assert customers == [{65001, 65003}, {64500, 65001, 65003}, {64500}]
    assert aspas[1] == {65001: frozenset({65002}), 64500: frozenset({64501})}
    assert aspas[2] == {65001: frozenset({65002}), 64500: frozenset({64502})}
    assert state.serial == 3 and state.aspas == 2


def test_a_changed_session_id_flushes_the_aspas_with_the_vrps():
    notify = rtr_pdu.encode_serial_notify(2, 15, 2)  # the cache restarted with a new session
    script = synced_then_reset(14, notify, None, 15, {64500: [64501]})
    cache, customers, aspas, dummy_state = aspa_synced(script, 3)
    assert cache.pdus[1][1].code == rtr_pdu.ErrorCode.CORRUPT_DATA
    assert customers == [{65001, 65003}, {65001, 65003}, {64500}]
    assert aspas[1] == {} and aspas[2] == {64500: frozenset({64501})}


def aspa_pdu(flags, customer, *providers, length=None):
    """An ASPA PDU as octets, whatever the draft allows (for the malformed cases)."""
    body = customer.to_bytes(4, "big") + b"".join(provider.to_bytes(4, "big") for provider in providers)
    return bytes([2, 11, flags, 0]) + (length or 8 + len(body)).to_bytes(4, "big") + body


@pytest.mark.parametrize(
    "update, code, text",
    [
        (aspa_pdu(1, 64500), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "lists no provider"),
        (aspa_pdu(1, 64500, 0, 64501), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "AS 0 among other providers"),
        (aspa_pdu(1, 64500, 64502, 64501), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "increasing order"),
        (aspa_pdu(1, 64500, 64501, 64501), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "each once"),
        (aspa_pdu(1, 64500, 64500), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "its own provider"),
        (aspa_pdu(0, 65001, 65002), rtr_pdu.ErrorCode.ASPA_PROVIDER_LIST_ERROR, "withdrawal of AS65001 lists"),
        (aspa_pdu(1, 64500, 64501, length=18) + bytes(2), rtr_pdu.ErrorCode.CORRUPT_DATA, "not 12 \\+ 4 per provider"),
        (aspa_pdu(0, 64999), rtr_pdu.ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, "withdrawal of unknown AS64999"),
        # StayRTR 0.5's 8210bis-10 form: flags 1, AFI flags 0, provider count 1, customer, provider
        (bytes.fromhex("020b00000000001401000001") + bytes.fromhex("0000fbf40000fbf5"), 9, "lists 2 provider"),
    ],
    ids=["no provider", "AS 0 among others", "out of order", "repeated", "itself", "withdrawal with providers",
         "cut length", "withdrawal of unknown", "older draft"],
)  # fmt: skip
def test_a_bad_aspa_pdu_gets_its_error_report_and_is_never_applied(update, code, text):
    response = (
        rtr_pdu.encode_cache_response(2, 16)
        + rtr_pdu.encode_aspa(2, 64400, [64401])  # a good one before: never applied either
        + update
        + rtr_pdu.encode_end_of_data(2, 16, 2)
    )
    script = synced_then_reset(16, rtr_pdu.encode_serial_notify(2, 16, 2), response, 16, {64400: [64401]})
    cache, customers, aspas, state = aspa_synced(script, 2)
    report = cache.pdus[1][-1]
    assert isinstance(report, rtr_pdu.ErrorReport) and report.code == code and report.version == 2
    assert report.erroneous_pdu == update
    assert re.search(text, report.text), report.text
    assert isinstance(cache.pdus[2][0], rtr_pdu.ResetQuery)  # the next session starts over
    assert customers == [{65001, 65003}, {64400, 65001, 65003}] and aspas[1] == {64400: frozenset({64401})}
    assert state.errors == 1 and report.text in state.last_error


@pytest.mark.parametrize(
    "response, code",
    [
        (full_sync(2, 17, 1, [], {65001: [65002]}) + rtr_pdu.encode_aspa(2, 65001, [65003]), None),
        (rtr_pdu.encode_cache_response(2, 17) + rtr_pdu.encode_aspa(2, 65001, [65002]) * 2, 7),
        (rtr_pdu.encode_cache_response(2, 17) + rtr_pdu.encode_aspa(2, 65001, announce=False), 6),
    ],
    ids=["outside a response", "twice in a reset", "withdrawal in a reset"],
)
def test_aspa_pdus_out_of_place_are_refused(response, code):
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(response)
        if connection == 1:
            await cache.receive(reader, connection)
        await hold(reader)

    async def scenario():
        async with FakeCache(script) as cache:
            client, dummy_changes = client_for(cache.cache())
            client.start()
            while cache.connections < 2:
                await asyncio.sleep(0.02)
            await client.stop()
            return cache

    cache = run(scenario)
    report = cache.pdus[1][-1]
    assert isinstance(report, rtr_pdu.ErrorReport) and report.code == (code if code is not None else 0)
    assert report.erroneous_pdu[:2] == bytes([2, 11])


def test_an_aspa_pdu_in_a_version_1_session_is_an_unsupported_pdu_type():
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(rtr_pdu.encode_cache_response(1, 18) + bytes([1]) + rtr_pdu.encode_aspa(2, 65001, [65002])[1:])
        await cache.receive(reader, connection)
        await hold(reader)

    async def scenario():
        async with FakeCache(script) as cache:
            client, dummy_changes = client_for(cache.cache(version=1))
            client.start()
            while len(cache.pdus.get(1, ())) < 2:
                await asyncio.sleep(0.02)
            await client.stop()
            return cache

    report = run(scenario).pdus[1][1]
    assert report.code == rtr_pdu.ErrorCode.UNSUPPORTED_PDU_TYPE and report.version == 1


def test_the_protocol_version_and_the_aspas_are_metrics():
    from peerwarden_runner.scrape_metrics import RtrStateCollector

    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(full_sync(2, 19, 1, [FIRST], ASPAS))
        await hold(reader)

    async def scenario():
        async with FakeCache(script) as cache:
            client, changes = client_for(cache.cache())
            client.start()
            await next_change(changes)
            families = {family.name: family.samples[0].value for family in RtrStateCollector(client).collect()}
            await client.stop()
            return families

    families = run(scenario)
    assert families["peerwarden_rtr_protocol_version"] == 2 and families["peerwarden_rtr_aspas"] == 2
