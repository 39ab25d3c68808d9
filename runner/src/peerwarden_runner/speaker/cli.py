"""`peerwarden-runner speaker ...`: one speaker from the command line (the quick case); health checks
need the configuration file. The arguments become a `speakers:` document, checked like a file."""

import os
from typing import Any

TOKEN_HELP = "file holding the API token (else the environment PEERWARDEN_API_TOKEN; never on the command line)"


def add_parser(commands):
    parser = commands.add_parser("speaker", help="peer with a router: collect its routes, announce ours (HTTP API)")
    parser.add_argument(
        "--local",
        required=True,
        help="our address: the session's source and the default next hop "
        "(ADDR[:PORT] with --passive: where to listen, port 179 by default)",
    )
    parser.add_argument("--peer", required=True, help="ADDR[:PORT] of the router")
    parser.add_argument(
        "--passive",
        action="store_true",
        help="wait for the router to connect (only from --peer's address) instead of connecting",
    )
    parser.add_argument("--asn", required=True, type=int, help="our AS number")
    parser.add_argument("--peer-asn", required=True, type=int, help="the router's AS number")
    parser.add_argument("--router-id", help="BGP identifier (default: --local when it is IPv4)")
    parser.add_argument("--hold-time", type=int, default=90, help="seconds, 0 or 3-65535 (default 90)")
    parser.add_argument("--md5-file", help="file holding the TCP-MD5 secret")
    parser.add_argument("--gtsm", action="store_true", help="RFC 5082: send TTL 255 and accept only 255")
    parser.add_argument("--api", default="127.0.0.1:8179", help="ADDR:PORT of the HTTP API, or 'off'")
    parser.add_argument("--api-token-file", help=TOKEN_HELP)
    parser.add_argument("--archive", help="directory for the session archive (JSON lines)")
    parser.add_argument(
        "--stdout",
        "--print",
        action="store_true",
        help="every message, sent and received, as JSON lines on stdout (docs/json.md)",
    )
    parser.add_argument(
        "--stdin",
        action="store_true",
        help="read JSON lines (as --stdout writes) and send their UPDATEs / ROUTE-REFRESHes once Established",
    )
    parser.add_argument(
        "--stdin-errors",
        choices=("fatal", "skip"),
        default="fatal",
        help="a line that cannot be sent: stop with exit status 1 (fatal, the default) or skip it; "
        "either way it is logged with its line number",
    )
    parser.add_argument("--announce", nargs="*", default=[], metavar="PREFIX", help="prefixes to announce")
    parser.add_argument("--metrics", help="ADDR:PORT for Prometheus (default: none)")
    parser.add_argument("--name", default="speaker", help="the session's name in logs and the archive")
    return parser


def speaker_document(arguments):
    """The configuration document the arguments stand for."""
    speaker = {
        "name": arguments.name,
        "local": arguments.local,
        "peer": arguments.peer,
        "asn": arguments.asn,
        "peer_asn": arguments.peer_asn,
        "hold_time": arguments.hold_time,
        "gtsm": arguments.gtsm,
        "stdout": arguments.stdout,
        "stdin": arguments.stdin,
        "stdin_errors": arguments.stdin_errors,
        "announce": list(arguments.announce),
        "passive": arguments.passive,
    }
    for key, value in (("router_id", arguments.router_id), ("md5_file", arguments.md5_file)):
        if value is not None:
            speaker[key] = value
    if arguments.api.lower() in ("off", "none", ""):
        speaker["api"] = False
    else:
        speaker["api"] = {"listen": arguments.api}
        if arguments.api_token_file:
            speaker["api"]["token_file"] = os.path.abspath(arguments.api_token_file)
    document: dict[str, Any] = {"speakers": [speaker]}
    if arguments.archive:
        document["archive"] = {"dir": arguments.archive}
    if arguments.metrics:
        document["metrics"] = {"listen": arguments.metrics}
    return document
