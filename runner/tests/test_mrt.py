"""MRT BGP4MP_ET records (RFC 6396 §4.4) checked field by field, and the MRT archive read back by
bgpdump (plain and gzip-rotated files, IPv4 and IPv6 sessions)."""

import gzip
import ipaddress
import os
import shutil
import struct
import subprocess

import pytest

from peerwarden_runner import mrt
from peerwarden_runner.codec import KEEPALIVE_MESSAGE, Capability, encode_open, encode_withdraw
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline
from peerwarden_runner.stages.mrt_archive import MrtArchiveStage
from stage_helpers import announce, open_session

needs_bgpdump = pytest.mark.skipif(shutil.which("bgpdump") is None, reason="bgpdump (Debian package) not installed")


def fields(record):
    """The common header and the BGP4MP peer fields of one record, by hand from RFC 6396."""
    seconds, kind, subtype, length, micro = struct.unpack(">IHHII", record[:16])
    assert length == len(record) - 12, "the ET length counts the microsecond field and the body"
    return seconds, kind, subtype, micro, record[16:]


def test_message_as4_ipv4_field_by_field():
    message = announce(["203.0.113.0/24"])
    record = mrt.message_record(1700000000.25, message, 4200000001, 65000, "127.0.0.33", "127.0.0.32")
    seconds, kind, subtype, micro, body = fields(record)
    assert (seconds, kind, subtype, micro) == (1700000000, 17, 4, 250000)
    peer_as, local_as, interface, afi = struct.unpack(">IIHH", body[:12])
    assert (peer_as, local_as, interface, afi) == (4200000001, 65000, 0, 1)
    assert body[12:16] == bytes([127, 0, 0, 33]) and body[16:20] == bytes([127, 0, 0, 32])
    assert body[20:] == message


def test_message_ipv6_and_a_mixed_session_use_afi_2():
    record = mrt.message_record(1.000001, KEEPALIVE_MESSAGE, 65001, 65000, "::1", "2001:db8::2")
    seconds, kind, subtype, micro, body = fields(record)
    assert micro == 1 and struct.unpack(">IIHH", body[:12])[3] == 2
    assert body[12:28] == ipaddress.ip_address("::1").packed
    assert body[28:44] == ipaddress.ip_address("2001:db8::2").packed
    assert body[44:] == KEEPALIVE_MESSAGE
    mixed = fields(mrt.message_record(1, KEEPALIVE_MESSAGE, 1, 2, "192.0.2.1", "2001:db8::2"))[4]
    assert mixed[12:28] == ipaddress.ip_address("::ffff:192.0.2.1").packed


def test_two_octet_session_and_add_path_subtypes():
    two = fields(mrt.message_record(1, KEEPALIVE_MESSAGE, 64500, 64501, "192.0.2.1", "192.0.2.2", four_octet=False))
    assert two[2] == 1 and struct.unpack(">HHHH", two[4][:8]) == (64500, 64501, 0, 1)
    assert fields(mrt.message_record(1, KEEPALIVE_MESSAGE, 1, 2, None, None, add_path=True))[2] == 9
    assert fields(mrt.message_record(1, KEEPALIVE_MESSAGE, 1, 2, None, None, False, True))[2] == 8


def test_state_change_as4():
    seconds, kind, subtype, micro, body = fields(
        mrt.state_change_record(5.5, 5, 6, 65001, 65000, "10.0.0.1", "10.0.0.2")
    )
    assert (kind, subtype, micro) == (17, 5, 500000)
    assert struct.unpack(">IIHH", body[:12]) == (65001, 65000, 0, 1)
    assert body[12:20] == bytes([10, 0, 0, 1, 10, 0, 0, 2]) and struct.unpack(">HH", body[20:]) == (5, 6)


def run_session(directory, endpoints, compress=False, rotate_bytes=1 << 30, capabilities=None):
    """A session through the MRT archive: OPENs, KEEPALIVEs, IPv4 and IPv6 UPDATEs, a withdrawal, the end."""
    stage = MrtArchiveStage(str(directory), rotate_bytes=rotate_bytes, compress=compress, session_name="edge1")
    pipeline = Pipeline({}, [stage])
    extra = {} if capabilities is None else {"capabilities": capabilities}
    state = open_session(pipeline, peer_as=4200000001, router_as=65000, endpoints=endpoints, **extra)
    pipeline.process(state, TO_ROUTER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
    pipeline.process(state, TO_PEER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
    pipeline.process(
        state,
        TO_ROUTER,
        c.UPDATE,
        announce(["10.0.0.0/8", "10.1.0.0/16"], path=(4200000001, 64500), communities=[(65000 << 16) | 1]),
    )
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["2001:db8::/32"], path=(4200000001, 64501)))
    pipeline.process(state, TO_PEER, c.UPDATE, encode_withdraw(["198.51.100.0/24"])[0])
    pipeline.end_session(state)
    pipeline.close()


