"""RTR client against scripted caches on 127.0.0.1 (rtr_fake_cache): the protocol corners a real
cache rarely shows (malformed PDUs, version 0 only, Cache Reset, a changed session id, No Data)."""

import asyncio

import pytest

from peerwarden_runner.rpki import RouteValidity, rtr_pdu
from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers
from rtr_fake_cache import FAST, FIRST, SECOND, THIRD, FakeCache, client_for, full_sync, hold, next_change, run, synced
from rtr_lab import free_port


def test_malformed_pdu_gets_an_error_report_and_the_client_reconnects():
    broken = bytearray(rtr_pdu.encode_prefix(1, THIRD))
    broken[10] = 20  # maxLength 20 < prefix length 24

    async def script(cache, reader, writer, connection):
        assert isinstance(await cache.receive(reader, connection), rtr_pdu.ResetQuery)
        if connection == 1:
            writer.write(rtr_pdu.encode_cache_response(1, 9) + rtr_pdu.encode_prefix(1, FIRST) + bytes(broken))
            await cache.receive(reader, connection)  # the client's Error Report
            await hold(reader)
        else:
            writer.write(full_sync(1, 9, 1, [FIRST, SECOND]))
            await hold(reader)

    cache, [(added, removed)], state, dummy = synced(script)
    report = cache.pdus[1][1]
    assert isinstance(report, rtr_pdu.ErrorReport) and report.code == rtr_pdu.ErrorCode.CORRUPT_DATA
    assert report.erroneous_pdu == bytes(broken) and "max length 20" in report.text
    assert cache.connections == 2 and (added, removed) == ({FIRST, SECOND}, frozenset())
    assert state.errors == 1 and "max length 20" in state.last_error and state.serial == 1


def test_version_0_fallback_when_the_cache_refuses_version_2():
    """8210bis-27 §7: the next query is in the version the Error Report names (0), not one lower."""

    async def script(cache, reader, writer, connection):
        query = await cache.receive(reader, connection)
        if query.version != 0:  # an RFC 6810 cache: Unsupported Protocol Version, then close
            writer.write(
                rtr_pdu.encode_error_report(0, rtr_pdu.ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, b"", "version 0 only")
            )
            await writer.drain()
            return
        writer.write(full_sync(0, 4, 17, [FIRST]))
        await hold(reader)

    cache, [(added, dummy_removed)], state, dummy = synced(script)
    assert [cache.pdus[number][0] for number in (1, 2)] == [rtr_pdu.ResetQuery(2), rtr_pdu.ResetQuery(0)]
    assert added == {FIRST} and state.protocol_version == 0 and (state.session_id, state.serial) == (4, 17)
    assert state.refresh == FAST.refresh  # a version 0 End of Data has no timers


def test_a_cache_answering_version_0_is_followed_on_the_same_connection():
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(full_sync(0, 4, 1, [FIRST]))
        await hold(reader)

    cache, dummy_seen, state, dummy = synced(script)
    assert cache.connections == 1 and state.protocol_version == 0


def test_serial_notify_incremental_update_and_cache_reset():
    async def script(cache, reader, writer, connection):
        assert isinstance(await cache.receive(reader, connection), rtr_pdu.ResetQuery)
        writer.write(full_sync(1, 5, 1, [FIRST, SECOND]))
        writer.write(rtr_pdu.encode_serial_notify(1, 5, 2))
        assert await cache.receive(reader, connection) == rtr_pdu.SerialQuery(1, 5, 1)
        writer.write(
            rtr_pdu.encode_cache_response(1, 5)
            + rtr_pdu.encode_prefix(1, FIRST, announce=False)
            + rtr_pdu.encode_prefix(1, THIRD)
            + rtr_pdu.encode_end_of_data(1, 5, 2)
        )
        writer.write(rtr_pdu.encode_serial_notify(1, 5, 3))
        assert await cache.receive(reader, connection) == rtr_pdu.SerialQuery(1, 5, 2)
        writer.write(rtr_pdu.encode_cache_reset(1))  # cannot answer incrementally: the client must reset
        assert isinstance(await cache.receive(reader, connection), rtr_pdu.ResetQuery)
        writer.write(full_sync(1, 5, 3, [FIRST]))
        await hold(reader)

    dummy, seen, state, table = synced(script, 3)
    assert seen == [({FIRST, SECOND}, frozenset()), ({THIRD}, {FIRST}), ({FIRST}, {SECOND, THIRD})]
    assert state.serial == 3 and state.syncs == 3 and table.snapshot() == {FIRST}
    assert table.validate("192.0.2.0/24", 65001) == RouteValidity.VALID


