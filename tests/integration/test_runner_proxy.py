"""The runner between two real routers: BIRD -> peerwarden-runner (proxy) -> FRR, on loopback.

BIRD (AS65001) originates routes for several origin ASes (static routes with a prepended path);
the runner validates them against a VRP file, limits a flood of more-specifics per origin, and
archives every message; FRR (AS65000) shows what got through.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from integration.test_runner_speaker import stop_runners

from lab.daemons import free_port, wait_for, wait_for_log

pytestmark = pytest.mark.lab
RUNNER = os.path.join(os.path.dirname(sys.executable), "peerwarden-runner")
BIRD, FRR, LISTEN, FROM = "127.0.0.3", "127.0.0.2", "127.0.0.5", "127.0.0.6"

VALID = ["203.0.113.0/24"]  # origin 64500, VRP says 64500
INVALID = ["198.51.100.0/24"]  # origin 64501, VRP says 64500
NOT_FOUND = ["192.0.2.0/24"]  # origin 64502, no VRP
FLOOD = ["100.64.%d.0/24" % i for i in range(30)]  # origin 64503: more-specifics, limit 10 per origin
VALID6 = ["2001:db8:100::/48"]  # origin 64500, VRP says 64500
INVALID6 = ["2001:db8:200::/48"]  # origin 64501, VRP says 64500
NOT_FOUND6 = ["2001:db8:300::/48"]  # origin 64502, no VRP


def write_roas(path, *roas):
    """Write a VRP file as StayRTR and the runner read it; each ROA is (prefix, maxLength, "AS<n>")."""
    path.write_text(json.dumps({"roas": [{"prefix": p, "maxLength": m, "asn": a} for p, m, a in roas]}))


def static_routes():
    lines, lines6 = [], []
    for prefixes, origin in ((VALID, 64500), (INVALID, 64501), (NOT_FOUND, 64502), (FLOOD, 64503)):
        lines += ["  route %s blackhole { bgp_path.prepend(%d); };" % (p, origin) for p in prefixes]
    for prefixes, origin in ((VALID6, 64500), (INVALID6, 64501), (NOT_FOUND6, 64502)):
        lines6 += ["  route %s blackhole { bgp_path.prepend(%d); };" % (p, origin) for p in prefixes]
    return "protocol static originated {\n  ipv4;\n%s\n}\nprotocol static originated6 {\n  ipv6;\n%s\n}\n" % (
        "\n".join(lines),
        "\n".join(lines6),
    )


# IPv6 routes over the IPv4 session (MP-BGP); BIRD needs an IPv6 next hop to put in MP_REACH
BIRD_IPV6 = "  ipv6 { import all; export all; next hop address 2001:db8::3; };\n"
FRR_IPV6 = "router bgp 65000\n address-family ipv6 unicast\n  neighbor %s activate\n exit-address-family\nexit\n" % FROM


def frr_prefixes(frr, family="ipv4"):
    table = json.loads(frr.vtysh("show bgp %s unicast json" % family))
    return sorted(table.get("routes", {}))


@pytest.fixture
def relay(make_frr_router, make_bird_router, tmp_path):
    """Start FRR, then the runner with the given options, then BIRD; yield them; stop the runner."""
    started = []

    def start(*options, frr_config="", bird_options=""):
        frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001, extra_config=frr_config)
        log = tmp_path / "runner.log"
        runner = subprocess.Popen(
            [RUNNER, "proxy", "--listen", LISTEN + ":179", "--connect", FRR + ":179", "--connect-from", FROM]
            + list(options),
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )
        started.append(runner)
        wait_for(lambda: b"listening on" in log.read_bytes(), what="the runner to listen")
        bird = make_bird_router(address=BIRD, neighbor=LISTEN, extra_config=static_routes(), bgp_options=bird_options)
        return frr, bird, runner, log

    yield start
    stop_runners(started)


def frr_peer(frr):
    return json.loads(frr.vtysh("show bgp neighbors %s json" % FROM))[FROM]


def test_per_origin_limit_archive_metrics_and_shutdown(relay, tmp_path):
    archive = tmp_path / "archive"
    metrics = free_port()
    frr, bird, runner, log = relay(
        "--max-per-origin", "10", "--archive", str(archive), "--metrics", "127.0.0.1:%d" % metrics
    )
    others = sorted(VALID + INVALID + NOT_FOUND)
    held = wait_for(
        lambda: [p for p in frr_prefixes(frr) if p.startswith("100.64.")] if len(frr_prefixes(frr)) == 13 else None,
        what="FRR to hold 3 routes and 10 of the flood",
    )
    assert len(held) == 10 and sorted(p for p in frr_prefixes(frr) if not p.startswith("100.64.")) == others
    # counted: the line comes when its 10 s interval is over (runner/src/peerwarden_runner/log_summary.py)
    wait_for(
        lambda: "origin AS64503 over max_per_origin 10" in log.read_text(),
        what="the limit's summary line",
        timeout=30,
    )
    assert "limit: 20 route(s) held back: max_per_origin in " in log.read_text()
    scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=5).read().decode()
    assert 'peerwarden_routes_held_total{stage="limit"} 20.0' in scraped
    assert "peerwarden_sessions 1.0" in scraped
    assert 'peerwarden_routes{direction="to-router",session="proxy",state="sent"} 13.0' in scraped
    assert 'peerwarden_routes{direction="to-router",session="proxy",state="held"} 20.0' in scraped
    # FRR's own message counters, once the routes have settled (only keepalives flow from here on)
    stats = frr_peer(frr)["messageStats"]
    # SIGTERM: the sessions end with a Cease / Administrative Shutdown that carries a text
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(15) == 0
    wait_for_log(frr.log_path, r"6/2 \(Cease/Administrative Shutdown\)", count=1, timeout=15)
    # the archive holds exactly what crossed: FRR's received counters against the archive towards it
    from peerwarden_runner.archive import read_archive

    records = list(read_archive(str(archive)))
    towards_frr = [r for r in records if r["direction"] == "to-router"]
    counts = {kind: sum(1 for r in towards_frr if r["type"] == kind) for kind in ("open", "update", "keepalive")}
    from_frr = [r for r in records if r["direction"] == "to-peer"]
    assert counts["open"] == stats["opensRecv"] == 1 and counts["update"] == stats["updatesRecv"] >= 2
    assert counts["keepalive"] >= stats["keepalivesRecv"]
    assert sum(1 for r in from_frr if r["type"] == "update") == stats["updatesSent"]
    assert sum(1 for r in from_frr if r["type"] == "open") == stats["opensSent"] == 1
    assert [r["type"] for r in towards_frr][-1] == "notification"  # the Cease, archived as it crossed
    announced = {p for r in towards_frr if r["type"] == "update" for p in r.get("nlri", [])}
    assert len([p for p in announced if p.startswith("100.64.")]) == 10 and set(others) <= announced


def test_rpki_inline_and_revalidation_on_vrp_change(relay, tmp_path):
    vrps = tmp_path / "vrps.json"
    write_roas(vrps, ("203.0.113.0/24", 24, "AS64500"), ("198.51.100.0/24", 24, "AS64500"))
    archive = tmp_path / "archive"
    frr, bird, runner, log = relay(
        "--rpki-file", str(vrps), "--archive", str(archive), "--metrics", "127.0.0.1:%d" % free_port()
    )
    expected = sorted(VALID + NOT_FOUND + FLOOD)
    assert wait_for(lambda: frr_prefixes(frr) == expected, what="FRR to hold all but the invalid route")
    # the VRPs change: 198.51.100.0/24 (origin 64501) becomes valid, 203.0.113.0/24 (64500) invalid;
    # the runner withdraws one and announces the other, with no action on FRR or BIRD
    write_roas(vrps, ("203.0.113.0/24", 24, "AS64999"), ("198.51.100.0/24", 24, "AS64501"))
    expected = sorted(INVALID + NOT_FOUND + FLOOD)
    assert wait_for(lambda: frr_prefixes(frr) == expected, what="re-validation after the VRP change")
    assert frr_peer(frr)["bgpState"] == "Established"
    # the withdrawal and the announcement the runner made on its own are in the archive too
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(15) == 0
    from peerwarden_runner.archive import read_archive

    updates = [r for r in read_archive(str(archive)) if r["direction"] == "to-router" and r["type"] == "update"]
    assert any(VALID[0] in r["withdrawn"] for r in updates)
    assert any(INVALID[0] in r["nlri"] for r in updates)  # held back at first: this is the re-announcement


def test_ipv6_and_gtsm_on_both_legs(relay, tmp_path):
    """IPv6 routes over MP-BGP are validated like IPv4 ones, with GTSM on both legs: BIRD sends with
    TTL 255 (ttl security), FRR requires it from the runner (ttl-security hops 1), and so does the runner."""
    vrps = tmp_path / "vrps.json"
    write_roas(
        vrps,
        ("203.0.113.0/24", 24, "AS64500"),
        ("198.51.100.0/24", 24, "AS64500"),
        ("2001:db8:100::/48", 48, "AS64500"),
        ("2001:db8:200::/48", 48, "AS64500"),
    )
    frr_config = FRR_IPV6 + "router bgp 65000\n neighbor %s ttl-security hops 1\nexit\n" % FROM
    frr, bird, runner, log = relay(
        "--rpki-file",
        str(vrps),
        "--gtsm",
        "both",
        "--metrics",
        "127.0.0.1:%d" % free_port(),
        frr_config=frr_config,
        bird_options=BIRD_IPV6 + "  ttl security yes;\n",
    )
    assert wait_for(lambda: frr_prefixes(frr, "ipv6") == sorted(VALID6 + NOT_FOUND6), what="FRR's IPv6 routes")
    assert frr_prefixes(frr) == sorted(VALID + NOT_FOUND + FLOOD)
    assert frr_peer(frr)["bgpState"] == "Established"
    # the route FRR installed came through MP_REACH with BIRD's IPv6 next hop
    route = json.loads(frr.vtysh("show bgp ipv6 unicast %s json" % VALID6[0]))
    assert any(hop.get("ip") == "2001:db8::3" for path in route["paths"] for hop in path["nexthops"])


def test_gtsm_refuses_a_peer_that_does_not_use_it(relay):
    """The runner requires GTSM from the peer; BIRD without ttl security sends TTL 64 and its SYNs are
    dropped by the kernel, so the session never comes up and FRR never sees a connection."""
    frr, bird, runner, log = relay("--gtsm", "peer", "--metrics", "127.0.0.1:%d" % free_port())
    time.sleep(8)  # BIRD retries its connection within a few seconds; none may get through
    assert "Established" not in bird.birdc("show protocols unsolicited_test_peer")
    assert frr_peer(frr)["bgpState"] != "Established" and not frr_prefixes(frr)


def test_a_broken_vrp_file_is_a_clear_error(tmp_path):
    vrps = tmp_path / "vrps.json"
    vrps.write_text('{"roas": [{"prefix": "203.0.113.0/33", "asn": "AS1"}]}')
    process = subprocess.run(
        [
            RUNNER,
            "proxy",
            "--listen",
            "127.0.0.1:%d" % free_port(),
            "--connect",
            "127.0.0.1:1",
            "--rpki-file",
            str(vrps),
            "--metrics",
            "127.0.0.1:%d" % free_port(),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert process.returncode == 2
    assert str(vrps) in process.stderr and "roas[0]" in process.stderr


@pytest.fixture
def stayrtr(tmp_path):
    """StayRTR serving tmp_path/stayrtr.json (VALID's and INVALID's prefixes for AS64500); yields (file, port)."""
    vrps = tmp_path / "stayrtr.json"
    write_roas(vrps, ("203.0.113.0/24", 24, "AS64500"), ("198.51.100.0/24", 24, "AS64500"))
    port, metrics = free_port(), free_port()
    cache = subprocess.Popen(
        [
            "stayrtr",
            "-bind",
            "127.0.0.1:%d" % port,
            "-cache",
            str(vrps),
            "-checktime=false",
            "-metrics.addr",
            "127.0.0.1:%d" % metrics,
            "-refresh",
            "1",
        ],
        stdout=open(tmp_path / "stayrtr.log", "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), 1).close() or True, what="StayRTR")
        yield vrps, port
    finally:
        cache.terminate()
        cache.wait(10)


def test_rpki_from_stayrtr(relay, stayrtr, tmp_path):
    """StayRTR as the RTR cache: its VRP file changes, it tells the runner (Serial Notify), the
    runner withdraws the now-invalid route and announces the now-valid one."""
    vrps, port = stayrtr
    runner_metrics, archive = free_port(), tmp_path / "archive"
    frr, bird, runner, log = relay(
        "--rpki", "127.0.0.1:%d" % port, "--archive", str(archive), "--metrics", "127.0.0.1:%d" % runner_metrics
    )
    expected = sorted(VALID + NOT_FOUND + FLOOD)
    assert wait_for(lambda: frr_prefixes(frr) == expected, what="FRR to hold all but the invalid route")
    scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % runner_metrics, timeout=5).read().decode()
    assert 'peerwarden_rtr_connected{cache="127.0.0.1:%d"} 1.0' % port in scraped
    assert "peerwarden_rtr_expired 0.0" in scraped and "peerwarden_rtr_serial{" in scraped
    write_roas(vrps, ("203.0.113.0/24", 24, "AS64999"), ("198.51.100.0/24", 24, "AS64501"))
    expected = sorted(INVALID + NOT_FOUND + FLOOD)
    assert wait_for(lambda: frr_prefixes(frr) == expected, timeout=45, what="re-validation after the RTR update")
    # the runner waited for the first sync: the invalid route never crossed before the VRPs changed
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(15) == 0
    from peerwarden_runner.archive import read_archive

    updates = [r for r in read_archive(str(archive)) if r["direction"] == "to-router" and r["type"] == "update"]
    first_announced = min(i for i, r in enumerate(updates) if INVALID[0] in r["nlri"])
    assert first_announced > min(i for i, r in enumerate(updates) if VALID[0] in r["withdrawn"])


def test_local_vrp_file_next_to_stayrtr(relay, stayrtr, tmp_path):
    """A local VRP file next to the RTR cache: the union validates. The file makes 198.51.100.0/24 from
    AS64501 valid (the cache alone says AS64500); removing that line from the file withdraws it again."""
    vrps, port = stayrtr
    local = tmp_path / "local.json"
    write_roas(local, ("198.51.100.0/24", 24, "AS64501"))
    frr, bird, runner, log = relay(
        "--rpki", "127.0.0.1:%d" % port, "--rpki-file", str(local), "--metrics", "127.0.0.1:%d" % free_port()
    )
    everything = sorted(VALID + INVALID + NOT_FOUND + FLOOD)
    assert wait_for(lambda: frr_prefixes(frr) == everything, what="FRR to hold every route (file + cache)")
    write_roas(local)
    assert wait_for(lambda: frr_prefixes(frr) == sorted(VALID + NOT_FOUND + FLOOD), what="the file's VRP removed")
