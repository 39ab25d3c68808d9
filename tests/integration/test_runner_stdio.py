"""BGP -> JSON -> BGP through real jq, on loopback (issue 11, "--stdout | jq and --stdin round trip"),
and jq inside a proxied session (the exec stage's stream mode).

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
from integration.runner_process import running_runner
from integration.test_runner_speaker import FRR_CONFIG  # r21's table: two IPv4 prefixes and one IPv6
from integration.test_runner_stages import static_routes

from lab.daemons import free_port, wait_for, wait_for_log

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


# ---- the exec stage in stream mode: jq in a proxied session, BIRD -> runner -> FRR ----

JQ_PROGRAM = (
    'select(.nlri | map(. == "192.0.2.0/24") | any | not)'  # drops one route
    ' | if (.nlri | length) > 0 then .attributes.communities += ["65000:7"] else . end'  # tags the rest
)


def test_exec_stream_puts_jq_in_a_proxied_session(make_frr_router, make_bird_router, tmp_path):
    bird_address, frr_address, listen, connect_from = "127.0.0.43", "127.0.0.42", "127.0.0.45", "127.0.0.46"
    archive = tmp_path / "archive"
    config_file = tmp_path / "runner.yml"
    config_file.write_text(
        json.dumps(
            {
                "sessions": [
                    {
                        "name": "lab-stream",
                        "listen": listen + ":179",
                        "connect": frr_address + ":179",
                        "connect_from": connect_from,
                        "to_router": ["exec"],
                    }
                ],
                "exec": {"program": [shutil.which("jq"), "--unbuffered", "-c", JQ_PROGRAM], "mode": "stream"},
                "archive": {"dir": str(archive)},
                "metrics": {"listen": "127.0.0.40:%d" % free_port("127.0.0.40")},
            }
        )
    )
    frr = make_frr_router(address=frr_address, asn=65000, neighbor=connect_from, neighbor_asn=65001)
    log = tmp_path / "runner.log"
    with running_runner(config_file, log):
        make_bird_router(
            address=bird_address, asn=65001, neighbor=listen, neighbor_asn=65000, extra_config=static_routes()
        )
        expected = ["198.51.100.0/24", "203.0.113.0/24"]
        wait_for(
            lambda: sorted(frr_table(frr, "ipv4")) == expected,
            what="FRR to hold what jq let through",
            show=lambda: frr_table(frr, "ipv4"),
        )
        for prefix in expected:
            path = json.loads(frr.vtysh("show bgp ipv4 unicast %s json" % prefix))["paths"][0]
            assert path["community"]["string"] == "65000:7" and path["aspath"]["string"].startswith("65001 ")
    from peerwarden_runner.archive import read_archive

    # what crossed towards FRR is jq's output: the tagged routes and BIRD's End-of-RIB, not 192.0.2.0/24
    sent = [r for r in read_archive(str(archive)) if r["direction"] == "to-router" and r["type"] == "update"]
    assert sorted(p for r in sent for p in r["nlri"]) == expected
    assert all(r["attributes"]["communities"] == ["65000:7"] for r in sent if r["nlri"])
    assert "refused" not in log.read_text()
