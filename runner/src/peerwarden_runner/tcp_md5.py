"""TCP-MD5 (RFC 2385) on Linux sockets: the kernel signs and checks every segment with the key set
for the peer's address (TCP_MD5SIG). Python's socket module has no helper for it, hence the
struct here (linux/tcp.h: struct tcp_md5sig)."""

import socket
import struct

TCP_MD5SIG = 14
MAX_KEY = 80


def _sockaddr(address):
    """A struct sockaddr_storage (128 octets) for the peer address."""
    if ":" in address:
        packed = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, address), 0)
    else:
        packed = struct.pack("=HH4s", socket.AF_INET, 0, socket.inet_pton(socket.AF_INET, address))
    return packed.ljust(128, b"\0")


def set_md5(sock, peer_address, key):
    """Sign and require TCP-MD5 with `key` for connections to/from `peer_address` on `sock` (a
    listening socket takes one call per peer). An empty key removes it."""
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(secret) > MAX_KEY:
        raise ValueError("a TCP-MD5 key is at most %d octets, this one has %d" % (MAX_KEY, len(secret)))
    value = _sockaddr(peer_address) + struct.pack("=BBHI", 0, 0, len(secret), 0) + secret.ljust(MAX_KEY, b"\0")
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, value)
