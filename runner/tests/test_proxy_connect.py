"""How the proxy reaches the router: retries with back-off while the peer waits, Cease / Connection
Rejected when the router stays away, and GTSM on either leg."""

import asyncio
import socket

from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec.open_message import encode_open
from peerwarden_runner.gtsm import set_gtsm
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.proxy import CONNECTION_REJECTED, Proxy
from peerwarden_runner.stages import Kind, Stage
from polling import free_port, until

OPEN = encode_open(65001, 90, "127.0.0.3")


async def router_server(port, received, gtsm=False):
    """A router stand-in that records what it receives."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if gtsm:
        set_gtsm(sock)
    sock.bind(("127.0.0.1", port))

    async def accepted(reader, writer):
        received.append(await reader.readexactly(len(OPEN)))
        writer.close()

    return await asyncio.start_server(accepted, sock=sock)


async def start_proxy(router_port, **options):
    proxy = Proxy(("127.0.0.1", 0), ("127.0.0.1", router_port), Pipeline(), **options)
    server = await proxy.start()
    return proxy, server.sockets[0].getsockname()[1]


async def peer_connect(port, gtsm=False):
    sock = socket.socket()
    sock.setblocking(False)
    if gtsm:
        set_gtsm(sock)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 1.5)
    return await asyncio.open_connection(sock=sock)


def test_router_coming_up_late_gets_the_peers_open():
    async def scenario():
        router_port, received = free_port(), []
        proxy, port = await start_proxy(router_port, router_retries=(0.2, 0.2, 0.4, 0.8))
        reader, writer = await peer_connect(port)
        writer.write(OPEN)
        await asyncio.sleep(0.5)  # two attempts fail before the router listens
        router = await router_server(router_port, received)
        await until(lambda: received)
        writer.close()
        router.close()
        await proxy.stop()
        return received

    assert asyncio.run(scenario()) == [OPEN]


def test_router_that_stays_away_means_connection_rejected(caplog):
    async def scenario():
        proxy, port = await start_proxy(free_port(), router_retries=(0.1, 0.1))
        reader, writer = await peer_connect(port)
        writer.write(OPEN)
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        await proxy.stop()
        return answer

    assert asyncio.run(scenario()) == CONNECTION_REJECTED
    assert CONNECTION_REJECTED[19:21] == b"\x06\x05"
    assert "cannot be reached after 3 attempts" in caplog.text


def test_gtsm_on_both_legs():
    async def scenario():
        router_port, received = free_port(), []
        router = await router_server(router_port, received, gtsm=True)
        proxy, port = await start_proxy(router_port, gtsm=("peer", "router"))
        try:
            await peer_connect(port)
            ordinary_ttl_connected = True
        except OSError:
            ordinary_ttl_connected = False
        reader, writer = await peer_connect(port, gtsm=True)
        writer.write(OPEN)
        await until(lambda: received)
        writer.close()
        router.close()
        await proxy.stop()
        return ordinary_ttl_connected, received

    assert asyncio.run(scenario()) == (False, [OPEN])


def test_stopping_with_a_session_up_is_clean(caplog):
    """SIGTERM's path: stop() while both directions wait for data ends the session without an error."""

    async def scenario():
        router_port, received = free_port(), []
        held = []

        async def router_accepted(reader, writer):
            received.append(await reader.readexactly(len(OPEN)))
            held.append(writer)  # stays connected: the session is up when the proxy stops

        router = await asyncio.start_server(router_accepted, "127.0.0.1", router_port)
        proxy, port = await start_proxy(router_port)
        reader, writer = await peer_connect(port)
        writer.write(OPEN)
        await until(lambda: received)
        await proxy.stop()
        answer = await asyncio.wait_for(reader.read(), 5)  # the Cease, then the end of the connection
        await asyncio.sleep(0.2)  # let the session's own task finish
        writer.close()
        router.close()
        return answer

    answer = asyncio.run(scenario())
    assert answer[18] == 3 and answer[19:21] == b"\x06\x02"  # NOTIFICATION Cease / Administrative Shutdown
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


class SlowAnswer(Stage):
    """A message stage that waits for its answer, as an exec filter does."""

    name, kind, awaits = "slow", Kind.MESSAGE, True

    def __init__(self):
        self.waiting = asyncio.Event()

    def message(self, state, direction, raw):
        return [raw]

    async def message_async(self, state, direction, raw):
        self.waiting.set()
        await asyncio.sleep(0.3)
        return [raw]


def test_a_stage_message_waits_for_the_message_being_answered():
    """While a direction awaits a stage's answer, what a stage sends on its own (a withdrawal after a
    VRP change) is written after that message's output, never before it."""

    async def scenario():
        router_port, received = free_port(), []

        async def router_accepted(reader, writer):
            while len(received) < 2:
                header = await reader.readexactly(19)
                received.append(header + await reader.readexactly(int.from_bytes(header[16:18], "big") - 19))

        router = await asyncio.start_server(router_accepted, "127.0.0.1", router_port)
        slow = SlowAnswer()
        proxy = Proxy(("127.0.0.1", 0), ("127.0.0.1", router_port), Pipeline({TO_ROUTER: [slow]}))
        server = await proxy.start()
        reader, writer = await peer_connect(server.sockets[0].getsockname()[1])
        writer.write(OPEN)
        await asyncio.wait_for(slow.waiting.wait(), 5)
        session = next(iter(proxy.sessions))
        session.send(TO_ROUTER, KEEPALIVE_MESSAGE)  # made by a stage while the OPEN is being answered
        await until(lambda: len(received) == 2)
        first_two = list(received)
        writer.close()
        router.close()
        await proxy.stop()
        return first_two

    assert asyncio.run(scenario()) == [OPEN, KEEPALIVE_MESSAGE]
