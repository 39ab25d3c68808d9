"""Who gets through the proxy: only the peer, one connection at a time, a whole OPEN within the
OPEN timeout; every refusal counted and logged at most once per source per minute."""

import asyncio
import logging
import socket

import pytest

from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec.open_message import encode_open
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import Pending, Proxy
from peerwarden_runner.ratelimit import RateLimitedLog
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.tcp_md5 import set_md5
from polling import until

OPEN = encode_open(65001, 90, "127.0.0.3")


class Router:
    """A router stand-in: counts the connections it gets, answers OPEN + KEEPALIVE, records what it reads."""

    def __init__(self):
        self.connections, self.received, self.server = 0, [], None

    async def start(self, md5=None):
        sock = socket.socket()
        if md5:
            set_md5(sock, "127.0.0.1", md5)  # the proxy signs its leg to the router with the same key
        sock.bind(("127.0.0.1", 0))
        self.server = await asyncio.start_server(self.accepted, sock=sock)
        return self.server.sockets[0].getsockname()[:2]

    async def accepted(self, reader, writer):
        self.connections += 1
        writer.write(encode_open(65000, 90, "127.0.0.2") + KEEPALIVE_MESSAGE)
        try:
            while True:
                header = await reader.readexactly(19)
                self.received.append(header + await reader.readexactly(int.from_bytes(header[16:18], "big") - 19))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    def close(self):
        self.server.close()


async def connect_from(source, port, md5=None):
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((source, 0))
    if md5:
        set_md5(sock, "127.0.0.1", md5)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 1.5)
    return await asyncio.open_connection(sock=sock)


async def proxy_for(router, **options):
    metrics = Metrics()
    proxy = Proxy(("127.0.0.1", 0), router, Pipeline(metrics=metrics), metrics=metrics, **options)
    server = await proxy.start()
    return proxy, server.sockets[0].getsockname()[1], metrics


def counted(metrics, outcome):
    return metrics.registry.get_sample_value("peerwarden_connections_total", {"session": "proxy", "outcome": outcome})


def test_a_stranger_is_refused_before_the_router_hears_of_it(caplog):
    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start(), peer="127.0.0.3")
        answers = []
        for _attempt in range(5):
            reader, writer = await connect_from("127.0.0.9", port)
            writer.write(OPEN)
            try:
                answers.append(await asyncio.wait_for(reader.read(), 2))
            except ConnectionError:
                answers.append(b"")
            writer.close()
        reader, writer = await connect_from("127.0.0.3", port)  # the peer gets in
        writer.write(OPEN + KEEPALIVE_MESSAGE)
        await until(lambda: len(router.received) == 2)
        peer_sees = await asyncio.wait_for(reader.readexactly(len(encode_open(65000, 90, "127.0.0.2"))), 2)
        writer.close()
        await proxy.stop()
        router.close()
        return (
            answers,
            router.connections,
            peer_sees,
            counted(metrics, "refused-stranger"),
            counted(metrics, "accepted"),
        )

    with caplog.at_level(logging.INFO):
        answers, connections, peer_sees, refused, accepted = asyncio.run(scenario())
    assert answers == [b""] * 5  # not one octet, not the router's OPEN
    assert connections == 1 and peer_sees[18] == 1
    assert refused == 5 and accepted == 1
    refusals = [r for r in caplog.records if "refused: only the peer" in r.getMessage()]
    assert len(refusals) == 1 and "127.0.0.9" in refusals[0].getMessage()  # once per source per minute


def test_a_second_connection_from_the_peer_is_a_collision():
    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start(), peer="127.0.0.3")
        reader, writer = await connect_from("127.0.0.3", port)
        writer.write(OPEN + KEEPALIVE_MESSAGE)
        await until(lambda: len(router.received) == 2)
        second_reader, second_writer = await connect_from("127.0.0.3", port)
        second_writer.write(OPEN)
        answer = await asyncio.wait_for(second_reader.read(), 2)
        second_writer.close()
        writer.write(KEEPALIVE_MESSAGE)  # the first session still relays
        await until(lambda: len(router.received) == 3)
        writer.close()
        await proxy.stop()
        router.close()
        return answer, router.connections, counted(metrics, "refused-collision")

    answer, connections, collisions = asyncio.run(scenario())
    assert answer[18] == 3 and answer[19:21] == b"\x06\x07"
    assert connections == 1 and collisions == 1


@pytest.mark.parametrize(
    ("sent", "notification"),
    [
        (encode_open(65001, 90, "127.0.0.3", version=3), b"\x02\x01"),  # unsupported version
        (encode_open(65001, 90, "0.0.0.0"), b"\x02\x03"),  # bad BGP identifier
        (encode_open(65001, 2, "127.0.0.3"), b"\x02\x06"),  # unacceptable hold time
        (OPEN[:16] + (33).to_bytes(2, "big") + OPEN[18:28] + b"\x04\x02\x05\x00\x00", b"\x02\x00"),  # overrun
        (b"\0" * 16 + OPEN[16:], b"\x01\x01"),  # marker
        (KEEPALIVE_MESSAGE, b"\x05\x01"),  # not an OPEN first (RFC 6608)
    ],
)
def test_a_malformed_open_gets_its_notification_and_no_router_leg(sent, notification):
    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start())
        reader, writer = await connect_from("127.0.0.3", port)
        writer.write(sent)
        answer = await asyncio.wait_for(reader.read(), 2)
        writer.close()
        await proxy.stop()
        router.close()
        return answer, router.connections

    answer, connections = asyncio.run(scenario())
    assert answer[18] == 3 and answer[19:21] == notification
    assert connections == 0


