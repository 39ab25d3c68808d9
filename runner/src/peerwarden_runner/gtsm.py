"""GTSM (RFC 5082) on Linux sockets: send with TTL 255 and have the kernel drop segments that arrive
with a lower TTL than a peer `hops` away could send. Python's socket module lacks IP_MINTTL and
IPV6_MINHOPCOUNT, hence the numbers from linux/in.h and linux/in6.h here."""

import socket

IP_MINTTL = 21
IPV6_MINHOPCOUNT = 73
MAX_TTL = 255


def set_gtsm(sock, hops=1):
    """Send with TTL (hop limit) 255 and accept only segments from at most `hops` routers away.
    Set on a listening socket, accepted connections inherit it; set it before connect() too."""
    if not 1 <= hops <= 254:
        raise ValueError("GTSM hops must be 1..254, not %r" % (hops,))
    minimum = MAX_TTL + 1 - hops
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, MAX_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MINHOPCOUNT, minimum)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, MAX_TTL)
        sock.setsockopt(socket.IPPROTO_IP, IP_MINTTL, minimum)
