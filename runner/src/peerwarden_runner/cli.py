"""peerwarden-runner: proxy (the quick case), run -c config.yml, check -c config.yml, schema, check-vrps FILE."""

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Any

from peerwarden_runner import __version__, log_format
from peerwarden_runner import config as configuration
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import TO_PEER, TO_ROUTER, Proxy
from peerwarden_runner.speaker import cli as speaker_cli

LOG = logging.getLogger("peerwarden_runner")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="peerwarden-runner", description=__doc__)
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="text (default) or JSON lines for log collectors"
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="info (default): one line per event (connections, OPENs, Established, NOTIFICATIONs, sessions down) "
        "and per-route decisions counted, a line per reason every 10 s; debug: a line for each route too",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    proxy = commands.add_parser("proxy", help="relay one BGP session through the stages")
    proxy.add_argument("--listen", required=True, help="ADDR[:PORT] where the peer connects")
    proxy.add_argument("--connect", required=True, help="ADDR[:PORT] of the router")
    proxy.add_argument("--connect-from", help="source address towards the router")
    proxy.add_argument("--rpki", help="HOST:PORT of an RTR cache (RFC 8210)")
    proxy.add_argument("--rpki-file", help="VRP JSON file (re-read when it changes); with --rpki, the union is used")
    proxy.add_argument("--max-prefixes", type=int)
    proxy.add_argument("--max-per-origin", type=int)
    proxy.add_argument("--max-per-block", help="IPv4 COUNT/LENGTH, e.g. 64/16: at most 64 prefixes in any /16")
    proxy.add_argument("--max-per-block-ipv6", help="IPv6 COUNT/LENGTH, e.g. 64/32: at most 64 prefixes in any /32")
    proxy.add_argument("--max-length", default="24/48", help="IPv4/IPv6, default 24/48")
    proxy.add_argument("--archive", help="directory for the session archive")
    proxy.add_argument("--archive-format", default="jsonl", help="jsonl (default), mrt (RFC 6396) or both")
    proxy.add_argument("--md5", help="TCP-MD5 secret for both legs")
    proxy.add_argument("--peer", help="the peer's address (needed with --md5)")
    proxy.add_argument(
        "--open-timeout", type=float, default=30.0, help="seconds the peer has to send its OPEN (default 30)"
    )
    proxy.add_argument("--gtsm", choices=("both", "peer", "router"), help="require GTSM (RFC 5082) on these legs")
    proxy.add_argument("--metrics", default="127.0.0.1:9179", help="ADDR:PORT for Prometheus (default 127.0.0.1:9179)")
    speaker_cli.add_parser(commands)
    for name in ("run", "check"):
        sub = commands.add_parser(name, help="%s a configuration file" % name)
        sub.add_argument("-c", "--config", required=True)
    commands.add_parser("schema", help="print the configuration's JSON Schema (what check validates against)")
    vrps = commands.add_parser("check-vrps", help="check a VRP JSON file as the rpki stage would read it")
    vrps.add_argument("file")
    arguments = parser.parse_args(argv)
    log_format.configure(arguments.log_format, getattr(logging, arguments.log_level.upper()))
    if arguments.command == "check-vrps":
        return check_vrps(arguments.file)
    if arguments.command == "schema":
        print(json.dumps(configuration.schema(), indent=2, sort_keys=True))
        return 0
    try:
        if arguments.command in ("run", "check"):
            settings = configuration.load(arguments.config)
        elif arguments.command == "speaker":
            settings = configuration.check(speaker_cli.speaker_document(arguments), "command line")
            settings["metrics"] = settings["metrics"] if arguments.metrics else None
        else:
            settings = _quick(arguments)
    except configuration.ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    for warning in settings.get("warnings", ()):
        LOG.warning("%s", warning) if arguments.command != "check" else print("warning: %s" % warning, file=sys.stderr)
    if arguments.command == "check":
        print(
            "%s: ok (%d session(s), %d speaker(s))"
            % (arguments.config, len(settings["sessions"]), len(settings["speakers"]))
        )
        return 0
    try:
        return asyncio.run(serve(settings))
    except (OSError, ValueError) as error:  # a VRP file that cannot be read, an address in use
        print("peerwarden-runner: %s" % error, file=sys.stderr)
        return 2


def check_vrps(path):
    """Exit status 0 and a summary when the rpki stage could load the file, else 2 and where it is wrong."""
    from peerwarden_runner.rpki.vrp_file import VrpFileError, load_vrp_file

    try:
        contents = load_vrp_file(path)
    except VrpFileError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        "%s: ok (%d VRPs; %d entries, %d expired, %d duplicates)"
        % (path, len(contents.vrps), contents.entries, contents.expired, contents.duplicates)
    )
    return 0


def _quick(arguments):
    stages: list[str] = []
    document: dict[str, Any] = {
        "sessions": [
            {
                "name": "proxy",
                "listen": arguments.listen,
                "connect": arguments.connect,
                "connect_from": arguments.connect_from,
                "md5": arguments.md5,
                "peer": arguments.peer,
                "gtsm": arguments.gtsm or False,
                "open_timeout": arguments.open_timeout,
                "to_router": stages,
            }
        ]
    }
    if arguments.rpki_file or arguments.rpki:
        host, dummy, port = (arguments.rpki or "").rpartition(":")
        document["rpki"] = {
            "file": arguments.rpki_file,
            "caches": [{"host": host.strip("[]"), "port": int(port or 323)}] if arguments.rpki else [],
        }
        stages.append("rpki")
    limits = ("max_prefixes", "max_per_origin", "max_per_block", "max_per_block_ipv6", "max_length")
    if any(getattr(arguments, name) for name in limits):
        document["limit"] = {
            "max_prefixes": arguments.max_prefixes,
            "max_per_origin": arguments.max_per_origin,
            "max_per_block": arguments.max_per_block,
            "max_per_block_ipv6": arguments.max_per_block_ipv6,
            "max_length": arguments.max_length,
        }
        stages.append("limit")
    if arguments.archive:
        document["archive"] = {"dir": arguments.archive, "format": arguments.archive_format}
    document["metrics"] = {"listen": arguments.metrics}
    return configuration.check(document, "command line")


async def serve(settings):
    from peerwarden_runner.wiring import build_sessions  # imports the stages only when serving

    proxies, background = await build_sessions(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # one handler for all: a loop keeps one per signal
        loop.add_signal_handler(sig, lambda: [server.stopping.set() for server in proxies])
    try:
        await asyncio.gather(*(proxy.serve_until_stopped() for proxy in proxies))
    finally:
        for task in background:
            task.cancel()
        DECISIONS.flush()  # what was counted and not yet written (log_summary), before the runner exits
    return max((getattr(server, "exit_status", 0) for server in proxies), default=0)


__all__ = ["main", "Pipeline", "Proxy", "TO_PEER", "TO_ROUTER"]

if __name__ == "__main__":
    sys.exit(main())
