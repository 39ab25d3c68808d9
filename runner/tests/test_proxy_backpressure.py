"""Backpressure: a router that stops reading makes the proxy stop reading from the peer, so the
peer's writes block and the proxy's memory stays bounded (TCP's windows do the rest)."""

import asyncio
import socket

from peerwarden_runner.codec import framing
from peerwarden_runner.codec.open_message import encode_open
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import Proxy

# a 4096-octet UPDATE frame: relayed without decoding, as no route stage is configured
FRAME = b"\xff" * 16 + (4096).to_bytes(2, "big") + bytes([framing.UPDATE]) + b"\0" * (4096 - 19)
OFFERED = 128 * 1024 * 1024


def test_a_router_that_does_not_read_blocks_the_peer():
    async def scenario():
        stalled = []

        async def router_accepted(reader, writer):
            stalled.append(writer)  # never reads

        router = await asyncio.start_server(router_accepted, "127.0.0.1", 0)
        proxy = Proxy(("127.0.0.1", 0), router.sockets[0].getsockname()[:2], Pipeline())
        server = await proxy.start()
        peer = socket.create_connection(server.sockets[0].getsockname()[:2])
        peer.sendall(encode_open(65001, 90, "127.0.0.3"))  # the router leg opens once the OPEN is in
        peer.setblocking(False)
        chunk, sent, idle = FRAME * 64, 0, 0.0
        while sent < OFFERED and idle < 2.0:
            try:
                offset = sent % len(chunk)  # a partial send continues the stream where it stopped
                sent += peer.send(chunk[offset:])
                idle = 0.0
            except BlockingIOError:
                await asyncio.sleep(0.05)
                idle += 0.05
        buffered = [
            session.ends[direction][1].transport.get_write_buffer_size()
            for session in proxy.sessions
            for direction in session.ends
        ]
        peer.close()
        await proxy.stop()
        router.close()
        return sent, buffered

    sent, buffered = asyncio.run(scenario())
    # kernel socket buffers on loopback hold a few MiB per socket; the rest was never read
    assert sent < 40 * 1024 * 1024, "the proxy kept reading %d MiB from the peer" % (sent >> 20)
    assert buffered and max(buffered) <= 256 * 1024
