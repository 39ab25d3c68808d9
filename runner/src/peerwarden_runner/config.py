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
        to_peer: []                 # and towards the peer; exec goes before or after the route
                                    # stages (rpki, limit, filter, alert), not between them
        role: peer                  # optional, what the peer is to us: peer, customer, provider or rs
                                    # (a route server); the alert stage's leak checks use it
    rpki:
      file: /var/lib/rpki/vrps.json # a VRP JSON file, re-read when it changes
      caches:                       # and/or RTR caches, by preference (lower first); with both,
                                    # the union of the file's and the caches' VRPs is used
        - {host: 127.0.0.1, port: 3323, preference: 1}
    limit:
      max_prefixes: 200000          # per session and family
      max_per_origin: 1000          # per origin AS
      max_per_block: 64/16          # at most 64 prefixes inside any /16 (IPv4)
      max_length: 24/48             # longest prefix accepted, IPv4/IPv6
      min_length: 8/16
      cease: false                  # also end the session (Cease 6/1) when a limit overflows
    filter:                         # ordered rules, first match wins (stages/filter.py has every key)
      default: accept
      rules:
        - {name: no-doc, match: {prefix: [192.0.2.0/24 or-longer]}, action: drop}
        - {name: customers, match: {as_path: "_64500$"}, action: tag, tag: {community: [65000:100]}}
    alert:                          # alerts on hijacks and leaks, watch only (stages/alert_config.py)
      prefixes: [{prefix: 192.0.2.0/24, origins: [64500], max_length: 24}]
      file: /var/log/peerwarden/alerts.jsonl
    exec:                           # an external program on the JSON stream (stages/exec.py)
      program: [/usr/local/bin/watcher, --verbose]
      mode: watch                   # or filter (answers replace each UPDATE)
      on_error: pass                # filter: pass | drop | reset
    archive:
      dir: /var/lib/peerwarden/archive
      format: jsonl                 # jsonl | mrt (RFC 6396 BGP4MP_ET, bgpdump reads it) | both
      rotate_bytes: 268435456
      rotate_seconds: 3600
      compress: true
    metrics:
      listen: 127.0.0.1:9179
    speakers:                       # the runner's own BGP sessions (speaker/config.py has every key);
      - {name: mon1, local: 127.0.0.1, peer: 127.0.0.2, asn: 65000, peer_asn: 65000,
         stages: [rpki, alert]}     # a monitor: watch-only stages on what the router sends
