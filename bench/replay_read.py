"""Benchmark of the replay path (peerwarden_runner.replay): reading an MRT file and turning one
sender's routes into UPDATEs for a session, without a network, in routes per second.

Two files are written first (not measured), gzip-compressed as collectors publish them:

- a RIB dump (TABLE_DUMP_V2, RIB_IPV4_UNICAST): `--routes` /24s from two peers, each route with an
  AS path of its own origin among 5,000 (so attribute sets repeat, as in a real table; never AS
  65000 in a path, which FRR, AS 65000, would drop as a loop);
- an update file (BGP4MP_ET MESSAGE_AS4, written by the runner's own mrt.py): the same routes of the
  first peer in UPDATEs of 100 prefixes.

For each: the scan that `check` runs (all records read, senders counted), then read + convert
(ReplayUpdates.batches), and the peak of the process's memory.

With --frr, each file is then replayed into a real FRR (proxy_fulltable's, on its own loopback
addresses, no kernel routes) by `peerwarden-runner speaker --replay` of this checkout, timed from the
speaker's start until FRR holds every route (show bgp summary json, pfxRcd).

    python bench/replay_read.py [--routes 200000] [--frr]
"""

import argparse
import gzip
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

import proxy_fulltable as lab
from peerwarden_runner import mrt
from peerwarden_runner.codec import NegotiatedContext, encode_update, make_attribute
from peerwarden_runner.codec import constants as c
from peerwarden_runner.replay.findings import Findings
from peerwarden_runner.replay.source import records, scan
from peerwarden_runner.replay.updates import ReplayUpdates

PEERS = (("192.0.2.1", 65001), ("192.0.2.2", 65002))
ORIGINS = 5000
SESSION = NegotiatedContext(families=frozenset({c.IPV4_UNICAST, c.IPV6_UNICAST}))


def prefix_octets(i):
    return bytes((1 + i // 65536, i // 256 % 256, i % 256))


def section(peer_as, origin, next_hop):
    attributes = [
        make_attribute(c.ORIGIN, 0),
        make_attribute(c.AS_PATH, [["sequence", [peer_as, 3356, 64512 + origin % 400, 100000 + origin]]]),
        make_attribute(c.NEXT_HOP, next_hop),
    ]
    return b"".join(attribute.encode() for attribute in attributes)


def write_rib(path, routes):
    """A TABLE_DUMP_V2 file as RIPE RIS writes one (RFC 6396 §4.3): the peer table, one record per prefix."""
    when = 1764720000
    with gzip.open(path, "wb", compresslevel=1) as handle:
        peers = b"".join(
            struct.pack(">B4s4sI", 2, bytes(4), bytes(int(x) for x in a.split(".")), asn) for a, asn in PEERS
        )
        body = struct.pack(">4sHH", bytes(4), 0, len(PEERS)) + peers
        handle.write(struct.pack(">IHHI", when, 13, 1, len(body)) + body)
        sections = {}
        for i in range(routes):
            entries = b""
            for index, (address, asn) in enumerate(PEERS):
                key = (asn, i % ORIGINS)
                attributes = sections.get(key)
                if attributes is None:
                    attributes = sections[key] = section(asn, i % ORIGINS, address)
                entries += struct.pack(">HIH", index, when, len(attributes)) + attributes
            body = struct.pack(">IB", i, 24) + prefix_octets(i) + struct.pack(">H", len(PEERS)) + entries
            handle.write(struct.pack(">IHHI", when, 13, 2, len(body)) + body)


def write_updates(path, routes):
    """The first peer's routes as UPDATEs of 100 prefixes of one origin each (BGP4MP_ET MESSAGE_AS4)."""
    address, asn = PEERS[0]
    prefix = mrt.message_prefix(asn, 65000, address, "192.0.2.254")
    with gzip.open(path, "wb", compresslevel=1) as handle:
        by_origin = {}
        for i in range(routes):
            by_origin.setdefault(i % ORIGINS, []).append("%d.%d.%d.0/24" % tuple(prefix_octets(i)))
        when = 1764720000.0
        for origin, prefixes in by_origin.items():
            attributes = [
                make_attribute(c.ORIGIN, 0),
                make_attribute(c.AS_PATH, [["sequence", [asn, 3356, 64512 + origin % 400, 100000 + origin]]]),
                make_attribute(c.NEXT_HOP, address),
            ]
            for start in range(0, len(prefixes), 100):
                when += 0.001
                handle.write(
                    prefix.record(when, encode_update(attributes=attributes, nlri=prefixes[start : start + 100]))
                )


def measure(label, path, routes):
    started = time.perf_counter()
    found = scan(path)
    scanned = time.perf_counter() - started
    sender = found.choose(PEERS[0][0])
    started = time.perf_counter()
    findings = Findings()
    updates = ReplayUpdates(sender, SESSION, "192.0.2.254", 65000, True, "self", findings)
    messages = sum(len(batch) for when, batch in updates.batches(records(path, findings)))
    converted = time.perf_counter() - started
    announced = updates.counts["routes announced"]
    assert announced == routes and not findings, (announced, findings.lines())
    print(
        "%-10s %8.1f MB  scan %6.2f s (%9.0f records/s)  read+convert %6.2f s (%9.0f routes/s, %d UPDATEs)"
        % (
            label,
            os.path.getsize(path) / 1e6,
            scanned,
            found.records / scanned,
            converted,
            routes / converted,
            messages,
        )
    )


def into_frr(label, path, routes, directory):
    """Seconds from the speaker's start until FRR holds `routes` routes from it."""
    frr_directory = os.path.join(directory, "frr-" + label.replace(" ", "-"))
    frr = lab.start_frr(frr_directory, lab.FROM)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "runner", "src")
    argv = [sys.executable, "-m", "peerwarden_runner.cli", "speaker", "--local", lab.FROM, "--peer", lab.FRR_ADDRESS]
    argv += ["--asn", "65001", "--peer-asn", "65000", "--api", "off", "--replay", path, "--replay-from", PEERS[0][0]]
    log = open(os.path.join(directory, "speaker-%s.log" % label.replace(" ", "-")), "w")  # noqa: SIM115
    started = time.perf_counter()
    speaker = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ, PYTHONPATH=source))
    try:
        while lab.frr_counts(frr_directory, lab.FROM)[0] < routes:
            if speaker.poll() is not None or time.perf_counter() - started > 900:
                raise SystemExit("the speaker ended or FRR did not get the routes; see %s" % log.name)
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        print("%-10s into FRR: %d routes in %.1f s (%.0f routes/s)" % (label, routes, seconds, routes / seconds))
    finally:
        lab.stop(speaker)
        lab.stop(frr)
        log.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=200000)
    parser.add_argument("--frr", action="store_true", help="also replay each file into a real FRR")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)  # bgpd runs as frr
        rib, updates = os.path.join(directory, "bview.gz"), os.path.join(directory, "updates.gz")
        write_rib(rib, arguments.routes)
        write_updates(updates, arguments.routes)
        measure("RIB dump", rib, arguments.routes)
        measure("updates", updates, arguments.routes)
        print("peak RSS %.0f MB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        if arguments.frr:
            into_frr("RIB dump", rib, arguments.routes, directory)
            into_frr("updates", updates, arguments.routes, directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
