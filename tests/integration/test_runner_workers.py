"""A runner with `workers: 2` between real routers: BIRD -> peerwarden-runner -> FRR twice, on loopback
127.0.0.190-197 (no other test uses them). Each session is relayed by a worker process of its own; the
one metrics endpoint shows both sessions' series once; a worker killed with SIGKILL is started again
and its session comes back (BIRD reconnects, FRR holds the routes again); the archive holds both
sessions; SIGTERM stops the runner with status 0 and no worker left behind."""

import json
import os
import re
import signal
import urllib.request

import pytest
from integration.runner_process import start_runner
from integration.test_runner_speaker import stop_runners
from peerwarden_runner.workers.procfs import alive, parent_of

from lab.daemons import free_port, wait_for

pytestmark = pytest.mark.lab
SESSIONS = {  # name: (FRR, BIRD, the runner's listener, its source towards FRR, BIRD's prefixes)
    "alpha": ("127.0.0.190", "127.0.0.192", "127.0.0.194", "127.0.0.196", ["100.64.%d.0/24" % i for i in range(10)]),
    "beta": ("127.0.0.191", "127.0.0.193", "127.0.0.195", "127.0.0.197", ["100.65.%d.0/24" % i for i in range(7)]),
}
# BIRD tries again within seconds once the session through the killed worker is gone
BIRD_RETRY = "  connect retry time 1;\n  error wait time 1, 2;\n  connect delay time 1;\n"


def ready_workers(log):
    """{session: pid of its worker} once both workers said they are ready."""
    found = {
        name: int(pid) for pid, name in re.findall(r"worker \d \(pid (\d+)\): 1 session\(s\): (\w+)", log.read_text())
    }
    return found if len(found) == 2 else None


def relayed(scraped, name):
    """The values of the session's series of routes sent towards the router."""
    pattern = r'^peerwarden_routes\{direction="to-router",session="%s",state="sent"\} (.*)$' % name
    return re.findall(pattern, scraped, re.M)


def held(frr, source):
    """(prefixes FRR holds from the runner, times the session reached Established)."""
    routes = sorted(json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {}))
    peer = json.loads(frr.vtysh("show bgp neighbors %s json" % source)).get(source, {})
    return routes, peer.get("connectionsEstablished", 0)


def test_two_workers_relay_restart_and_stop_clean(make_frr_router, make_bird_router, tmp_path):
    metrics, archive = free_port(), tmp_path / "archive"
    config = tmp_path / "runner.yml"
    config.write_text(
        "workers: 2\nmetrics: {listen: 127.0.0.1:%d}\narchive: {dir: %s}\nlimit: {max_prefixes: 100}\nsessions:\n"
        % (metrics, archive)
        + "".join(
            "  - {name: %s, listen: '%s:179', connect: '%s:179', connect_from: %s, to_router: [limit]}\n"
            % (name, listen, frr, source)
            for name, (frr, bird, listen, source, prefixes) in SESSIONS.items()
        )
    )
    routers = {
        name: make_frr_router(address=frr, asn=65000, neighbor=source, neighbor_asn=65001, hostname=name)
        for name, (frr, bird, listen, source, prefixes) in SESSIONS.items()
    }
    log = tmp_path / "runner.log"
    runner = start_runner(config, log)
    started = [runner]
    try:
        pids = wait_for(lambda: ready_workers(log), what="both workers ready")
        assert sorted(pids) == ["alpha", "beta"] and pids["alpha"] != pids["beta"]
        assert all(parent_of(pid) == runner.pid for pid in pids.values())
        for bird, listen, prefixes in [(entry[1], entry[2], entry[4]) for entry in SESSIONS.values()]:
            static = "".join("  route %s blackhole;\n" % prefix for prefix in prefixes)
            config = "protocol static {\n  ipv4;\n%s}\n" % static
            make_bird_router(address=bird, neighbor=listen, extra_config=config, bgp_options=BIRD_RETRY)
        for name, entry in SESSIONS.items():
            expected = (routers[name], entry[3], sorted(entry[4]))
            wait_for(lambda expected=expected: held(*expected[:2])[0] == expected[2], what="%s's routes" % name)

        scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=10).read().decode()
        assert [relayed(scraped, name) for name in SESSIONS] == [["10.0"], ["7.0"]], scraped
        accepted = re.findall(
            r'^peerwarden_connections_total\{outcome="accepted",session="(\w+)"\} 1.0$', scraped, re.M
        )
        assert accepted == ["alpha", "beta"], scraped
        assert re.findall(r"^peerwarden_sessions (.*)$", scraped, re.M) == ["2.0"]

        # a worker killed: started again; BIRD's session through it comes back, the other never went down
        os.kill(pids["beta"], signal.SIGKILL)
        again = wait_for(
            lambda: re.search(r"worker 1 started again: pid (\d+)", log.read_text()), what="worker 1 again"
        )
        frr, bird, listen, source, prefixes = SESSIONS["beta"]
        wait_for(lambda: held(routers["beta"], source) == (sorted(prefixes), 2), what="beta re-established", timeout=60)
        assert held(routers["alpha"], SESSIONS["alpha"][3])[1] == 1
        assert parent_of(int(again[1])) == runner.pid
        assert "worker 1 (pid %d) ended (killed by signal 9)" % pids["beta"] in log.read_text()

        runner.send_signal(signal.SIGTERM)
        assert runner.wait(30) == 0
        assert not alive(pids["alpha"]) and not alive(int(again[1]))
        assert re.search(r"INFO worker 0 peerwarden_runner\.proxy: alpha: stopping", log.read_text())
    finally:
        stop_runners(started, log)
    from peerwarden_runner.archive import read_archive

    records = list(read_archive(str(archive)))
    opens = [record["peer"] for record in records if record["type"] == "open" and record["direction"] == "to-router"]
    assert sorted(opens) == ["alpha", "beta", "beta"]  # beta's session twice: before and after its worker was killed
