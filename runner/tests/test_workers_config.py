"""`workers:` in the configuration: a number from 1 to 256 or auto, anything else refused with what
was expected (and a did-you-mean); at most one worker per session; sessions assigned round-robin in
configuration order, the speakers in worker 0 only."""

import os

import pytest

from config_problems import problems
from peerwarden_runner import config
from peerwarden_runner.workers.config import assign, share


def sessions(count):
    return [
        {"name": "s%d" % index, "listen": "127.0.0.1:%d" % (10000 + index), "connect": "127.0.0.2"}
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("atuo", "workers: expected a number of worker processes from 1 to 256, or auto (one per core), got 'atuo'"),
        ("atuo", "(did you mean 'auto'?)"),
        (0, "workers: expected a number of worker processes from 1 to 256, or auto (one per core), got 0"),
        (-2, "got -2"),
        (257, "got 257"),
        (2.5, "got 2.5"),
        (True, "got true (a boolean)"),
        ("2", "got '2' (a string)"),
        ([2], "got a list"),
    ],
)
def test_bad_workers_are_refused(value, expected):
    assert expected in problems({"sessions": sessions(2), "workers": value})


def test_a_misspelt_key_is_pointed_to_workers():
    assert "wokers: unknown key (did you mean 'workers'?" in problems({"sessions": sessions(2), "wokers": 2})


def test_default_is_one_process():
    assert config.check({"sessions": sessions(3)})["workers"] == 1


def test_more_workers_than_sessions_run_one_per_session_with_a_warning():
    checked = config.check({"sessions": sessions(2), "workers": 5})
    assert checked["workers"] == 2
    assert "workers: 5, but only 2 session(s): 2 worker(s) run" in checked["warnings"]


def test_auto_is_one_per_core_at_most_one_per_session():
    checked = config.check({"sessions": sessions(64), "workers": "auto"})
    assert checked["workers"] == min(os.cpu_count() or 1, 64)
    assert not [warning for warning in checked["warnings"] if "workers" in warning]
    assert config.check({"sessions": sessions(1), "workers": "auto"})["workers"] == 1


def test_sessions_go_round_robin_in_configuration_order():
    names = [[session["name"] for session in share] for share in assign(sessions(5), 2)]
    assert names == [["s0", "s2", "s4"], ["s1", "s3"]]
    names = [[session["name"] for session in share] for share in assign(sessions(5), 3)]
    assert names == [["s0", "s3"], ["s1", "s4"], ["s2"]]


def test_each_worker_runs_its_share_and_worker_0_the_speakers():
    speaker = {"name": "mon1", "local": "127.0.0.1", "peer": "127.0.0.2", "asn": 65000, "peer_asn": 65000}
    checked = config.check({"sessions": sessions(3), "speakers": [speaker], "workers": 2})
    first, second = share(checked, 0), share(checked, 1)
    assert [s["name"] for s in first["sessions"]] == ["s0", "s2"] and [s["name"] for s in second["sessions"]] == ["s1"]
    assert [s["name"] for s in first["speakers"]] == ["mon1"] and second["speakers"] == []
    assert first["workers"] == second["workers"] == 1  # a worker runs its share in one process
    assert checked["workers"] == 2 and len(checked["sessions"]) == 3  # the runner's own settings unchanged
