"""The speaker: keeps one session to the router up (reconnecting with back-off and saying why),
holds what the router sent (Adj-RIB-In) and what we want announced (sent on Established, changes
sent at once, withdrawn on removal), and ends with Cease / Administrative Shutdown when stopped.
With a monitor (speaker/monitor.py) the received UPDATEs also pass its watch-only stages.

Active (the default) it only connects; passive it only listens on local:port and accepts the
configured peer alone. Being one or the other, it never has two connections to settle: no
collision detection (RFC 4271 §6.8) is needed."""

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass

from peerwarden_runner.addresses import same_address
from peerwarden_runner.backoff import Backoff
from peerwarden_runner.codec import (
    ErrorAction,
    Prefix,
    decode_update,
    encode_end_of_rib,
    encode_notification,
    encode_withdraw,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.directions import RECEIVED, SENT
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import SessionState
from peerwarden_runner.routes import encode_routes
from peerwarden_runner.speaker.adj_rib_in import AdjRibIn
from peerwarden_runner.speaker.session import Session, SessionClosed, SessionSettings
from peerwarden_runner.transport import connect, listen

LOG = logging.getLogger("peerwarden_runner.speaker")
FAMILY_OF_VERSION = {4: c.IPV4_UNICAST, 6: c.IPV6_UNICAST}
FAMILY_NAMES = {c.IPV4_UNICAST: "IPv4 unicast", c.IPV6_UNICAST: "IPv6 unicast"}
_MESSAGES = {direction: "messages_" + direction for direction in (RECEIVED, SENT)}  # counter names
_UPDATE = c.UPDATE
_UPDATES = {direction: "updates_" + direction for direction in (RECEIVED, SENT)}


@dataclass(frozen=True)
class SpeakerSettings:
    name: str
    local: str
    peer: str
    port: int
    asn: int
    peer_asn: int
    router_id: str
    hold_time: int = 90
    md5: str | None = None
    gtsm: bool = False
    shutdown_message: str = "peerwarden-runner speaker stopping"
    passive: bool = False
    local_port: int = 179  # where a passive speaker listens


class Speaker:
    def __init__(self, settings, watchers=(), backoff=None, stable_after=30.0, monitor=None, replay=None):
        self.settings = settings
        self.replay = replay  # speaker/replay.py: an archive's routes sent on Established, or None
        self.watchers = list(watchers)
        # each watcher's (crossed_decoded or None, crossed), looked up once, not per message
        self.crossing = [(getattr(watcher, "crossed_decoded", None), watcher.crossed) for watcher in self.watchers]
        self.monitor = monitor  # the watch-only stages on received UPDATEs, or None
        self.backoff = backoff or Backoff()
        self.stable_after = stable_after  # seconds Established before the back-off starts again at 1 s
        self.desired = {}  # prefix text -> (RouteSpec, source)
        self.received = AdjRibIn()
        self.session = None
        self.connecting = None  # the connect() in progress, cancelled by stop()
        self.serving = None  # passive: the task running the accepted connection's session
        self.state = "Idle"
        self.established_at = None
        self.last_error = None
        self.counters: Counter[str] = Counter()
        self.watch_state: SessionState | None = None
        self.stopping = asyncio.Event()
        self.up = asyncio.Event()  # set while Established
        self.session_settings = SessionSettings(settings.asn, settings.peer_asn, settings.router_id, settings.hold_time)

    @property
    def ebgp(self):
        return self.settings.asn != self.settings.peer_asn

    # ---- the connection loop ----

    async def run(self):
        """Active: connect, run the session, wait, again, until stop(). Passive: listen until stop()."""
        if self.settings.passive:
            await self._listen()
            return
        while not self.stopping.is_set():
            reason = await self._attempt()
            self.last_error = reason
            if self.stopping.is_set():
                break
            delay = self.backoff.next_delay()
            LOG.warning("%s: %s; reconnecting in %.1f s", self.settings.name, reason, delay)
            try:
                await asyncio.wait_for(self.stopping.wait(), delay)
            except TimeoutError:
                pass
        self.state = "Idle"

    async def _attempt(self):
        settings = self.settings
        self.state = "Connect"
        self.counters["connect_attempts"] += 1
        self.connecting = asyncio.ensure_future(
            connect(settings.local, settings.peer, settings.port, settings.md5, settings.gtsm)
        )
        try:
            reader, writer = await self.connecting
        except (TimeoutError, OSError) as error:
            return "cannot connect to %s port %d: %s" % (settings.peer, settings.port, error or "timed out")
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            return "stopped while connecting"
        finally:
            self.connecting = None
        LOG.info("%s: connected to %s port %d, OPEN sent", settings.name, settings.peer, settings.port)
        return await self._run_session(reader, writer)

    async def _run_session(self, reader, writer):
        """Run one session over a connection; why it ended."""
        settings = self.settings
        self.watch_state = SessionState(self)
        session = self.session = Session(reader, writer, self.session_settings, self)
        self.state = "OpenSent"
        try:
            await session.run()
        except SessionClosed as closed:
            reason = str(closed)
        except Exception as error:  # noqa: BLE001 - no message may crash the runner: log it, reconnect
            LOG.exception("%s: session ended by an internal error", settings.name)
            reason = "internal error: %r" % error
        finally:
            self._ended()
        return reason

    # ---- passive: the router connects ----

    async def _listen(self):
        """Listen on local:port (retried with back-off while the address cannot be had) until stop()."""
        settings = self.settings
        server = None
        while server is None and not self.stopping.is_set():
            try:
                server = await listen(
                    settings.local, settings.local_port, settings.peer, self._accepted, settings.md5, settings.gtsm
                )
            except OSError as error:
                self.last_error = "cannot listen on %s port %d: %s" % (settings.local, settings.local_port, error)
                delay = self.backoff.next_delay()
                LOG.warning("%s: %s; trying again in %.1f s", settings.name, self.last_error, delay)
                try:
                    await asyncio.wait_for(self.stopping.wait(), delay)
                except TimeoutError:
                    pass
        if server is not None:
            self.state = "Active"
            LOG.info(
                "%s: passive: listening on %s port %d for %s",
                settings.name,
                settings.local,
                settings.local_port,
                settings.peer,
            )
            await self.stopping.wait()
            server.close()
            await server.wait_closed()
        if self.serving is not None:
            await asyncio.gather(self.serving, return_exceptions=True)
        self.state = "Idle"

    async def _accepted(self, reader, writer):
        settings = self.settings
        address = writer.get_extra_info("peername")[0].split("%")[0]
        if not same_address(address, settings.peer):
            self.counters["connections_refused"] += 1
            LOG.warning(
                "%s: connection from %s refused: only the peer %s may connect", settings.name, address, settings.peer
            )
            writer.close()
            return
        if self.serving is not None or self.stopping.is_set():
            self.counters["connections_refused"] += 1
            LOG.warning(
                "%s: another connection from %s refused: %s",
                settings.name,
                address,
                "stopping" if self.stopping.is_set() else "a session is already " + self.state,
            )
            writer.write(encode_notification(c.ERR_CEASE, c.CEASE_CONNECTION_REJECTED))  # RFC 4486
            writer.close()
            return
        self.serving = asyncio.current_task()
        self.counters["connections_accepted"] += 1
        LOG.info("%s: %s connected, OPEN sent", settings.name, address)
        try:
            self.last_error = await self._run_session(reader, writer)
        finally:
            self.serving = None
        if not self.stopping.is_set():
            self.state = "Active"
            LOG.warning("%s: %s; waiting for %s to connect again", settings.name, self.last_error, settings.peer)

    def _ended(self):
        if self.established_at is not None:
            if time.monotonic() - self.established_at >= self.stable_after:
                self.backoff.reset()
            for watcher in self.watchers:
                watcher.session_ended(self.watch_state)
            if self.monitor is not None:
                self.monitor.ended()
            LOG.info(
                "%s: session down after %.0f s; %d received route(s) dropped",
                self.settings.name,
                time.monotonic() - self.established_at,
                len(self.received),
            )
        if self.replay is not None:
            self.replay.stop()
        DECISIONS.flush(self.settings.name)  # what this session counted is written now
        self.received.clear()
        self.up.clear()
        self.session = None
        self.established_at = None
        self.state = "Idle"

    async def stop(self):
        """Graceful shutdown: Cease 6/2 with the shutdown message, then no reconnect."""
        self.stopping.set()
        if self.connecting is not None:
            self.connecting.cancel()
        if self.session is not None:
            LOG.info(
                "%s: sending Cease / Administrative Shutdown: %r", self.settings.name, self.settings.shutdown_message
            )
            await self.session.shutdown(self.settings.shutdown_message)
        for watcher in self.watchers:
            watcher.close()
        if self.monitor is not None:
            await self.monitor.aclose()

    async def established_session(self):
        """The session, once Established (waits for it, through reconnects)."""
        while self.session is None or self.state != "Established":
            await self.up.wait()
        return self.session

    # ---- called by the session ----

    def crossed(self, direction, raw, decoded=None):
        """A message crossed; `decoded`: a received UPDATE as the session decoded it (an Update, or the
        fast scan's ScannedUpdate), handed to the watchers that can use it (`crossed_decoded`)."""
        counters = self.counters
        counters[_MESSAGES[direction]] += 1
        if raw[18] == _UPDATE:
            counters[_UPDATES[direction]] += 1
        state = self.watch_state
        for with_decoded, crossed in self.crossing:
            if with_decoded is not None and decoded is not None:
                with_decoded(state, direction, raw, decoded)
            else:
                crossed(state, direction, raw)

    def batch_done(self):
        """The session has handled what one read brought: watchers that batch their output write it now."""
        self.received.batch_done()
        for watcher in self.watchers:
            flush = getattr(watcher, "batch_done", None)
            if flush is not None:
                flush()

    def established(self, session):
        self.state = "Established"
        self.up.set()
        self.established_at = time.monotonic()
        self.counters["sessions_established"] += 1
        assert self.watch_state is not None  # made when the session connected
        self.watch_state.contexts = {RECEIVED: session.ctx_in, SENT: session.ctx_out}
        for watcher in self.watchers:
            watcher.session_started(self.watch_state)
        if self.monitor is not None:
            self.monitor.started(session.our_open, session.peer_open, session.ctx_in, session.ctx_out)
        LOG.info(
            "%s: session established with AS%d (%s), hold time %d s; announcing %d route(s)",
            self.settings.name,
            self.settings.peer_asn,
            session.peer_open.bgp_id,
            session.hold_time,
            len(self.desired),
        )
        self._send_routes([spec for spec, source in self.desired.values()], [])
        if self.replay is not None:  # End-of-RIB once the replay is done
            self.replay.start(session, self.settings.local, self.settings.asn, self.ebgp, self._end_of_rib)
        else:
            self._end_of_rib(session)

    @staticmethod
    def _end_of_rib(session):
        for family in sorted(session.ctx_out.families):
            session.send(encode_end_of_rib(family[0], family[1], ctx=session.ctx_out))  # RFC 4724 §2

    def received_update(self, update):
        if update.error_action != ErrorAction.NONE:  # counted, one line per interval (log_summary); each at DEBUG
            label, reason = update.error_action.label, update.reason
            DECISIONS.record(
                LOG, self.settings.name, "RFC 7606", label, reason, level=logging.WARNING, unit="UPDATE(s)"
            )
        self.received.apply(update)
        if self.monitor is not None:
            self.monitor.received(update)

    def received_scanned(self, raw, scanned):
        """A received UPDATE the fast scan found clean (codec/fast_update.py): into the Adj-RIB-In as it
        is; the monitor's stages take the full decode."""
        session = self.session
        assert session is not None  # the session calls this
        if self.monitor is not None:
            self.received_update(decode_update(raw, session.ctx_in))
            return
        self.received.apply_scanned(scanned, session.ctx_in)

    def refresh_requested(self):
        LOG.info("%s: ROUTE-REFRESH from the peer: announcing %d route(s) again", self.settings.name, len(self.desired))
        self._send_routes([spec for spec, source in self.desired.values()], [])

    # ---- the desired routes ----

    def announce(self, specs, source="api"):
        """Add or replace routes; sent at once when Established."""
        for spec in specs:
            self.desired[spec.prefix] = (spec, source)
            LOG.debug("%s: announce %s next hop %s (%s)", self.settings.name, spec.prefix, spec.next_hop, source)
        if specs:  # one line per call: an API call with 10,000 routes is one event
            LOG.info(
                "%s: announce %d route(s) (%s)%s",
                self.settings.name,
                len(specs),
                source,
                ": %s next hop %s" % (specs[0].prefix, specs[0].next_hop) if len(specs) == 1 else "",
            )
        self._send_routes(specs, [])

    def withdraw(self, prefixes, source=None):
        """Remove routes (only those `source` added, when given); the prefixes removed."""
        removed = [
            prefix
            for prefix in prefixes
            if prefix in self.desired and (source is None or self.desired[prefix][1] == source)
        ]
        for prefix in removed:
            del self.desired[prefix]
            LOG.debug("%s: withdraw %s (%s)", self.settings.name, prefix, source or "api")
        if removed:
            LOG.info(
                "%s: withdraw %d route(s) (%s)%s",
                self.settings.name,
                len(removed),
                source or "api",
                ": %s" % removed[0] if len(removed) == 1 else "",
            )
        self._send_routes([], [Prefix.parse(prefix) for prefix in removed])
        return removed

    def _send_routes(self, specs, withdrawn):
        session = self.session
        if session is None or self.state != "Established" or not (specs or withdrawn):
            return
        families = session.ctx_out.families
        routes = []
        for spec in specs:
            family = FAMILY_OF_VERSION[spec.version]
            if family not in families:  # counted, one line per interval (log_summary); each at DEBUG
                reason = "not sent: the peer did not negotiate %s" % FAMILY_NAMES[family]
                DECISIONS.record(LOG, self.settings.name, "announce", reason, spec.prefix, level=logging.WARNING)
                continue
            routes.append(spec.route(session.ctx_out, self.settings.asn, self.ebgp))
        withdrawn = [prefix for prefix in withdrawn if prefix.family in families]
        messages = encode_withdraw(withdrawn, session.ctx_out) if withdrawn else []
        messages += encode_routes(routes, [], session.ctx_out)
        for raw in messages:
            session.send(raw)

    # ---- for the API and the metrics ----

    def status(self):
        settings = self.settings
        uptime = time.monotonic() - self.established_at if self.established_at is not None else None
        session = self.session
        return {
            "name": settings.name,
            "state": self.state,
            "local": settings.local,
            "peer": settings.peer,
            "port": settings.port,
            "asn": settings.asn,
            "peer_asn": settings.peer_asn,
            "router_id": settings.router_id,
            "hold_time": session.hold_time if session is not None and uptime is not None else None,
            "uptime": None if uptime is None else round(uptime, 3),
            "peer_router_id": str(session.peer_open.bgp_id) if session is not None and uptime is not None else None,
            "routes": {"announced": len(self.desired), "received": len(self.received)},
            "passive": settings.passive,
            "monitor": self.monitor.status() if self.monitor is not None else None,
            "replay": self.replay.status() if self.replay is not None else None,
            "counters": dict(self.counters),
            "last_error": self.last_error,
        }
