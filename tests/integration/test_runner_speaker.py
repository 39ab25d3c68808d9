"""The runner as a BGP speaker against a real FRR, on loopback: FRR (AS65021, 127.0.0.21) peers with
`peerwarden-runner speaker` (AS65020, 127.0.0.20).

The stories: FRR's routes arrive in the speaker's received routes, its --print output and its
archive; a route POSTed to the API appears in FRR's table and disappears on DELETE (IPv4 and, over
MP-BGP, IPv6); without the token nothing changes; a health check that flips announces and
withdraws; FRR killed and restarted is reconnected with back-off; SIGTERM reaches FRR as a Cease
with the shutdown message.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from lab.daemons import wait_for, wait_for_log

pytestmark = pytest.mark.lab
RUNNER = os.path.join(os.path.dirname(sys.executable), "peerwarden-runner")
SPEAKER, FRR, API = "127.0.0.20", "127.0.0.21", "127.0.0.20:8179"
TOKEN = "lab-token-7f3a"
FRR_CONFIG = """router bgp 65021
 no bgp network import-check
 address-family ipv4 unicast
  network 10.21.0.0/16
  network 10.21.1.0/24
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:21::/48
  neighbor 127.0.0.20 activate
 exit-address-family
exit
"""


def api(method, path, body=None, token=TOKEN, timeout=5):
    """(status, decoded JSON) of one API call."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request("http://%s%s" % (API, path), data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def frr_routes(frr, family="ipv4"):
    return json.loads(frr.vtysh("show bgp %s unicast json" % family)).get("routes", {})


def established():
    return api("GET", "/status", token=None)[1]["state"] == "Established"


def stop_runners(started, log=None):
    """Terminate the runners still running; then print log, if any runner started (shown when the test fails)."""
    for runner in started:
        if runner.poll() is None:
            runner.terminate()
            runner.wait(10)
    if log is not None and started:
        print("runner log:\n" + log.read_text())


@pytest.fixture
def speaker_lab(make_frr_router, tmp_path):
    """start(*arguments) starts FRR and the runner (its output in tmp_path/runner.log); stopped at the end."""
    started = []
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")

    def start(*arguments, frr_config=FRR_CONFIG):
        frr = make_frr_router(
            address=FRR, asn=65021, neighbor=SPEAKER, neighbor_asn=65020, hostname="r21", extra_config=frr_config
        )
        log = tmp_path / "runner.log"
        out = tmp_path / "runner.out"
        runner = subprocess.Popen([RUNNER] + list(arguments), stdout=open(out, "w"), stderr=open(log, "w"))
        started.append(runner)
        wait_for(established, what="the session to reach Established")
        return frr, runner, log, out

    start.token_file = token_file
    yield start
    stop_runners(started, tmp_path / "runner.log")


def quick(tmp_path, token_file, *extra):
    return [
        "speaker",
        "--local",
        SPEAKER,
        "--peer",
        FRR,
        "--asn",
        "65020",
        "--peer-asn",
        "65021",
        "--api",
        API,
        "--api-token-file",
        str(token_file),
        "--archive",
        str(tmp_path / "archive"),
        "--print",
        "--hold-time",
        "9",
    ] + list(extra)


