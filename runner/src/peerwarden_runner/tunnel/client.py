"""Runner A's side of the tunnel: a websocket connector that stands where the TCP connection to the
router would. Each BGP session opens its own tunnel once the peer's OPEN has arrived, and closes it
when the session ends, so runner B sees a session drop exactly when runner A's peer does; there are
never half-sessions across the tunnel. Attempts back off exponentially (backoff.Backoff, capped at
`backoff_max`); the delay starts again from the beginning once a tunnel opened.
"""

import asyncio
import ipaddress
import logging

import aiohttp
from yarl import URL

from peerwarden_runner.backoff import Backoff
from peerwarden_runner.tunnel.stream import HEARTBEAT, RECEIVE_LIMIT, open_stream

LOG = logging.getLogger("peerwarden_runner.tunnel")
ATTEMPTS = 6  # tunnel attempts while the peer waits (with the back-off's delays between them)
OPEN_TIMEOUT = 10.0  # seconds for the TCP, TLS and websocket handshakes together


class TunnelRefused(ConnectionError):
    """The tunnel could not be opened (refused, unreachable, a TLS or HTTP error): the proxy retries."""


class TunnelConnector:
    """Opens wss://HOST:PORT/PATH (ws:// only on loopback and only when `allow_plain`) with a bearer
    token and/or a client certificate (in `ssl_context`)."""

    def __init__(
        self, url, ssl_context, token=None, name="tunnel", allow_plain=False, backoff_max=30.0, attempts=ATTEMPTS
    ):
        self.url = URL(url)
        host = self.url.host or ""
        if self.url.scheme == "ws":
            if not (allow_plain and ipaddress.ip_address(host).is_loopback):
                raise ValueError("ws:// (no TLS) is refused unless the host is loopback and allow_plain is set")
            ssl_context = None
        elif self.url.scheme != "wss":
            raise ValueError("the tunnel URL must be wss://HOST:PORT/PATH, not %s" % self.url.scheme)
        self.ssl_context, self.token, self.name = ssl_context, token, name
        self.address = (host, self.url.port)
        self.remote = host  # the far end's address, for the logs and the archive (the stream has none)
        self.backoff = Backoff(initial=0.5, maximum=max(backoff_max, 0.5))
        self.attempts = attempts
        self.pumps = set()  # the tunnels' pump tasks, referenced until they end

    def __repr__(self):  # the token stays out of every log line and traceback
        return "TunnelConnector(%s)" % self.url

    def delays(self):
        """The pauses between the attempts made while one peer waits (`attempts` - 1 of them)."""
        return tuple(round(self.backoff.next_delay(), 2) for dummy in range(self.attempts - 1))

    async def aclose(self):
        """Wait for the tunnels to finish closing (the proxy closed their streams), their HTTP sessions with them."""
        if self.pumps:
            await asyncio.wait(self.pumps, timeout=5)

    async def connect(self):
        """(reader, writer) of a new tunnel; TunnelRefused (a ConnectionError) when it cannot be opened."""
        headers = {"Authorization": "Bearer %s" % self.token} if self.token else None
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=OPEN_TIMEOUT))
        try:
            ws = await session.ws_connect(
                self.url,
                ssl=self.ssl_context if self.ssl_context is not None else False,
                headers=headers,
                max_msg_size=RECEIVE_LIMIT,
                heartbeat=HEARTBEAT,
                compress=0,
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
            )
        except aiohttp.WSServerHandshakeError as error:
            await session.close()
            raise TunnelRefused("%s answered HTTP %d %s" % (self.url, error.status, error.message)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            await session.close()
            raise TunnelRefused("%s: %s" % (self.url, error or type(error).__name__)) from None
        except BaseException:
            await session.close()
            raise
        self.backoff.reset()
        LOG.info("%s: tunnel to %s open", self.name, self.url)
        reader, writer, pump = await open_stream(ws, self.name, closing=session.close)
        self.pumps.add(pump)
        pump.add_done_callback(self.pumps.discard)
        return reader, writer
