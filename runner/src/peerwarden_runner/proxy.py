"""The BGP reverse proxy: a peer connects to us, we connect to the router, and every message is
passed through the pipeline of its direction.

Framing errors end the session with the NOTIFICATION the RFC asks for (and are logged); every
message a stage changes or drops is counted and logged by the pipeline. Backpressure is TCP's own:
a direction reads its next message only after the previous one was written and drained, so a
slow receiver slows its sender and memory stays bounded by one message per direction.
"""

import asyncio
import logging

from peerwarden_runner.codec import framing
from peerwarden_runner.codec.notification import encode_notification, shutdown_notification
from peerwarden_runner.directions import TO_PEER, TO_ROUTER, other
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.transport import connect, listen

LOG = logging.getLogger("peerwarden_runner.proxy")
ROUTER_RETRIES = (0.5, 1, 2, 4, 8)  # seconds between attempts to reach the router while the peer waits
CONNECT_TIMEOUT = 10
CONNECTION_REJECTED = encode_notification(6, 5, b"")  # Cease / Connection Rejected (RFC 4486)


class SessionEnded(Exception):
    """One side closed or sent a NOTIFICATION; the other side is told and the session ends."""


class Proxy:
    """One listening address, one router to connect to, one pipeline."""

    def __init__(
        self,
        listen,
        connect,
        pipeline,
        connect_from=None,
        md5=None,
        peer=None,
        shutdown_text="peerwarden-runner stopping",
        gtsm=(),
        router_retries=ROUTER_RETRIES,
    ):
        """`gtsm`: the legs ("peer", "router") where GTSM (RFC 5082, one hop) is required."""
        self.listen, self.connect, self.connect_from, self.peer = listen, connect, connect_from, peer
        self.gtsm, self.router_retries = frozenset(gtsm), tuple(router_retries)
        self.pipeline, self.md5, self.shutdown_text = pipeline, md5, shutdown_text
        self.sessions = set()
        self.server = None
        self.stopping = asyncio.Event()

    async def start(self):
        host, port = self.listen
        if self.md5 and not self.peer:
            raise ValueError("TCP-MD5 on the listening side needs the peer's address (peer / --peer)")
        self.server = await listen(host, port, self.peer, self._accepted, md5=self.md5, gtsm="peer" in self.gtsm)
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
        await self.pipeline.aclose()

    async def _accepted(self, peer_reader, peer_writer):
        peer = peer_writer.get_extra_info("peername")
        connected = await self._reach_router(peer[0])
        if connected is None:
            peer_writer.write(CONNECTION_REJECTED)
            peer_writer.close()
            return
        router_reader, router_writer = connected
        session = Session(peer_reader, peer_writer, router_reader, router_writer, self.pipeline)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)

    async def _reach_router(self, peer):
        """(reader, writer) towards the router, retried with back-off while the peer waits (its OPEN
        stays in the socket buffer); None when the router stays unreachable."""
        for attempt, pause in enumerate(self.router_retries + (None,), start=1):
            try:
                return await self._connect_router()
            except OSError as error:
                if pause is None:
                    LOG.warning(
                        "peer %s connected but the router %s:%d cannot be reached after %d attempts (%s): "
                        "telling the peer Cease / Connection Rejected",
                        peer,
                        *self.connect,
                        attempt,
                        error,
                    )
                    return None
                LOG.warning(
                    "peer %s connected but the router %s:%d cannot be reached (%s); retrying in %s s",
                    peer,
                    *self.connect,
                    error,
                    pause,
                )
            await asyncio.sleep(pause)
        return None

    async def _connect_router(self):
        host, port = self.connect
        return await connect(
            self.connect_from, host, port, md5=self.md5, gtsm="router" in self.gtsm, timeout=CONNECT_TIMEOUT
        )


