"""The SSH server under every router test double: asyncssh on 127.0.0.1 in a thread of its own.

``host`` is 127.0.0.1 unless set (as an attribute, before ``start()``) to another loopback address,
for benchmarks with many routers each on its own 127.0.x.y.

The doubles (the JunOS and IOS CLIs in cli_doubles.py, the Junos NETCONF server in netconf_double.py)
subclass ``SshServerInThread`` and say what to serve in ``listen_options()``; starting, stopping,
dropping every connection at stop and running a change inside the server's loop are done here once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import asyncssh

LOOPBACK = "127.0.0.1"


def drop_due(trigger: int | str | None, dropped_at: str | None, count: int, matches: Callable[[str], bool]) -> bool:
    """Whether a double drops its connection now (once): at the `trigger`-th command or RPC when it is a
    number (count is how many came so far), else at the first one that `matches` it."""
    if trigger is None or dropped_at is not None:
        return False
    if isinstance(trigger, int):
        return count == trigger
    return matches(trigger)


class LocalUserAuth(asyncssh.SSHServer):
    """Authenticates the router's one local user, and tracks open connections for shutdown."""

    def __init__(
        self,
        username: str,
        password: str,
        authorized_key: asyncssh.SSHKey | None,
        connections: set[asyncssh.SSHServerConnection],
    ) -> None:
        self._username = username
        self._password = password
        self._authorized_key = authorized_key
        self._connections = connections
        self._connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self._connection)

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        # A False answer makes asyncssh send USERAUTH_FAILURE, as a router's sshd does, so the
        # client sees an authentication failure rather than a dropped connection.
        return username == self._username and password == self._password

    def public_key_auth_supported(self) -> bool:
        return self._authorized_key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh itself checks the signature made with the matching private key.
        return (
            username == self._username
            and self._authorized_key is not None
            and key.public_data == self._authorized_key.public_data
        )


class SshServerInThread:
    """Start/stop an asyncssh listener on 127.0.0.1:<ephemeral port> in a background thread.

    Subclasses set ``username``, ``password`` and ``_authorized_key`` and implement ``listen_options()``
    (asyncssh.listen keyword arguments besides host, port, keys and authentication) and may override
    ``before_close()``. ``host_key`` is a throwaway key made per double; ``host_key_line`` its public
    half as a known_hosts entry would hold it.
    """

    host = LOOPBACK
    thread_name = "ssh-double"
    username: str
    password: str

    def __init__(self) -> None:
        self.port: int | None = None
        self._authorized_key: asyncssh.SSHKey | None = None
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    @property
    def host_key_line(self) -> str:
        """``[127.0.0.1]:PORT ssh-ed25519 AAAA...``: this double's line in a known_hosts file."""
        key = self._host_key.export_public_key().decode().split()
        return "[%s]:%d %s %s" % (self.host, self.port, key[0], key[1])

    def listen_options(self) -> dict[str, Any]:
        raise NotImplementedError

    def before_close(self) -> None:
        """Called in the server's loop when stop() begins, before the connections are dropped."""

    def start(self) -> int:
        """Listen on ``host`` (127.0.0.1 unless set) at an ephemeral port and return the port."""
        if self._thread is not None:
            raise RuntimeError("this double is already running")
        listening: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._serve(listening),),
            name=self.thread_name,
            daemon=True,  # a test that forgets stop() must not hang the interpreter at exit
        )
        self._thread.start()
        try:
            self.port = listening.result(timeout=10)
        except BaseException:
            # The server never listened, so _serve has returned: nothing to ask to stop.
            self._thread.join(timeout=10)
            self._thread = None
            raise
        return self.port

    def stop(self) -> None:
        """Close every session and the listener, and end the background thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> SshServerInThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call_in_loop(self, action: Callable[[], None]) -> None:
        """Run a change to the device inside the server's loop (or at once when it is not running)."""
        if self._loop is None or self._thread is None:
            action()
            return
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                action()
                done.set_result(None)
            except BaseException as error:  # surfaced in the test's thread
                done.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        done.result(timeout=10)

    async def _serve(self, listening: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            acceptor = await asyncssh.listen(
                host=self.host,
                port=0,
                server_host_keys=[self._host_key],
                server_factory=lambda: LocalUserAuth(
                    self.username, self.password, self._authorized_key, self._connections
                ),
                **self.listen_options(),
            )
        except BaseException as error:
            listening.set_exception(error)  # raised in start(), in the test's thread
            return
        listening.set_result(acceptor.get_port())
        await self._stop_requested.wait()
        self.before_close()
        acceptor.close()
        # Closing the listener leaves connections open; a stopped router drops them.
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        await acceptor.wait_closed()
        for connection in connections:
            await connection.wait_closed()
