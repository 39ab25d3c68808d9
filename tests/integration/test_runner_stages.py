"""The runner's filter, exec and MRT archive between two real routers, on loopback:
BIRD (AS65001) -> peerwarden-runner (run -c, a configuration file) -> FRR (AS65000).

An exec filter (a Python script) tags every UPDATE with 65000:42, then the filter stage drops
192.0.2.0/24 and tags 203.0.113.0/24 with 65000:100 and 65000:0:100; FRR shows what got through,
with the communities. The archive is written in both formats: bgpdump reads the MRT files, and
they hold exactly the messages of the JSON archive, which hold exactly the UPDATEs FRR counted.
"""

import gzip
import json
import os
import struct
import subprocess
import sys

import pytest
from integration.runner_process import running_runner

from lab.daemons import free_port, wait_for, wait_for_log

pytestmark = pytest.mark.lab
BIRD, FRR, LISTEN, FROM, METRICS = "127.0.0.33", "127.0.0.32", "127.0.0.35", "127.0.0.36", "127.0.0.30"
ORIGINS = {"192.0.2.0/24": 64502, "203.0.113.0/24": 64500, "198.51.100.0/24": 64501}

TAGGER = r"""
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("nlri") or "mp_reach" in message["attributes"]:   # not on End-of-RIB
        message["attributes"].setdefault("communities", []).append("65000:42")
    print(json.dumps(message))
    print("", flush=True)
"""


def static_routes():
    lines = ["  route %s blackhole { bgp_path.prepend(%d); };" % item for item in ORIGINS.items()]
    return "protocol static originated {\n  ipv4;\n%s\n}\n" % "\n".join(lines)


def configuration(tmp_path, archive, metrics_port):
    tagger = tmp_path / "tagger.py"
    tagger.write_text(TAGGER)
    return {
        "sessions": [
            {
                "name": "lab-stages",
                "listen": LISTEN + ":179",
                "connect": FRR + ":179",
                "connect_from": FROM,
                "to_router": ["exec", "filter"],
            }
        ],
        "exec": {"program": [sys.executable, str(tagger)], "mode": "filter", "timeout": 10, "on_error": "reset"},
        "filter": {
            "rules": [
                {"name": "no-doc", "match": {"prefix": "192.0.2.0/24"}, "action": "drop"},
                {
                    "name": "customer",
                    "match": {"prefix": "203.0.113.0/24", "origin": 64500},
                    "action": "tag",
                    "tag": {"community": ["65000:100"], "large_community": ["65000:0:100"]},
                },
            ]
        },
        "archive": {"dir": str(archive), "format": "both", "compress": True},
        "metrics": {"listen": "%s:%d" % (METRICS, metrics_port)},
    }


def frr_route(frr, prefix):
    paths = json.loads(frr.vtysh("show bgp ipv4 unicast %s json" % prefix)).get("paths") or [{}]
    path = paths[0]
    return path.get("community", {}).get("string"), path.get("largeCommunity", {}).get("string")


def mrt_messages(directory):
    """(peer address, BGP message) of every BGP4MP_ET MESSAGE_AS4 record, in file order (RFC 6396 §4.4.3)."""
    messages = []
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".mrt.gz")):
        with gzip.open(os.path.join(directory, name)) as handle:
            data = handle.read()
        position = 0
        while position < len(data):
            kind, subtype, length = struct.unpack(">HHI", data[position + 4 : position + 12])
            body = data[position + 16 : position + 12 + length]
            position += 12 + length
            if (kind, subtype) == (17, 4):
                afi = struct.unpack(">H", body[10:12])[0]
                width = 4 if afi == 1 else 16
                messages.append((".".join(str(octet) for octet in body[12:16]), body[12 + 2 * width :]))
    return messages


def test_filter_exec_and_mrt_archive_between_bird_and_frr(make_frr_router, make_bird_router, tmp_path):
    archive = tmp_path / "archive"
    config_file = tmp_path / "runner.yml"
    config_file.write_text(json.dumps(configuration(tmp_path, archive, free_port())))  # JSON is YAML
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001)
    log = tmp_path / "runner.log"
    with running_runner(config_file, log):
        make_bird_router(address=BIRD, asn=65001, neighbor=LISTEN, neighbor_asn=65000, extra_config=static_routes())
        expected = ["198.51.100.0/24", "203.0.113.0/24"]
        wait_for(
            lambda: sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {})) == expected,
            what="FRR to hold every route but 192.0.2.0/24",
        )
        assert frr_route(frr, "203.0.113.0/24") == ("65000:42 65000:100", "65000:0:100")
        assert frr_route(frr, "198.51.100.0/24") == ("65000:42", None)
        # counted: the line comes when its 10 s interval is over (runner/src/peerwarden_runner/log_summary.py)
        wait_for(
            lambda: "filter: 1 route(s) dropped by rule no-doc in " in log.read_text(),
            what="the filter's summary line",
            timeout=30,
        )
        assert "(e.g. 192.0.2.0/24 from AS64502)" in log.read_text()
        neighbor = json.loads(frr.vtysh("show bgp neighbors %s json" % FROM))[FROM]
        updates_at_frr = neighbor["messageStats"]["updatesRecv"]
    wait_for_log(frr.log_path, r"6/2 \(Cease/Administrative Shutdown\)", count=1, timeout=15)
    assert "stopping the program" in log.read_text()

    from peerwarden_runner.archive import read_archive

    records = list(read_archive(str(archive)))
    mrt = mrt_messages(str(archive))
    # the MRT archive holds exactly the messages of the JSON archive, in order, each with its sender
    assert [raw for dummy, raw in mrt] == [bytes.fromhex(r["raw"]) for r in records]
    assert [peer for peer, dummy in mrt] == [BIRD if r["direction"] == "to-router" else FRR for r in records]
    assert sum(1 for r in records if r["direction"] == "to-router" and r["type"] == "update") == updates_at_frr
    # and bgpdump reads it: the announcements towards FRR, with their AS paths and communities
    lines = []
    for name in sorted(os.listdir(archive)):
        if name.endswith(".mrt.gz"):
            lines += subprocess.run(
                ["bgpdump", "-q", "-m", "-l", str(archive / name)],
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            ).stdout.splitlines()
    announced = {(fields[3], fields[5]): fields for fields in (line.split("|") for line in lines) if fields[2] == "A"}
    assert sorted(prefix for peer, prefix in announced if peer == BIRD) == expected
    customer = announced[(BIRD, "203.0.113.0/24")]
    assert customer[4] == "65001" and customer[6] == "65001 64500"
    assert customer[11:13] == ["65000:42 65000:100", "65000:0:100"]
    states = [line.split("|")[3:] for line in lines if line.split("|")[2] == "STATE"]
    assert [BIRD, "65001", "5", "6"] in states and [FRR, "65000", "6", "1"] in states