def bgpdump(directory):
    lines = []
    for name in sorted(os.listdir(directory)):
        output = subprocess.run(
            ["bgpdump", "-q", "-m", os.path.join(directory, name)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        lines += [line.split("|", 2)[2] for line in output.splitlines()]  # without type and timestamp
    return lines


EXPECTED_V4 = [
    "STATE|127.0.0.33|4200000001|5|6",
    "STATE|127.0.0.32|65000|5|6",
    "A|127.0.0.33|4200000001|10.0.0.0/8|4200000001 64500|IGP|192.0.2.1|0|0|65000:1|NAG||",
    "A|127.0.0.33|4200000001|10.1.0.0/16|4200000001 64500|IGP|192.0.2.1|0|0|65000:1|NAG||",
    "A|127.0.0.33|4200000001|2001:db8::/32|4200000001 64501|IGP|2001:db8::1|0|0||NAG||",
    "W|127.0.0.32|65000|198.51.100.0/24",
    "STATE|127.0.0.33|4200000001|6|1",
    "STATE|127.0.0.32|65000|6|1",
]


@needs_bgpdump
def test_bgpdump_reads_the_archive_of_an_ipv4_session(tmp_path):
    run_session(tmp_path, {TO_ROUTER: ("127.0.0.33", "127.0.0.32"), TO_PEER: ("127.0.0.32", "127.0.0.33")})
    assert sorted(bgpdump(tmp_path)) == sorted(EXPECTED_V4)
    assert [line.split("|")[0] for line in bgpdump(tmp_path)] == [
        "STATE",
        "STATE",
        "A",
        "A",
        "A",
        "W",
        "STATE",
        "STATE",
    ]


@needs_bgpdump
def test_bgpdump_reads_gzip_rotated_files_of_an_ipv6_session(tmp_path):
    run_session(
        tmp_path,
        {TO_ROUTER: ("2001:db8::33", "2001:db8::32"), TO_PEER: ("2001:db8::32", "2001:db8::33")},
        compress=True,
        rotate_bytes=150,
    )
    names = sorted(os.listdir(tmp_path))
    assert len(names) > 3 and all(name.endswith(".mrt.gz") for name in names)
    with gzip.open(tmp_path / names[0]) as handle:
        data = handle.read()
    first = data[: 12 + struct.unpack(">I", data[8:12])[0]]
    assert fields(first)[1:3] == (17, 4) and first[16 + 44 + 18] == c.OPEN  # an AS4 message, IPv6: the first OPEN
    expected = [
        line.replace("127.0.0.33", "2001:db8::33").replace("127.0.0.32", "2001:db8::32") for line in EXPECTED_V4
    ]
    assert sorted(bgpdump(tmp_path)) == sorted(expected)


@needs_bgpdump
def test_bgpdump_reads_a_two_octet_session(tmp_path):
    capabilities = [Capability.multiprotocol(c.AFI_IPV4, c.SAFI_UNICAST)]
    stage = MrtArchiveStage(str(tmp_path), compress=False)
    pipeline = Pipeline({}, [stage])
    state = pipeline.new_session(None, {TO_ROUTER: ("10.0.0.1", "10.0.0.2")})
    for direction, asn, address in ((TO_ROUTER, 64500, "10.0.0.1"), (TO_PEER, 64501, "10.0.0.2")):
        pipeline.process(state, direction, c.OPEN, encode_open(asn, 90, address, capabilities, add_four_octet_as=False))
    ctx = state.contexts[TO_ROUTER]
    assert not ctx.four_octet_as
    pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.9.0.0/16"], path=(64500, 64999), ctx=ctx))
    pipeline.close()
    assert bgpdump(tmp_path)[-1] == "A|10.0.0.1|64500|10.9.0.0/16|64500 64999|IGP|192.0.2.1|0|0||NAG||"