def test_collect_announce_withdraw_and_cease(speaker_lab, tmp_path):
    frr, runner, log, out = speaker_lab(*quick(tmp_path, speaker_lab.token_file, "--announce", "10.20.0.0/16"))
    # collect: FRR's routes, IPv4 and IPv6, in the received routes with their attributes
    # (FRR also sends our own 10.20.0.0/16 back, with its AS first: an Adj-RIB-In keeps what came)
    received = wait_for(
        lambda: (
            {r["prefix"]: r for r in api("GET", "/routes/received")[1]["routes"] if "21" in r["prefix"]}
            if len(api("GET", "/routes/received")[1]["routes"]) == 4
            else None
        ),
        what="FRR's three routes (and ours back) at the speaker",
    )
    assert sorted(received) == ["10.21.0.0/16", "10.21.1.0/24", "2001:db8:21::/48"]
    assert received["10.21.0.0/16"]["attributes"]["as_path"] == [["sequence", [65021]]]
    assert received["10.21.0.0/16"]["origin_as"] == 65021
    # announce from the command line: FRR holds it with our AS as the path
    assert wait_for(lambda: "10.20.0.0/16" in frr_routes(frr), what="FRR to hold 10.20.0.0/16")
    # no token, a wrong token: 401 and nothing changes at FRR
    assert api("POST", "/routes", {"prefix": "10.20.9.0/24"}, token=None)[0] == 401
    assert api("POST", "/routes", {"prefix": "10.20.9.0/24"}, token="wrong")[0] == 401
    assert api("DELETE", "/routes", {"prefix": "10.20.0.0/16"}, token=None)[0] == 401
    # a bad prefix: 400 saying what is expected, nothing sent
    status, body = api("POST", "/routes", [{"prefix": "10.20.10.0/24"}, {"prefix": "10.20.11.1/24"}])
    assert status == 400 and "host bits set (expected the network address: 10.20.11.0/24)" in body["error"]
    # POST IPv4 with attributes and IPv6 over MP-BGP
    status, body = api(
        "POST",
        "/routes",
        [
            {
                "prefix": "10.20.1.0/24",
                "communities": ["65020:1"],
                "large_communities": ["65020:1:2"],
                "med": 7,
                "as_path": [64999],
            },
            {"prefix": "2001:db8:20::/48"},
        ],
    )
    assert status == 200, body
    route = wait_for(lambda: frr_routes(frr).get("10.20.1.0/24"), what="FRR to hold 10.20.1.0/24")
    assert route[0]["path"] == "65020 64999" and route[0]["metric"] == 7
    detail = json.loads(frr.vtysh("show bgp ipv4 unicast 10.20.1.0/24 json"))["paths"][0]
    assert detail["community"]["string"] == "65020:1" and detail["largeCommunity"]["string"] == "65020:1:2"
    assert wait_for(lambda: "2001:db8:20::/48" in frr_routes(frr, "ipv6"), what="FRR to hold 2001:db8:20::/48")
    assert "10.20.9.0/24" not in frr_routes(frr) and "10.20.10.0/24" not in frr_routes(frr)
    # DELETE withdraws
    assert api("DELETE", "/routes", {"prefix": "10.20.1.0/24"})[0] == 200
    assert api("DELETE", "/routes?prefix=2001:db8:20::/48")[0] == 200
    wait_for(
        lambda: "10.20.1.0/24" not in frr_routes(frr) and "2001:db8:20::/48" not in frr_routes(frr, "ipv6"),
        what="FRR to drop the withdrawn routes",
    )
    assert "10.20.0.0/16" in frr_routes(frr)
    # SIGTERM: FRR receives Cease / Administrative Shutdown with our text
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(15) == 0
    wait_for_log(frr.log_path, r"6/2 \(Cease/Administrative Shutdown\)", timeout=15)
    wait_for_log(frr.log_path, r"peerwarden-runner speaker stopping", timeout=5)
    # --print and the archive both hold FRR's UPDATEs in the JSON form
    printed = [json.loads(line) for line in out.read_text().splitlines()]
    printed_nlri = {p for record in printed if record["type"] == "update" for p in record["nlri"]}
    assert {"10.21.0.0/16", "10.21.1.0/24"} <= printed_nlri
    from peerwarden_runner.archive import read_archive

    records = list(read_archive(str(tmp_path / "archive")))
    assert {r["type"] for r in records} >= {"open", "update", "keepalive", "notification"}
    archived = {
        p
        for r in records
        if r["direction"] == "received" and r["type"] == "update"
        for p in r["nlri"] + r["attributes"].get("mp_reach", {}).get("nlri", [])
    }
    assert {"10.21.0.0/16", "10.21.1.0/24", "2001:db8:21::/48"} <= archived


def test_health_check_announces_and_withdraws(speaker_lab, tmp_path):
    healthy = tmp_path / "healthy"
    config = tmp_path / "runner.yml"
    config.write_text(
        json.dumps(
            {  # JSON is YAML
                "metrics": {"listen": "127.0.0.20:9179"},
                "speakers": [
                    {
                        "name": "lab",
                        "local": SPEAKER,
                        "peer": FRR,
                        "asn": 65020,
                        "peer_asn": 65021,
                        "api": {"listen": API, "token_file": str(speaker_lab.token_file)},
                        "healthchecks": [
                            {
                                "name": "web",
                                "command": ["test", "-e", str(healthy)],
                                "interval": 0.2,
                                "timeout": 2,
                                "rise": 2,
                                "fall": 2,
                                "announce": [{"prefix": "10.20.80.0/24", "communities": ["65020:80"]}],
                            }
                        ],
                    }
                ],
            }
        )
    )
    assert subprocess.run([RUNNER, "check", "-c", str(config)], capture_output=True, check=False).returncode == 0
    frr, runner, log, out = speaker_lab("run", "-c", str(config))
    time.sleep(1)  # five failed checks: still nothing announced
    assert "10.20.80.0/24" not in frr_routes(frr)
    healthy.touch()
    wait_for(lambda: "10.20.80.0/24" in frr_routes(frr), what="the check to rise and FRR to hold the route")
    assert api("GET", "/status")[1]["healthchecks"][0]["state"] == "up"
    healthy.unlink()
    wait_for(lambda: "10.20.80.0/24" not in frr_routes(frr), what="the check to fall and the route to go")
    assert "healthcheck web: up -> down (exit status 1); withdrawing 10.20.80.0/24" in log.read_text()

    def metrics():
        text = urllib.request.urlopen("http://127.0.0.20:9179/metrics", timeout=5).read().decode()
        return text if 'peerwarden_speaker_routes_received{speaker="lab"} 3.0' in text else None

    scraped = wait_for(metrics, what="the metrics to show FRR's three routes")
    assert 'peerwarden_speaker_state{speaker="lab",state="Established"} 1.0' in scraped


