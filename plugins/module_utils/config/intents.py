# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the config modules want, checked before any router is touched, in one vocabulary for every
platform (and the runner's limit stage where they mean the same: max_prefixes, max_length, min_length).

Each intent is a plain dict with the keys below; the platform renderers (platforms/<os>/config.py)
turn it into that platform's lines. Every check names the option and the value.

rpki:   {"caches": [{"address", "port", "preference", "refresh", "retry", "expire"}],
         "policy": NAME, "valid": MARK, "not_found": MARK, "invalid": "reject",
         "groups": [NAME], "neighbors": [ADDRESS]}
         MARK = {"community": "ASN:VALUE" or None, "local_preference": int or None}
limits: {"neighbors": [{"address", "max_prefixes": {"ipv4": int|None, "ipv6": int|None},
                        "threshold": PERCENT, "on_exceed": "teardown"|"warning", "restart_minutes": int|None}],
         "max_length": {"ipv4": 24, "ipv6": 48}, "min_length": {"ipv4": int|None, "ipv6": int|None},
         "policy": NAME, "groups": [NAME]}
guard:  {"name": NAME, "interfaces": [NAME], "peering_lans": [PREFIX], "neighbors": [ADDRESS] (the router's
         configured ones, filled in from its running config), "log": True}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
COMMUNITY = re.compile(r"^(\d{1,10}):(\d{1,10})$")
MAX_ASN = 4294967295


class IntentError(ValueError):
    """An option's value is wrong; the message names the option and the value."""


def _fail(option, value, why):
    raise IntentError("%s: %r %s" % (option, value, why))


def name(option, value):
    if not isinstance(value, str) or not NAME.match(value):
        _fail(option, value, "is not a usable name (a letter, then letters, digits, - or _; at most 63)")
    return value


def address(option, value):
    text = canonical_address(value) if isinstance(value, str) else None
    if text is None:
        _fail(option, value, "is not an IPv4 or IPv6 address")
    return text


def prefix(option, value):
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError as error:
        _fail(option, value, "is not a prefix (%s)" % error)
    return str(network)


def integer(option, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(option, value, "must be a whole number from %d to %d" % (low, high))
    return value


def community(option, value):
    match = COMMUNITY.match(str(value))
    if not match or int(match.group(1)) > 65535 or int(match.group(2)) > 65535:
        _fail(option, value, "is not a standard community ASN:VALUE (each 0-65535)")
    return "%d:%d" % (int(match.group(1)), int(match.group(2)))


def mark(option, value):
    value = value or {}
    unknown = set(value) - {"community", "local_preference"}
    if unknown:
        _fail(option, sorted(unknown), "are not known (community, local_preference)")
    return {
        "community": community(option + ".community", value["community"]) if value.get("community") else None,
        "local_preference": integer(option + ".local_preference", value["local_preference"], 0, MAX_ASN)
        if value.get("local_preference") is not None else None,
    }


def rpki_intent(options):
    caches = options.get("caches") or []
    if not caches and options.get("state", "present") == "present":
        _fail("caches", caches, "is empty: name at least one RTR cache")
    checked = []
    for index, cache in enumerate(caches):
        where = "caches[%d]" % index
        entry = {
            "address": address(where + ".address", cache.get("address")),
            "port": integer(where + ".port", cache.get("port", 3323), 1, 65535),
            "preference": integer(where + ".preference", cache.get("preference", index + 1), 1, 255),
        }
        for timer, low, high in (("refresh", 1, 86400), ("retry", 1, 7200), ("expire", 600, 172800)):
            value = cache.get(timer)
            entry[timer] = integer(where + "." + timer, value, low, high) if value is not None else None
        if entry["refresh"] and entry["expire"] and entry["expire"] <= entry["refresh"]:
            _fail(where + ".expire", entry["expire"], "must be longer than refresh (%d)" % entry["refresh"])
        checked.append(entry)
    return {
        "caches": checked,
        "policy": name("policy", options.get("policy") or "PEERWARDEN-RPKI"),
        "valid": mark("valid", options.get("valid")),
        "not_found": mark("not_found", options.get("not_found")),
        "invalid": "reject",
        "groups": [name("groups", group) for group in options.get("groups") or []],
        "neighbors": [address("neighbors", neighbor) for neighbor in options.get("neighbors") or []],
    }


def limits_intent(options):
    neighbors = []
    for index, neighbor in enumerate(options.get("neighbors") or []):
        where = "neighbors[%d]" % index
        maximum = neighbor.get("max_prefixes") or {}
        restart = neighbor.get("restart_minutes")
        entry = {
            "address": address(where + ".address", neighbor.get("address")),
            "max_prefixes": dict(
                (family, integer("%s.max_prefixes.%s" % (where, family), maximum[family], 1, 10000000)
                 if maximum.get(family) is not None else None) for family in ("ipv4", "ipv6")),
            "threshold": integer(where + ".threshold", neighbor.get("threshold", 90), 1, 100),
            "on_exceed": neighbor.get("on_exceed", "teardown"),
            "restart_minutes": integer(where + ".restart_minutes", restart, 1, 65535) if restart is not None else None,
        }
        if entry["on_exceed"] not in ("teardown", "warning"):
            _fail(where + ".on_exceed", entry["on_exceed"], "must be teardown or warning")
        if entry["on_exceed"] == "warning" and entry["restart_minutes"]:
            _fail(where + ".restart_minutes", restart, "makes no sense with on_exceed: warning (nothing is torn down)")
        neighbors.append(entry)
    lengths = {}
    for key, defaults, bounds in (("max_length", {"ipv4": 24, "ipv6": 48}, {"ipv4": 32, "ipv6": 128}),
                                  ("min_length", {"ipv4": None, "ipv6": None}, {"ipv4": 32, "ipv6": 128})):
        given = options.get(key) or {}
        lengths[key] = dict(
            (family, integer("%s.%s" % (key, family), given[family], 0, bounds[family])
             if given.get(family) is not None else defaults[family]) for family in ("ipv4", "ipv6"))
    for family in ("ipv4", "ipv6"):
        low, high = lengths["min_length"][family], lengths["max_length"][family]
        if low is not None and high is not None and low > high:
            _fail("min_length.%s" % family, low, "is longer than max_length.%s (%d): no prefix would pass" % (family, high))
    return dict(lengths, neighbors=neighbors, policy=name("policy", options.get("policy") or "PEERWARDEN-LIMITS"),
                groups=[name("groups", group) for group in options.get("groups") or []])


def guard_intent(options):
    interfaces = options.get("interfaces") or []
    if not interfaces:
        _fail("interfaces", interfaces, "is empty: name the peering interfaces the guard goes on")
    lans = options.get("peering_lans") or []
    if not lans:
        _fail("peering_lans", lans, "is empty: name the exchanges' peering LAN prefixes (IPv4 and IPv6)")
    return {
        "name": name("name", options.get("name") or "PEERWARDEN-BGP-GUARD"),
        "interfaces": [str(interface) for interface in interfaces],
        "peering_lans": [prefix("peering_lans", lan) for lan in lans],
        "neighbors": [address("neighbors", neighbor) for neighbor in options.get("neighbors") or []],
        "log": options.get("log", True) is not False,
        "log_group": options.get("log_group"),
    }
