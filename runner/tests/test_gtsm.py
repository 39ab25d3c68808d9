"""GTSM on loopback: a listener that requires it refuses segments sent with an ordinary TTL and
accepts a sender that uses GTSM itself, for IPv4 and IPv6."""

import socket

import pytest

from peerwarden_runner.gtsm import set_gtsm


def connects(family, host, server_gtsm, client_gtsm):
    server = socket.socket(family)
    client = socket.socket(family)
    try:
        if server_gtsm:
            set_gtsm(server)
        server.bind((host, 0))
        server.listen(1)
        client.settimeout(1.5)
        if client_gtsm:
            set_gtsm(client)
        client.connect(server.getsockname()[:2])
        return True
    except OSError:  # the SYN (or the SYN-ACK) was dropped by the minimum TTL: a timeout
        return False
    finally:
        client.close()
        server.close()


@pytest.mark.parametrize("family,host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
@pytest.mark.parametrize(
    "server_gtsm,client_gtsm,expected",
    [(True, True, True), (True, False, False), (False, True, False), (False, False, True)],
)
def test_gtsm(family, host, server_gtsm, client_gtsm, expected):
    assert connects(family, host, server_gtsm, client_gtsm) is expected


def test_hops_out_of_range():
    with socket.socket() as sock, pytest.raises(ValueError, match="1..254"):
        set_gtsm(sock, hops=0)
