"""A worker's log lines name it: "worker 1" after the level in text, "worker": 1 in JSON; the
parent's and a one-process runner's lines are as before."""

import json
import logging

import pytest

from peerwarden_runner import log_format


@pytest.fixture
def restore_root():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def line(capsys, log_format_name, worker):
    log_format.configure(log_format_name, logging.INFO, worker=worker)
    logging.getLogger("peerwarden_runner.proxy").info("%s: session with %s Established", "beta", "127.0.0.193")
    return capsys.readouterr().err.strip()


def test_text_names_the_worker(capsys, restore_root):
    assert line(capsys, "text", 1).endswith(
        " INFO worker 1 peerwarden_runner.proxy: beta: session with 127.0.0.193 Established"
    )
    assert line(capsys, "text", None).endswith(
        " INFO peerwarden_runner.proxy: beta: session with 127.0.0.193 Established"
    )


def test_json_names_the_worker(capsys, restore_root):
    entry = json.loads(line(capsys, "json", 0))
    assert entry["worker"] == 0 and entry["message"] == "beta: session with 127.0.0.193 Established"
    assert "worker" not in json.loads(line(capsys, "json", None))
