"""The `alert:` section checked, so that `check` rejects what the alert stage could not run.

alert:
  prefixes:                     # our own space
    - {prefix: 192.0.2.0/24, origins: [64500], max_length: 24}
    - {prefix: 2001:db8::/32, origins: [64500, 64501], max_length: 48}
  asns: [64500]                 # our ASes: alert when one is in a path but not its origin
  transit_free: [174, 3356]     # replaces the default list (TRANSIT_FREE)
  less_specifics: true          # alert on a foreign less-specific covering our prefix
  file: /var/log/peerwarden/alerts.jsonl
  exec: [/usr/local/bin/page-oncall, --bgp]
  webhook: http://127.0.0.1:8080/alerts
  timeout: 5                    # webhook: seconds per POST
  queue: 1000                   # alerts waiting for exec / webhook; beyond that dropped and counted
"""

import os
import shutil
from urllib.parse import urlsplit

from peerwarden_runner.schema import duration, keyed_items
from peerwarden_runner.stages.alert_space import owned_prefix

# Transit-free ("tier-1") networks: none of them buys transit, so a path that crosses one after its
# first hop came through somebody's provider; a peer passing that on is leaking it.
TRANSIT_FREE = (174, 701, 1299, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 6830, 7018, 12956)
KEYS = ("prefixes", "asns", "transit_free", "less_specifics", "file", "exec", "webhook", "timeout", "queue")
PREFIX_KEYS = ("prefix", "origins", "max_length")


def asn(value):
    """64500, "64500" or "AS64500" -> 64500; ValueError otherwise."""
    text = str(value).upper()
    text = text[2:] if text.startswith("AS") else text
    if isinstance(value, bool) or not text.isdigit() or int(text) > 0xFFFFFFFF:
        raise ValueError("%r is not an AS number" % (value,))
    return int(text)


def check_alert(section, problem):
    """The alert section normalised, every problem reported."""
    if section is None:
        return None
    if not isinstance(section, dict):
        problem(
            "alert",
            "expected a mapping with 'prefixes: [{prefix, origins, max_length}]' and sinks (file, exec, webhook)",
        )
        return None
    for key in sorted(set(section) - set(KEYS)):
        problem("alert." + key, "unknown key (expected one of %s)" % ", ".join(KEYS))
    checked = {
        "prefixes": _prefixes(section.get("prefixes"), problem),
        "asns": _asns(section.get("asns", []), "alert.asns", problem),
        "transit_free": _asns(section.get("transit_free", list(TRANSIT_FREE)), "alert.transit_free", problem),
        "less_specifics": section.get("less_specifics", True),
    }
    if not isinstance(checked["less_specifics"], bool):
        problem("alert.less_specifics", "expected true or false, got %r" % (checked["less_specifics"],))
    checked["file"] = _file(section.get("file"), problem)
    checked["exec"] = _program(section.get("exec"), problem)
    checked["webhook"] = _webhook(section.get("webhook"), problem)
    for field, default in (("timeout", 5.0), ("queue", 1000)):
        value = section.get(field, default)
        if field == "timeout" and isinstance(value, str):
            try:
                value = duration(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problem("alert." + field, "expected a positive number, got %r" % (value,))
            value = default
        checked[field] = float(value) if field == "timeout" else int(value)
    return checked


def _prefixes(entries, problem):
    if entries is None:
        return []
    owned = []
    expected = "expected a list of {prefix: ADDRESS/LENGTH, origins: [ASN, ...], max_length: N}"
    for key, entry in keyed_items(entries, "alert.prefixes", expected, problem):
        if not isinstance(entry, dict) or "prefix" not in entry:
            problem(key, "expected {prefix: ADDRESS/LENGTH, origins: [ASN, ...], max_length: N}, got %r" % (entry,))
            continue
        for extra in sorted(set(entry) - set(PREFIX_KEYS)):
            problem("%s.%s" % (key, extra), "unknown key (expected prefix, origins, max_length)")
        origins = entry.get("origins")
        if not isinstance(origins, list) or not origins:
            problem(
                key + ".origins",
                "expected a non-empty list of the AS numbers that may originate %s, got %r"
                % (entry["prefix"], origins),
            )
            continue
        origins = _asns(origins, key + ".origins", problem)
        max_length = entry.get("max_length")
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
            problem(key + ".max_length", "expected a prefix length, got %r" % (max_length,))
            continue
        try:
            owned.append(owned_prefix(entry["prefix"], origins, max_length))
        except ValueError as error:
            problem(key + (".max_length" if "max_length" in str(error) else ".prefix"), str(error))
    return owned


def _asns(values, key, problem):
    if not isinstance(values, list):
        problem(key, "expected a list of AS numbers, got %r" % (values,))
        return frozenset()
    numbers = set()
    for value in values:
        try:
            numbers.add(asn(value))
        except ValueError as error:
            problem(key, str(error))
    return frozenset(numbers)


def _file(path, problem):
    if path is None:
        return None
    directory = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(directory):
        problem("alert.file", "the directory %s does not exist (create it, or point file elsewhere)" % directory)
    elif not os.access(directory, os.W_OK):
        problem("alert.file", "the directory %s is not writable" % directory)
    return str(path)


def _program(program, problem):
    if program is None:
        return None
    if isinstance(program, str):
        program = [program]
    if not isinstance(program, list) or not program or not all(isinstance(arg, (str, int)) for arg in program):
        problem("alert.exec", "expected the command as a list: [COMMAND, ARG, ...] (it runs without a shell)")
        return None
    program = [str(arg) for arg in program]
    if shutil.which(program[0]) is None:
        problem("alert.exec", "%r is not an executable file nor a command on PATH" % program[0])
    return program


def _webhook(url, problem):
    if url is None:
        return None
    try:
        parts = urlsplit(str(url))
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        problem("alert.webhook", "expected an http:// or https:// URL, got %r" % (url,))
        return None
    return str(url)
