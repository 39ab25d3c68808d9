"""Runner B's side of the tunnel: a websocket listener that stands where the peer's TCP listener would.

Who gets in, in this order, each refusal logged (at most once per source and reason per minute) and
answered before any websocket or router connection exists: the `peer` address when one is configured
(403), the bearer token when one is configured (401) -- the client certificate, when a CA file is
configured, is checked by TLS before any of this -- and one tunnel at a time (409).

Bounded: a connection that has not finished its TLS handshake within TLS_HANDSHAKE_TIMEOUT is closed;
at most BACKLOG wait to be accepted; after the handshake, at most MAX_WAITING connections may be on
their way to a websocket at once (more are closed at once) and each has UPGRADE_TIMEOUT to become one
(a slow or silent HTTP request is closed, and logged). An accepted tunnel is handed to the proxy as a stream; the proxy
then applies its own checks (the OPEN, the OPEN timeout, the runner-wide count of pending connections).
"""

import asyncio
import ipaddress
import logging
import socket
import ssl

from aiohttp import web

from peerwarden_runner.addresses import same_address
from peerwarden_runner.ratelimit import RateLimitedLog
from peerwarden_runner.transport import family_of
from peerwarden_runner.tunnel.stream import HEARTBEAT, RECEIVE_LIMIT, open_stream
from peerwarden_runner.tunnel.tls import token_matches

LOG = logging.getLogger("peerwarden_runner.tunnel")
REFUSALS = RateLimitedLog(LOG)
TLS_HANDSHAKE_TIMEOUT = 10.0
UPGRADE_TIMEOUT = 10.0  # seconds from the end of the TLS handshake to the websocket
MAX_WAITING = 16  # connections between their TLS handshake and their websocket, at once
BACKLOG = 16


class TunnelListener:
    """Serves one session's tunnel on `local`:`port` with TLS (`ssl_context`), or plain HTTP when
    `ssl_context` is None (the configuration allows that on loopback only, and only when asked)."""

    def __init__(self, local, port, ssl_context, token=None, peer=None, name="tunnel"):
        if ssl_context is None and not ipaddress.ip_address(local.split("%")[0]).is_loopback:
            raise ValueError("a plain (ws://) tunnel listener must be on loopback, not %s" % local)
        if token is None and (ssl_context is None or ssl_context.verify_mode != ssl.CERT_REQUIRED):
            raise ValueError("a tunnel listener needs a token or a client CA: it would admit anyone")
        self.local, self.port, self.ssl_context, self.token = local, port, ssl_context, token
        self.peer, self.name = peer, name
        self.live = False
        self.web_server = None
        self.on_connection = None
        self.waiting: set[asyncio.BaseTransport] = set()  # connections not yet a websocket
        self.upgrade_timeout = UPGRADE_TIMEOUT

    def __repr__(self):  # the token stays out of every log line and traceback
        return "TunnelListener(%s:%d, %s)" % (self.local, self.port, "wss" if self.ssl_context else "ws")

    async def start(self, on_connection):
        """The asyncio server (close() / wait_closed() as for TCP); `on_connection(reader, writer,
        address)` runs for each accepted tunnel."""
        self.on_connection = on_connection
        self.web_server = web.Server(self._handle, access_log=None)
        sock = socket.socket(family_of(self.local), socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.local, self.port))
            sock.listen(BACKLOG)
            return await asyncio.get_running_loop().create_server(
                self._protocol,
                sock=sock,
                ssl=self.ssl_context,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if self.ssl_context else None,
                backlog=BACKLOG,
            )
        except BaseException:
            sock.close()
            raise

    def _protocol(self):
        assert self.web_server is not None
        return _Counted(self.web_server(), self)

    def _made(self, transport):
        """A connection past its TLS handshake: counted until it is a websocket, closed beyond MAX_WAITING
        at once or after the timeout."""
        address = str((transport.get_extra_info("peername") or ("?",))[0])
        if len(self.waiting) >= MAX_WAITING:
            REFUSALS.log(
                logging.WARNING,
                "%s full" % self.name,
                "%s: tunnel from %s refused: %d connections already on their way to a websocket",
                self.name,
                address,
                MAX_WAITING,
            )
            transport.abort()
            return
        self.waiting.add(transport)
        asyncio.get_running_loop().call_later(self.upgrade_timeout, self._expire, transport, address)

    def _expire(self, transport, address):
        if transport in self.waiting:
            self.waiting.discard(transport)
            REFUSALS.log(
                logging.WARNING,
                "%s slow %s" % (self.name, address),
                "%s: tunnel from %s closed: no websocket within %g s",
                self.name,
                address,
                self.upgrade_timeout,
            )
            transport.abort()

    async def aclose(self):
        if self.web_server is not None:
            await self.web_server.shutdown(2)

    def _refuse(self, address, status, why):
        REFUSALS.log(
            logging.WARNING,
            "%s %d %s" % (self.name, status, address),
            "%s: tunnel from %s refused (HTTP %d): %s",
            self.name,
            address,
            status,
            why,
        )
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        response = web.Response(status=status, text=why + "\n", headers=headers)
        response.force_close()  # no keep-alive: a refused connection gets no second try on it
        return response

    async def _handle(self, request):
        address = str(request.remote or "").split("%")[0]
        if self.peer and not same_address(address, self.peer):
            return self._refuse(address, 403, "only %s may open this tunnel" % self.peer)
        if self.token is not None and not token_matches(self.token, request.headers.get("Authorization")):
            return self._refuse(address, 401, "wrong or missing bearer token")
        if self.live:
            return self._refuse(address, 409, "a tunnel for this session is already open")
        ws = web.WebSocketResponse(max_msg_size=RECEIVE_LIMIT, heartbeat=HEARTBEAT, compress=False)
        if not ws.can_prepare(request).ok:
            return self._refuse(address, 400, "not a websocket request")
        self.live = True
        try:
            await ws.prepare(request)
            self.waiting.discard(request.transport)  # a websocket now: the relay's own bounds apply
            LOG.info("%s: tunnel from %s open", self.name, address)
            assert self.on_connection is not None  # start() set it before the server accepted anything
            reader, writer, pump = await open_stream(ws, self.name)
            try:
                await self.on_connection(reader, writer, address)
            finally:
                writer.close()
                await pump
            LOG.info("%s: tunnel from %s closed", self.name, address)
        finally:
            self.live = False
        return ws


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection (its slots cannot be patched), with the listener told when
    the connection is made and lost."""

    def __init__(self, inner, listener):
        self.inner, self.listener, self.transport = inner, listener, None

    def connection_made(self, transport):
        self.transport = transport
        self.inner.connection_made(transport)
        self.listener._made(transport)

    def connection_lost(self, exc):
        self.listener.waiting.discard(self.transport)
        self.inner.connection_lost(exc)

    def data_received(self, data):
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self):
        self.inner.pause_writing()

    def resume_writing(self):
        self.inner.resume_writing()