class Session:
    """The two TCP connections of one BGP session, and a pump per direction."""

    def __init__(self, peer_reader, peer_writer, router_reader, router_writer, pipeline):
        self.ends = {TO_ROUTER: (peer_reader, router_writer), TO_PEER: (router_reader, peer_writer)}
        self.writers = (peer_writer, router_writer)
        self.pipeline = pipeline
        # direction -> the messages a stage made on its own, held back while the direction awaits an answer
        self.deferred: dict[str, list[bytes] | None] = {TO_ROUTER: None, TO_PEER: None}
        self.tasks = []
        peer, router = (writer.get_extra_info("peername") or (None,) for writer in self.writers)
        self.state = pipeline.new_session(self, {TO_ROUTER: (peer[0], router[0]), TO_PEER: (router[0], peer[0])})

    async def run(self):
        self.tasks = [asyncio.create_task(self._pump(direction)) for direction in (TO_ROUTER, TO_PEER)]
        done, pending = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            if task.cancelled():  # the session was shut down (SIGTERM) while this direction waited
                continue
            error = task.exception()
            if error is not None and not isinstance(
                error, (SessionEnded, asyncio.IncompleteReadError, ConnectionError)
            ):
                LOG.error("session ended by an internal error: %r", error)
        self._close()

    async def _pump(self, direction):
        reader, writer = self.ends[direction]
        while True:
            header = await reader.readexactly(framing.HEADER_LEN)
            try:
                length, kind = framing.parse_header(header, self.state.extended(direction))
            except framing.FramingError as error:
                LOG.warning(
                    "%s: bad message header (%s); ending the session with NOTIFICATION %d/%d",
                    direction,
                    error,
                    error.code,
                    error.subcode,
                )
                await self._notify_both(encode_notification(error.code, error.subcode, error.data))
                raise SessionEnded(str(error)) from error
            body = await reader.readexactly(length - framing.HEADER_LEN)
            try:
                if self.pipeline.asynchronous:  # a stage (exec filter) waits for an answer
                    self.deferred[direction] = []
                    outgoing = await self.pipeline.process_async(self.state, direction, kind, header + body)
                else:
                    outgoing = self.pipeline.process(self.state, direction, kind, header + body)
            except SessionReset as reset:
                LOG.warning(
                    "%s: %s; NOTIFICATION %d/%d to the sender, Cease to the receiver",
                    direction,
                    reset,
                    reset.code,
                    reset.subcode,
                )
                self._write_now(other(direction), encode_notification(reset.code, reset.subcode, reset.data))
                self._write_now(direction, shutdown_notification("peerwarden-runner: %s" % reset))
                await self._drain_all()
                raise SessionEnded(str(reset)) from reset
            for raw in outgoing:
                writer.write(raw)
            held, self.deferred[direction] = self.deferred[direction], None
            for raw in held or ():
                self._write_now(direction, raw)
            await writer.drain()
            if kind == framing.NOTIFICATION:
                raise SessionEnded("NOTIFICATION %s" % direction)

    def send(self, direction, raw):
        """Messages a stage makes on its own (withdrawals after a VRP change). While the direction awaits
        a stage's answer (an exec filter), they wait until that message's own output is written: a
        withdrawal must not overtake an older announcement of the same route still in the pipeline."""
        deferred = self.deferred[direction]
        if deferred is not None:
            deferred.append(raw)
        else:
            self._write_now(direction, raw)

    def _write_now(self, direction, raw):
        writer = self.ends[direction][1]
        if not writer.is_closing():
            self.pipeline.originated(self.state, direction, raw)
            writer.write(raw)

    async def shutdown(self, text):
        await self._notify_both(shutdown_notification(text))
        self._close()

    async def _drain_all(self):
        for writer in self.writers:
            if not writer.is_closing():
                try:
                    await asyncio.wait_for(writer.drain(), 2)
                except (TimeoutError, ConnectionError):
                    pass

    async def _notify_both(self, raw):
        for direction in (TO_PEER, TO_ROUTER):
            self._write_now(direction, raw)  # the session ends: nothing waits for a stage any more
        await self._drain_all()

    def _close(self):
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()
        self.pipeline.end_session(self.state)
