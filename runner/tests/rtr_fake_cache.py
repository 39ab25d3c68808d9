"""A scripted RTR cache on 127.0.0.1 for client tests: the protocol corners a real cache rarely shows.

Each FakeCache runs an asyncio server whose `script(cache, reader, writer, connection)` plays the
cache for one connection, reading the client's PDUs and answering exactly as the test wants
(including malformed PDUs, version 0 only, Cache Reset, a changed session id, No Data, ASPAs).
"""

import asyncio
import struct

from peerwarden_runner.rpki import make_vrp, rtr_pdu
from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers

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

    def cache(self, preference=0, version=None):
        return RtrCache("127.0.0.1", self.port, preference, version)

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


def full_sync(version, session_id, serial, vrps, aspas=None):
    """A whole response: VRPs, then (version 2) ASPAs as {customer: providers}."""
    return (
        rtr_pdu.encode_cache_response(version, session_id)
        + b"".join(rtr_pdu.encode_prefix(version, vrp) for vrp in vrps)
        + b"".join(rtr_pdu.encode_aspa(version, customer, providers) for customer, providers in (aspas or {}).items())
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
