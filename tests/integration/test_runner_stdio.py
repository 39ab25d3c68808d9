"""BGP -> JSON -> BGP through real jq, on loopback (issue 11, "--stdout | jq and --stdin round trip").

FRR r21 (AS65021, 127.0.0.21) sends its table to `peerwarden-runner speaker --stdout` (AS65020,
127.0.0.20); that output, piped through `jq -c .`, is the --stdin of a second speaker (AS65021,
127.0.0.26) peering with FRR r27 (AS65027, 127.0.0.27). r27 ends up with r21's routes, and every
UPDATE the first speaker received is among those the second one sent, octet for octet (both
speakers' --stdout carry each message's "raw"). The OPEN and KEEPALIVE records in the stream are
skipped and counted, not sent.
"""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from test_runner_speaker import FRR_CONFIG  # r21's table: two IPv4 prefixes and one IPv6

from lab.daemons import wait_for, wait_for_log

pytestmark = pytest.mark.lab
RUNNER = os.path.join(os.path.dirname(sys.executable), "peerwarden-runner")
SOURCE, SPEAKER_A, SPEAKER_B, SINK = "127.0.0.21", "127.0.0.20", "127.0.0.26", "127.0.0.27"
SOURCE_CONFIG = (
    FRR_CONFIG
    + """router bgp 65021
 address-family ipv4 unicast
  network 10.21.128.0/17 route-map tagged
%s
 exit-address-family
exit
route-map tagged permit 10
 set community 65021:7 65021:8
 set large-community 65021:1:2
 set metric 42
exit
"""
)
SINK_CONFIG = """router bgp 65027
 address-family ipv6 unicast
  neighbor 127.0.0.26 activate
 exit-address-family
exit
"""
MORE = ["10.%d.%d.0/24" % (22 + i // 256, i % 256) for i in range(300)]  # more prefixes, three attribute sets
SOURCE_CONFIG %= "\n".join(
    "  network %s route-map %s" % (prefix, ("tagged", "plain", "long")[i % 3]) for i, prefix in enumerate(MORE)
)
SOURCE_CONFIG += """route-map plain permit 10
 set origin incomplete
 set community 65021:9
exit
route-map long permit 10
 set as-path prepend 65021 65021 4200000021
 set extcommunity rt 65021:5
exit
"""
PREFIXES = {"10.21.0.0/16", "10.21.1.0/24", "10.21.128.0/17", *MORE}


def speaker(local, peer, asn, peer_asn, *extra):
    return [RUNNER, "speaker", "--local", local, "--peer", peer, "--asn", str(asn), "--peer-asn", str(peer_asn)] + [
        "--api",
        "off",
        "--hold-time",
        "9",
        "--stdout",
        *extra,
    ]


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def updates(path, direction):
    """The UPDATE records of one direction (End-of-RIB markers aside), in order."""
    return [r for r in records(path) if r["type"] == "update" and r["direction"] == direction and "end_of_rib" not in r]


def routes_of(path, direction):
    prefixes = set()
    for record in updates(path, direction):
        prefixes.update(record["nlri"])
        prefixes.update(record["attributes"].get("mp_reach", {}).get("nlri", []))
    return prefixes


def frr_table(frr, family):
    table = json.loads(frr.vtysh("show bgp %s unicast json" % family)).get("routes", {})
    return {prefix: [(path["path"], path.get("metric")) for path in paths] for prefix, paths in table.items()}


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0


def test_stdout_through_jq_into_stdin_gives_byte_identical_updates(make_frr_router, tmp_path):
    jq = shutil.which("jq")
    assert jq, "jq is needed (Debian package jq)"
    source = make_frr_router(
        address=SOURCE, asn=65021, neighbor=SPEAKER_A, neighbor_asn=65020, hostname="r21", extra_config=SOURCE_CONFIG
    )
    sink = make_frr_router(
        address=SINK, asn=65027, neighbor=SPEAKER_B, neighbor_asn=65021, hostname="r27", extra_config=SINK_CONFIG
    )
    out_a, log_a, out_b, log_b = (tmp_path / name for name in ("a.jsonl", "a.log", "b.jsonl", "b.log"))
    started = []
    try:
        # 1. the first session's every message as JSON lines
        with open(out_a, "w") as out, open(log_a, "w") as log:
            first = subprocess.Popen(speaker(SPEAKER_A, SOURCE, 65020, 65021), stdout=out, stderr=log)
        started.append(first)
        wanted = PREFIXES | {"2001:db8:21::/48"}
        wait_for(
            lambda: wanted <= routes_of(out_a, "received"),
            what="r21's routes in the first --stdout",
            show=lambda: (routes_of(out_a, "received"), frr_table(source, "ipv4")),
        )
        stop(first)
        received = updates(out_a, "received")
        assert {r["attributes"]["as_path"][0][1][0] for r in received} == {65021}
        # 2. through real jq into the second speaker's --stdin, a pipe as on a command line
        with open(out_a) as jq_in:
            filtered = subprocess.Popen([jq, "-c", "."], stdin=jq_in, stdout=subprocess.PIPE)
        with open(out_b, "w") as out, open(log_b, "w") as log:
            second = subprocess.Popen(
                speaker(SPEAKER_B, SINK, 65021, 65027, "--stdin"), stdin=filtered.stdout, stdout=out, stderr=log
            )
        filtered.stdout.close()  # the runner holds the pipe now
        started += [filtered, second]
        assert filtered.wait(15) == 0
        wait_for_log(log_b, r"stdin: end of input", timeout=30)
        wait_for(
            lambda: set(frr_table(sink, "ipv4")) >= PREFIXES and "2001:db8:21::/48" in frr_table(sink, "ipv6"),
            what="r27 to hold r21's routes",
        )
        # the same routes with r21's attributes: the path is r21's AS alone (the UPDATEs are sent as read)
        source_table, sink_table = frr_table(source, "ipv4"), frr_table(sink, "ipv4")
        for prefix in PREFIXES:
            path = " ".join(["65021", source_table[prefix][0][0]]).strip()  # r21's own AS first, as r21 sent it
            assert sink_table[prefix] == [(path, source_table[prefix][0][1])], (prefix, sink_table[prefix])
        tagged = json.loads(sink.vtysh("show bgp ipv4 unicast 10.21.128.0/17 json"))["paths"][0]
        assert tagged["community"]["string"] == "65021:7 65021:8" and tagged["largeCommunity"]["string"] == "65021:1:2"
        stop(second)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in (log_a, log_b):
            if log.exists():
                print("%s:\n%s" % (log.name, log.read_text()))
    # 3. every UPDATE received by the first speaker was sent by the second, octet for octet and in order
    # (End-of-RIB markers aside: the second speaker sends its own as well)
    assert [r["raw"] for r in updates(out_b, "sent")] == [r["raw"] for r in received]
    print("%d UPDATE(s) identical, %d JSON line(s) through jq" % (len(received), len(records(out_a))))
    log = log_b.read_text()
    assert "stdin line 1: OPEN records are not sent (the session makes its own)" in log
    assert "end of input after %d line(s)" % len(records(out_a)) in log and ", 0 refused" in log
