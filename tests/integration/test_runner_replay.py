"""Replay, on loopback with real routers: BIRD -> peerwarden-runner proxy (MRT archive) -> FRR, then
that archive replayed by `peerwarden-runner speaker --replay` into a fresh FRR, which ends up with
the same table: the same IPv4 and IPv6 prefixes with the same AS paths and origins.

The speaker replays as BIRD's AS (65001), so the recorded paths already start with the AS the
second FRR expects and are sent as they were (eBGP puts our AS first only when it is not)."""

import json
import signal
import subprocess

import pytest
from integration.test_runner_proxy import BIRD, BIRD_IPV6, FROM, FRR, FRR_IPV6, LISTEN, RUNNER, static_routes
from integration.test_runner_speaker import stop_runners

from lab.daemons import wait_for

pytestmark = pytest.mark.lab
SPEAKER, FRESH = "127.0.0.20", "127.0.0.21"
FRESH_IPV6 = "router bgp 65000\n address-family ipv6 unicast\n  neighbor %s activate\n exit-address-family\nexit\n"
# the second FRR peers with the speaker, which replays as BIRD's AS 65001
FRESH_ROUTER = {"address": FRESH, "asn": 65000, "neighbor": SPEAKER, "neighbor_asn": 65001, "hostname": "r21"}
FRESH_ROUTER["extra_config"] = FRESH_IPV6 % SPEAKER


def table(frr):
    """{prefix: (AS path, origin)} of the best paths, IPv4 and IPv6."""
    found = {}
    for family in ("ipv4", "ipv6"):
        routes = json.loads(frr.vtysh("show bgp %s unicast json" % family)).get("routes", {})
        for prefix, paths in routes.items():
            best = [p for p in paths if p.get("bestpath") or p.get("best")] or paths
            found[prefix] = (best[0]["path"], best[0]["origin"])
    return found


def test_an_mrt_archive_written_by_the_runner_replays_into_frr_with_the_same_routes(
    make_frr_router, make_bird_router, tmp_path
):
    started = []
    speaker_log = tmp_path / "speaker.log"
    try:
        # 1. record: BIRD -> proxy (MRT archive) -> FRR
        first = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001, extra_config=FRR_IPV6)
        archive, log = tmp_path / "archive", tmp_path / "proxy.log"
        proxy = subprocess.Popen(
            [RUNNER, "proxy", "--listen", LISTEN + ":179", "--connect", FRR + ":179", "--connect-from", FROM]
            + ["--archive", str(archive), "--archive-format", "mrt"],
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )
        started.append(proxy)
        wait_for(lambda: b"listening on" in log.read_bytes(), what="the proxy to listen")
        make_bird_router(address=BIRD, neighbor=LISTEN, extra_config=static_routes(), bgp_options=BIRD_IPV6)
        recorded = wait_for(lambda: table(first) if len(table(first)) == 36 else None, what="FRR to hold 36 routes")
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(15) == 0
        (name,) = [name for name in sorted(archive.iterdir()) if name.name.endswith(".mrt.gz")]
        assert name.stat().st_size > 0

        # 2. replay: speaker --replay the archive -> a fresh FRR
        fresh = make_frr_router(**FRESH_ROUTER)
        speaker = subprocess.Popen(
            [RUNNER, "speaker", "--local", SPEAKER, "--peer", FRESH, "--asn", "65001", "--peer-asn", "65000"]
            + ["--api", "off", "--replay", str(name), "--replay-from", BIRD],
            stdout=subprocess.DEVNULL,
            stderr=open(speaker_log, "w"),
        )
        started.append(speaker)
        replayed = wait_for(
            lambda: table(fresh) if len(table(fresh)) == len(recorded) else None,
            what="the fresh FRR to hold the replayed routes",
            show=lambda: sorted(set(recorded.items()) ^ set(table(fresh).items()))[:6],
        )
        assert replayed == recorded
        assert any(":" in prefix for prefix in replayed) and any("." in prefix for prefix in replayed)
        wait_for(lambda: "replay done" in speaker_log.read_text(), what="the speaker's replay summary")
        text = speaker_log.read_text()
        assert "36 route(s) announced" in text and "End-of-RIB sent" in text, text
        assert "not understood" not in text, text
        speaker.send_signal(signal.SIGTERM)
        assert speaker.wait(15) == 0
    finally:
        stop_runners(started, speaker_log if speaker_log.exists() else None)
