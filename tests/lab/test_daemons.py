"""Tests of the lab daemon fixtures: the real daemons write the exact lines the collection parses.

Needs root and the Debian packages frr, bird2 and openssh-server (see lab/daemons.py).
"""

import json
import re
import socket

import netmiko
import paramiko
import pytest

from lab import daemons
from lab.daemons import LabStartError, knock, wait_for_log

pytestmark = pytest.mark.lab

TIMESTAMP_FRR = r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}"
TIMESTAMP_BIRD = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


def frr_rejected(source: str) -> str:
    """FRR >= 7.5 line, file log with `log timestamp precision 3`."""
    return (
        rf"^{TIMESTAMP_FRR} BGP: \[TBYZV-W9M3D\] \[Event\] {re.escape(source)} connection rejected"
        r"\(VRF default:65000:default\) - not configured and not valid for dynamic$"
    )


def bird_unexpected(source: str) -> str:
    """BIRD 2 line, file log (`log "file" all`); logged at WARN whatever the debug settings."""
    return (
        rf"^{TIMESTAMP_BIRD} <WARN> BGP: Unexpected connect from unknown address {re.escape(source)}"
        rf" \(port \d+\)$"
    )


def knock_twice_and_thrice(address: str, port: int) -> None:
    knock("127.0.0.9", address, port, times=2)
    knock("127.0.0.10", address, port, times=3)


def test_frr_logs_each_unsolicited_connection(frr_router):
    knock_twice_and_thrice(frr_router.address, frr_router.port)

    # The daemon logs in accept order, so once the last source's lines are in, all are.
    assert len(wait_for_log(frr_router.log_path, frr_rejected("127.0.0.10"), count=3)) == 3
    assert len(wait_for_log(frr_router.log_path, frr_rejected("127.0.0.9"), count=2)) == 2


def test_frr_vtysh_shows_the_configured_neighbour(frr_router):
    summary = json.loads(frr_router.vtysh("show bgp summary json"))["ipv4Unicast"]

    assert summary["as"] == 65000
    assert summary["routerId"] == "127.0.0.2"
    assert summary["peers"]["127.0.0.3"]["remoteAs"] == 65001


def test_bird_logs_each_unsolicited_connection(bird_router):
    knock_twice_and_thrice(bird_router.address, bird_router.port)

    assert len(wait_for_log(bird_router.log_path, bird_unexpected("127.0.0.10"), count=3)) == 3
    assert len(wait_for_log(bird_router.log_path, bird_unexpected("127.0.0.9"), count=2)) == 2
    assert "BGP" in bird_router.birdc("show protocols")


def test_frr_and_bird_share_port_179_on_their_own_addresses(frr_router, bird_router):
    knock("127.0.0.11", frr_router.address)
    knock("127.0.0.11", bird_router.address)

    wait_for_log(frr_router.log_path, frr_rejected("127.0.0.11"))
    wait_for_log(bird_router.log_path, bird_unexpected("127.0.0.11"))


def test_ssh_login_lands_in_vtysh(vtysh_sshd):
    with netmiko.ConnectHandler(
        device_type="cisco_ios",
        host=vtysh_sshd.host,
        port=vtysh_sshd.port,
        username=vtysh_sshd.username,
        password=vtysh_sshd.password,
    ) as cli:
        assert cli.find_prompt() == "r1#"
        output = cli.send_command("show bgp summary")

    assert "local AS number 65000" in output
    assert "127.0.0.3" in output


def test_sftp_reads_the_frr_log(vtysh_sshd):
    knock("127.0.0.9", vtysh_sshd.frr.address)
    wait_for_log(vtysh_sshd.frr.log_path, frr_rejected("127.0.0.9"))

    with paramiko.Transport((vtysh_sshd.host, vtysh_sshd.port)) as transport:
        transport.connect(username=vtysh_sshd.username, password=vtysh_sshd.password)
        with paramiko.SFTPClient.from_transport(transport) as sftp:
            with sftp.open(str(vtysh_sshd.frr.log_path)) as remote_log:
                text = remote_log.read().decode()

    assert re.search(frr_rejected("127.0.0.9"), text, re.MULTILINE)


def test_port_in_use_is_named_in_the_failure(make_bird_router):
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.33", 179))
        holder.listen()

        with pytest.raises(LabStartError, match=r"cannot use 127\.0\.0\.33:179: Address already in use"):
            make_bird_router(address="127.0.0.33")


def test_daemon_that_exits_shows_its_output(make_bird_router):
    with pytest.raises(LabStartError, match=r"(?s)bird exited with code 1 .*syntax error"):
        make_bird_router(address="127.0.0.34", extra_config="this is not BIRD syntax;")


def test_missing_binary_names_the_package(make_bird_router, monkeypatch):
    monkeypatch.setattr(daemons, "BIRD", "/nonexistent/bird")

    with pytest.raises(LabStartError, match=r"apt-get install -y bird2"):
        make_bird_router()


def test_knock_over_ipv6():
    with socket.socket(socket.AF_INET6) as listener:
        listener.bind(("::1", 0))
        listener.listen()

        knock("::1", "::1", listener.getsockname()[1], times=2, family=socket.AF_INET6, wait=0.1)

        for _dummy in range(2):
            connection, (peer, *rest) = listener.accept()
            connection.close()
            assert peer == "::1"
