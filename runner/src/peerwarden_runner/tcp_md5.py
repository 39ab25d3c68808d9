"""TCP-MD5 (RFC 2385) on Linux sockets: the kernel signs and checks every segment with the key set
for the peer's address (TCP_MD5SIG). Python's socket module has no helper for it, hence the
struct here (linux/tcp.h: struct tcp_md5sig).

A listening socket with a key for the peer alone still completes unsigned handshakes from every
other address; `refuse_unsigned` adds a key no one knows for the whole address family
(TCP_MD5SIG_EXT with a prefix, Linux 4.13+): the kernel uses the longest matching prefix, so the
peer's own key still applies to it, and any other SYN, signed or not, is dropped before a handshake
completes."""

import secrets
import socket
import struct

TCP_MD5SIG = 14
TCP_MD5SIG_EXT = 32
TCP_MD5SIG_FLAG_PREFIX = 1
MAX_KEY = 80


def _sockaddr(address):
    """A struct sockaddr_storage (128 octets) for the peer address."""
    if ":" in address:
        packed = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, address), 0)
    else:
        packed = struct.pack("=HH4s", socket.AF_INET, 0, socket.inet_pton(socket.AF_INET, address))
    return packed.ljust(128, b"\0")


def _secret(key):
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(secret) > MAX_KEY:
        raise ValueError("a TCP-MD5 key is at most %d octets, this one has %d" % (MAX_KEY, len(secret)))
    return secret


def set_md5(sock, peer_address, key):
    """Sign and require TCP-MD5 with `key` for connections to/from `peer_address` on `sock` (a
    listening socket takes one call per peer). An empty key removes it."""
    secret = _secret(key)
    value = _sockaddr(peer_address) + struct.pack("=BBHI", 0, 0, len(secret), 0) + secret.ljust(MAX_KEY, b"\0")
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, value)


def refuse_unsigned(sock, peer_address):
    """On a listening socket: require a random key from every address of the peer's family but the
    peer (whose own key, set with set_md5, is the longer prefix and wins)."""
    anywhere = "::" if ":" in peer_address else "0.0.0.0"
    secret = secrets.token_bytes(MAX_KEY)
    value = _sockaddr(anywhere) + struct.pack("=BBHI", TCP_MD5SIG_FLAG_PREFIX, 0, len(secret), 0) + secret
    sock.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG_EXT, value)
