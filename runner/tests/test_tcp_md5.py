"""TCP-MD5 on loopback: same key connects, a missing or different key never does."""

import socket

import pytest

from peerwarden_runner.tcp_md5 import set_md5


def listener(key):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    if key is not None:
        set_md5(server, "127.0.0.1", key)
    server.listen(1)
    return server


def connects(server, key):
    client = socket.socket()
    client.settimeout(1.5)
    if key is not None:
        set_md5(client, "127.0.0.1", key)
    try:
        client.connect(server.getsockname())
        return True
    except (TimeoutError, OSError):
        return False
    finally:
        client.close()


@pytest.mark.parametrize(
    "server_key,client_key,expected",
    [
        ("s3cret", "s3cret", True),
        ("s3cret", "other", False),
        ("s3cret", None, False),
        (None, "s3cret", False),
    ],
)
def test_md5(server_key, client_key, expected):
    server = listener(server_key)
    try:
        assert connects(server, client_key) is expected
    finally:
        server.close()


def test_key_too_long():
    with socket.socket() as sock, pytest.raises(ValueError, match="at most 80 octets"):
        set_md5(sock, "127.0.0.1", "x" * 81)
