"""The runner's speaker as a monitor of a real FRR, on loopback (the exabgp-logger / BGPalerter
case): FRR (AS65082, 127.0.0.82) peers with `peerwarden-runner run -c` (a speaker, AS65080,
127.0.0.80) whose received UPDATEs pass the rpki and alert stages, watch only.

FRR originates a route the VRP file makes valid, an IPv4 and an IPv6 route it makes invalid, and
our own 10.80.0.0/16 (a hijack: FRR's AS is not our origin). The speaker's /routes/received shows
each RPKI state and lists the invalid ones, the metrics count them, the alert file holds the
hijack, a VRP file change validates the routes again, and FRR never receives a route from the
monitor. Passive: FRR connects to the speaker listening on 127.0.0.80:1790, and the session comes up.
"""

import json
import os
import subprocess
import urllib.request

import pytest
from integration.test_runner_speaker import RUNNER, stop_runners

from lab.daemons import wait_for

pytestmark = pytest.mark.lab
SPEAKER, FRR, API, METRICS = "127.0.0.80", "127.0.0.82", "127.0.0.80:8180", "127.0.0.80:9180"
FRR_CONFIG = """router bgp 65082
 no bgp network import-check
 neighbor 127.0.0.80 timers connect 1
 address-family ipv4 unicast
  network 10.82.1.0/24
  network 10.82.2.0/24
  network 10.80.0.0/16
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:82::/48
  neighbor 127.0.0.80 activate
 exit-address-family
exit
"""
EXPECTED = {
    "10.82.1.0/24": "valid",
    "10.82.2.0/24": "invalid",
    "2001:db8:82::/48": "invalid",
    "10.80.0.0/16": "notfound",
}


