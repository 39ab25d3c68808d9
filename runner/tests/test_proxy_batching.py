"""The proxy reads what the socket holds and writes the messages of one read as one block: the bytes
on the router leg are exactly the peer's, in order, whatever the cut between reads; many small
UPDATEs cost a few writes, not one each; and a message a stage sends on its own still lands between
the messages relayed before and after it."""

import asyncio
import socket

from peerwarden_runner.codec import framing
from peerwarden_runner.codec.capabilities import Capability
from peerwarden_runner.codec.open_message import encode_open
from peerwarden_runner.directions import TO_ROUTER
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import Proxy
from peerwarden_runner.stages.base import MessageStage

OPEN = encode_open(65001, 90, "127.0.0.3")


def frame(number, size=40):
    """An UPDATE-typed frame carrying its number (relayed without decoding: no route stage)."""
    body = number.to_bytes(4, "big") + b"\0" * (size - framing.HEADER_LEN - 4)
    return b"\xff" * 16 + size.to_bytes(2, "big") + bytes([framing.UPDATE]) + body


class Marking(MessageStage):
    """Sends a marker of its own towards the router while it relays every tenth frame."""

    name = "marking"

    def message(self, state, direction, raw):
        number = int.from_bytes(raw[19:23], "big") if raw[18] == framing.UPDATE else 0
        if number and number % 10 == 0:
            state.session.send(direction, frame(100000 + number))
        return [raw]


def relay(stream, pieces, stages=None):
    """Send OPEN + `stream` through a proxy in pieces of `pieces` bytes (0: all at once); what the
    router received after the OPEN, and the number of writes on the router leg."""

    async def scenario():
        received, done = bytearray(), asyncio.Event()

        async def router_accepted(reader, writer):
            while not done.is_set():
                data = await reader.read(1 << 16)
                if not data:
                    break
                received.extend(data)
                if len(received) >= len(OPEN) + expected:
                    done.set()

        router = await asyncio.start_server(router_accepted, "127.0.0.1", 0)
        proxy = Proxy(("127.0.0.1", 0), router.sockets[0].getsockname()[:2], Pipeline(stages))
        server = await proxy.start()
        peer = socket.create_connection(server.sockets[0].getsockname()[:2])
        peer.sendall(OPEN)
        while not proxy.sessions:
            await asyncio.sleep(0.01)
        session = next(iter(proxy.sessions))
        writer = session.ends[TO_ROUTER][1]
        writes, write = [], writer.write
        writer.write = lambda data: (writes.append(len(data)), write(data))
        step = pieces or len(stream)
        for start in range(0, len(stream), step):
            peer.sendall(stream[start : start + step])
            if pieces:
                await asyncio.sleep(0.002)
        await asyncio.wait_for(done.wait(), 20)
        before_stop = list(writes)  # not the runner's own NOTIFICATION at stop
        peer.close()
        await proxy.stop()
        router.close()
        return bytes(received[len(OPEN) :]), before_stop

    expected = len(stream) + (len(stream) // len(frame(1)) // 10) * len(frame(1)) * bool(stages)
    return asyncio.run(scenario())


def test_the_bytes_are_the_peers_whatever_the_cut_between_reads():
    frames = [frame(n, 19 + 4 + n % 300) for n in range(1, 400)]
    stream = b"".join(frames)
    for pieces, part in ((7, b"".join(frames[:20])), (61, stream), (4096, stream)):
        received, dummy = relay(part, pieces)
        assert received == part, "cut every %d bytes" % pieces


def test_many_small_updates_sent_at_once_take_a_few_writes():
    stream = b"".join(frame(n) for n in range(1, 5001))
    received, writes = relay(stream, 0)
    assert received == stream
    assert sum(writes) == len(stream)
    assert len(writes) <= 5000 / 20, "%d writes for 5000 messages" % len(writes)


def test_a_stage_message_lands_between_the_messages_before_and_after_it():
    stream = b"".join(frame(n) for n in range(1, 101))
    received, dummy = relay(stream, 0, stages={TO_ROUTER: [Marking()]})
    size = len(frame(1))
    numbers = [int.from_bytes(received[i + 19 : i + 23], "big") for i in range(0, len(received), size)]
    expected = []
    for n in range(1, 101):
        if n % 10 == 0:
            expected.append(100000 + n)
        expected.append(n)
    assert numbers == expected


def test_a_bad_header_after_good_messages_in_the_same_read_ends_the_session_after_them():
    """The messages in front of a bad header are relayed; then the NOTIFICATION 1/1 goes both ways."""
    good = b"".join(frame(n) for n in range(1, 6))
    bad = b"\x00" * 16 + (40).to_bytes(2, "big") + bytes([framing.UPDATE]) + b"\0" * 21

    async def scenario():
        received = bytearray()

        async def router_accepted(reader, writer):
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                received.extend(data)

        router = await asyncio.start_server(router_accepted, "127.0.0.1", 0)
        proxy = Proxy(("127.0.0.1", 0), router.sockets[0].getsockname()[:2], Pipeline())
        server = await proxy.start()
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        writer.write(OPEN)
        while not proxy.sessions:
            await asyncio.sleep(0.01)
        writer.write(good + bad)  # one write: one read on the proxy's side
        to_peer = await asyncio.wait_for(reader.read(), 10)
        await asyncio.sleep(0.2)
        writer.close()
        await proxy.stop()
        router.close()
        return bytes(received[len(OPEN) :]), to_peer

    to_router, to_peer = asyncio.run(scenario())
    assert to_router[: len(good)] == good
    notification = to_router[len(good) :]
    assert notification[18] == framing.NOTIFICATION and notification[19:21] == bytes([1, 1])
    assert to_peer[18] == framing.NOTIFICATION and to_peer[19:21] == bytes([1, 1])  # the router sent nothing else


def test_an_extended_update_in_the_read_that_holds_the_open_that_allows_it():
    """The router's OPEN (Extended Message, RFC 8654), its KEEPALIVE and a 6,000-octet UPDATE arrive in
    one read: what follows the OPEN is cut with what it negotiated, so the UPDATE reaches the peer
    whole instead of ending the session with 1/2 Bad Message Length."""
    capabilities = [Capability.four_octet_as(65001), Capability.extended_message()]
    peer_open = encode_open(65001, 90, "127.0.0.3", capabilities)
    router_open = encode_open(65000, 90, "127.0.0.4", [Capability.four_octet_as(65000), Capability.extended_message()])
    keepalive = framing.make_header(framing.HEADER_LEN, framing.KEEPALIVE)
    big = frame(7, size=6000)
    expected = router_open + keepalive + big

    async def scenario():
        async def router_accepted(reader, writer):
            await reader.readexactly(len(peer_open))
            writer.write(expected)  # one write: one read at the proxy
            await writer.drain()
            await asyncio.sleep(5)

        router = await asyncio.start_server(router_accepted, "127.0.0.1", 0)
        proxy = Proxy(("127.0.0.1", 0), router.sockets[0].getsockname()[:2], Pipeline())
        server = await proxy.start()
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        writer.write(peer_open)
        received = await asyncio.wait_for(reader.readexactly(len(expected)), 10)
        writer.close()
        await proxy.stop()
        router.close()
        return received

    assert asyncio.run(scenario()) == expected
