"""A scripted BGP peer on 127.0.0.22 (or another address) for the speaker's tests: an asyncio server
whose script plays the router for each connection, so a test can send exactly the OPEN, UPDATE or
silence it wants; `Connection` also plays a router that connects to a passive speaker."""

import asyncio
import logging
import socket

from peerwarden_runner.backoff import Backoff
from peerwarden_runner.codec import (
    Capability,
    decode_notification,
    decode_open,
    decode_update,
    encode_open,
    read_message,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.speaker.speaker import Speaker, SpeakerSettings
from peerwarden_runner.tcp_md5 import set_md5

PEER, LOCAL = "127.0.0.22", "127.0.0.23"
LOCAL_ASN, PEER_ASN = 65020, 65022


def peer_open(
    asn=PEER_ASN,
    hold_time=30,
    bgp_id="127.0.0.22",
    families=(c.IPV4_UNICAST, c.IPV6_UNICAST),
    version=c.BGP_VERSION,
    four_octet_as=False,
):
    """The peer's OPEN; `four_octet_as`: with the capability (RFC 6793), as routers send it."""
    capabilities = [Capability.multiprotocol(*family) for family in families] + [Capability.route_refresh()]
    if four_octet_as:
        capabilities.append(Capability.four_octet_as(asn))
    return encode_open(asn, hold_time, bgp_id, capabilities, version=version)


class Connection:
    """One accepted connection as the script sees it."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    async def read(self, timeout=5):
        return await asyncio.wait_for(read_message(self.reader), timeout)

    def send(self, raw):
        self.writer.write(raw)

    async def establish(self, **open_fields):
        """Read the speaker's OPEN, answer OPEN + KEEPALIVE, read its KEEPALIVE; the speaker's Open."""
        theirs = decode_open((await self.read()).raw)
        self.send(peer_open(**open_fields))
        self.send(c.MARKER + b"\x00\x13\x04")
        assert (await self.read()).type == c.KEEPALIVE
        return theirs

    async def read_until(self, kind, timeout=5):
        """Messages up to and including the first of `kind`; the last one."""
        while True:
            message = await self.read(timeout)
            if message.type == kind:
                return message

    async def updates_until_end_of_rib(self, families=2):
        """Decoded UPDATEs up to the End-of-RIB of `families` families (End-of-RIBs left out)."""
        updates = []
        while families:
            message = await self.read_until(c.UPDATE)
            update = decode_update(message.raw)
            if update.end_of_rib():
                families -= 1
            else:
                updates.append(update)
        return updates

    async def notification(self, timeout=5):
        return decode_notification((await self.read_until(c.NOTIFICATION, timeout)).raw)


class ScriptedPeer:
    """`async with ScriptedPeer(script) as peer:` listens on PEER; `script(connection)` runs per connection."""

    def __init__(self, script, md5=None, address=PEER, speaker=LOCAL):
        self.script, self.md5, self.address, self.speaker = script, md5, address, speaker
        self.connections = 0
        self.done = asyncio.Queue()
        self.server = None
        self.port = None

    async def __aenter__(self):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.md5:
            set_md5(sock, self.speaker, self.md5)
        sock.bind((self.address, 0))
        self.server = await asyncio.start_server(self._serve, sock=sock)
        self.port = sock.getsockname()[1]
        return self

    async def __aexit__(self, *exc_info):
        self.server.close()

    async def _serve(self, reader, writer):
        self.connections += 1
        connection = Connection(reader, writer)
        try:
            result = await self.script(connection)
        except Exception as error:  # noqa: BLE001 - handed to the test, which raises it
            result = error
        writer.close()
        await self.done.put(result)

    async def result(self, timeout=10):
        """What the script of the next finished connection returned (its exception is raised)."""
        result = await asyncio.wait_for(self.done.get(), timeout)
        if isinstance(result, Exception):
            raise result
        return result


def make_speaker(port, watchers=(), local=LOCAL, **options):
    """A Speaker from LOCAL_ASN at `local` to the peer at PEER:port (PEER_ASN) with a quick back-off; `options`
    are SpeakerSettings fields (peer, peer_asn, hold_time, md5, gtsm, passive, local_port) or Speaker's own
    (stable_after, monitor)."""
    own = {name: options.pop(name) for name in ("stable_after", "monitor") if name in options}
    settings = dict(name="test", local=local, peer=PEER, port=port, asn=LOCAL_ASN, peer_asn=PEER_ASN, router_id=local)
    settings.update(shutdown_message="maintenance, back at 14:00", **options)
    return Speaker(SpeakerSettings(**settings), watchers, Backoff(0.05, 0.2), **own)


def run(scenario, timeout=20):
    logging.getLogger("peerwarden_runner").setLevel(logging.DEBUG)
    return asyncio.run(asyncio.wait_for(scenario(), timeout))
