"""BGP's TCP connections, for the proxy and the speaker alike: source address, TCP-MD5 (RFC 2385) and
GTSM (RFC 5082) are socket options that must be set before connect() (or before listen()), hence
sockets built by hand."""

import asyncio
import socket

from peerwarden_runner.gtsm import set_gtsm
from peerwarden_runner.tcp_md5 import refuse_unsigned, set_md5

CONNECT_TIMEOUT = 10.0  # seconds for a router to answer a connection


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


async def connect(local, peer, port, md5=None, gtsm=False, timeout=CONNECT_TIMEOUT):
    """(reader, writer) of a TCP connection from `local` (port chosen by the kernel) to peer:port; a peer
    that does not answer (or whose segments GTSM drops) is given up after `timeout` seconds."""
    family = family_of(peer)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if local:
            sock.bind((local, 0))
        if md5:
            set_md5(sock, peer, md5)
        if gtsm:
            set_gtsm(sock)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (peer, port)), timeout)
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise


async def listen(local, port, peer, on_connection, md5=None, gtsm=False):
    """An asyncio server on local:port; the connection from `peer` is signed with the TCP-MD5 key set
    for it, and with GTSM accepted only at TTL 255 (accepted sockets inherit both from here).
    With a key, the kernel completes no handshake from any other address (tcp_md5.refuse_unsigned);
    without one, who may connect is `on_connection`'s check."""
    family = family_of(local)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if md5:
            set_md5(sock, peer, md5)
            if family_of(peer) == family:
                refuse_unsigned(sock, peer)
        if gtsm:
            set_gtsm(sock)
        sock.bind((local, port))
        return await asyncio.start_server(on_connection, sock=sock)
    except BaseException:
        sock.close()
        raise


class TcpListener:
    """The peer's leg as TCP (listen() above); tunnel/server.py's TunnelListener is the websocket one."""

    def __init__(self, local, port, peer, md5=None, gtsm=False):
        self.local, self.port, self.peer, self.md5, self.gtsm = local, port, peer, md5, gtsm

    async def start(self, on_connection):
        return await listen(self.local, self.port, self.peer, on_connection, md5=self.md5, gtsm=self.gtsm)

    async def aclose(self):
        pass


class TcpConnector:
    """The router's leg as TCP (connect() above), retried after each of `retries` seconds while the
    peer waits; tunnel/client.py's TunnelConnector is the websocket one."""

    remote = None  # the connection's own peer address says where it goes

    def __init__(self, local, peer, port, retries, md5=None, gtsm=False, timeout=CONNECT_TIMEOUT):
        self.local, self.address, self.retries = local, (peer, port), tuple(retries)
        self.md5, self.gtsm, self.timeout = md5, gtsm, timeout

    def delays(self):
        return self.retries

    async def connect(self):
        return await connect(self.local, *self.address, md5=self.md5, gtsm=self.gtsm, timeout=self.timeout)

    async def aclose(self):
        pass
