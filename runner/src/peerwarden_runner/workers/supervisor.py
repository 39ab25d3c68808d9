"""The parent of a runner with `workers: N` (N > 1): it starts N worker processes (child.py), serves
their merged metrics on the configured address (merge.py), starts a worker that ended again after a
back-off (1 s, 2 s ... 60 s; back to 1 s after it stayed up a minute), and on SIGTERM or SIGINT stops
every worker (SIGTERM, SIGKILL after STOP_TIMEOUT) before it exits: no worker outlives the runner.

A worker that cannot start the first time (an address in use, a VRP file that cannot be read) stops
the runner with status 2, as a one-process runner would; later, it is only restarted."""

import asyncio
import logging
import os
import signal
import sys
import time

from prometheus_client import CollectorRegistry, start_http_server

from peerwarden_runner.backoff import Backoff
from peerwarden_runner.workers.config import digest
from peerwarden_runner.workers.merge import WorkersCollector

LOG = logging.getLogger("peerwarden_runner.workers")
STOP_TIMEOUT = 15.0  # seconds a worker has to end its sessions with a Cease before SIGKILL
READY_TIMEOUT = 120.0  # seconds a worker has to open its listeners (a large VRP file loads first)
STAYED_UP = 60.0  # seconds up after which a worker's back-off starts again from 1 s


class WorkerFailed(Exception):
    """A worker ended before it was ready, at the runner's start."""


def supervise(path, settings, log_format, log_level):
    """Run the workers of the configuration at `path` (`settings`, checked) until SIGTERM or SIGINT;
    the exit status."""
    supervisor = Supervisor(path, settings["workers"], digest(path), log_format, log_level)
    try:
        return asyncio.run(supervisor.run((settings.get("metrics") or {}).get("listen")))
    except WorkerFailed as error:
        print("peerwarden-runner: %s" % error, file=sys.stderr)
        return 2
    except OSError as error:  # the metrics address in use
        print("peerwarden-runner: %s" % error, file=sys.stderr)
        return 2


class Supervisor:
    def __init__(self, path, count, checked, log_format="text", log_level="info"):
        self.path, self.count, self.checked = path, count, checked
        self.log_format, self.log_level = log_format, log_level
        self.collector = WorkersCollector(count)
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self.alive: list[int | None] = [None] * count  # our end of each worker's --alive-fd pipe
        self.stopping = asyncio.Event()

    async def run(self, metrics_listen=None):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        if metrics_listen:
            registry = CollectorRegistry()
            registry.register(self.collector)
            start_http_server(metrics_listen[1], addr=metrics_listen[0], registry=registry)
        try:
            first = await asyncio.gather(*(self._start(worker) for worker in range(self.count)))
            LOG.info("%d workers ready: pids %s", self.count, ", ".join(str(pid) for pid in first))
            keepers = [asyncio.ensure_future(self._keep(worker)) for worker in range(self.count)]
            await self.stopping.wait()
            for task in keepers:
                task.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
        finally:
            statuses = await asyncio.gather(*(self._stop(worker) for worker in range(self.count)))
        return max([0] + [status for status in statuses if status and status > 0])

    async def _start(self, worker):
        """Start one worker and wait until it listens; its pid. WorkerFailed when it ended first."""
        ready_read, ready_write = os.pipe()
        alive_read, alive_write = os.pipe()  # the worker sees its end when this process is gone
        os.set_inheritable(alive_write, False)
        command = [
            sys.executable,
            "-m",
            "peerwarden_runner.workers.child",
            "--config",
            self.path,
            "--worker",
            str(worker),
            "--ready-fd",
            str(ready_write),
            "--alive-fd",
            str(alive_read),
            "--digest",
            self.checked,
            "--log-format",
            self.log_format,
            "--log-level",
            self.log_level,
        ]
        try:
            process = await asyncio.create_subprocess_exec(*command, pass_fds=(ready_write, alive_read))
        finally:
            os.close(ready_write)
            os.close(alive_read)
        self.processes[worker] = process
        self.alive[worker] = alive_write
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(loop.run_in_executor(None, _read_line, ready_read), READY_TIMEOUT)
        except TimeoutError:
            line = b""
        finally:
            os.close(ready_read)
        if not line.strip().isdigit():
            status = await self._stop(worker)
            raise WorkerFailed("worker %d (pid %d) did not start (exit status %s)" % (worker, process.pid, status))
        self.collector.ports[worker] = int(line)
        return process.pid

    async def _keep(self, worker):
        """Start the worker again whenever it ends, after a back-off, until the runner stops."""
        backoff = Backoff(1.0, 60.0)
        started, why = time.monotonic(), ""
        while True:
            process = self.processes[worker]
            if process is not None:
                status = await process.wait()
                self.collector.ports[worker] = None
                self.processes[worker] = None
                self._release(worker)
                if time.monotonic() - started >= STAYED_UP:
                    backoff.reset()
                why = "worker %d (pid %d) ended (%s)" % (worker, process.pid, _status_text(status))
            delay = backoff.next_delay()
            LOG.warning("%s; starting it again in %.1f s", why, delay)
            await asyncio.sleep(delay)
            self.collector.restarts[worker] += 1
            try:
                pid = await self._start(worker)
            except WorkerFailed as error:  # _start reaped it: the next round waits and tries again
                why = str(error)
                continue
            started = time.monotonic()
            LOG.info("worker %d started again: pid %d", worker, pid)

    async def _stop(self, worker):
        """SIGTERM to a running worker, SIGKILL after STOP_TIMEOUT; its exit status (None: not running)."""
        process = self.processes[worker]
        if process is None:
            return None
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                LOG.warning("worker %d (pid %d) did not stop in %.0f s: killed", worker, process.pid, STOP_TIMEOUT)
                process.kill()
                await process.wait()
        self.processes[worker] = None
        self._release(worker)
        return process.returncode

    def _release(self, worker):
        """Close our end of an ended worker's --alive-fd pipe (once)."""
        fd, self.alive[worker] = self.alive[worker], None
        if fd is not None:
            os.close(fd)


def _read_line(fd):
    """The worker's line on its ready pipe (its metrics port); b"" when it ended without one."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    return data


def _status_text(status):
    return "killed by signal %d" % -status if status < 0 else "exit status %d" % status
