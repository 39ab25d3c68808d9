"""The BGP reverse proxy: a peer connects to us, we connect to the router, and every message is
passed through the pipeline of its direction.

Framing errors end the session with the NOTIFICATION the RFC asks for (and are logged); every
message a stage changes or drops is counted and logged by the pipeline. Backpressure is TCP's own:
a direction reads what its socket holds (up to READ_CHUNK), relays every whole message in it,
writes their output in blocks (of BLOCK octets, and the rest at the end of the read) and drains them
before it reads again, so a slow receiver slows its sender and memory stays bounded by one chunk and
one message per direction.
"""

import asyncio
import logging
import time

from peerwarden_runner.addresses import same_address
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import framing
from peerwarden_runner.codec.errors import CodecError
from peerwarden_runner.codec.notification import decode_notification, encode_notification, shutdown_notification
from peerwarden_runner.codec.open_message import decode_open, validate_open
from peerwarden_runner.directions import TO_PEER, TO_ROUTER, other
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.ratelimit import RateLimitedLog
from peerwarden_runner.transport import TcpConnector, TcpListener

LOG = logging.getLogger("peerwarden_runner.proxy")
ROUTER_RETRIES = (0.5, 1, 2, 4, 8)  # seconds between attempts to reach the router while the peer waits
OPEN_TIMEOUT = 30.0  # seconds a connection has to send its whole OPEN (RFC 4271's large initial hold timer)
MAX_PENDING = 64  # connections waiting for their OPEN, all sessions together
READ_CHUNK = 65536  # bytes read at once on a session; the messages in them are written in blocks
BLOCK = 8192  # a block is written once it holds this much: the router starts on large UPDATEs sooner
CONNECTION_REJECTED = encode_notification(c.ERR_CEASE, c.CEASE_CONNECTION_REJECTED, b"")  # RFC 4486
COLLISION = encode_notification(c.ERR_CEASE, c.CEASE_CONNECTION_COLLISION, b"")
OPEN_TIMED_OUT = encode_notification(c.ERR_HOLD_TIMER, 0, b"")
REFUSALS = RateLimitedLog(LOG)  # one line per source per minute, whatever the flood


class SessionEnded(Exception):
    """One side closed or sent a NOTIFICATION; the other side is told and the session ends."""


class Pending:
    """The connections accepted and still waiting for their OPEN, counted across every session of the
    runner (one object shared by the proxies): beyond `maximum`, new connections are refused at once."""

    def __init__(self, maximum=MAX_PENDING):
        self.maximum, self.count = maximum, 0

    def acquire(self):
        if self.count >= self.maximum:
            return False
        self.count += 1
        return True

    def release(self):
        self.count -= 1


class Refused(Exception):
    """The peer's first message is not an acceptable OPEN: the NOTIFICATION it gets, and why."""

    def __init__(self, notification, reason):
        super().__init__(reason)
        self.notification = notification


