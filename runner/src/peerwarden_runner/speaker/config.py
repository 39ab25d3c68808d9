"""The `speakers:` section of the runner's configuration, checked before anything starts; every
problem is reported as "file: key: what is wrong (expected ...)".

    speakers:
      - name: edge1
        local: 192.0.2.10              # our address (the session's source, the default next hop);
                                       # ADDRESS[:PORT] when passive (where we listen, port 179 default)
        peer: 192.0.2.1                # the router, ADDRESS[:PORT]
        passive: false                 # true: wait for the router to connect (only from peer's address)
        asn: 65020
        peer_asn: 65021
        router_id: 192.0.2.10          # default: local (required when local is IPv6)
        hold_time: 90                  # 0 or 3-65535
        md5_file: /etc/peerwarden/edge1.md5   # optional TCP-MD5 secret
        gtsm: false                    # RFC 5082: send TTL 255, accept only 255
        stdout: false                  # every message, sent and received, as JSON lines on stdout
        stdin: false                   # send the UPDATEs of JSON lines read on stdin (one speaker only)
        stdin_errors: fatal            # a line that cannot be sent: fatal (exit status 1) or skip
        shutdown_message: "maintenance"  # the Cease text sent on SIGTERM
        reconnect: {min: 1, max: 60}   # back-off bounds, seconds
        api: {listen: 127.0.0.1:8179, token_file: /etc/peerwarden/api.token}   # or api: false
        announce: [192.0.2.0/24, {prefix: 2001:db8::/48, communities: ["65020:1"]}]
        stages: [rpki, alert]          # watch-only stages on what the router sends: rpki, alert, filter
                                       # (without tag rules); nothing is ever sent on (speaker/monitor.py)
        role: peer                     # what the router is to us, for the alert stage's leak checks
        healthchecks:
          - name: web
            command: [/usr/bin/curl, -fsS, -o, /dev/null, http://127.0.0.1/health]
            interval: 5
            timeout: 2
            rise: 3
            fall: 3
            announce: [{prefix: 203.0.113.10/32}]
"""

import ipaddress
import os
from typing import Any

from peerwarden_runner.addresses import address_port, canonical_address
from peerwarden_runner.schema import keyed_items
from peerwarden_runner.speaker.healthcheck import HealthCheckSettings
from peerwarden_runner.speaker.route_spec import RouteError, parse_route
from peerwarden_runner.stages.alert_detectors import ROLES
from peerwarden_runner.stages.registry import PIPELINE_STAGES, SECTIONS, WATCH_STAGES

TOKEN_ENVIRONMENT = "PEERWARDEN_API_TOKEN"
DEFAULT_API = "127.0.0.1:8179"
KEYS = (
    "name",
    "local",
    "peer",
    "passive",
    "asn",
    "peer_asn",
    "router_id",
    "hold_time",
    "md5_file",
    "gtsm",
    "stdout",
    "stdin",
    "stdin_errors",
    "shutdown_message",
    "reconnect",
    "api",
    "announce",
    "stages",
    "role",
    "healthchecks",
)
HEALTHCHECK_KEYS = ("name", "command", "interval", "timeout", "rise", "fall", "announce")


