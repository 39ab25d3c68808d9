"""Malformed attributes through the runner, with hand-built bytes from a fake peer, to a real FRR:
the runner does what RFC 7606 prescribes, case by case, and stays up."""

import socket
import struct
import subprocess

import pytest
from integration.test_runner_proxy import FROM, FRR, LISTEN, RUNNER, frr_peer, frr_prefixes
from peerwarden_runner.codec import Capability, encode_keepalive, encode_open
from peerwarden_runner.codec import constants as c

from lab.daemons import free_port, wait_for

pytestmark = pytest.mark.lab
PEER = "127.0.0.7"
MARKER = b"\xff" * 16


def raw_update(path_attributes, nlri):
    """An UPDATE from attribute TLV octets and IPv4 /24 prefixes, lengths computed, nothing checked."""
    nlri_octets = b"".join(bytes([24]) + bytes(int(x) for x in p.split("/")[0].split(".")[:3]) for p in nlri)
    body = struct.pack(">H", 0) + struct.pack(">H", len(path_attributes)) + path_attributes + nlri_octets
    return MARKER + struct.pack(">HB", 19 + len(body), 2) + body


def tlv(flags, code, value):
    return struct.pack(">BBB", flags, code, len(value)) + value


GOOD = (
    tlv(0x40, 1, b"\x00") + tlv(0x40, 2, b"\x02\x01" + struct.pack(">I", 64500)) + tlv(0x40, 3, socket.inet_aton(PEER))
)


def read_message(sock):
    header = b""
    while len(header) < 19:
        chunk = sock.recv(19 - len(header))
        if not chunk:
            return None
        header += chunk
    length = struct.unpack(">H", header[16:18])[0]
    body = b""
    while len(body) < length - 19:
        body += sock.recv(length - 19 - len(body))
    return header + body


@pytest.fixture
def fake_peer(make_frr_router, tmp_path):
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001)
    log = tmp_path / "runner.log"
    runner = subprocess.Popen(
        [RUNNER, "proxy", "--listen", LISTEN + ":179", "--connect", FRR + ":179", "--connect-from", FROM]
        + ["--max-length", "24/48", "--metrics", "127.0.0.1:%d" % free_port()],
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: b"listening on" in log.read_bytes(), what="the runner to listen")
    sock = socket.socket()
    sock.bind((PEER, 0))
    sock.connect((LISTEN, 179))
    sock.settimeout(10)
    sock.sendall(encode_open(65001, 90, PEER, [Capability.multiprotocol(c.AFI_IPV4, c.SAFI_UNICAST)]))
    assert read_message(sock)[18] == c.OPEN
    sock.sendall(encode_keepalive())
    wait_for(lambda: frr_peer(frr).get("bgpState") == "Established", what="FRR to establish through the runner")
    try:
        yield frr, sock, runner, log
    finally:
        sock.close()
        runner.terminate()
        runner.wait(10)


def test_rfc7606_case_by_case(fake_peer):
    frr, sock, runner, log = fake_peer
    sock.sendall(raw_update(GOOD, ["203.0.113.0/24", "198.51.100.0/24"]))
    assert wait_for(lambda: frr_prefixes(frr) == ["198.51.100.0/24", "203.0.113.0/24"], what="the good routes")
    # ORIGIN 7 (RFC 7606 7.1): treat-as-withdraw: FRR loses 203.0.113.0/24, the session stays up
    bad_origin = tlv(0x40, 1, b"\x07") + GOOD[4:]
    sock.sendall(raw_update(bad_origin, ["203.0.113.0/24"]))
    assert wait_for(lambda: frr_prefixes(frr) == ["198.51.100.0/24"], what="treat-as-withdraw")
    # ATOMIC_AGGREGATE with a value (RFC 7606 7.6): attribute discard: the route gets through
    bad_atomic = GOOD + tlv(0x40, 6, b"\x01")
    sock.sendall(raw_update(bad_atomic, ["192.0.2.0/24"]))
    assert wait_for(lambda: "192.0.2.0/24" in frr_prefixes(frr), what="attribute discard")
    # COMMUNITIES of 3 octets (RFC 7606 7.8): treat-as-withdraw
    sock.sendall(raw_update(GOOD + tlv(0xC0, 8, b"\x00\x01\x02"), ["192.0.2.0/24"]))
    assert wait_for(lambda: "192.0.2.0/24" not in frr_prefixes(frr), what="treat-as-withdraw (communities)")
    assert frr_peer(frr)["bgpState"] == "Established" and runner.poll() is None
    # counted per session and kind: the lines come when their 10 s interval is over (log_summary.py)
    wait_for(
        lambda: "treat-as-withdraw" in log.read_text() and "attribute-discard" in log.read_text(),
        what="the RFC 7606 summary lines",
        timeout=30,
    )
    # an attribute running past the end of the path attributes (RFC 7606 4): treat-as-withdraw,
    # because the NLRI can still be found through the total path attribute length
    sock.sendall(raw_update(GOOD, ["192.0.2.0/24"]))
    assert wait_for(lambda: "192.0.2.0/24" in frr_prefixes(frr), what="the route back")
    sock.sendall(raw_update(GOOD + struct.pack(">BBB", 0x40, 5, 200) + b"\x00" * 4, ["192.0.2.0/24"]))
    assert wait_for(lambda: "192.0.2.0/24" not in frr_prefixes(frr), what="treat-as-withdraw (overrun)")
    # MP_REACH_NLRI with a /33 IPv4 prefix (RFC 7606 5.3): session reset, NOTIFICATION 3/x to the
    # sender, Cease to FRR
    mp_reach = struct.pack(">HBB", 1, 1, 4) + socket.inet_aton(PEER) + b"\x00" + bytes([33]) + b"\x01" * 5
    sock.sendall(raw_update(GOOD + tlv(0x80, 14, mp_reach), []))
    notification = read_message(sock)
    # FRR's own KEEPALIVEs and UPDATEs (its routes, sent after MRAI, later on a loaded machine) may come first
    while notification is not None and notification[18] in (c.KEEPALIVE, c.UPDATE):
        notification = read_message(sock)
    assert notification is not None and notification[18] == c.NOTIFICATION and notification[19] == 3
    assert wait_for(lambda: frr_peer(frr).get("bgpState") != "Established", what="the session to end")
    assert runner.poll() is None  # the runner itself stays up for the next session
