"""A runner with `workers: 2`, real processes on 127.0.0.1: each session in its own worker (a child of
the runner), a worker killed is started again and logged, SIGTERM stops every worker and exits 0, a
SIGKILLed runner's workers stop on their own, and a worker that cannot start stops the runner with
status 2 and a message; in no case is a process left behind."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from peerwarden_runner.workers.procfs import alive, parent_of
from polling import free_port

RUNNER = [sys.executable, "-m", "peerwarden_runner.cli"]
READY = re.compile(r"worker (\d) \(pid (\d+)\): 1 session\(s\): (\w+)")


def wait(predicate, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def runner(tmp_path):
    """start(listen ports) -> (Popen, log path, metrics port); every runner started is stopped."""
    started = []

    def start(ports=None):
        ports = ports or [free_port(), free_port()]
        metrics = free_port()
        config = tmp_path / "runner.yml"
        config.write_text(
            "workers: 2\nmetrics: {listen: 127.0.0.1:%d}\nsessions:\n" % metrics
            + "".join(
                "  - {name: %s, listen: 127.0.0.1:%d, connect: 127.0.0.1:%d}\n" % (name, port, free_port())
                for name, port in zip(("alpha", "beta"), ports, strict=True)
            )
        )
        log = tmp_path / "runner.log"
        with open(log, "w") as output:
            process = subprocess.Popen(RUNNER + ["run", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT)
        started.append(process)
        return process, log, metrics

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(15)


def workers_of(log):
    """{session name: (worker, pid)} from the workers' ready lines, once both are there."""
    found = {match[3]: (int(match[1]), int(match[2])) for match in READY.finditer(log.read_text())}
    return found if len(found) == 2 else None


def test_each_session_in_its_own_worker_restarted_when_killed_and_none_left_after_sigterm(runner):
    process, log, metrics = runner()
    workers = wait(lambda: workers_of(log), "both workers ready")
    assert sorted(worker for worker, pid in workers.values()) == [0, 1]  # round-robin: alpha 0, beta 1
    assert workers["alpha"][0] == 0
    pids = [pid for worker, pid in workers.values()]
    assert len(set(pids)) == 2 and all(parent_of(pid) == process.pid for pid in pids)
    assert "2 workers ready" in log.read_text()
    scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=10).read().decode()
    assert 'peerwarden_worker_up{worker="0"} 1.0' in scraped and 'peerwarden_worker_up{worker="1"} 1.0' in scraped
    assert re.search(r"^peerwarden_sessions 0\.0$", scraped, re.M)  # one series, summed, not one per worker
    assert re.search(r"\d+ INFO worker 1 peerwarden_runner\.proxy: beta: listening on", log.read_text())

    killed = workers["beta"][1]
    os.kill(killed, signal.SIGKILL)
    again = wait(lambda: re.search(r"worker 1 started again: pid (\d+)", log.read_text()), "worker 1 to start again")
    assert "worker 1 (pid %d) ended (killed by signal 9); starting it again in" % killed in log.read_text()
    new = int(again[1])
    assert new != killed and parent_of(new) == process.pid and alive(workers["alpha"][1])
    scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=10).read().decode()
    assert 'peerwarden_worker_restarts_total{worker="1"} 1.0' in scraped

    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    assert not alive(new) and not alive(workers["alpha"][1])


def test_a_runner_killed_leaves_no_worker(runner):
    process, log, dummy = runner()
    pids = [pid for worker, pid in wait(lambda: workers_of(log), "both workers ready").values()]
    process.kill()
    process.wait(15)
    wait(lambda: not any(alive(pid) for pid in pids), "the workers to stop without their parent", timeout=15)
    assert log.read_text().count("the parent is gone: stopping") == 2


def test_a_worker_that_cannot_listen_stops_the_runner_with_status_2(runner):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process, log, dummy = runner([free_port(), taken.getsockname()[1]])
        assert process.wait(30) == 2
    text = log.read_text()
    assert "worker 1 " in text and "Address already in use" in text
    assert "peerwarden-runner: worker 1 (pid" in text and "did not start (exit status 2)" in text
    pid = int(re.search(r"worker 0 \(pid (\d+)\)", text)[1]) if "worker 0 (pid" in text else None
    assert pid is None or not alive(pid)


def test_a_worker_started_again_refuses_an_edited_configuration(runner, tmp_path):
    process, log, metrics = runner()
    pids = {name: pid for name, (worker, pid) in wait(lambda: workers_of(log), "both workers ready").items()}
    config = tmp_path / "runner.yml"
    config.write_text(config.read_text().replace("beta", "gamma"))  # another session: not what was checked
    os.kill(pids["beta"], signal.SIGKILL)
    wait(lambda: "changed since the runner started" in log.read_text(), "the worker to refuse the file")
    wait(lambda: re.search(r"worker 1 \(pid \d+\) did not start \(exit status 2\); starting", log.read_text()), "retry")
    scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=10).read().decode()
    assert 'peerwarden_worker_up{worker="1"} 0.0' in scraped and 'peerwarden_worker_up{worker="0"} 1.0' in scraped
    assert "gamma" not in log.read_text().replace(str(config), "")
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    assert not alive(pids["alpha"])