def speaker_schema():
    """A speaker's part of the runner's JSON Schema (config.schema)."""
    from peerwarden_runner import schema as s
    from peerwarden_runner.speaker.route_spec import FIELDS, ORIGINS

    one_or_more = {"anyOf": [s.string(), s.list_of(s.string())], s.EXPECTED: "a value or a list of values"}
    fields: dict[str, Any] = {name: {} for name in FIELDS}
    fields.update(
        {
            "prefix": s.string(expected="ADDRESS/LENGTH"),
            "next_hop": s.address(),
            "origin": s.enum(*ORIGINS),
            "med": s.integer(0, 0xFFFFFFFF),
            "local_pref": s.integer(0, 0xFFFFFFFF),
            "communities": one_or_more,
            "large_communities": one_or_more,
        }
    )
    route = {
        "anyOf": [s.string(expected="ADDRESS/LENGTH"), s.obj(fields, required=["prefix"])],
        s.EXPECTED: "a prefix, or {prefix, next_hop, as_path, origin, med, local_pref, communities, large_communities}",
    }
    routes = s.list_of(route, expected="a list of routes")
    healthcheck = s.obj(
        {
            "name": s.string(),
            "command": s.program(),
            "interval": s.duration_value(),
            "timeout": s.duration_value(),
            "rise": s.integer(1, 1000),
            "fall": s.integer(1, 1000),
            "announce": routes,
        },
        required=["command"],
    )
    api = {
        "anyOf": [{"const": False}, s.obj({"listen": s.address_port(), "token_file": s.string()})],
        s.EXPECTED: "{listen: ADDRESS:PORT, token_file: PATH} or false",
    }
    return s.obj(
        {
            "name": s.string(r"^[A-Za-z0-9_.:-]+$", "a name (letters, digits, _ . : -)"),
            "local": s.address_port(),
            "peer": s.address_port(),
            "passive": s.boolean(),
            "asn": s.integer(1, 0xFFFFFFFF),
            "peer_asn": s.integer(1, 0xFFFFFFFF),
            "router_id": s.address(),
            "hold_time": s.integer(0, 65535),
            "md5_file": s.string(),
            "gtsm": s.boolean(),
            "stdout": s.boolean(),
            "stdin": s.boolean(),
            "stdin_errors": s.enum("fatal", "skip"),
            "shutdown_message": s.string(min_length=0),
            "reconnect": s.obj({"min": s.duration_value(), "max": s.duration_value()}),
            "api": api,
            "announce": routes,
            "stages": s.list_of(s.string(), expected="a list of stage names"),  # check_speakers says more
            "role": s.enum(*ROLES),
            "healthchecks": s.list_of(healthcheck, expected="a list of health checks"),
        },
        required=["peer", "asn", "peer_asn"],
        expected="a mapping with local, peer, asn and peer_asn",
    )


def check_speakers(section, problem, sections=None):
    """The normalised speakers (dicts), problems reported through `problem(key, text)`; `sections`:
    the checked top-level stage sections present in the document (name -> section or None)."""
    if section is None:
        return []
    speakers = []
    expected = "expected a list of speakers (mappings with local, peer, asn, peer_asn)"
    for key, item in keyed_items(section, "speakers", expected, problem):
        if not isinstance(item, dict):
            problem(key, "expected a mapping with local, peer, asn and peer_asn")
            continue
        speaker = _speaker(item, key, problem, sections or {})
        if speaker is not None:
            speakers.append(speaker)
    _unique(speakers, "name", problem, lambda s: s["name"])
    _unique([s for s in speakers if s["stdin"]], "stdin", problem, lambda s: "the runner's one standard input")
    _unique([s for s in speakers if s["api"]], "api.listen", problem, lambda s: s["api"]["listen"])
    return speakers


def _unique(speakers, field, problem, value):
    seen: dict[object, int] = {}
    for speaker in speakers:
        if value(speaker) in seen:
            problem(
                "speakers[%d].%s" % (speaker["index"], field),
                "%s is already used by speakers[%d]" % (value(speaker), seen[value(speaker)]),
            )
        seen.setdefault(value(speaker), speaker["index"])


