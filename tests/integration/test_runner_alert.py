"""The runner's alert stage between two real routers, on loopback (the BGPalerter case, inline):
BIRD (AS65001, an IXP peer) -> peerwarden-runner (run -c, alert stage, role peer) -> FRR (AS65000).

Our space is 192.0.2.0/24 and 2001:db8::/32, originated by AS64500 up to /24 and /48. BIRD
announces a hijack of 192.0.2.0/24 (origin AS64666), a more-specific of it from our own origin,
an IPv6 more-specific from AS64666, a route leaked through a transit-free AS (AS3356) and one
clean route. The alert file and the alert program hold exactly the expected alerts, the metrics
count them, a refresh of the same routes raises nothing new, a withdrawal and a new announcement
raise them again; and FRR holds every route: the alert stage only watches.
"""

import json
import signal
import subprocess
import sys
import urllib.request

import pytest
from integration.test_runner_proxy import RUNNER

from lab.daemons import free_port, wait_for

pytestmark = pytest.mark.lab
FRR, BIRD, LISTEN, FROM, METRICS = "127.0.0.62", "127.0.0.63", "127.0.0.65", "127.0.0.66", "127.0.0.61"
ROUTES = {  # prefix -> AS path BIRD puts behind its own AS
    "192.0.2.0/24": (64666,),  # origin hijack of our prefix
    "192.0.2.128/25": (64500,),  # our origin, longer than our max_length 24
    "203.0.113.0/24": (3356, 64777),  # leaked: a tier-1 after the peer's own AS
    "198.51.100.0/24": (64777,),  # fine
}
ROUTES6 = {"2001:db8:1::/48": (64666,), "2001:db8:ffff::/48": (64500,)}
EXPECTED = [
    ("origin-hijack", "192.0.2.0/24", 64666, "exact"),
    ("more-specific", "192.0.2.128/25", 64500, "more-specific"),
    ("leak", "203.0.113.0/24", 64777, None),
    ("origin-hijack", "2001:db8:1::/48", 64666, "more-specific"),
]
RECORDER = r"""
import sys
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
"""
BIRD_IPV6 = "  ipv6 { import all; export all; next hop address 2001:db8::63; };\n"
FRR_IPV6 = "router bgp 65000\n address-family ipv6 unicast\n  neighbor %s activate\n exit-address-family\nexit\n" % FROM


def static_routes():
    def routes(table):
        return "\n".join(
            "  route %s blackhole { %s };" % (prefix, " ".join("bgp_path.prepend(%d);" % asn for asn in reversed(path)))
            for prefix, path in table.items()
        )

    return "protocol static originated {\n  ipv4;\n%s\n}\nprotocol static originated6 {\n  ipv6;\n%s\n}\n" % (
        routes(ROUTES),
        routes(ROUTES6),
    )


def configuration(tmp_path, metrics_port):
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    return {
        "sessions": [
            {
                "name": "ixp-peer",
                "listen": LISTEN + ":179",
                "connect": FRR + ":179",
                "connect_from": FROM,
                "role": "peer",
                "to_router": ["alert"],
            }
        ],
        "alert": {
            "prefixes": [
                {"prefix": "192.0.2.0/24", "origins": [64500], "max_length": 24},
                {"prefix": "2001:db8::/32", "origins": [64500], "max_length": 48},
            ],
            "file": str(tmp_path / "alerts.jsonl"),
            "exec": [sys.executable, str(recorder), str(tmp_path / "program.jsonl")],
        },
        "metrics": {"listen": "%s:%d" % (METRICS, metrics_port)},
    }


def alerts(path):
    if not path.exists():
        return []
    return [
        (r["kind"], r["prefix"], r["origin"], r.get("relation"))
        for r in (json.loads(line) for line in path.read_text().splitlines())
    ]


def frr_prefixes(frr, family):
    return sorted(json.loads(frr.vtysh("show bgp %s unicast json" % family)).get("routes", {}))


