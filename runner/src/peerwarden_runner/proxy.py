"""The BGP reverse proxy: a peer connects to us, we connect to the router, and every message is
passed through the pipeline of its direction.

Framing errors end the session with the NOTIFICATION the RFC asks for (and are logged); every
message a stage changes or drops is counted and logged by the pipeline. Backpressure is TCP's own:
a direction reads its next message only after the previous one was written and drained, so a
slow receiver slows its sender and memory stays bounded by one message per direction.
"""
import asyncio
import logging
import socket

from peerwarden_runner.codec import framing
from peerwarden_runner.codec.notification import encode_notification, shutdown_notification
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, SessionReset, other
from peerwarden_runner.tcp_md5 import set_md5

LOG = logging.getLogger("peerwarden_runner.proxy")


class SessionEnded(Exception):
    """One side closed or sent a NOTIFICATION; the other side is told and the session ends."""


class Proxy:
    """One listening address, one router to connect to, one pipeline."""

    def __init__(self, listen, connect, pipeline, connect_from=None, md5=None, peer=None,
                 shutdown_text="peerwarden-runner stopping"):
        self.listen, self.connect, self.connect_from, self.peer = listen, connect, connect_from, peer
        self.pipeline, self.md5, self.shutdown_text = pipeline, md5, shutdown_text
        self.sessions = set()
        self.server = None
        self.stopping = asyncio.Event()

    async def start(self):
        host, port = self.listen
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.md5:
            if not self.peer:
                raise ValueError("TCP-MD5 on the listening side needs the peer's address (peer / --peer)")
            set_md5(sock, self.peer, self.md5)
        sock.bind((host, port))
        self.server = await asyncio.start_server(self._accepted, sock=sock)
        LOG.info("listening on %s:%d, relaying to %s:%d", host, port, *self.connect)
        return self.server

    async def serve_until_stopped(self):
        """Serve until `stopping` is set (the runner sets it on SIGTERM for every server at once)."""
        await self.start()
        await self.stopping.wait()
        await self.stop()

    async def stop(self):
        """Graceful shutdown: every session ends with Cease / Administrative Shutdown and a text."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for session in list(self.sessions):
            await session.shutdown(self.shutdown_text)
        self.pipeline.close()

    async def _accepted(self, peer_reader, peer_writer):
        peer = peer_writer.get_extra_info("peername")
        try:
            router_reader, router_writer = await self._connect_router()
        except OSError as error:
            LOG.warning("peer %s connected but the router %s:%d cannot be reached: %s", peer[0], *self.connect, error)
            peer_writer.close()
            return
        session = Session(peer_reader, peer_writer, router_reader, router_writer, self.pipeline)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)

    async def _connect_router(self):
        host, port = self.connect
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        if self.connect_from:
            sock.bind((self.connect_from, 0))
        if self.md5:
            set_md5(sock, host, self.md5)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        return await asyncio.open_connection(sock=sock)


class Session:
    """The two TCP connections of one BGP session, and a pump per direction."""

    def __init__(self, peer_reader, peer_writer, router_reader, router_writer, pipeline):
        self.ends = {TO_ROUTER: (peer_reader, router_writer), TO_PEER: (router_reader, peer_writer)}
        self.writers = (peer_writer, router_writer)
        self.pipeline = pipeline
        self.state = pipeline.new_session(self)
        self.tasks = []

    async def run(self):
        self.tasks = [asyncio.create_task(self._pump(direction)) for direction in (TO_ROUTER, TO_PEER)]
        done, pending = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, (SessionEnded, asyncio.IncompleteReadError,
                                                            ConnectionError)):
                LOG.error("session ended by an internal error: %r", error)
        self._close()

    async def _pump(self, direction):
        reader, writer = self.ends[direction]
        while True:
            header = await reader.readexactly(framing.HEADER_LEN)
            try:
                length, kind = framing.parse_header(header, self.state.extended(direction))
            except framing.FramingError as error:
                LOG.warning("%s: bad message header (%s); ending the session with NOTIFICATION %d/%d",
                            direction, error, error.code, error.subcode)
                await self._notify_both(encode_notification(error.code, error.subcode, error.data))
                raise SessionEnded(str(error))
            body = await reader.readexactly(length - framing.HEADER_LEN)
            try:
                outgoing = self.pipeline.process(self.state, direction, kind, header + body)
            except SessionReset as reset:
                LOG.warning("%s: %s; NOTIFICATION %d/%d to the sender, Cease to the receiver", direction, reset,
                            reset.code, reset.subcode)
                sender = self.ends[other(direction)][1]
                sender.write(encode_notification(reset.code, reset.subcode, reset.data))
                writer.write(shutdown_notification("peerwarden-runner: %s" % reset))
                await self._drain_all()
                raise SessionEnded(str(reset))
            for raw in outgoing:
                writer.write(raw)
            await writer.drain()
            if kind == framing.NOTIFICATION:
                raise SessionEnded("NOTIFICATION %s" % direction)

    def send(self, direction, raw):
        """Messages a stage makes on its own (withdrawals after a VRP change, a Cease)."""
        writer = self.ends[direction][1]
        if not writer.is_closing():
            writer.write(raw)

    async def shutdown(self, text):
        await self._notify_both(shutdown_notification(text))
        self._close()

    async def _drain_all(self):
        for writer in self.writers:
            if not writer.is_closing():
                try:
                    await asyncio.wait_for(writer.drain(), 2)
                except (ConnectionError, asyncio.TimeoutError):
                    pass

    async def _notify_both(self, raw):
        for writer in self.writers:
            if not writer.is_closing():
                writer.write(raw)
                try:
                    await asyncio.wait_for(writer.drain(), 2)
                except (ConnectionError, asyncio.TimeoutError):
                    pass

    def _close(self):
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()
        self.pipeline.end_session(self.state)