def test_reconnects_with_backoff_when_frr_restarts(speaker_lab, make_frr_router, tmp_path):
    frr, runner, log, out = speaker_lab(*quick(tmp_path, speaker_lab.token_file, "--announce", "10.20.0.0/16"))
    os.kill(frr.pid, signal.SIGKILL)
    # the connection drops, then connects are refused: 1 s, then 2 s (plus up to 25 % jitter), logged with why
    lines = wait_for_log(log, r"reconnecting in", count=3, timeout=20)
    delays = [float(line.split("reconnecting in ")[1].split()[0]) for line in lines]
    assert 1.0 <= delays[0] <= 1.25 and 2.0 <= delays[1] <= 2.5 and 4.0 <= delays[2] <= 5.0, lines
    assert "cannot connect to 127.0.0.21 port 179" in lines[1]
    frr = make_frr_router(
        address=FRR, asn=65021, neighbor=SPEAKER, neighbor_asn=65020, hostname="r21", extra_config=FRR_CONFIG
    )
    wait_for(established, timeout=20, what="the speaker to reconnect")
    assert wait_for(lambda: "10.20.0.0/16" in frr_routes(frr), what="our route announced again")
    assert api("GET", "/status")[1]["counters"]["sessions_established"] == 2


def test_gtsm_session_with_frr_ttl_security(speaker_lab, tmp_path):
    # FRR with ttl-security hops 1 accepts only packets that arrive with TTL 255 (RFC 5082): loopback
    # keeps our TTL, so the session comes up only if the speaker really sends with 255
    gtsm_config = FRR_CONFIG + "router bgp 65021\n neighbor 127.0.0.20 ttl-security hops 1\nexit\n"
    frr, runner, log, out = speaker_lab(
        *quick(tmp_path, speaker_lab.token_file, "--gtsm", "--announce", "10.20.0.0/16"), frr_config=gtsm_config
    )
    assert wait_for(lambda: "10.20.0.0/16" in frr_routes(frr), what="FRR to hold our route over GTSM")
    neighbor = json.loads(frr.vtysh("show bgp neighbors 127.0.0.20 json"))[SPEAKER]
    assert neighbor["bgpState"] == "Established" and neighbor["externalBgpNbrMaxHopsAway"] == 1


def test_ten_thousand_routes_withdrawn_in_one_call_keep_the_session(speaker_lab, tmp_path):
    """FRR advertises extended messages (RFC 8654), the speaker does not: every UPDATE stays within
    4,096 octets, so withdrawing 10,000 routes in one API call does not make FRR reset the session
    with 1/2 Bad Message Length."""
    frr, runner, log, out = speaker_lab(*quick(tmp_path, speaker_lab.token_file))
    prefixes = ["10.%d.%d.0/24" % (64 + i // 256, i % 256) for i in range(10_000)]
    started = time.monotonic()
    assert api("POST", "/routes", [{"prefix": p} for p in prefixes], timeout=60)[0] == 200
    print("POST of 10,000 routes: %.1f s" % (time.monotonic() - started))
    wait_for(lambda: len(frr_routes(frr)) >= 10_000, timeout=60, what="FRR to hold the 10,000 routes")
    peer = json.loads(frr.vtysh("show bgp neighbors %s json" % SPEAKER))[SPEAKER]
    assert peer["neighborCapabilities"].get("extendedMessage") in ("advertised", "advertisedAndReceived", None)
    started = time.monotonic()
    status, body = api("DELETE", "/routes", [{"prefix": p} for p in prefixes], timeout=60)
    print("DELETE of 10,000 routes: %.1f s" % (time.monotonic() - started))
    assert status == 200, body
    wait_for(
        lambda: not any(p.startswith("10.") and int(p.split(".")[1]) >= 64 for p in frr_routes(frr)),
        timeout=60,
        what="FRR to drop the 10,000 withdrawn routes",
    )
    peer = json.loads(frr.vtysh("show bgp neighbors %s json" % SPEAKER))[SPEAKER]
    assert peer["bgpState"] == "Established" and peer["connectionsEstablished"] == 1
    assert peer["connectionsDropped"] == 0 and "Bad Message Length" not in log.read_text()
    assert "withdraw 10000 route(s)" in log.read_text()
