"""peerwarden-runner as the lab tests run it: `check` first, then `run -c` with its output in a log file,
until it listens; on the way out SIGTERM, and a clean exit asserted."""

import contextlib
import os
import signal
import subprocess
import sys

from lab.daemons import wait_for

RUNNER = os.path.join(os.path.dirname(sys.executable), "peerwarden-runner")


def start_runner(config_file, log):
    """The runner's Popen, listening (the caller stops it); `config_file` must pass `check`."""
    checked = subprocess.run([RUNNER, "check", "-c", str(config_file)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    with open(log, "w", encoding="utf-8") as output:
        runner = subprocess.Popen([RUNNER, "run", "-c", str(config_file)], stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"listening on" in log.read_bytes(), what="the runner to listen")
    except BaseException:
        runner.kill()
        runner.wait(15)
        raise
    return runner


@contextlib.contextmanager
def running_runner(config_file, log):
    """The runner's Popen, listening; `config_file` must pass `check`."""
    runner = start_runner(config_file, log)
    try:
        yield runner
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(15) == 0