def test_open_timeout_and_byte_at_a_time():
    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start(), open_timeout=0.5)
        reader, writer = await connect_from("127.0.0.3", port)
        started = asyncio.get_running_loop().time()
        answer = b""
        for octet in OPEN[:-1]:  # slowloris: one octet every 0.1 s, never the whole OPEN in time
            writer.write(bytes((octet,)))
            await asyncio.sleep(0.1)
            if reader.at_eof() or writer.is_closing():
                break
            try:
                answer = await asyncio.wait_for(reader.read(), 0.01)
                break
            except TimeoutError:
                pass
        elapsed = asyncio.get_running_loop().time() - started
        writer.close()
        await proxy.stop()
        router.close()
        return answer, elapsed, router.connections, counted(metrics, "open-timeout")

    answer, elapsed, connections, timeouts = asyncio.run(scenario())
    assert answer[19:21] == b"\x04\x00" and elapsed < 1.5 and connections == 0 and timeouts == 1


def test_pending_connections_are_capped_across_sessions():
    async def scenario():
        router = Router()
        address = await router.start()
        pending = Pending(2)
        proxies = [await proxy_for(address, pending=pending) for _ in range(3)]
        silent = [await connect_from("127.0.0.3", port) for proxy, port, metrics in proxies[:2]]
        await until(lambda: pending.count == 2)
        reader, writer = await connect_from("127.0.0.3", proxies[2][1])
        try:
            answer = await asyncio.wait_for(reader.read(), 2)
        except ConnectionError:
            answer = b""
        for _reader, silent_writer in silent:
            silent_writer.close()
        writer.close()
        await until(lambda: pending.count == 0)
        for proxy, _port, _metrics in proxies:
            await proxy.stop()
        router.close()
        return answer, counted(proxies[2][2], "refused-limit")

    assert asyncio.run(scenario()) == (b"", 1)


def test_with_md5_no_other_address_completes_a_handshake():
    """The listening socket has the peer's key and a random one for every other address: a stranger's
    SYN, unsigned or signed with the peer's key, never completes; the peer's does."""

    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start("s3cret"), peer="127.0.0.3", md5="s3cret")
        outcomes = {}
        for name, source, key in (("unsigned", "127.0.0.9", None), ("stolen key", "127.0.0.9", "s3cret")):
            try:
                await connect_from(source, port, key)
                outcomes[name] = "connected"
            except (TimeoutError, OSError):
                outcomes[name] = "no handshake"
        reader, writer = await connect_from("127.0.0.3", port, "s3cret")
        writer.write(OPEN)
        await until(lambda: router.received)
        outcomes["peer"] = "connected"
        writer.close()
        await proxy.stop()
        router.close()
        return outcomes

    assert asyncio.run(scenario()) == {"unsigned": "no handshake", "stolen key": "no handshake", "peer": "connected"}


def test_after_a_notification_nothing_more_is_relayed():
    """The peer sends a bad header after its OPEN: the runner sends 1/x both ways and relays nothing
    the router says afterwards (not its OPEN, not its KEEPALIVE)."""

    async def scenario():
        router = Router()
        proxy, port, metrics = await proxy_for(await router.start())
        reader, writer = await connect_from("127.0.0.3", port)
        writer.write(OPEN + b"\0" * 19)
        seen = await asyncio.wait_for(reader.read(), 3)
        writer.close()
        await proxy.stop()
        router.close()
        return seen

    seen = asyncio.run(scenario())
    messages = []
    while seen:
        length = int.from_bytes(seen[16:18], "big")
        messages.append(seen[18])
        seen = seen[length:]
    assert messages[-1] == 3 and messages.count(3) == 1  # the NOTIFICATION is the last thing written


def test_rate_limited_log_counts_what_it_held_back(caplog):
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("test"), interval=60, max_keys=2, clock=lambda: now[0])
    with caplog.at_level(logging.INFO):
        assert log.log(logging.INFO, "a", "from %s", "a")
        assert not log.log(logging.INFO, "a", "from %s", "a")
        assert log.log(logging.INFO, "b", "from %s", "b")
        assert log.log(logging.INFO, "c", "from %s", "c")  # over max_keys: the shared line
        assert not log.log(logging.INFO, "d", "from %s", "d")
        now[0] = 61
        assert log.log(logging.INFO, "a", "from %s", "a")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[2].startswith("from c (and more") and lines[3] == "from a (1 more like it in the last 60 s)"
