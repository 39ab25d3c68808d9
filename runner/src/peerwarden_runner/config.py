"""The runner's configuration: YAML, checked before anything starts, with errors that name the file,
the key and what was expected (`peerwarden-runner check -c FILE` prints them; the role runs it
before every restart).

    sessions:                       # one proxy per session
      - name: rs1-edge1
        listen: 127.0.0.5:179       # where the peer connects
        connect: 127.0.0.2:179      # the router
        connect_from: 127.0.0.6     # optional source address
        md5: secret                 # optional TCP-MD5 (both legs)
        peer: 127.0.0.3             # the peer's address (needed with md5)
        gtsm: true                  # optional GTSM, RFC 5082 (true = both legs, or peer / router)
        to_router: [rpki, limit, filter]  # stages for messages towards the router (names of stages below)
        to_peer: [filter:strict]    # and towards the peer; exec goes before or after the route
                                    # stages (rpki, limit, filter, alert), not between them;
                                    # filter:NAME / exec:NAME: a named instance (filters:, execs:)
        role: peer                  # optional, what the peer is to us: peer, customer, provider or rs
                                    # (a route server); the alert stage's leak checks and aspa use it
        tunnel:                     # optional: one leg over wss to another runner (docs/tunnel.md):
          connect: wss://127.0.0.1:8179/bgp  # instead of `connect` (or listen: ADDR:PORT instead of
          token_file: /etc/peerwarden/tunnel.token  # `listen`), with ca_file, cert_file, key_file
    rpki:
      file: /var/lib/rpki/vrps.json # a VRP JSON file, re-read when it changes
      caches:                       # and/or RTR caches, by preference (lower first); with both,
                                    # the union of the file's and the caches' VRPs is used
        - {host: 127.0.0.1, port: 3323, preference: 1}
    aspa:
      file: /var/lib/rpki-client/json  # rpki-client's JSON output (its "aspas"), re-read when it changes
    limit:
      max_prefixes: 200000          # per session and family
      max_per_origin: 1000          # per origin AS
      max_per_block: 64/16          # at most 64 prefixes inside any /16 (IPv4)
      max_per_block_ipv6: 64/32     # at most 64 prefixes inside any /32 (IPv6)
      max_length: 24/48             # longest prefix accepted, IPv4/IPv6
      min_length: 8/16
      cease: false                  # also end the session (Cease 6/1) when a limit overflows
    filter:                         # ordered rules, first match wins (stages/filter.py has every key)
      default: accept
      rules:
        - {name: no-doc, match: {prefix: [192.0.2.0/24 or-longer]}, action: drop}
        - {name: customers, match: {as_path: "_64500$"}, action: tag, tag: {community: [65000:100]}}
    filters:                        # more filters, by name: a session lists filter:NAME
      strict: {default: drop, rules: [{name: ours, match: {origin: 64500}, action: accept}]}
    alert:                          # alerts on hijacks and leaks, watch only (stages/alert_config.py)
      prefixes: [{prefix: 192.0.2.0/24, origins: [64500], max_length: 24}]
      file: /var/log/peerwarden/alerts.jsonl
    exec:                           # an external program on the JSON stream (stages/exec.py)
      program: [/usr/local/bin/watcher, --verbose]
      mode: watch                   # or filter (answers replace each UPDATE)
      on_error: pass                # filter: pass | drop | reset
    execs:                          # more exec programs, by name: a session lists exec:NAME
      audit: {program: [/usr/local/bin/audit], mode: watch}
    archive:
      dir: /var/lib/peerwarden/archive
      format: jsonl                 # jsonl | mrt (RFC 6396 BGP4MP_ET, bgpdump reads it) | both
      rotate_bytes: 268435456
      rotate_seconds: 3600
      compress: true
    metrics:
      listen: 127.0.0.1:9179        # with workers, the parent serves every worker's series here
    workers: 2                      # processes relaying the sessions (auto: one per core; default 1);
                                    # round-robin in the order above, speakers in worker 0 (workers/)
    speakers:                       # the runner's own BGP sessions (speaker/config.py has every key);
      - {name: mon1, local: 127.0.0.1, peer: 127.0.0.2, asn: 65000, peer_asn: 65000,
         stages: [rpki, alert]}     # a monitor: watch-only stages on what the router sends
"""

import ipaddress
import logging
import re
from typing import Any

import yaml