def _speaker(item, key, problem, sections):
    found = []

    def report(field, text):
        found.append(field)
        problem(field, text)

    for name in sorted(set(item) - set(KEYS)):
        report("%s.%s" % (key, name), "unknown key (expected one of %s)" % ", ".join(KEYS))
    entry = {
        "index": int(key[9:-1]),
        "name": str(item.get("name") or "speaker%s" % key[9:-1]),
        "gtsm": _flag(item, "gtsm", key, report),
        "stdout": _flag(item, "stdout", key, report),
        "stdin": _flag(item, "stdin", key, report),
        "stdin_errors": item.get("stdin_errors", "fatal"),
        "passive": _flag(item, "passive", key, report),
        "shutdown_message": str(item.get("shutdown_message") or "peerwarden-runner speaker stopping"),
    }
    entry["local"], entry["local_port"] = _local(item.get("local"), entry["passive"], key + ".local", report)
    try:
        entry["peer"], entry["port"] = address_port(item["peer"])
    except KeyError:
        report(key + ".peer", "missing (expected the router's ADDRESS[:PORT])")
    except ValueError as error:
        report(key + ".peer", "%r is not ADDRESS[:PORT] (%s)" % (item["peer"], error))
    if entry["local"] and entry.get("peer") and (":" in entry["local"]) != (":" in entry["peer"]):
        report(
            key + ".local",
            "%s and the peer %s are of different families (expected both IPv4 or both IPv6)"
            % (entry["local"], entry["peer"]),
        )
    for field in ("asn", "peer_asn"):
        entry[field] = _integer(item.get(field), "%s.%s" % (key, field), 1, 0xFFFFFFFF, report, required=True)
    entry["hold_time"] = _integer(item.get("hold_time", 90), key + ".hold_time", 0, 65535, report)
    if entry["hold_time"] in (1, 2):
        report(key + ".hold_time", "%d is not allowed (expected 0 or 3-65535, RFC 4271 §4.2)" % entry["hold_time"])
    entry["router_id"] = _router_id(item.get("router_id"), entry["local"], key + ".router_id", report)
    entry["md5"] = _secret(item.get("md5_file"), key + ".md5_file", report, limit=80)
    entry["reconnect"] = _reconnect(item.get("reconnect"), key + ".reconnect", report)
    entry["api"] = _api(item.get("api", {}), key + ".api", report)
    ebgp = entry["asn"] != entry["peer_asn"]
    entry["announce"] = _routes(item.get("announce", []), key + ".announce", entry["local"], ebgp, report)
    entry["stages"] = _stages(item.get("stages", []), key + ".stages", sections, report)
    entry["role"] = item.get("role")
    if entry["role"] is not None and entry["role"] not in ROLES:
        report(
            key + ".role", "expected one of %s (what the router is to us), got %r" % (", ".join(ROLES), entry["role"])
        )
    entry["healthchecks"] = _healthchecks(
        item.get("healthchecks", []), key + ".healthchecks", entry["local"], ebgp, report
    )
    return None if found else entry


def _flag(item, field, key, report):
    value = item.get(field, False)
    if not isinstance(value, bool):
        report("%s.%s" % (key, field), "expected true or false, got %r" % (value,))
    return bool(value)


def _address(value, field, report):
    if value is None:
        report(field, "missing (expected an IP address)")
        return None
    try:
        return canonical_address(value)
    except ValueError:
        report(field, "%r is not an IP address" % (value,))
        return None


def _local(value, passive, field, report):
    """(address, port to listen on): a port is only for a passive speaker, which listens there."""
    if value is None or not passive:
        try:
            canonical_address(value)
        except ValueError:
            try:
                address_port(value)
            except ValueError:
                pass
            else:
                report(
                    field,
                    "%r has a port: a port on local is only for passive: true (where the speaker "
                    "listens; an active speaker's port is chosen by the kernel)" % (value,),
                )
                return None, 179
        return _address(value, field, report), 179
    try:
        return address_port(value)
    except ValueError as error:
        report(field, "%r is not ADDRESS[:PORT] (%s)" % (value, error))
        return None, 179


