"""One BGP session over one TCP connection, as the speaker lives it (RFC 4271 §8), whichever side opened it:
OpenSent -> OpenConfirm -> Established, the hold and keepalive timers, and the NOTIFICATION that
each way of ending needs. What to do with routes is the speaker's business (the `handler`).

Established, the session reads what the socket has (up to READ_CHUNK octets at a time), cuts it into
messages and decodes each UPDATE once, with the fast scan (codec/fast_update.py) for the common clean
shapes and the full decoder (RFC 7606) for the rest; the hold timer is one timer handle that looks at
when the peer was last heard, not a timeout around every read (a Task per message)."""

import asyncio
import dataclasses
import logging

from peerwarden_runner.codec import (
    KEEPALIVE_MESSAGE,
    Capability,
    ErrorAction,
    FramingError,
    MessageError,
    cut_messages,
    decode_notification,
    decode_open,
    decode_update,
    encode_notification,
    encode_open,
    negotiate,
    read_message,
    shutdown_notification,
    validate_open,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.fast_update import scan_update
from peerwarden_runner.directions import RECEIVED, SENT

LOG = logging.getLogger("peerwarden_runner.speaker")
# RFC 4271 §8.2.2: in OpenSent the hold timer is set to "a large value" (4 minutes suggested)
OPEN_WAIT = 240
DRAIN_TIMEOUT = 2
READ_CHUNK = 1 << 18  # what one read takes from the socket when Established: ~4,000 one-prefix UPDATEs


def _current_task():
    task = asyncio.current_task()
    assert task is not None  # called from the session's coroutine
    return task


class SessionClosed(Exception):
    """The session is over; str() says why, for the log line that announces the reconnect."""


class _Refused(Exception):
    """A message the session must answer with a NOTIFICATION: the arguments of Session._notify."""


@dataclasses.dataclass(frozen=True)
class SessionSettings:
    asn: int
    peer_asn: int
    router_id: str
    hold_time: int = 90
    families: tuple = (c.IPV4_UNICAST, c.IPV6_UNICAST)


class Session:
    """`handler` gets crossed(direction, raw) for every message, established(session),
    received_update(update) and refresh_requested(); `run()` returns only by raising SessionClosed."""

    def __init__(self, reader, writer, settings, handler):
        self.reader, self.writer, self.settings, self.handler = reader, writer, settings, handler
        self.state = "OpenSent"
        self.hold_time = settings.hold_time
        self.ctx_in = self.ctx_out = None
        self.our_open = self.peer_open = None
        self.ebgp = settings.asn != settings.peer_asn
        self.keepalives = None
        self.heard = 0.0  # loop.time() of the last octets from the peer (Established)
        self.hold_timer = None  # its TimerHandle
        self.expired = False

    def capabilities(self):
        """Multiprotocol per family (RFC 4760), route refresh (RFC 2918), 4-octet AS (RFC 6793)."""
        return [Capability.multiprotocol(afi, safi) for afi, safi in self.settings.families] + [
            Capability.route_refresh(),
            Capability.four_octet_as(self.settings.asn),
        ]

    async def run(self):
        try:
            our_open = encode_open(
                self.settings.asn, self.settings.hold_time, self.settings.router_id, self.capabilities()
            )
            self.send(our_open)
            self.our_open = decode_open(our_open)
            await self._open_sent(self.our_open)
            await self._open_confirm()
            await self._established()
        except asyncio.CancelledError:
            if not self.expired:
                raise
            _current_task().uncancel()  # the hold timer expired while we were not reading
            raise SessionClosed("hold timer expired: nothing from the peer in %d s" % self.hold_time) from None
        finally:
            if self.keepalives is not None:
                self.keepalives.cancel()
            if self.hold_timer is not None:
                self.hold_timer.cancel()
            self.writer.close()

    # ---- the states ----

    async def _open_sent(self, our_open):
        message = await self._read(OPEN_WAIT)
        if message.type != c.OPEN:
            await self._notify(c.ERR_FSM, 1, "expected an OPEN, got a %s" % message.type_name)
        try:
            peer_open = decode_open(message.raw)
            validate_open(peer_open, expected_asn=self.settings.peer_asn)
        except MessageError as error:
            await self._notify(error.code, error.subcode, "bad OPEN: %s" % error.reason, error.data)
        if not self.ebgp and str(peer_open.bgp_id) == self.settings.router_id:
            # RFC 6286 §2.2: the same identifier on both ends of an internal session
            await self._notify(
                c.ERR_OPEN,
                c.OPEN_BAD_BGP_IDENTIFIER,
                "bad OPEN: the peer uses our BGP identifier %s" % peer_open.bgp_id,
            )
        self.peer_open = peer_open
        self.hold_time = min(self.settings.hold_time, peer_open.hold_time)  # RFC 4271 §4.2
        self.ctx_in = dataclasses.replace(negotiate(our_open, peer_open), ebgp=self.ebgp)
        self.ctx_out = negotiate(peer_open, our_open)
        self.send(KEEPALIVE_MESSAGE)
        self.state = "OpenConfirm"
        if self.hold_time:
            self.keepalives = asyncio.create_task(self._keepalive_timer(self.hold_time / 3))

    async def _open_confirm(self):
        message = await self._read(self.hold_time or None)
        if message.type != c.KEEPALIVE:
            await self._notify(c.ERR_FSM, 2, "expected a KEEPALIVE in OpenConfirm, got a %s" % message.type_name)
        self.state = "Established"
        self.handler.established(self)

    async def _established(self):
        assert self.ctx_in is not None  # negotiated in OpenSent
        reader, extended = self.reader, bool(self.ctx_in.extended_message)
        self._start_hold_timer()
        pending = b""
        while True:
            chunk = await self._read_chunk(reader)
            buffer = pending + chunk if pending else chunk
            messages, used, error = cut_messages(buffer, extended)
            pending = buffer[used:]
            try:
                for raw in messages:
                    self._received(raw)
            except _Refused as refused:
                await self._notify(*refused.args)
            finally:
                self.handler.batch_done()
            if error is not None:
                await self._notify(error.code, error.subcode, "bad message header: %s" % error.reason, error.data)

    async def _read_chunk(self, reader):
        try:
            chunk = await reader.read(READ_CHUNK)
        except asyncio.CancelledError:
            if not self.expired:
                raise
            _current_task().uncancel()  # our own hold timer's cancel, answered here
            await self._notify(
                c.ERR_HOLD_TIMER, 0, "hold timer expired: nothing from the peer in %d s" % self.hold_time
            )
        except ConnectionError as error:
            raise SessionClosed(
                "the peer closed the connection in %s (%s)" % (self.state, type(error).__name__)
            ) from error
        if not chunk:
            raise SessionClosed("the peer closed the connection in %s (end of stream)" % self.state)
        self.heard = asyncio.get_running_loop().time()
        return chunk

    def _received(self, raw):
        """One whole message, Established (raises _Refused or SessionClosed to end the session)."""
        kind, ctx = raw[18], self.ctx_in
        if kind == c.UPDATE:
            assert ctx is not None  # negotiated in OpenSent
            scanned = scan_update(raw, ctx)
            if scanned is not None:  # a common clean shape: nothing for RFC 7606 to say
                self.handler.crossed(RECEIVED, raw, scanned)
                self.handler.received_scanned(raw, scanned)
                return
            update = decode_update(raw, ctx)
            self.handler.crossed(RECEIVED, raw, update)
            if update.error_action >= ErrorAction.AFI_SAFI_DISABLE:
                # RFC 7606 §3 (j)/§5.3: nothing after this error can be trusted; simplest safe answer
                error = update.error
                assert error is not None  # the action is an error's
                raise _Refused(
                    error.code,
                    error.subcode,
                    "UPDATE: RFC 7606 %s: %s" % (update.error_action.label, update.reason),
                    error.data,
                )
            self.handler.received_update(update)
            return
        self.handler.crossed(RECEIVED, raw)
        if kind == c.NOTIFICATION:
            self._closed_by_peer(raw)
        elif kind == c.ROUTE_REFRESH:
            self.handler.refresh_requested()
        elif kind == c.OPEN:
            raise _Refused(c.ERR_FSM, 3, "an OPEN in Established")

    def _start_hold_timer(self):
        """RFC 4271 §10: the hold timer restarts with every message; here it wakes up when it would have
        expired since the last chunk read, and expires only when nothing was heard since."""
        if not self.hold_time:
            return
        loop = asyncio.get_running_loop()
        self.heard = loop.time()
        task = _current_task()

        def check():
            due = self.heard + self.hold_time
            if loop.time() < due:
                self.hold_timer = loop.call_at(due, check)
            else:
                self.expired = True
                task.cancel()

        self.hold_timer = loop.call_at(self.heard + self.hold_time, check)

    # ---- messages ----

    def send(self, raw):
        if not self.writer.is_closing():
            self.writer.write(raw)
            self.handler.crossed(SENT, raw)

    async def drain(self):
        try:
            await asyncio.wait_for(self.writer.drain(), DRAIN_TIMEOUT)
        except (TimeoutError, ConnectionError):
            pass

    async def _read(self, timeout):
        """The next message (the hold timer is `timeout`: any message restarts it)."""
        try:
            message = await asyncio.wait_for(read_message(self.reader, self.ctx_in), timeout)
        except TimeoutError:
            await self._notify(c.ERR_HOLD_TIMER, 0, "hold timer expired: nothing from the peer in %d s" % timeout)
        except FramingError as error:
            await self._notify(error.code, error.subcode, "bad message header: %s" % error.reason, error.data)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            raise SessionClosed(
                "the peer closed the connection in %s (%s)" % (self.state, type(error).__name__)
            ) from error
        self.handler.crossed(RECEIVED, message.raw)
        if message.type == c.NOTIFICATION:
            self._closed_by_peer(message.raw)
        return message

    def _closed_by_peer(self, raw):
        notification = decode_notification(raw)
        text = notification.shutdown_message
        raise SessionClosed(
            "NOTIFICATION %d/%d (%s) from the peer in %s%s"
            % (
                notification.code,
                notification.subcode,
                notification.name,
                self.state,
                ": %r" % text if text else "",
            )
        )

    async def _notify(self, code, subcode, reason, data=b""):
        """Send the NOTIFICATION and end the session (raises SessionClosed)."""
        self.send(encode_notification(code, subcode, data))
        await self.drain()
        raise SessionClosed("%s; sent NOTIFICATION %d/%d" % (reason, code, subcode))

    async def shutdown(self, text):
        """Graceful end: Cease / Administrative Shutdown with the RFC 8203 text."""
        self.send(shutdown_notification(text))
        await self.drain()
        self.writer.close()

    async def _keepalive_timer(self, interval):
        while True:
            await asyncio.sleep(interval)
            self.send(KEEPALIVE_MESSAGE)
            await self.drain()