class Proxy:
    """One listening address, one router to connect to, one pipeline.

    Who gets in: only the configured `peer` address (any address when none is configured, which the
    configuration allows on loopback only), and one connection at a time: a second one while a
    session lives is a collision, answered Cease / Connection Collision Resolution (6/7) as RFC 4271
    §6.8 says for an Established session, and never gets a router leg. The router leg is opened only
    once the peer's OPEN has arrived whole (within `open_timeout`) and decoded; a malformed OPEN gets
    its 2/x NOTIFICATION from the runner. Every refusal is counted (peerwarden_connections_total) and
    logged at most once per source per minute.
    """

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
        name="proxy",
        open_timeout=OPEN_TIMEOUT,
        pending=None,
        metrics=None,
        listener=None,
        connector=None,
    ):
        """`gtsm`: the legs ("peer", "router") where GTSM (RFC 5082, one hop) is required; `pending`:
        the runner's shared count of connections waiting for their OPEN (a Pending). `listener` and
        `connector` replace the TCP legs (a websocket tunnel's, tunnel/); the relay is the same."""
        self.listen, self.connect, self.connect_from, self.peer = listen, connect, connect_from, peer
        self.gtsm, self.router_retries = frozenset(gtsm), tuple(router_retries)
        self.pipeline, self.md5, self.shutdown_text = pipeline, md5, shutdown_text
        self.name, self.open_timeout = name, open_timeout
        self.pending = pending if pending is not None else Pending()
        self.metrics = metrics if metrics is not None else getattr(pipeline, "metrics", None)
        self.sessions = set()
        self.live = None  # the one connection of this session, from accept to close
        self.handlers: set[asyncio.Task] = set()  # one per accepted connection, until it is closed
        self.server = None
        self.stopping = asyncio.Event()
        self.listener = listener or TcpListener(listen[0], listen[1], peer, md5=md5, gtsm="peer" in self.gtsm)
        self.connector = connector or TcpConnector(
            connect_from, connect[0], connect[1], router_retries, md5=md5, gtsm="router" in self.gtsm
        )

    async def start(self):
        host, port = self.listen
        if self.md5 and not self.peer and isinstance(self.listener, TcpListener):
            raise ValueError("TCP-MD5 on the listening side needs the peer's address (peer / --peer)")
        self.server = await self.listener.start(self._accepted)
        LOG.info(
            "%s: listening on %s:%d for %s, relaying to %s:%d",
            self.name,
            host,
            port,
            "the peer %s" % self.peer if self.peer else "any address (no peer configured)",
            *self.connect,
        )
        return self.server

    async def serve_until_stopped(self):
        """Serve until `stopping` is set (the runner sets it on SIGTERM for every server at once)."""
        await self.start()
        await self.stopping.wait()
        LOG.info("%s: stopping: Cease / Administrative Shutdown to every session", self.name)
        await self.stop()

    async def stop(self):
        """Graceful shutdown: every session ends with Cease / Administrative Shutdown and a text."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for session in list(self.sessions):
            await session.shutdown(self.shutdown_text)
        if self.handlers:  # connections waiting for an OPEN or for the router: closed, not left behind
            done, pending = await asyncio.wait(self.handlers, timeout=2)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
        await self.listener.aclose()
        await self.connector.aclose()
        await self.pipeline.aclose()

    def _count(self, outcome):
        counter = getattr(self.metrics, "connection", None)
        if counter is not None:
            counter(self.name, outcome)

    def _refuse(self, writer, address, outcome, why, notification=None):
        """Close a connection we do not serve: counted, logged once per source and reason per minute.
        A stranger gets a reset and not one octet; the peer gets the NOTIFICATION that says why."""
        self._count(outcome)
        REFUSALS.log(
            logging.WARNING,
            "%s %s %s" % (self.name, outcome, address),
            "%s: connection from %s refused: %s",
            self.name,
            address,
            why,
        )
        if notification is None:
            writer.transport.abort()
        else:
            writer.write(notification)
            writer.close()

    async def _accepted(self, peer_reader, peer_writer, address=None):
        """A connection on the listening leg; `address` is the caller's when the leg's own stream has
        none (a tunnel)."""
        task = asyncio.current_task()
        assert task is not None  # asyncio runs every connection's callback as a task
        self.handlers.add(task)
        try:
            await self._check(peer_reader, peer_writer, address)
        except asyncio.CancelledError:  # stop(): asyncio would log a cancelled connection task as an error
            peer_writer.transport.abort()
        finally:
            self.handlers.discard(task)

    async def _check(self, peer_reader, peer_writer, address=None):
        if address is None:
            address = str(peer_writer.get_extra_info("peername")[0]).split("%")[0]
        if self.peer and not same_address(address, self.peer):
            self._refuse(peer_writer, address, "refused-stranger", "only the peer %s may connect" % self.peer)
            return
        if self.live is not None:
            self._refuse(
                peer_writer,
                address,
                "refused-collision",
                "a session with %s is already %s: Cease / Connection Collision Resolution (6/7)"
                % (self.live, "up" if self.sessions else "being set up"),
                COLLISION,
            )
            return
        if not self.pending.acquire():
            self._refuse(
                peer_writer,
                address,
                "refused-limit",
                "%d connections already wait for their OPEN" % self.pending.maximum,
            )
            return
        self.live = address
        try:
            await self._serve(peer_reader, peer_writer, address)
        finally:
            self.live = None

    async def _serve(self, peer_reader, peer_writer, address):
        waiting = True
        try:
            self._count("accepted")
            LOG.info("%s: connection from %s accepted; waiting for its OPEN", self.name, address)
            try:
                first = await asyncio.wait_for(self._read_open(peer_reader), self.open_timeout)
            except Refused as refused:
                self._count("refused-open")
                LOG.warning("%s: %s from %s: %s; the session ends", self.name, "bad OPEN", address, refused)
                peer_writer.write(refused.notification)
                peer_writer.close()
                return
            except TimeoutError:
                self._count("open-timeout")
                LOG.warning(
                    "%s: no OPEN from %s within %g s: NOTIFICATION 4/0 (Hold Timer Expired)",
                    self.name,
                    address,
                    self.open_timeout,
                )
                peer_writer.write(OPEN_TIMED_OUT)
                peer_writer.close()
                return
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                LOG.info("%s: %s closed the connection before its OPEN (%s)", self.name, address, type(error).__name__)
                peer_writer.close()
                return
            self.pending.release()
            waiting = False
            connected = await self._reach_router(address)
            if connected is None:
                peer_writer.write(CONNECTION_REJECTED)
                peer_writer.close()
                return
            router_reader, router_writer = connected
            session = Session(
                peer_reader,
                peer_writer,
                router_reader,
                router_writer,
                self.pipeline,
                name=self.name,
                first=first,
                addresses=(address, self.connector.remote),
            )
            self.sessions.add(session)
            try:
                await session.run()
            finally:
                self.sessions.discard(session)
        finally:
            if waiting:
                self.pending.release()

    async def _read_open(self, reader):
        """The peer's first message, which must be a well-formed OPEN (RFC 4271 §6.2); Refused with the
        NOTIFICATION to send otherwise (the router never hears of it)."""
        header = await reader.readexactly(framing.HEADER_LEN)
        try:
            length, kind = framing.parse_header(header, False)
        except CodecError as error:
            raise Refused(encode_notification(error.code, error.subcode, error.data), str(error)) from None
        body = await reader.readexactly(length - framing.HEADER_LEN)
        if kind != framing.OPEN:
            # RFC 6608: a message other than OPEN in OpenSent is an FSM error, subcode 1
            raise Refused(encode_notification(c.ERR_FSM, 1, bytes((kind,))), "message type %d before the OPEN" % kind)
        try:
            message = decode_open(header + body)
            validate_open(message)
        except CodecError as error:
            raise Refused(
                encode_notification(error.code, error.subcode, error.data),
                "NOTIFICATION %d/%d: %s" % (error.code, error.subcode, error.reason),
            ) from None
        LOG.info(
            "%s: OPEN from the peer: AS%d, router ID %s, hold time %d",
            self.name,
            message.asn,
            message.bgp_id,
            message.hold_time,
        )
        return header + body

    async def _reach_router(self, peer):
        """(reader, writer) towards the router, retried with back-off while the peer waits;
        None when the router stays unreachable."""
        for attempt, pause in enumerate(tuple(self.connector.delays()) + (None,), start=1):
            try:
                return await self.connector.connect()
            except OSError as error:
                if pause is None:
                    LOG.warning(
                        "%s: peer %s connected but the router %s:%d cannot be reached after %d attempts (%s): "
                        "telling the peer Cease / Connection Rejected",
                        self.name,
                        peer,
                        *self.connect,
                        attempt,
                        error,
                    )
                    return None
                LOG.warning(
                    "%s: peer %s connected but the router %s:%d cannot be reached (%s); retrying in %s s",
                    self.name,
                    peer,
                    *self.connect,
                    error,
                    pause,
                )
            await asyncio.sleep(pause)
        return None


class Session:
    """The two TCP connections of one BGP session, and a pump per direction.

    Once a NOTIFICATION has been written on either leg (relayed, or the runner's own), the session is
    over: nothing else is written on either leg."""

    def __init__(
        self,
        peer_reader,
        peer_writer,
        router_reader,
        router_writer,
        pipeline,
        name="proxy",
        first=None,
        addresses=(None, None),
    ):
        """`addresses`: the peer's and the router's, where a leg's stream does not have them (a tunnel)."""
        self.ends = {TO_ROUTER: (peer_reader, router_writer), TO_PEER: (router_reader, peer_writer)}
        self.writers = (peer_writer, router_writer)
        self.pipeline, self.name, self.first = pipeline, name, first
        # direction -> the messages a stage made on its own, held back while the direction awaits an answer
        self.deferred: dict[str, list[bytes] | None] = {TO_ROUTER: None, TO_PEER: None}
        # direction -> the octets relayed and not yet written: one write per BLOCK or per read (_flush)
        self.out: dict[str, bytearray] = {TO_ROUTER: bytearray(), TO_PEER: bytearray()}
        self.tasks = []
        self.ended = False  # a NOTIFICATION was written: nothing more is
        self.keepalives: set[str] = set()  # the directions a KEEPALIVE crossed: both means Established
        self.established = None
        self.reason = "closed"
        peer, router = (
            given or (writer.get_extra_info("peername") or (None,))[0]
            for given, writer in zip(addresses, self.writers, strict=True)
        )
        self.peer_address = peer
        self.state = pipeline.new_session(self, {TO_ROUTER: (peer, router), TO_PEER: (router, peer)})

    def __str__(self):
        return str(self.peer_address)

    async def run(self):
        self.tasks = [asyncio.create_task(self._pump(direction)) for direction in (TO_ROUTER, TO_PEER)]
        done, pending = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)  # no "Task exception was never retrieved"
        for task in done:
            if task.cancelled():  # the session was shut down (SIGTERM) while this direction waited
                continue
            error = task.exception()
            if isinstance(error, SessionEnded):
                self.reason = str(error)
            elif isinstance(error, asyncio.IncompleteReadError):
                self.reason = "the connection was closed"
            elif isinstance(error, ConnectionError):
                self.reason = "connection error: %s" % (error.strerror or type(error).__name__)
            elif error is not None:
                self.reason = "internal error: %r" % error
                LOG.error("%s: session ended by an internal error: %r", self.name, error, exc_info=error)
        self._close()

    async def _pump(self, direction):
        """Relay one direction: read what the socket has (up to READ_CHUNK), pass every whole message
        in it through the pipeline, write their output in blocks (_relay, _flush), drain, and read again."""
        reader, writer = self.ends[direction]
        first, self.first = (self.first, None) if direction == TO_ROUTER else (None, None)
        data = first or b""
        while True:
            while True:  # cut again after an OPEN: what follows is framed by what it negotiated
                messages, used, error = framing.cut_messages(data, self.state.extended(direction), until_open=True)
                data = data[used:] if used else data
                for raw in messages:
                    await self._relay(direction, raw[18], raw)
                if error is not None:
                    await self._bad_header(direction, error)
                if not messages or messages[-1][18] != framing.OPEN:
                    break
            self._flush(direction)
            await writer.drain()
            chunk = await reader.read(READ_CHUNK)
            if not chunk:
                raise asyncio.IncompleteReadError(data, None)
            data = data + chunk if data else chunk

    async def _bad_header(self, direction, error):
        LOG.warning(
            "%s: %s: bad message header (%s); ending the session with NOTIFICATION %d/%d",
            self.name,
            direction,
            error,
            error.code,
            error.subcode,
        )
        await self._notify_both(encode_notification(error.code, error.subcode, error.data))
        raise SessionEnded("bad message header %s: %s" % (direction, error)) from error

    async def _relay(self, direction, kind, raw):
        """One message through the pipeline; its output joins the direction's block (see _flush)."""
        if self.ended:
            raise SessionEnded("NOTIFICATION sent")
        try:
            if self.pipeline.asynchronous:  # a stage (exec filter) waits for an answer
                self.deferred[direction] = []
                outgoing = await self.pipeline.process_async(self.state, direction, kind, raw)
            else:
                outgoing = self.pipeline.process(self.state, direction, kind, raw)
        except SessionReset as reset:
            LOG.warning(
                "%s: %s: %s; NOTIFICATION %d/%d to the sender, Cease to the receiver",
                self.name,
                direction,
                reset,
                reset.code,
                reset.subcode,
            )
            self._write_now(other(direction), encode_notification(reset.code, reset.subcode, reset.data))
            self._write_now(direction, shutdown_notification("peerwarden-runner: %s" % reset))
            self.ended = True
            await self._drain_all()
            raise SessionEnded("RFC 7606 session reset: %s" % reset) from reset
        if self.ended:  # the other direction ended the session while a stage answered
            raise SessionEnded("NOTIFICATION sent")
        out = self.out[direction]
        for message in outgoing:
            out += message
        if len(out) >= BLOCK:
            self._flush(direction)
        held, self.deferred[direction] = self.deferred[direction], None
        for message in held or ():
            self._write_now(direction, message)
        if kind == framing.NOTIFICATION:
            self.ended = True
            text = self._notification_text(raw)
            LOG.warning("%s: NOTIFICATION %s relayed: %s", self.name, direction, text)
            self._flush(direction)
            await self._drain_all()
            raise SessionEnded("NOTIFICATION %s: %s" % (direction, text))
        if kind == framing.OPEN and direction == TO_PEER and TO_PEER in self.state.opens:
            theirs = self.state.opens[TO_PEER]
            LOG.info(
                "%s: OPEN from the router: AS%d, router ID %s, hold time %d",
                self.name,
                theirs.asn,
                theirs.bgp_id,
                theirs.hold_time,
            )
        if kind == framing.KEEPALIVE and self.established is None:
            self.keepalives.add(direction)
            if len(self.keepalives) == 2:
                self.established = time.monotonic()
                LOG.info("%s: session with %s Established", self.name, self.peer_address)

    def _flush(self, direction):
        """Write the direction's block: the output of the messages relayed since the last write, in order,
        as one write (one send() for many small UPDATEs instead of one each)."""
        out = self.out[direction]
        if out:
            writer = self.ends[direction][1]
            if not writer.is_closing():
                writer.write(bytes(out))
            out.clear()

    @staticmethod
    def _notification_text(raw):
        try:
            notification = decode_notification(raw)
        except CodecError:
            return "malformed"
        text = "%d/%d (%s)" % (notification.code, notification.subcode, notification.name)
        if notification.shutdown_message:
            text += ' "%s"' % notification.shutdown_message
        return text

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
        self._flush(direction)  # after what the direction's pump has relayed before it
        if not writer.is_closing() and not self.ended:
            self.pipeline.originated(self.state, direction, raw)
            writer.write(raw)
            if raw[18] == framing.NOTIFICATION:
                LOG.warning(
                    "%s: NOTIFICATION %s %s sent by the runner", self.name, self._notification_text(raw), direction
                )

    async def shutdown(self, text):
        self.reason = "runner stopping"
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
        self.ended = True
        await self._drain_all()

    def _close(self):
        if self.state in self.pipeline.sessions:
            up = (
                "after %.0f s Established" % (time.monotonic() - self.established)
                if self.established
                else "before Established"
            )
            LOG.info("%s: session with %s down %s: %s", self.name, self.peer_address, up, self.reason)
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()
        self.pipeline.end_session(self.state)