def write_vrps(path, roas):
    """Replace the VRP file at once (the runner polls it)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {"roas": [{"prefix": prefix, "maxLength": int(prefix.split("/")[1]), "asn": asn} for prefix, asn in roas]}
        )
    )
    os.replace(temporary, path)


def get(path):
    with urllib.request.urlopen("http://%s%s" % (API, path), timeout=5) as response:
        return json.loads(response.read())


def received():
    return {route["prefix"]: route for route in get("/routes/received")["routes"]}


def configuration(tmp_path, **speaker):
    vrps = tmp_path / "vrps.json"
    write_vrps(vrps, [("10.82.1.0/24", "AS65082"), ("10.82.2.0/24", "AS64999"), ("2001:db8:82::/48", "AS64999")])
    config = tmp_path / "runner.yml"
    config.write_text(
        json.dumps(
            {  # JSON is YAML
                "rpki": {"file": str(vrps)},
                "alert": {
                    "prefixes": [{"prefix": "10.80.0.0/16", "origins": [65080]}],
                    "file": str(tmp_path / "alerts.jsonl"),
                },
                "metrics": {"listen": METRICS},
                "speakers": [
                    dict(
                        {
                            "name": "mon",
                            "local": SPEAKER,
                            "peer": FRR,
                            "asn": 65080,
                            "peer_asn": 65082,
                            "api": {"listen": API},
                            "stages": ["rpki", "alert"],
                        },
                        **speaker,
                    )
                ],
            }
        )
    )
    return config, vrps


@pytest.fixture
def runner(tmp_path):
    """start(config) runs the runner (its log in tmp_path/runner.log); stopped at the end."""
    started = []

    def start(config):
        check = subprocess.run([RUNNER, "check", "-c", str(config)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        process = subprocess.Popen(
            [RUNNER, "run", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=open(tmp_path / "runner.log", "w")
        )
        started.append(process)
        return process

    yield start
    stop_runners(started, tmp_path / "runner.log")


def test_monitor_validates_lists_alerts_and_revalidates(make_frr_router, runner, tmp_path):
    frr = make_frr_router(
        address=FRR, asn=65082, neighbor=SPEAKER, neighbor_asn=65080, hostname="r82", extra_config=FRR_CONFIG
    )
    config, vrps = configuration(tmp_path)
    runner(config)
    routes = wait_for(lambda: received() if len(received()) == 4 else None, what="FRR's four routes at the speaker")
    assert {prefix: route.get("rpki") for prefix, route in routes.items()} == EXPECTED
    assert routes["10.82.2.0/24"]["held"] == "rpki: invalid (origin AS65082)"
    assert "held" not in routes["10.82.1.0/24"] and routes["10.80.0.0/16"]["origin_as"] == 65082
    assert [route["prefix"] for route in get("/routes/received?rpki=invalid")["routes"]] == [
        "10.82.2.0/24",
        "2001:db8:82::/48",
    ]
    assert get("/status")["monitor"] == {
        "stages": ["rpki", "alert"],
        "held": 2,
        "rpki": {"valid": 1, "invalid": 2, "notfound": 1},
    }
    scraped = urllib.request.urlopen("http://%s/metrics" % METRICS, timeout=5).read().decode()
    assert 'peerwarden_speaker_routes_rpki{speaker="mon",state="invalid"} 2.0' in scraped
    assert 'peerwarden_alerts_total{kind="origin-hijack",session="mon"} 1.0' in scraped
    alerts = wait_for(
        lambda: (tmp_path / "alerts.jsonl").exists() and (tmp_path / "alerts.jsonl").read_text(), what="the alert file"
    )
    records = [json.loads(line) for line in alerts.splitlines()]
    assert [(r["kind"], r["prefix"], r["origin"], r["session"], r["direction"]) for r in records] == [
        ("origin-hijack", "10.80.0.0/16", 65082, "mon", "received")
    ]
    # the VRPs change: 10.82.2.0/24 becomes valid, 10.82.1.0/24 invalid
    write_vrps(vrps, [("10.82.1.0/24", "AS64999"), ("10.82.2.0/24", "AS65082"), ("2001:db8:82::/48", "AS64999")])
    routes = wait_for(
        lambda: received() if received()["10.82.2.0/24"]["rpki"] == "valid" else None,
        what="the routes validated again after the VRP change",
    )
    assert routes["10.82.1.0/24"]["rpki"] == "invalid" and "held" not in routes["10.82.2.0/24"]
    assert routes["10.82.1.0/24"]["held"] == "rpki: invalid after a VRP change"
    # a monitor never sends a route: FRR received nothing from it
    summary = json.loads(frr.vtysh("show bgp ipv4 unicast summary json"))["peers"][SPEAKER]
    assert summary["state"] == "Established" and summary["pfxRcd"] == 0


def test_passive_speaker_is_reached_by_frr(make_frr_router, runner, tmp_path):
    config, dummy = configuration(tmp_path, local=SPEAKER + ":1790", passive=True)
    runner(config)
    wait_for(lambda: get("/status")["state"] == "Active", what="the speaker to listen")
    frr = make_frr_router(
        address=FRR,
        asn=65082,
        neighbor=SPEAKER,
        neighbor_asn=65080,
        hostname="r82",
        extra_config=FRR_CONFIG + "router bgp 65082\n neighbor 127.0.0.80 port 1790\nexit\n",
    )
    wait_for(lambda: get("/status")["state"] == "Established", what="FRR to connect to the passive speaker")
    status = get("/status")
    assert status["passive"] is True and status["counters"].get("connect_attempts", 0) == 0
    assert status["counters"]["connections_accepted"] == 1
    routes = wait_for(lambda: received() if len(received()) == 4 else None, what="FRR's routes at the speaker")
    assert {prefix: route["rpki"] for prefix, route in routes.items()} == EXPECTED
    neighbor = json.loads(frr.vtysh("show bgp neighbors 127.0.0.80 json"))[SPEAKER]
    assert neighbor["bgpState"] == "Established" and neighbor["portForeign"] == 1790