def test_hijack_and_leak_alerts_while_every_route_reaches_frr(make_frr_router, make_bird_router, tmp_path):
    metrics_port = free_port()
    config_file = tmp_path / "runner.yml"
    config_file.write_text(json.dumps(configuration(tmp_path, metrics_port)))  # JSON is YAML
    checked = subprocess.run([RUNNER, "check", "-c", str(config_file)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    frr = make_frr_router(address=FRR, asn=65000, neighbor=FROM, neighbor_asn=65001, extra_config=FRR_IPV6)
    log = tmp_path / "runner.log"
    alert_file, program_file = tmp_path / "alerts.jsonl", tmp_path / "program.jsonl"
    with open(log, "w", encoding="utf-8") as output:
        runner = subprocess.Popen([RUNNER, "run", "-c", str(config_file)], stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"listening on" in log.read_bytes(), what="the runner to listen")
        bird = make_bird_router(address=BIRD, neighbor=LISTEN, extra_config=static_routes(), bgp_options=BIRD_IPV6)
        # alert only watches: FRR gets every route, hijacks and leaks included
        wait_for(
            lambda: frr_prefixes(frr, "ipv4") == sorted(ROUTES) and frr_prefixes(frr, "ipv6") == sorted(ROUTES6),
            what="FRR to hold every route",
        )
        wait_for(lambda: len(alerts(alert_file)) >= len(EXPECTED), what="the alerts")
        assert sorted(alerts(alert_file)) == sorted(EXPECTED)
        leak = [json.loads(line) for line in alert_file.read_text().splitlines() if '"leak"' in line][0]
        assert leak["via"] == 3356 and leak["path"] == "65001 3356 64777" and leak["session"] == "ixp-peer"
        assert leak["direction"] == "to-router" and leak["role"] == "peer"
        wait_for(lambda: sorted(alerts(program_file)) == sorted(EXPECTED), what="the alert program's copy")
        scraped = urllib.request.urlopen("http://%s:%d/metrics" % (METRICS, metrics_port), timeout=5).read().decode()
        for kind, count in (("origin-hijack", 2), ("more-specific", 1), ("leak", 1)):
            assert 'peerwarden_alerts_total{kind="%s",session="ixp-peer"} %d.0' % (kind, count) in scraped
        # counted per kind: the line comes when its 10 s interval is over (log_summary)
        wait_for(
            lambda: "ixp-peer: alert: 2 alert(s) origin-hijack in " in log.read_text(),
            what="the origin-hijack summary line",
            timeout=30,
        )
        assert "kind=origin-hijack prefix=192.0.2.0/24 origin=64666" in log.read_text()

        # BIRD sends every route again: nothing new (the same kind, prefix and origin alert once)
        neighbor = json.loads(frr.vtysh("show bgp neighbors %s json" % FROM))[FROM]
        updates_before = neighbor["messageStats"]["updatesRecv"]
        bird.birdc("reload out unsolicited_test_peer")
        wait_for(
            lambda: (
                json.loads(frr.vtysh("show bgp neighbors %s json" % FROM))[FROM]["messageStats"]["updatesRecv"]
                > updates_before
            ),
            what="the routes sent again",
        )
        assert len(alerts(alert_file)) == len(EXPECTED)
        # withdrawn and announced again: alerted again
        bird.birdc("disable originated")
        wait_for(lambda: frr_prefixes(frr, "ipv4") == [], what="the IPv4 routes withdrawn")
        bird.birdc("enable originated")
        wait_for(lambda: len(alerts(alert_file)) == len(EXPECTED) + 3, what="the IPv4 alerts again")
        assert sorted(alerts(alert_file)[len(EXPECTED) :]) == sorted(e for e in EXPECTED if ":" not in e[1])
        assert frr_prefixes(frr, "ipv4") == sorted(ROUTES)
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(15) == 0
    assert sorted(alerts(program_file)) == sorted(alerts(alert_file))  # the program got them all before it stopped
    assert "Traceback" not in log.read_text()