def _stages(names, field, sections, report):
    """The watch-only stages of a monitor, checked: known, watch-safe, configured, each once."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        report(field, "expected a list of stage names from %s, got %r" % (", ".join(WATCH_STAGES), names))
        return []
    for name in names:
        stage = SECTIONS[name] if name in PIPELINE_STAGES else None
        if stage is not None and not stage.watch_ok:
            report(
                field,
                "%r cannot run on a speaker: %s (expected %s)" % (name, stage.watch_refusal, ", ".join(WATCH_STAGES)),
            )
        elif stage is None:
            report(field, "unknown stage %r (expected %s)" % (name, ", ".join(WATCH_STAGES)))
        elif name not in sections:
            report(field, "uses the stage %r, which has no top-level '%s:' section" % (name, name))
        else:
            stage.check_watch(sections[name], field, report)
    for name in sorted({name for name in names if names.count(name) > 1}):
        report(field, "%r is listed more than once" % name)
    return list(names)


def _integer(value, field, low, high, report, required=False):
    if value is None and required:
        report(field, "missing (expected a number from %d to %d)" % (low, high))
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        report(field, "%r is not a number from %d to %d" % (value, low, high))
        return None
    return value


def _number(value, field, default, report):
    value = default if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        report(field, "%r is not a positive number of seconds" % (value,))
        return default
    return float(value)


def _router_id(value, local, field, report):
    if value is None:
        if local and ":" in local:
            report(field, "missing: local is IPv6, so the BGP identifier must be given (expected an IPv4 address)")
        return local
    try:
        router_id = ipaddress.IPv4Address(str(value))
    except ValueError:
        report(field, "%r is not an IPv4 address (a BGP identifier is written as one)" % (value,))
        return None
    if int(router_id) == 0:
        report(field, "0.0.0.0 is not a valid BGP identifier (RFC 6286)")
    return str(router_id)


def _secret(path, field, report, limit=None):
    """The first line of a file (a TCP-MD5 key, an API token), or None when no file is given."""
    if path is None:
        return None
    try:
        with open(str(path), encoding="utf-8") as handle:
            secret = handle.readline().strip()
    except (OSError, UnicodeDecodeError) as error:
        report(field, "cannot read %s: %s" % (path, getattr(error, "strerror", None) or error))
        return None
    if not secret:
        report(field, "%s is empty (expected the secret on its first line)" % path)
    elif limit and len(secret.encode()) > limit:
        report(field, "the secret in %s has %d octets (expected at most %d)" % (path, len(secret.encode()), limit))
    return secret


def _reconnect(value, field, report):
    value = value or {}
    if not isinstance(value, dict) or set(value) - {"min", "max"}:
        report(field, "expected {min: SECONDS, max: SECONDS}")
        return (1.0, 60.0)
    low = _number(value.get("min"), field + ".min", 1.0, report)
    high = _number(value.get("max"), field + ".max", 60.0, report)
    if high < low:
        report(field, "max %g is below min %g" % (high, low))
    return (low, high)


def _api(value, field, report):
    if value is False or value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"listen", "token_file"}:
        report(field, "expected {listen: ADDRESS:PORT, token_file: PATH} or false")
        return None
    try:
        listen = address_port(value.get("listen", DEFAULT_API), 8179)
    except ValueError as error:
        report(field + ".listen", "%r is not ADDRESS:PORT (%s)" % (value.get("listen"), error))
        listen = None
    token = _secret(value.get("token_file"), field + ".token_file", report)
    return {"listen": listen, "token": token or os.environ.get(TOKEN_ENVIRONMENT) or None}


def _routes(items, field, local, ebgp, report):
    specs = []
    for key, item in keyed_items(items, field, "expected a list of prefixes or {prefix: ..., ...} routes", report):
        try:
            specs.append(parse_route(item, key, local=local, ebgp=ebgp))
        except RouteError as error:
            report(error.field, error.message)
    return specs


def _healthchecks(items, field, local, ebgp, report):
    checks = []
    for index, (key, item) in enumerate(keyed_items(items, field, "expected a list of health checks", report)):
        if not isinstance(item, dict):
            report(key, "expected a mapping with name, command and announce")
            continue
        for name in sorted(set(item) - set(HEALTHCHECK_KEYS)):
            report("%s.%s" % (key, name), "unknown key (expected one of %s)" % ", ".join(HEALTHCHECK_KEYS))
        command = item.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(arg, str) and arg for arg in command):
            # a list and no shell: nothing in the configuration is ever interpreted by /bin/sh
            report(key + ".command", "expected a list of strings, the program first (no shell), got %r" % (command,))
            command = ["false"]
        routes = _routes(item.get("announce"), key + ".announce", local, ebgp, report)
        if not routes and isinstance(item.get("announce"), list):
            report(key + ".announce", "empty (expected the routes to announce while the check passes)")
        counts = [_integer(item.get(name, 3), "%s.%s" % (key, name), 1, 1000, report) or 1 for name in ("rise", "fall")]
        checks.append(
            HealthCheckSettings(
                name=str(item.get("name") or "check%d" % index),
                command=tuple(command),
                routes=tuple(routes),
                interval=_number(item.get("interval"), key + ".interval", 5.0, report),
                timeout=_number(item.get("timeout"), key + ".timeout", 2.0, report),
                rise=counts[0],
                fall=counts[1],
            )
        )
    return checks