from peerwarden_runner import schema as s
from peerwarden_runner.addresses import address_port, canonical_address
from peerwarden_runner.stages.alert_detectors import ROLES
from peerwarden_runner.stages.base import Kind
from peerwarden_runner.stages.registry import (
    INSTANCE_NAME,
    NAMED,
    PIPELINE_STAGES,
    ROUTE_STAGES,
    SECTIONS,
    declared,
    stage_of,
    undeclared,
)
from peerwarden_runner.tunnel.config import check_tunnel, tunnel_schema
from peerwarden_runner.workers import config as workers_config

__all__ = ["ConfigError", "address_port", "check", "load", "schema"]
LOG = logging.getLogger("peerwarden_runner.config")


class ConfigError(ValueError):
    """Every problem found, one per line: "file: key: what is wrong (expected ...)"."""


def schema():
    """The JSON Schema of the whole configuration: the sessions, the speakers and the runner's own
    keys here, each stage's section from the stage itself (Stage.schema, stages/registry.py)."""
    from peerwarden_runner.speaker.config import speaker_schema

    listed = {
        "anyOf": [
            s.enum(*PIPELINE_STAGES),
            s.string(r"^(%s):%s$" % ("|".join(NAMED.values()), INSTANCE_NAME)),
        ],
        s.EXPECTED: "a stage name (%s) or a named instance (%s)"
        % (", ".join(PIPELINE_STAGES), ", ".join("%s:NAME" % name for name in NAMED.values())),
    }
    session = s.obj(
        {
            "name": s.string(r"^[A-Za-z0-9_.:-]+$", "a name (letters, digits, _ . : -)"),
            "listen": s.address_port(),
            "connect": s.address_port(),
            "connect_from": s.address(),
            "peer": s.address(),
            "md5": s.string(expected="the TCP-MD5 secret"),
            "gtsm": s.enum(True, False, "peer", "router", "both"),
            "to_router": s.list_of(listed, expected="a list of stage names"),
            "to_peer": s.list_of(listed, expected="a list of stage names"),
            "role": {**s.enum(*ROLES), s.EXPECTED: "one of %s (what the peer is to us)" % ", ".join(ROLES)},
            "open_timeout": s.duration_value(),
            "tunnel": tunnel_schema(),
        },
        expected="a mapping with listen (or tunnel.listen) and connect (or tunnel.connect)",
    )
    properties: dict[str, Any] = {
        "sessions": s.list_of(session, expected="a list of sessions"),
        "speakers": s.list_of(speaker_schema(), expected="a list of speakers"),
        "max_pending": s.integer(1),
        "workers": workers_config.schema(),
    }
    for name, stage in SECTIONS.items():
        properties[name] = stage.schema() or {}
    for plural, name in NAMED.items():
        properties[plural] = s.keyed(
            SECTIONS[name].schema(),
            s.string("^%s$" % INSTANCE_NAME, "a name (letters, digits, _ -)"),
            "a mapping of names to %s sections (a session lists %s:NAME)" % (name, name),
        )
    document = s.obj(properties, expected="a mapping with a 'sessions' list")
    document["$schema"] = s.SCHEMA_URI
    document["title"] = "peerwarden-runner configuration"
    return document


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            document = s.load_yaml(handle)
    except OSError as error:
        raise ConfigError("%s: cannot read: %s" % (path, error.strerror)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = "%d: column %d:" % (mark.line + 1, mark.column + 1) if mark else ""
        raise ConfigError("%s:%s not YAML: %s" % (path, where, getattr(error, "problem", error))) from None
    except (ValueError, RecursionError) as error:  # a timestamp out of range, a document nested too deep
        raise ConfigError("%s: not a configuration: %s" % (path, error)) from None
    return check(document, path)


def _without_none(value):
    """A document made in code (the command line's) leaves out what was not given as None."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def check(document, path="<config>"):
    """The configuration, normalised; ConfigError listing every problem, each "FILE:LINE: key: text"
    (the line when the document came from a file). The schema first; the meaning (the stages' own
    checks) only for a document whose structure is right."""
    if not isinstance(document, s.Mapping):
        document = _without_none(document)
    found = []

    def problem(key, text):
        line = s.line_of(document, key)
        found.append((line, "%s:%d: %s: %s" % (path, line, key, text) if line else "%s: %s: %s" % (path, key, text)))

    if not isinstance(document, dict):
        raise ConfigError("%s: the top level must be a mapping with a 'sessions' list" % path)
    broken = set()  # the top-level keys the schema refused: their meaning is not checked
    for line, key, text in s.problems(document, schema()):
        found.append((line, "%s:%d: %s: %s" % (path, line, key, text) if line else "%s: %s: %s" % (path, key, text)))
        broken.add(re.split(r"[.\[]", key)[0])
    if "(top level)" not in broken:
        try:
            config = _check(document, problem, broken)
        except RecursionError:
            raise ConfigError("%s: nested too deep" % path) from None
        except Exception as error:  # a check that did not expect what it got: a problem, not a traceback
            LOG.exception("checking %s", path)
            raise ConfigError("%s: cannot check this configuration (internal error: %r)" % (path, error)) from None
    if found:
        raise ConfigError("\n".join(text for line, text in sorted(found, key=lambda entry: entry[0])))
    return config


def _check(document, problem, broken=frozenset()):
    sessions = document.get("sessions", [] if document.get("speakers") else None)
    if "sessions" in broken:
        sessions = []
    elif not isinstance(sessions, list) or not (sessions or document.get("speakers")):
        problem("sessions", "expected a non-empty list of sessions (or of speakers)")
        sessions = []
    normalised = []
    names: dict[str, int] = {}
    listening: dict[tuple[str, int], int] = {}
    for index, session in enumerate(sessions):
        key = "sessions[%d]" % index
        entry: dict[str, Any] = {
            "name": str(session.get("name") or "session%d" % index),
            "md5": session.get("md5"),
            "connect_from": session.get("connect_from"),
            "peer": session.get("peer"),
        }
        if entry["name"] in names:
            problem(key + ".name", "%r is already the name of sessions[%d]" % (entry["name"], names[entry["name"]]))
        names.setdefault(entry["name"], index)
        entry["gtsm"] = _gtsm(session.get("gtsm", False), key, problem)
        entry["open_timeout"] = s.duration(session.get("open_timeout", 30))
        entry["role"] = session.get("role")
        for field in ("peer", "connect_from"):
            if entry[field] is not None:
                try:
                    canonical_address(entry[field])
                except ValueError:
                    problem("%s.%s" % (key, field), "%r is not an IP address" % entry[field])
        if entry["md5"] and not entry["peer"]:
            problem(key + ".peer", "TCP-MD5 (md5) needs the peer's address, to sign the connections it opens to us")
        entry["tunnel"] = tunnel = check_tunnel(session.get("tunnel"), key + ".tunnel", problem)
        for field, leg in (("listen", "peer"), ("connect", "router")):
            _leg(session, entry, key, field, leg, tunnel, problem)
        if "listen" in entry:
            listen = (canonical_address(entry["listen"][0]), entry["listen"][1])
            if listen in listening:
                problem(key + ".listen", "%s:%d is already where sessions[%d] listens" % (*listen, listening[listen]))
            listening.setdefault(listen, index)
            if not entry["peer"] and not ipaddress.ip_address(listen[0]).is_loopback:
                problem(
                    key + ".peer",
                    "required when listening on %s (not loopback): only the peer's address may connect" % listen[0],
                )
        for direction in ("to_router", "to_peer"):
            entry[direction] = _stage_list(session.get(direction) or [], "%s.%s" % (key, direction), document, problem)
        normalised.append(entry)
    config: dict[str, Any] = {"sessions": normalised, "max_pending": document.get("max_pending", 64)}
    config["broken"] = broken
    for name, stage in SECTIONS.items():  # each stage checks its own section
        config[name] = stage.check(document.get(name), problem) if name not in broken else None
    for plural, name in NAMED.items():  # and each named instance, its problems under plural.NAME
        instances = document.get(plural) if plural not in broken else None
        config[plural] = {
            instance: SECTIONS[name].check(section, _under(problem, name, "%s.%s" % (plural, instance)))
            for instance, section in (instances or {}).items()
        }
    for name, stage in SECTIONS.items():  # then what one section needs of another
        if config[name] is not None:
            stage.check_config(config, problem)
    _check_users(
        config,
        [
            ("sessions[%d]" % index, entry, entry["to_router"] + entry["to_peer"])
            for index, entry in enumerate(normalised)
        ],
        problem,
    )
    from peerwarden_runner.speaker.config import check_speakers  # see speaker/config.py for the section

    sections = {listed: section for listed, section in declared(config).items() if listed in declared(document)}
    config["speakers"] = check_speakers(
        document.get("speakers") if "speakers" not in broken else None, problem, sections
    )
    _check_users(
        config,
        [("speakers[%d].stages" % speaker["index"], speaker, speaker["stages"]) for speaker in config["speakers"]],
        problem,
    )
    del config["broken"]
    config["warnings"] = _exposed(config)
    workers = document.get("workers") if "workers" not in broken else None
    config["workers"] = workers_config.check(workers, normalised, config["warnings"])
    return config


def _exposed(config):
    """Warnings for listeners reachable from other hosts: the metrics have no authentication, the API
    a bearer token over plain HTTP."""
    found = []
    listeners = [("metrics.listen", (config.get("metrics") or {}).get("listen"), "the metrics have no authentication")]
    listeners += [
        ("speakers[%d].api.listen" % speaker["index"], (speaker.get("api") or {}).get("listen"), "plain HTTP")
        for speaker in config["speakers"]
    ]
    for key, listen, why in listeners:
        if listen and not ipaddress.ip_address(listen[0]).is_loopback:
            found.append(
                "%s: %s:%d is reachable from other hosts (%s); prefer 127.0.0.1 behind a proxy"
                % (key, listen[0], listen[1], why)
            )
    return found


def _under(problem, name, prefix):
    """A problem reporter for a named instance: the stage's keys ("filter.rules[0]") under its own
    ("filters.strict.rules[0]")."""
    return lambda key, text: problem(prefix + key[len(name) :], text)


def _stage_list(stages, key, document, problem):
    """A session's stages of one direction: known names of configured stages (or named instances),
    message stages (exec) before or after the route stages, not between them."""
    if not isinstance(stages, list) or any(stage_of(s) is None for s in stages):
        problem(key, "expected a list of stage names from %s, got %r" % (", ".join(PIPELINE_STAGES), stages))
        return []
    available = declared(document)
    for stage in stages:
        if stage not in available:
            problem(key, undeclared(stage, available))
    routes = [index for index, stage in enumerate(stages) if stage_of(stage).kind is Kind.ROUTE]
    between = stages[routes[0] : routes[-1]] if routes else []
    for name in sorted({stage for stage in between if stage_of(stage).kind is Kind.MESSAGE}):
        problem(
            key,
            "%s must come before or after the route stages (%s), not between them: %r"
            % (name, ", ".join(ROUTE_STAGES), stages),
        )
    return list(stages)


def _check_users(config, users, problem):
    """Each stage's checks of the sessions or speakers that use it: (key, entry, stage names) of each."""
    for name, stage in SECTIONS.items():
        if config[name] is not None or name not in config.get("broken", ()):
            stage.check_users(config[name], users, problem)


def _leg(session, entry, key, field, leg, tunnel, problem):
    """entry[field] (ADDRESS, PORT): the session's own TCP leg, or the tunnel's listen address (a
    connecting tunnel has no TCP leg: the URL says where it goes); exactly one of the two."""
    tunnelled = tunnel is not None and tunnel["side"] == field
    if field in session and tunnelled:
        problem("%s.%s" % (key, field), "give either %s or tunnel.%s, not both" % (field, field))
    elif field not in session and not tunnelled:
        if session.get("tunnel") is None or tunnel is not None:  # a broken tunnel section is reported already
            problem("%s.%s" % (key, field), "missing (expected ADDRESS[:PORT], or tunnel.%s)" % field)
    elif tunnelled:
        if leg in entry["gtsm"]:
            problem(key + ".gtsm", "GTSM needs a direct TCP leg; the %s leg is the websocket tunnel" % leg)
        if field == "connect" and entry["connect_from"]:
            problem(key + ".connect_from", "the router leg is the websocket tunnel (tunnel.connect), not TCP")
        if field == "listen":
            entry[field] = tunnel["listen"]
    else:
        try:
            entry[field] = address_port(session[field])
        except ValueError as error:
            problem("%s.%s" % (key, field), "%r is not ADDRESS[:PORT] (%s)" % (session[field], error))


def _gtsm(value, key, problem):
    """The legs that require GTSM: true -> both, "peer" or "router" -> that one, false -> none."""
    legs = {True: ("peer", "router"), False: (), "peer": ("peer",), "router": ("router",), "both": ("peer", "router")}
    if isinstance(value, (bool, str)) and value in legs:
        return legs[value]
    problem(key + ".gtsm", "expected true, false, peer, router or both, got %r" % (value,))
    return ()
