"""The TCP connection to the router: source address, TCP-MD5 (RFC 2385) and GTSM (RFC 5082) are
socket options that must be set before connect() (or, passive, before listen()), hence sockets
built by hand."""
import asyncio
import socket

from peerwarden_runner.tcp_md5 import set_md5

# linux/in.h and linux/in6.h; the socket module has no names for them
IP_MINTTL = getattr(socket, "IP_MINTTL", 21)
IPV6_MINHOPCOUNT = getattr(socket, "IPV6_MINHOPCOUNT", 73)
GTSM_TTL = 255


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def set_gtsm(sock, family):
    """Send with TTL (hop limit) 255 and refuse anything that arrives with less (RFC 5082 §3)."""
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, GTSM_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MINHOPCOUNT, GTSM_TTL)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, GTSM_TTL)
        sock.setsockopt(socket.IPPROTO_IP, IP_MINTTL, GTSM_TTL)


async def connect(local, peer, port, md5=None, gtsm=False, timeout=10.0):
    """(reader, writer) of a TCP connection from `local` (port chosen by the kernel) to peer:port."""
    family = family_of(peer)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if local:
            sock.bind((local, 0))
        if md5:
            set_md5(sock, peer, md5)
        if gtsm:
            set_gtsm(sock, family)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (peer, port)), timeout)
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise


async def listen(local, port, peer, on_connection, md5=None, gtsm=False):
    """An asyncio server on local:port (passive mode); the router's connection is signed with the
    TCP-MD5 key set for `peer`, and with GTSM accepted only at TTL 255 (both inherited from here).
    Who may connect is `on_connection`'s check: the kernel lets any address connect without a key."""
    family = family_of(local)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if md5:
            set_md5(sock, peer, md5)
        if gtsm:
            set_gtsm(sock, family)
        sock.bind((local, port))
        return await asyncio.start_server(on_connection, sock=sock)
    except BaseException:
        sock.close()
        raise