def test_changed_session_id_flushes_the_data_and_resets():
    async def script(cache, reader, writer, connection):
        assert isinstance(await cache.receive(reader, connection), rtr_pdu.ResetQuery)
        if connection == 1:
            writer.write(full_sync(1, 5, 1, [FIRST]))
            writer.write(rtr_pdu.encode_serial_notify(1, 6, 2))  # the cache restarted with a new session
            await cache.receive(reader, connection)
            await hold(reader)
        else:
            writer.write(full_sync(1, 6, 2, [SECOND]))
            await hold(reader)

    cache, seen, dummy_state, dummy = synced(script, 3)
    report = cache.pdus[1][1]
    assert isinstance(report, rtr_pdu.ErrorReport) and report.code == rtr_pdu.ErrorCode.CORRUPT_DATA
    assert seen == [({FIRST}, frozenset()), (frozenset(), {FIRST}), ({SECOND}, frozenset())]  # RFC 8210 §5.1


@pytest.mark.parametrize(
    "update, code",
    [
        (rtr_pdu.encode_prefix(1, FIRST), rtr_pdu.ErrorCode.DUPLICATE_ANNOUNCEMENT_RECEIVED),
        (rtr_pdu.encode_prefix(1, THIRD, announce=False), rtr_pdu.ErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD),
    ],
    ids=["duplicate announcement", "withdrawal of unknown record"],
)
def test_inconsistent_updates_are_reported_and_never_applied(update, code):
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        if connection == 1:
            writer.write(full_sync(1, 5, 1, [FIRST]))
            writer.write(rtr_pdu.encode_serial_notify(1, 5, 2))
            await cache.receive(reader, connection)
            writer.write(
                rtr_pdu.encode_cache_response(1, 5)
                + rtr_pdu.encode_prefix(1, SECOND)
                + update
                + rtr_pdu.encode_end_of_data(1, 5, 2)
            )
            await cache.receive(reader, connection)
            await hold(reader)
        else:
            writer.write(full_sync(1, 5, 2, [FIRST, SECOND]))
            await hold(reader)

    cache, seen, dummy_state, dummy = synced(script, 2)
    assert cache.pdus[1][-1].code == code and isinstance(cache.pdus[2][0], rtr_pdu.ResetQuery)
    assert seen == [({FIRST}, frozenset()), ({SECOND}, frozenset())]  # SECOND only arrives with the reset


def test_no_data_available_is_retried_on_the_same_connection():
    async def script(cache, reader, writer, connection):
        await cache.receive(reader, connection)
        writer.write(rtr_pdu.encode_error_report(1, rtr_pdu.ErrorCode.NO_DATA_AVAILABLE, b"", "still loading"))
        assert isinstance(await cache.receive(reader, connection), rtr_pdu.ResetQuery)
        writer.write(full_sync(1, 5, 1, [FIRST]))
        await hold(reader)

    cache, [(added, dummy_removed)], dummy_state, dummy = synced(script)
    assert cache.connections == 1 and added == {FIRST}


def test_fails_over_to_the_next_cache_and_comes_back_to_the_preferred_one():
    preferred_port = free_port()

    def serving(vrps):
        async def script(cache, reader, writer, connection):
            await cache.receive(reader, connection)
            writer.write(full_sync(1, 7, 1, vrps))
            await hold(reader)

        return script

    async def scenario():
        async with FakeCache(serving([SECOND])) as backup:
            preferred = RtrCache("127.0.0.1", preferred_port, preference=1)
            client, changes = client_for(preferred, backup.cache(preference=2), timers=RtrTimers(30, 0.3, 30))
            client.start()
            first = await next_change(changes)
            first_cache = client.state.cache
            async with FakeCache(serving([FIRST]), port=preferred_port):
                second = await next_change(changes)
                second_cache = client.state.cache
                await client.stop()
            return first, first_cache, second, second_cache

    first, first_cache, second, second_cache = run(scenario)
    assert first == ({SECOND}, frozenset()) and first_cache.endswith(":%d" % preferred_port) is False
    assert second == ({FIRST}, {SECOND}) and second_cache == "127.0.0.1:%d" % preferred_port


def test_backoff_is_capped_by_max_backoff(caplog):
    """A cache that stays away is retried at most every `max_backoff` seconds, whatever Retry says
    (RFC 8210's default is 600 s: a cache back from a restart would wait ten minutes)."""
    import logging
    import re

    async def scenario():
        client = RtrClient(
            [RtrCache("127.0.0.1", free_port())],
            timers=RtrTimers(retry=600),
            min_backoff=0.01,
            max_backoff=0.08,
            connect_timeout=0.5,
        )
        task = asyncio.create_task(client.run())
        await asyncio.sleep(1.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.INFO, logger="peerwarden_runner"):
        asyncio.run(scenario())
    delays = [float(d) for d in re.findall(r"retrying in ([0-9.]+) s", caplog.text)]
    assert len(delays) >= 6 and max(delays) <= 0.1, delays
