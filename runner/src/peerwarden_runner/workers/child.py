"""One worker process: `python -m peerwarden_runner.workers.child`, started by the supervisor only.

It reads the configuration file again (refused when it is no longer the file the parent checked),
runs its share of the sessions (workers/config.py) with the same code as a one-process runner
(cli.serve), serves its metrics on a loopback port of its own and writes that port to --ready-fd once
everything listens. It stops as the runner does on SIGTERM or SIGINT, and also when --alive-fd
reaches its end: the parent is gone (even after a SIGKILL), so no worker outlives it."""

import argparse
import asyncio
import logging
import os
import signal
import sys

from prometheus_client import start_http_server

from peerwarden_runner import cli, log_format
from peerwarden_runner import config as configuration
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.workers.config import digest, share

LOG = logging.getLogger("peerwarden_runner.workers")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="peerwarden-runner worker", description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--ready-fd", type=int, required=True, help="where the metrics port is written when ready")
    parser.add_argument("--alive-fd", type=int, required=True, help="its end of file: the parent is gone")
    parser.add_argument("--digest", required=True, help="the SHA-256 of the file the parent checked")
    parser.add_argument("--log-format", default="text")
    parser.add_argument("--log-level", default="info")
    arguments = parser.parse_args(argv)
    log_format.configure(arguments.log_format, getattr(logging, arguments.log_level.upper()), worker=arguments.worker)
    try:
        changed = digest(arguments.config) != arguments.digest
    except OSError as error:
        LOG.error("%s: cannot read: %s", arguments.config, error.strerror)
        return 2
    if changed:  # another share of other sessions, or the same sessions twice: refused
        LOG.error(
            "%s changed since the runner started: a worker runs only the configuration the runner checked;"
            " restart the runner to run the new one",
            arguments.config,
        )
        return 2
    try:
        settings = share(configuration.load(arguments.config), arguments.worker)
    except configuration.ConfigError as error:
        LOG.error("the configuration no longer checks: %s", error)
        return 2
    try:
        return asyncio.run(_serve(settings, arguments))
    except (OSError, ValueError) as error:  # what cli.main reports: an address in use, a VRP file
        LOG.error("%s", error)
        return 2


async def _serve(settings, arguments):
    metrics = Metrics()
    server, dummy = start_http_server(0, addr="127.0.0.1", registry=metrics.registry)
    loop = asyncio.get_running_loop()

    def parent_gone():
        if not os.read(arguments.alive_fd, 64):
            loop.remove_reader(arguments.alive_fd)
            LOG.warning("the parent is gone: stopping")
            os.kill(os.getpid(), signal.SIGTERM)

    loop.add_reader(arguments.alive_fd, parent_gone)

    def ready():
        os.write(arguments.ready_fd, b"%d\n" % server.server_port)
        os.close(arguments.ready_fd)
        LOG.info(
            "worker %d (pid %d): %d session(s): %s; metrics on 127.0.0.1:%d",
            arguments.worker,
            os.getpid(),
            len(settings["sessions"]),
            ", ".join(session["name"] for session in settings["sessions"]) or "-",
            server.server_port,
        )

    return await cli.serve(settings, metrics=metrics, ready=ready)


if __name__ == "__main__":
    sys.exit(main())