"""

import ipaddress

import yaml

from peerwarden_runner.stages.alert_config import check_alert
from peerwarden_runner.stages.alert_detectors import ROLES
from peerwarden_runner.stages.exec import check_exec
from peerwarden_runner.stages.filter import check_filter

STAGE_NAMES = ("rpki", "limit", "filter", "alert", "exec")
ROUTE_STAGES = ("rpki", "limit", "filter", "alert")
ARCHIVE_FORMATS = ("jsonl", "mrt", "both")


class ConfigError(ValueError):
    """Every problem found, one per line: "file: key: what is wrong (expected ...)"."""


def address_port(text, default_port=179):
    """ "127.0.0.1:179", "[2001:db8::1]:179", "2001:db8::1" or "127.0.0.1" -> (host, port)."""
    text = str(text).strip()
    if text.startswith("["):
        host, dummy, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    ipaddress.ip_address(host)
    number = int(port) if port else default_port
    if not 0 < number < 65536:
        raise ValueError("port %d out of range" % number)
    return host, number


def pair(text, what):
    """ "24/48" -> (24, 48): an IPv4 and an IPv6 value."""
    first, dummy, second = str(text).partition("/")
    if not first.isdigit() or not second.isdigit():
        raise ValueError("%s must look like 24/48 (IPv4/IPv6), not %r" % (what, text))
    return int(first), int(second)


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError("%s: cannot read: %s" % (path, error.strerror)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = " line %d column %d" % (mark.line + 1, mark.column + 1) if mark else ""
        raise ConfigError("%s:%s: not YAML: %s" % (path, where, getattr(error, "problem", error))) from None
    return check(document, path)


def check(document, path="<config>"):
    """The configuration, normalised; ConfigError listing every problem."""
    problems = []

    def problem(key, text):
        problems.append("%s: %s: %s" % (path, key, text))

    if not isinstance(document, dict):
        raise ConfigError("%s: the top level must be a mapping with a 'sessions' list" % path)
    known = {"sessions", "rpki", "limit", "filter", "alert", "exec", "archive", "metrics", "speakers"}
    for key in sorted(set(document) - known):
        problem(key, "unknown key (expected one of %s)" % ", ".join(sorted(known)))
    sessions = document.get("sessions", [] if document.get("speakers") else None)
    if not isinstance(sessions, list) or not (sessions or document.get("speakers")):
        problem("sessions", "expected a non-empty list of sessions (or of speakers)")
        sessions = []
    normalised = []
    for index, session in enumerate(sessions):
        key = "sessions[%d]" % index
        if not isinstance(session, dict):
            problem(key, "expected a mapping with listen and connect")
            continue
        entry = {
            "name": str(session.get("name") or "session%d" % index),
            "md5": session.get("md5"),
            "connect_from": session.get("connect_from"),
            "peer": session.get("peer"),
        }
        entry["gtsm"] = _gtsm(session.get("gtsm", False), key, problem)
        entry["role"] = session.get("role")
        if entry["role"] is not None and entry["role"] not in ROLES:
            problem(
                key + ".role", "expected one of %s (what the peer is to us), got %r" % (", ".join(ROLES), entry["role"])
            )
            entry["role"] = None
        if entry["md5"] and not entry["peer"]:
            problem(key + ".peer", "TCP-MD5 (md5) needs the peer's address, to sign the connections it opens to us")
        for field in ("listen", "connect"):
            try:
                entry[field] = address_port(session[field])
            except KeyError:
                problem("%s.%s" % (key, field), "missing (expected ADDRESS:PORT)")
            except ValueError as error:
                problem("%s.%s" % (key, field), "%r is not ADDRESS[:PORT] (%s)" % (session[field], error))
        if entry["connect_from"] is not None:
            try:
                ipaddress.ip_address(str(entry["connect_from"]))
            except ValueError:
                problem(key + ".connect_from", "%r is not an IP address" % entry["connect_from"])
        for direction in ("to_router", "to_peer"):
            stages = session.get(direction) or []
            if not isinstance(stages, list) or any(s not in STAGE_NAMES for s in stages):
                problem(
                    "%s.%s" % (key, direction),
                    "expected a list of stage names from %s, got %r" % (", ".join(STAGE_NAMES), stages),
                )
                stages = []
            for stage in stages:
                if stage not in document:
                    problem(
                        "%s.%s" % (key, direction),
                        "uses the stage %r, which has no top-level '%s:' section" % (stage, stage),
                    )
            routes = [index for index, stage in enumerate(stages) if stage in ROUTE_STAGES]
            if routes and "exec" in stages[routes[0] : routes[-1]]:
                problem(
                    "%s.%s" % (key, direction),
                    "exec must come before or after the route stages (%s), "
                    "not between them: %r" % (", ".join(ROUTE_STAGES), stages),
                )
            entry[direction] = list(stages)
        normalised.append(entry)
    config = {
        "sessions": normalised,
        "rpki": _rpki(document.get("rpki"), problem),
        "limit": _limit(document.get("limit"), problem),
        "archive": _archive(document.get("archive"), problem),
        "filter": check_filter(document.get("filter"), problem),
        "exec": check_exec(document.get("exec"), problem),
        "alert": check_alert(document.get("alert"), problem),
        "metrics": _metrics(document.get("metrics"), problem),
    }
    _alert_has_work(config, problem)
    from peerwarden_runner.speaker.config import check_speakers  # see speaker/config.py for the section

    sections = {name: config.get(name) for name in STAGE_NAMES if name in document}
    config["speakers"] = check_speakers(document.get("speakers"), problem, address_port, sections)
    _speakers_alert_has_work(config, problem)
    if problems:
        raise ConfigError("\n".join(problems))
    return config


def _alert_has_work(config, problem):
    """A session using the alert stage needs something to watch for: our prefixes, our ASes or its role."""
    alert = config["alert"]
    if alert is None or alert["prefixes"] or alert["asns"]:
        return
    for index, session in enumerate(config["sessions"]):
        if not session["role"] and "alert" in session["to_router"] + session["to_peer"]:
            problem(
                "sessions[%d]" % index,
                "uses the alert stage but it has nothing to watch for here: give "
                "alert.prefixes (our space), alert.asns (our ASes) or the session a role (peer, customer, "
                "provider, rs)",
            )


def _speakers_alert_has_work(config, problem):
    """The same for a speaker watching with the alert stage."""
    alert = config["alert"]
    if alert is None or alert["prefixes"] or alert["asns"]:
        return
    for speaker in config["speakers"]:
        if not speaker["role"] and "alert" in speaker["stages"]:
            problem(
                "speakers[%d].stages" % speaker["index"],
                "uses the alert stage but it has nothing to watch for "
                "here: give alert.prefixes (our space), alert.asns (our ASes) or the speaker a role (peer, "
                "customer, provider, rs)",
            )


def _gtsm(value, key, problem):
    """The legs that require GTSM: true -> both, "peer" or "router" -> that one, false -> none."""
    legs = {True: ("peer", "router"), False: (), "peer": ("peer",), "router": ("router",), "both": ("peer", "router")}
    if isinstance(value, (bool, str)) and value in legs:
        return legs[value]
    problem(key + ".gtsm", "expected true, false, peer, router or both, got %r" % (value,))
    return ()


def _rpki(section, problem):
    if section is None:
        return None
    if not isinstance(section, dict) or not (section.get("file") or section.get("caches")):
        problem("rpki", "expected 'file: PATH' (a VRP JSON file) or 'caches: [{host, port, preference}]'")
        return None
    caches = []
    for index, cache in enumerate(section.get("caches") or []):
        try:
            caches.append(
                {
                    "host": str(cache["host"]),
                    "port": int(cache.get("port", 3323)),
                    "preference": int(cache.get("preference", index + 1)),
                }
            )
        except (KeyError, TypeError, ValueError):
            problem("rpki.caches[%d]" % index, "expected {host: ADDRESS, port: NUMBER, preference: NUMBER}")
    return {
        "file": section.get("file"),
        "caches": sorted(caches, key=lambda c: c["preference"]),
        "expire": int(section.get("expire", 7200)),
    }


def _limit(section, problem):
    if section is None:
        return None
    if not isinstance(section, dict):
        problem("limit", "expected a mapping")
        return None
    limit = {"cease": bool(section.get("cease", False))}
    for field in ("max_prefixes", "max_per_origin"):
        value = section.get(field)
        if value is not None and (not isinstance(value, int) or value < 1):
            problem("limit." + field, "expected a positive number, got %r" % (value,))
        limit[field] = value
    for field, default in (("max_length", "24/48"), ("min_length", "8/16")):
        try:
            limit[field] = pair(section.get(field, default), field)
        except ValueError as error:
            problem("limit." + field, str(error))
            continue
        if limit[field][0] > 32 or limit[field][1] > 128:
            problem("limit." + field, "%s is not a prefix length (IPv4 0-32 / IPv6 0-128)" % (section.get(field),))
    if all(isinstance(limit.get(f), tuple) for f in ("max_length", "min_length")) and any(
        low > high for low, high in zip(limit["min_length"], limit["max_length"])
    ):
        problem(
            "limit.min_length",
            "min_length %s is longer than max_length %s: no prefix would pass"
            % ("%d/%d" % limit["min_length"], "%d/%d" % limit["max_length"]),
        )
    block = section.get("max_per_block")
    limit["max_per_block"] = None
    if block is not None:
        try:
            limit["max_per_block"] = pair(block, "max_per_block (COUNT/LENGTH)")
        except ValueError as error:
            problem("limit.max_per_block", str(error))
        else:
            if not 1 <= limit["max_per_block"][1] <= 32 or limit["max_per_block"][0] < 1:
                problem(
                    "limit.max_per_block",
                    "expected COUNT/LENGTH with COUNT >= 1 and an IPv4 LENGTH 1-32, got %r" % (block,),
                )
    return limit


def _archive(section, problem):
    if section is None:
        return None
    if not isinstance(section, dict) or not section.get("dir"):
        problem("archive", "expected 'dir: PATH'")
        return None
    archive_format = section.get("format", "jsonl")
    if archive_format not in ARCHIVE_FORMATS:
        problem("archive.format", "expected one of %s, got %r" % (", ".join(ARCHIVE_FORMATS), archive_format))
    return {
        "dir": section["dir"],
        "format": archive_format,
        "rotate_bytes": int(section.get("rotate_bytes", 256 * 1024 * 1024)),
        "rotate_seconds": int(section.get("rotate_seconds", 3600)),
        "compress": bool(section.get("compress", True)),
    }


def _metrics(section, problem):
    if section is None:
        return {"listen": ("127.0.0.1", 9179)}
    try:
        return {"listen": address_port(section.get("listen", "127.0.0.1:9179"), 9179)}
    except ValueError as error:
        problem("metrics.listen", str(error))
        return None
