"""RTR client against scripted caches on 127.0.0.1: the protocol corners a real cache rarely shows.

Each FakeCache runs an asyncio server whose `script(cache, reader, writer, connection)` plays the
cache for one connection, reading the client's PDUs and answering exactly as the test wants
(including malformed PDUs, version 0 only, Cache Reset, a changed session id, No Data).
"""

import asyncio
import struct

import pytest

from peerwarden_runner.rpki import RouteValidity, make_vrp, rtr_pdu
from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers
from rtr_lab import free_port

FIRST = make_vrp("192.0.2.0/24", 24, 65001)
SECOND = make_vrp("2001:db8::/32", 48, 65002)
THIRD = make_vrp("198.51.100.0/24", 24, 65003)
FAST = RtrTimers(refresh=30, retry=0.2, expire=30)


class FakeCache:
    """A scripted RTR cache; `pdus` collects what the client sent, per connection."""

    def __init__(self, script, port=0):
        self.script = script
        self.port = port
        self.connections = 0
        self.pdus = {}
        self.server = None

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info):
        self.server.close()
        await self.server.wait_closed()

    def cache(self, preference=0):
        return RtrCache("127.0.0.1", self.port, preference)

    async def _serve(self, reader, writer):
        self.connections += 1
        connection = self.connections
        self.pdus[connection] = []
        try:
            await self.script(self, reader, writer, connection)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def receive(self, reader, connection):
        header = await reader.readexactly(8)
        length = struct.unpack("!I", header[4:])[0]
        pdu = rtr_pdu.decode_pdu(header + await reader.readexactly(length - 8))
        self.pdus[connection].append(pdu)
        return pdu


def full_sync(version, session_id, serial, vrps):
    return (
        rtr_pdu.encode_cache_response(version, session_id)
        + b"".join(rtr_pdu.encode_prefix(version, vrp) for vrp in vrps)
        + rtr_pdu.encode_end_of_data(version, session_id, serial)
    )


async def hold(reader):
    """Keep the connection open until the client closes it."""
    await reader.read()


def client_for(*caches, **options):
    changes = asyncio.Queue()
    options.setdefault("timers", FAST)
    client = RtrClient(
        caches,
        on_change=lambda added, removed: changes.put_nowait((added, removed)),
        use_cache_timers=False,
        min_backoff=0.05,
        **options,
    )
    return client, changes


async def next_change(changes, timeout=5):
    return await asyncio.wait_for(changes.get(), timeout)


def run(scenario, timeout=20):
    return asyncio.run(asyncio.wait_for(scenario(), timeout))


def synced(script, changes_wanted=1):
    """A client of one FakeCache running `script`, until it has seen `changes_wanted` VRP changes:
    (the cache, the changes, the client's state and its table, both as they were then)."""

    async def scenario():
        async with FakeCache(script) as cache:
            client, changes = client_for(cache.cache())
            client.start()
            seen = [await next_change(changes) for dummy in range(changes_wanted)]
            state, table = client.state, client.table
            await client.stop()
            return cache, seen, state, table

    return run(scenario)


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
