# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JunOS configuration: the safe NETCONF session and the set lines for rpki, limits and guard.

The session (JunosConfigSession), over ncclient's junos handler (device/netconf.py):

* a change is made under the exclusive lock of the candidate (`<lock>`, as `configure exclusive`):
  JunOS does not allow `commit confirmed` on a private copy ("You cannot perform this commit
  operation on a private copy of the configuration", Junos XML protocol guide, <commit-configuration>
  confirmed; the CLI guide says the same of `configure private`), and a change without commit
  confirmed is not safe. A lock someone holds, or a shared candidate holding someone else's
  uncommitted changes ("configuration database modified"), is waited for up to lock_timeout
  seconds, then refused (LockHeld): their work is never discarded or committed.
* check mode opens a private candidate (`<open-configuration><private/>`): load, `show | compare`,
  `commit check`, close; the shared candidate and the lock are never touched.
* load: `load-configuration action="set"` (set/delete lines); diff: `get-configuration
  compare="rollback" rollback="0" format="text"` (the router's own `show | compare`).
* commit: `commit check`, then `commit confirmed N` with `<log>comment</log>`.
* post-checks: `get-validation-session-information` (every RTR cache the change configures Up)
  and `get-bgp-summary-information` (every neighbour Established before still is), polled for
  up to post_check_wait seconds (an RTR session needs a moment to come up).
* confirm: a plain `commit`.
* leaving without confirm: before the commit, `discard-changes` and `unlock` (JunOS also discards
  a locked candidate when the session ends); after the commit confirmed, roll back at once:
  `load-configuration rollback="1"` + `commit` (which also stops the confirm timer), then check
  that the committed configuration is the one read at the start. If the session is gone, JunOS
  rolls back by itself: when the session ends (RFC 6241 8.4.1; Juniper "Terminate a NETCONF
  Session") and at the latest when the confirm timer runs out.

Config (sources: VENDOR.md 1a-1c, copied into tests/unit/fixtures/junos/vendor_config.md):

* rpki: `routing-options validation group PEERWARDEN session ADDR port|refresh-time|hold-time|
  record-lifetime|preference`; JunOS wants hold-time >= 2 x refresh-time, so hold-time is set to
  max(600, 2 x refresh) and a refresh above 1800 s is refused before the router is touched. retry
  has no JunOS statement (the router retries on its own). A policy-statement (PEERWARDEN-RPKI)
  rejects invalid and marks valid/unknown (community add / local-preference) with `next policy`,
  never `accept`, so the import chain goes on; it goes in FRONT of each chosen group's (or
  neighbour's) import chain, the existing policies kept in order. A neighbour's own import replaces
  the group's, so a neighbour's chain starts from what it inherits.
* limits: per neighbour `family inet|inet6 unicast prefix-limit maximum N` and `teardown T
  idle-timeout M|forever` (teardown with no restart stays down, as on IOS), or maximum alone
  (warning only: JunOS only logs without teardown). A neighbour-level `family` replaces the group's
  families, so when a neighbour gets its first family statement the group's family lines are
  copied to it. Prefix-length limits: policy PEERWARDEN-LIMITS (route-filter 0.0.0.0/0
  prefix-length-range /25-/32 reject, ::/0 /49-/128; too-short with upto), in front of the groups'
  import chains.
* guard: `firewall family inet|inet6 filter NAME`: term bgp-peers (the configured neighbours in
  the peering LANs, read from protocols bgp, port bgp, accept), term bgp-strangers (the LANs, port
  bgp: count, log, syslog, discard), term rest (accept: filters end in an implicit discard); input
  filter on each peering interface unit; `system syslog file messages firewall any` so the
  `syslog` action's PFE_FW_SYSLOG lines land in `show log messages`, and `log` fills `show
  firewall log` - the two things log_events reads.

plan() replaces what the collection owns (its validation group, policies, communities, filters)
wholesale when it differs, and touches the rest (import chains, prefix-limits, interface filters)
line by line; it returns no lines when the router already matches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import time

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device import netconf
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import ConfigRefused, DeviceError, LockHeld
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import ConfigSession

VALIDATION_GROUP = "PEERWARDEN"
COMMUNITIES = {"valid": "PEERWARDEN-RPKI-VALID", "not_found": "PEERWARDEN-RPKI-NOT-FOUND"}
DEFAULT_HOLD = 600
MAX_REFRESH = 1800
MAX_IDLE_TIMEOUT = 2400
FAMILIES = {"ipv4": "inet", "ipv6": "inet6"}
OWNED_POLICY_PREFIX = "PEERWARDEN-"

#: what running() reads of the committed configuration
RUNNING_FILTER = ("<configuration><protocols><bgp/></protocols><routing-options><validation/></routing-options>"
                  "<policy-options/><firewall/><interfaces/><system><syslog/></system></configuration>")

LOCK_RETRY_SECONDS = 2.0


# --- reading set lines ---------------------------------------------------------------------------


def statements(running):
    """The statements of `show configuration | display set` text, without the `set ` word."""
    out = []
    for line in (running or "").splitlines():
        line = line.strip()
        if line.startswith("set "):
            out.append(" ".join(line[4:].split()))
    return out


def words(statement):
    return re.findall(r'\[[^\]]*\]|"[^"]*"|\S+', statement)


def under(config, prefix):
    """The statements at or below prefix, in order."""
    return [line for line in config if line == prefix or line.startswith(prefix + " ")]


def _list_value(text):
    text = text.strip()
    if text.startswith("["):
        return text.strip("[]").split()
    return [text]


def _list_text(values):
    return values[0] if len(values) == 1 else "[ %s ]" % " ".join(values)


class Bgp:
    """protocols bgp as the plans need it: groups, their neighbours, import chains and families."""

    def __init__(self, config):
        self.groups = {}
        for line in config:
            match = re.match(r"^protocols bgp group (\S+)(?: (.*))?$", line)
            if not match:
                continue
            group = self.groups.setdefault(match.group(1), {"import": [], "family_lines": [], "neighbors": {}})
            rest = match.group(2) or ""
            neighbor = re.match(r"^neighbor (\S+)(?: (.*))?$", rest)
            target = group
            if neighbor:
                address = canonical_address(neighbor.group(1)) or neighbor.group(1)
                target = group["neighbors"].setdefault(address, {"name": neighbor.group(1), "import": [],
                                                                 "family_lines": []})
                rest = neighbor.group(2) or ""
            if rest.startswith("import "):
                target["import"].extend(_list_value(rest[len("import "):]))
            elif rest.startswith("family "):
                target["family_lines"].append(rest)

    def find(self, address):
        """(group name, neighbour dict) of a configured neighbour, or (None, None)."""
        for name, group in self.groups.items():
            if address in group["neighbors"]:
                return name, group["neighbors"][address]
        return None, None

    def neighbors(self):
        return [address for group in self.groups.values() for address in group["neighbors"]]


def _families(lines):
    out = []
    for line in lines:
        family = words(line)[1]
        if family not in out:
            out.append(family)
    return out


def carried_families(bgp, group, neighbor, address):
    """The families a neighbour's session carries: its own, else its group's, else JunOS' default."""
    own = _families(neighbor["family_lines"])
    if own:
        return own
    inherited = _families(bgp.groups[group]["family_lines"])
    if inherited:
        return inherited
    return ["inet6" if ":" in address else "inet"]


def _replace_owned(config, prefix, desired):
    """Lines that make the statements under prefix exactly desired (in order); [] when they are."""
    current = under(config, prefix)
    if current == desired:
        return []
    lines = ["delete " + prefix] if current else []
    return lines + ["set " + line for line in desired]


def _chain_lines(path, chain, new_chain, own):
    """Lines that set the import chain at path (own: whether path has its own import now)."""
    if chain == new_chain:
        return []
    lines = ["delete %s import" % path] if own else []
    if new_chain:
        lines.append("set %s import %s" % (path, _list_text(new_chain)))
    return lines


def in_front(policy, chain):
    """chain with policy in front of every policy the collection did not add (ours start PEERWARDEN-).

    Several features each put their policy in front: a chain that already starts with ours, in
    any order, is left as it is (else two features would keep swapping places)."""
    lead = []
    for name in chain:
        if name != policy and not name.startswith(OWNED_POLICY_PREFIX):
            break
        lead.append(name)
    if policy in lead:
        return list(chain)
    return [policy] + [name for name in chain if name != policy]


def _prepend(bgp, policy, groups, neighbors, option_groups="groups", option_neighbors="neighbors"):
    lines = []
    for group in groups:
        if group not in bgp.groups:
            raise IntentError("%s: %r is not a BGP group on this router (it has: %s)"
                              % (option_groups, group, ", ".join(sorted(bgp.groups)) or "none"))
        chain = bgp.groups[group]["import"]
        new = in_front(policy, chain)
        lines.extend(_chain_lines("protocols bgp group %s" % group, chain, new, bool(chain)))
    for address in neighbors:
        group, neighbor = bgp.find(address)
        if neighbor is None:
            raise IntentError("%s: %r is not a BGP neighbour on this router" % (option_neighbors, address))
        own = bool(neighbor["import"])
        chain = neighbor["import"] if own else bgp.groups[group]["import"]
        new = in_front(policy, chain)
        lines.extend(_chain_lines("protocols bgp group %s neighbor %s" % (group, neighbor["name"]), chain, new, own))
    return lines


def _remove_from_chains(bgp, policy):
    lines = []
    for name, group in bgp.groups.items():
        if policy in group["import"]:
            new = [p for p in group["import"] if p != policy]
            lines.extend(_chain_lines("protocols bgp group %s" % name, group["import"], new, True))
        for neighbor in group["neighbors"].values():
            if policy in neighbor["import"]:
                new = [p for p in neighbor["import"] if p != policy]
                lines.extend(_chain_lines("protocols bgp group %s neighbor %s" % (name, neighbor["name"]),
                                          neighbor["import"], new, True))
    return lines


def _delete_if_present(config, prefix):
    return ["delete " + prefix] if under(config, prefix) else []


# --- rpki --------------------------------------------------------------------------------------


def junos_hold_time(refresh):
    """hold-time for a refresh-time: JunOS wants hold >= 2 x refresh; default 600."""
    return max(DEFAULT_HOLD, 2 * refresh) if refresh else None


def check_rpki(intent):
    for index, cache in enumerate(intent["caches"]):
        if cache.get("refresh") and cache["refresh"] > MAX_REFRESH:
            raise IntentError("caches[%d].refresh: %r is more than JunOS allows for refresh-time (1-%d s; its "
                              "hold-time must be at least twice the refresh-time, at most 3600 s)"
                              % (index, cache["refresh"], MAX_REFRESH))


def rpki_owned(intent):
    """[(prefix, statements)] the collection owns for rpki."""
    check_rpki(intent)
    group = "routing-options validation group %s" % VALIDATION_GROUP
    sessions = []
    for cache in intent["caches"]:
        base = "%s session %s" % (group, cache["address"])
        sessions.append("%s port %d" % (base, cache["port"]))
        if cache.get("refresh"):
            sessions.append("%s refresh-time %d" % (base, cache["refresh"]))
            sessions.append("%s hold-time %d" % (base, junos_hold_time(cache["refresh"])))
        if cache.get("expire"):
            sessions.append("%s record-lifetime %d" % (base, cache["expire"]))
        sessions.append("%s preference %d" % (base, cache["preference"]))
    owned = [(group, sessions)]
    policy = "policy-options policy-statement %s" % intent["policy"]
    terms = ["%s term invalid from protocol bgp" % policy,
             "%s term invalid from validation-database invalid" % policy,
             "%s term invalid then validation-state invalid" % policy,
             "%s term invalid then reject" % policy]
    for state, term, match in (("valid", "valid", "valid"), ("not_found", "unknown", None)):
        mark = intent[state] or {}
        terms.append("%s term %s from protocol bgp" % (policy, term))
        if match:
            terms.append("%s term %s from validation-database %s" % (policy, term, match))
        terms.append("%s term %s then validation-state %s" % (policy, term, term))
        community = "policy-options community %s" % COMMUNITIES[state]
        if mark.get("community"):
            owned.append((community, ["%s members %s" % (community, mark["community"])]))
            terms.append("%s term %s then community add %s" % (policy, term, COMMUNITIES[state]))
        else:
            owned.append((community, []))
        if mark.get("local_preference") is not None:
            terms.append("%s term %s then local-preference %d" % (policy, term, mark["local_preference"]))
        terms.append("%s term %s then next policy" % (policy, term))
    owned.append((policy, terms))
    return owned


def plan_rpki(intent, config, state):
    bgp = Bgp(config)
    if state == "absent":
        lines = _remove_from_chains(bgp, intent["policy"])
        for prefix, dummy in rpki_owned(dict(intent, caches=[])):
            lines.extend(_delete_if_present(config, prefix))
        return lines, {}
    lines = []
    for prefix, desired in rpki_owned(intent):
        lines.extend(_replace_owned(config, prefix, desired) if desired else _delete_if_present(config, prefix))
    lines.extend(_prepend(bgp, intent["policy"], intent["groups"], intent["neighbors"]))
    return lines, {"rtr_caches": [cache["address"] for cache in intent["caches"]], "neighbors_stay_up": True}


def _chain_notes(policy, groups, neighbors=()):
    """The comments a rendered configuration ends with: `policy` goes first in these import chains, whose
    rest only the router's configuration says (read when the change is applied)."""
    notes = ["# protocols bgp group %s import: %s first, then the group's import policies as they are "
             "(read from the router when applied)" % (group, policy) for group in groups]
    notes.extend("# neighbor %s import: %s first, then the import policies it has or inherits from its group"
                 % (neighbor, policy) for neighbor in neighbors)
    return notes


def render_rpki(intent):
    lines = []
    for dummy, desired in rpki_owned(intent):
        lines.extend("set " + line for line in desired)
    return lines + _chain_notes(intent["policy"], intent["groups"], intent["neighbors"])


def gather_rpki(config, policy="PEERWARDEN-RPKI"):
    caches = {}
    for line in config:
        match = re.match(r"^routing-options validation group (\S+) session (\S+)(?: (\S+) (\S+))?$", line)
        if not match:
            continue
        cache = caches.setdefault(match.group(2), {"address": canonical_address(match.group(2)) or match.group(2),
                                                   "group": match.group(1), "port": 323, "preference": None,
                                                   "refresh": None, "hold": None, "expire": None})
        key = {"port": "port", "preference": "preference", "refresh-time": "refresh", "hold-time": "hold",
               "record-lifetime": "expire"}.get(match.group(3) or "")
        if key:
            cache[key] = int(match.group(4))
    prefix = "policy-options policy-statement %s" % policy
    marks = {}
    for state, term in (("valid", "valid"), ("not_found", "unknown")):
        mark = {"community": None, "local_preference": None}
        for line in under(config, "%s term %s then" % (prefix, term)):
            match = re.search(r"then community add (\S+)$", line)
            if match:
                members = under(config, "policy-options community %s members" % match.group(1))
                mark["community"] = members[0].split()[-1] if members else match.group(1)
            match = re.search(r"then local-preference (\d+)$", line)
            if match:
                mark["local_preference"] = int(match.group(1))
        marks[state] = mark
    bgp = Bgp(config)
    present = bool(under(config, prefix))
    return {
        "caches": list(caches.values()),
        "policy": policy if present else None,
        "valid": marks["valid"], "not_found": marks["not_found"],
        "invalid": "reject" if under(config, "%s term invalid then reject" % prefix) else None,
        "groups": [name for name, group in bgp.groups.items() if policy in group["import"]],
        "neighbors": [address for group in bgp.groups.values() for address, neighbor in group["neighbors"].items()
                      if policy in neighbor["import"]],
    }


# --- limits ------------------------------------------------------------------------------------


def _limit_statements(path, family, maximum, neighbor):
    base = "%s family %s unicast prefix-limit" % (path, family)
    lines = ["%s maximum %d" % (base, maximum)]
    if neighbor["on_exceed"] == "teardown":
        idle = neighbor["restart_minutes"]
        lines.append("%s teardown %d idle-timeout %s" % (base, neighbor["threshold"], idle if idle else "forever"))
    return base, lines


def length_policy(intent):
    policy = "policy-options policy-statement %s" % intent["policy"]
    lines = []
    for family, junos, zero, bits in (("ipv4", "inet", "0.0.0.0/0", 32), ("ipv6", "inet6", "::/0", 128)):
        suffix = "v4" if family == "ipv4" else "v6"
        longest = intent["max_length"][family]
        if longest is not None and longest < bits:
            term = "%s term too-specific-%s" % (policy, suffix)
            lines += ["%s from family %s" % (term, junos),
                      "%s from route-filter %s prefix-length-range /%d-/%d" % (term, zero, longest + 1, bits),
                      "%s then reject" % term]
        shortest = intent["min_length"][family]
        if shortest:
            term = "%s term too-short-%s" % (policy, suffix)
            lines += ["%s from family %s" % (term, junos),
                      "%s from route-filter %s upto /%d" % (term, zero, shortest - 1),
                      "%s then reject" % term]
    return policy, lines


def check_limits(intent):
    for index, neighbor in enumerate(intent["neighbors"]):
        if neighbor.get("restart_minutes") and neighbor["restart_minutes"] > MAX_IDLE_TIMEOUT:
            raise IntentError("neighbors[%d].restart_minutes: %r is more than JunOS allows for prefix-limit "
                              "idle-timeout (1-%d minutes)" % (index, neighbor["restart_minutes"], MAX_IDLE_TIMEOUT))


def plan_limits(intent, config, state):
    check_limits(intent)
    bgp = Bgp(config)
    policy, policy_lines = length_policy(intent)
    lines = []
    for index, entry in enumerate(intent["neighbors"]):
        group, neighbor = bgp.find(entry["address"])
        if neighbor is None:
            raise IntentError("neighbors[%d].address: %r is not a BGP neighbour on this router" % (index, entry["address"]))
        path = "protocols bgp group %s neighbor %s" % (group, neighbor["name"])
        if state == "absent":
            for family in ("inet", "inet6"):
                lines.extend(_delete_if_present(config, "%s family %s unicast prefix-limit" % (path, family)))
            continue
        carried = carried_families(bgp, group, neighbor, entry["address"])
        wanted = []
        for family, junos in sorted(FAMILIES.items()):
            if entry["max_prefixes"].get(family) is not None and junos in carried:
                wanted.append(_limit_statements(path, junos, entry["max_prefixes"][family], entry))
        if wanted and not neighbor["family_lines"]:
            # the neighbour's first family statement replaces the group's families: keep them
            limited = [base for base, dummy in wanted]
            for line in bgp.groups[group]["family_lines"]:
                copy = "%s %s" % (path, line)
                if not any(copy == base or copy.startswith(base + " ") for base in limited):
                    lines.append("set " + copy)
        for base, desired in wanted:
            lines.extend(_replace_owned(config, base, desired))
    if state == "absent":
        lines.extend(_remove_from_chains(bgp, intent["policy"]))
        lines.extend(_delete_if_present(config, policy))
        return lines, {}
    if intent["groups"] and policy_lines:
        lines.extend(_replace_owned(config, policy, policy_lines))
        lines.extend(_prepend(bgp, intent["policy"], intent["groups"], []))
    return lines, {"neighbors_stay_up": True}


def render_limits(intent):
    check_limits(intent)
    lines = []
    for entry in intent["neighbors"]:
        for family, junos in sorted(FAMILIES.items()):
            if entry["max_prefixes"].get(family) is not None:
                path = "protocols bgp group <its group> neighbor %s" % entry["address"]
                lines.extend("set " + line for line in _limit_statements(path, junos, entry["max_prefixes"][family], entry)[1])
    dummy, policy_lines = length_policy(intent)
    if intent["groups"] and policy_lines:
        lines.extend("set " + line for line in policy_lines)
        lines.extend(_chain_notes(intent["policy"], intent["groups"]))
    return lines


def gather_limits(config, policy="PEERWARDEN-LIMITS"):
    neighbors = {}
    for line in config:
        match = re.match(r"^protocols bgp group \S+ neighbor (\S+) family (inet6?) unicast prefix-limit (.*)$", line)
        if not match:
            continue
        address = canonical_address(match.group(1)) or match.group(1)
        entry = neighbors.setdefault(address, {"address": address, "max_prefixes": {"ipv4": None, "ipv6": None},
                                               "threshold": None, "on_exceed": "warning", "restart_minutes": None})
        family = "ipv6" if match.group(2) == "inet6" else "ipv4"
        rest = match.group(3).split()
        if rest[0] == "maximum":
            entry["max_prefixes"][family] = int(rest[1])
        elif rest[0] == "teardown":
            entry["on_exceed"] = "teardown"
            if len(rest) > 1 and rest[1].isdigit():
                entry["threshold"] = int(rest[1])
            if "idle-timeout" in rest:
                value = rest[rest.index("idle-timeout") + 1]
                entry["restart_minutes"] = int(value) if value.isdigit() else None
    prefix = "policy-options policy-statement %s" % policy
    lengths = {"max_length": {"ipv4": None, "ipv6": None}, "min_length": {"ipv4": None, "ipv6": None}}
    for line in under(config, prefix):
        match = re.search(r"term too-specific-v([46]) from route-filter \S+ prefix-length-range /(\d+)-", line)
        if match:
            lengths["max_length"]["ipv%s" % match.group(1)] = int(match.group(2)) - 1
        match = re.search(r"term too-short-v([46]) from route-filter \S+ upto /(\d+)", line)
        if match:
            lengths["min_length"]["ipv%s" % match.group(1)] = int(match.group(2)) + 1
    bgp = Bgp(config)
    return dict(lengths, neighbors=list(neighbors.values()), policy=policy if under(config, prefix) else None,
                groups=[name for name, group in bgp.groups.items() if policy in group["import"]])


# --- guard -------------------------------------------------------------------------------------


def interface_unit(name):
    """'et-0/0/0.100' -> ('et-0/0/0', '100'); no unit: unit 0."""
    ifd, dot, unit = str(name).rpartition(".")
    if not dot or not unit.isdigit():
        return str(name), "0"
    return ifd, unit


def _lans(intent, version):
    return [lan for lan in intent["peering_lans"] if ipaddress.ip_network(lan).version == version]


def guard_neighbors(intent, config):
    """The neighbours the guard lets in: the router's configured ones (and any given) inside the peering LANs."""
    lans = [ipaddress.ip_network(lan) for lan in intent["peering_lans"]]
    found = []
    for address in list(intent.get("neighbors") or []) + Bgp(config).neighbors():
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if any(ip.version == lan.version and ip in lan for lan in lans) and address not in found:
            found.append(address)
    return sorted(found, key=lambda text: (ipaddress.ip_address(text).version, ipaddress.ip_address(text)))


def guard_filters(intent, neighbors):
    """[(prefix, statements)] of the firewall filters, per family that has a peering LAN."""
    owned = []
    for version, family, host, protocol in ((4, "inet", 32, "protocol tcp"), (6, "inet6", 128, "next-header tcp")):
        lans = _lans(intent, version)
        prefix = "firewall family %s filter %s" % (family, intent["name"])
        if not lans:
            owned.append((prefix, []))
            continue
        lines = []
        peers = [address for address in neighbors if ipaddress.ip_address(address).version == version]
        if peers:
            term = "%s term bgp-peers" % prefix
            lines += ["%s from source-address %s/%d" % (term, address, host) for address in peers]
            lines += ["%s from %s" % (term, protocol), "%s from port bgp" % term, "%s then accept" % term]
        term = "%s term bgp-strangers" % prefix
        lines += ["%s from source-address %s" % (term, lan) for lan in lans]
        lines += ["%s from %s" % (term, protocol), "%s from port bgp" % term,
                  "%s then count %s-strangers" % (term, intent["name"])]
        if intent.get("log", True):
            lines += ["%s then log" % term, "%s then syslog" % term]
        lines += ["%s then discard" % term, "%s term rest then accept" % prefix]
        owned.append((prefix, lines))
    return owned


SYSLOG_LINE = "system syslog file messages firewall any"


def plan_guard(intent, config, state):
    lines = []
    name = intent["name"]
    if state == "absent":
        for line in config:
            match = re.match(r"^(interfaces \S+ unit \S+ family inet6? filter input) (\S+)$", line)
            if match and match.group(2) == name:
                lines.append("delete %s" % match.group(1))
        for family in ("inet", "inet6"):
            lines.extend(_delete_if_present(config, "firewall family %s filter %s" % (family, name)))
        return lines, {}
    for prefix, desired in guard_filters(intent, guard_neighbors(intent, config)):
        lines.extend(_replace_owned(config, prefix, desired) if desired else _delete_if_present(config, prefix))
    for index, interface in enumerate(intent["interfaces"]):
        ifd, unit = interface_unit(interface)
        unit_path = "interfaces %s unit %s" % (ifd, unit)
        if not under(config, unit_path):
            raise IntentError("interfaces[%d]: %r (%s) is not configured on this router" % (index, interface, unit_path))
        for version, family in ((4, "inet"), (6, "inet6")):
            if not _lans(intent, version):
                continue
            path = "%s family %s filter" % (unit_path, family)
            present = under(config, path)
            wanted = "%s input %s" % (path, name)
            others = [line for line in present if line.startswith(path + " input") and line != wanted]
            if others:
                raise IntentError("interfaces[%d]: %r already has an input filter (%s); the guard would replace it. "
                                  "Add the guard's terms to that filter, or remove it first"
                                  % (index, interface, "; ".join(others)))
            if wanted not in present:
                lines.append("set " + wanted)
    if intent.get("log", True) and SYSLOG_LINE not in config:
        lines.append("set " + SYSLOG_LINE)
    return lines, {"neighbors_stay_up": True}


def render_guard(intent):
    lines = ["# bgp-peers: the neighbours configured in protocols bgp inside the peering LANs (read when applied)"]
    for dummy, desired in guard_filters(intent, list(intent.get("neighbors") or [])):
        lines.extend("set " + line for line in desired)
    for interface in intent["interfaces"]:
        ifd, unit = interface_unit(interface)
        for version, family in ((4, "inet"), (6, "inet6")):
            if _lans(intent, version):
                lines.append("set interfaces %s unit %s family %s filter input %s" % (ifd, unit, family, intent["name"]))
    if intent.get("log", True):
        lines.append("set " + SYSLOG_LINE)
    return lines


def gather_guard(config, name="PEERWARDEN-BGP-GUARD"):
    lans, neighbors, interfaces = [], [], []
    logged = False
    for family in ("inet", "inet6"):
        prefix = "firewall family %s filter %s" % (family, name)
        for line in under(config, prefix + " term bgp-strangers from source-address"):
            lans.append(line.split()[-1])
        for line in under(config, prefix + " term bgp-peers from source-address"):
            neighbors.append(line.split()[-1].split("/")[0])
        logged = logged or bool(under(config, prefix + " term bgp-strangers then log"))
    for line in config:
        match = re.match(r"^interfaces (\S+) unit (\S+) family inet6? filter input (\S+)$", line)
        if match and match.group(3) == name:
            interface = "%s.%s" % (match.group(1), match.group(2))
            if interface not in interfaces:
                interfaces.append(interface)
    present = bool(under(config, "firewall family inet filter %s" % name) or
                   under(config, "firewall family inet6 filter %s" % name))
    return {"name": name if present else None, "interfaces": interfaces, "peering_lans": lans,
            "neighbors": neighbors, "log": logged}


# --- the driver's entry points -----------------------------------------------------------------

PLANS = {"rpki": plan_rpki, "limits": plan_limits, "guard": plan_guard}
RENDERS = {"rpki": render_rpki, "limits": render_limits, "guard": render_guard}


def plan(feature, intent, running, state):
    lines, expect = PLANS[feature](intent, statements(running), state)
    return lines, expect


def render(feature, intent):
    return RENDERS[feature](intent)


def gather(feature, running, intent=None):
    config = statements(running)
    intent = intent or {}
    if feature == "rpki":
        return gather_rpki(config, intent.get("policy") or "PEERWARDEN-RPKI")
    if feature == "limits":
        return gather_limits(config, intent.get("policy") or "PEERWARDEN-LIMITS")
    return gather_guard(config, intent.get("name") or "PEERWARDEN-BGP-GUARD")


# --- the session -------------------------------------------------------------------------------


def _text(reply, tag):
    """The text of the first <tag> in an ncclient junos reply (namespaces already stripped)."""
    found = reply.xpath("//%s" % tag)
    if not found:
        return ""
    node = found[0]
    return node.text if hasattr(node, "text") and node.text is not None else ""


class JunosConfigSession(ConfigSession):
    """One change on one JunOS router over NETCONF (see the module doc for the sequence)."""

    def __init__(self, device, options):
        self.device = device
        self.check_mode = bool(options.get("check_mode"))
        self.lock_timeout = float(options.get("lock_timeout") if options.get("lock_timeout") is not None else 60)
        wait = options.get("post_check_wait")
        self.post_check_wait = float(60 if wait is None else wait)
        self.connection = None
        self.restored = None
        self.before = None          # the committed configuration (set text) read by running()
        self.locked = self.private = self.loaded = self.pending = self.confirmed = False
        self.confirm_minutes = None
        self.lost = False

    # --- helpers ---

    def _call(self, rpc_name, function, *args, **kwargs):
        try:
            return netconf.call(self.device, rpc_name, function, *args, **kwargs)
        except netconf.NetconfFailed as error:
            if error.lost:
                self.lost = True
            raise

    def _rpc(self, xml, rpc_name=None):
        try:
            return netconf.rpc(self.device, self.connection, xml, rpc_name)
        except netconf.NetconfFailed as error:
            if error.lost:
                self.lost = True
            raise

    def _committed(self):
        reply = self._rpc('<get-configuration database="committed" format="set">%s</get-configuration>'
                          % RUNNING_FILTER, "get-configuration")
        return _text(reply, "configuration-set")

    def _candidate(self):
        reply = self._rpc('<get-configuration format="set">%s</get-configuration>' % RUNNING_FILTER, "get-configuration")
        return _text(reply, "configuration-set")

    # --- the context ---

    def __enter__(self):
        self.connection = netconf.connect(self.device)
        try:
            if self.check_mode:
                self._open_private()
            else:
                self._lock()
        except BaseException:
            netconf.close(self.connection)
            self.connection = None
            raise
        return self

    def _wait_for(self, attempt, what):
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                return attempt()
            except netconf.NetconfFailed as error:
                if error.lost or error.router_said is None:
                    raise
                said = error.router_said
                busy = "locked" in said or "database modified" in said or "lock-denied" in said
                if not busy:
                    raise
                if time.monotonic() >= deadline:
                    raise LockHeld("%s is being changed by someone else, so it was not touched (waited %ds for %s). "
                                   "JunOS said: %s. Wait for them to commit or leave, then run again"
                                   % (netconf.where(self.device), self.lock_timeout, what, said))
                time.sleep(min(LOCK_RETRY_SECONDS, max(0.1, deadline - time.monotonic())))

    def _lock(self):
        self._wait_for(lambda: self._call("lock", self.connection.lock, target="candidate"),
                       "the exclusive configuration lock")
        self.locked = True

    def _open_private(self):
        self._wait_for(lambda: self._rpc("<open-configuration><private/></open-configuration>", "open-configuration"),
                       "a private candidate")
        self.private = True

    def running(self):
        self.before = self._committed()
        return self.before

    def baseline(self):
        return {"established": sorted(address for address, state in self._bgp_states().items()
                                      if state == "Established")}

    def load(self, lines):
        self.loaded = True
        try:
            self._call("load-configuration", self.connection.load_configuration, action="set", config=list(lines))
        except netconf.NetconfFailed as error:
            if error.lost:
                raise
            raise ConfigRefused("%s refused the change when it was loaded: %s"
                                % (netconf.where(self.device), error.router_said))

    def diff(self):
        reply = self._call("get-configuration", self.connection.compare_configuration, rollback=0)
        text = _text(reply, "configuration-output").strip("\n")
        if self.check_mode and text.strip():
            self._commit_check()
        return text

    def _commit_check(self):
        try:
            self._call("commit-configuration", self.connection.commit, check=True)
        except netconf.NetconfFailed as error:
            if error.lost:
                raise
            raise ConfigRefused("%s refused the change at commit check: %s" % (netconf.where(self.device),
                                                                               error.router_said))

    def commit(self, confirm_minutes, comment):
        self._commit_check()
        minutes = max(1, int(confirm_minutes))
        try:
            self._call("commit-configuration", self.connection.commit, confirmed=True, timeout=str(minutes * 60),
                       comment=comment or "peerwarden")
        except netconf.NetconfFailed as error:
            if error.lost:
                # the RPC may have reached the router: if it did, the confirm timer is running
                self.pending, self.confirm_minutes = True, minutes
                raise
            raise ConfigRefused("%s refused the commit confirmed: %s" % (netconf.where(self.device), error.router_said))
        self.pending, self.confirm_minutes = True, minutes

    def problems(self, baseline, expect):
        problems = []
        caches = expect.get("rtr_caches") or []
        if caches:
            sessions = self._rtr_states()
            for address in caches:
                state = sessions.get(address)
                if state != "Up":
                    problems.append("RTR session to %s is %s (show validation session)" % (address, state or "missing"))
        if baseline.get("established"):
            states = self._bgp_states()
            for address in baseline["established"]:
                if states.get(address) != "Established":
                    problems.append("BGP neighbour %s was Established before the change and is now %s (show bgp summary)"
                                    % (address, states.get(address) or "gone"))
        return problems

    def _bgp_states(self):
        return self._states("get-bgp-summary-information", "bgp-peer", "peer-address", "peer-state")

    def _rtr_states(self):
        return self._states("get-validation-session-information", "rv-session", "ip-address", "session-state")

    def _states(self, rpc, element, address_field, state_field):
        """{address: state} of each element of an operational RPC's reply (a peer address's "+port" dropped)."""
        states = {}
        for item in self._rpc("<%s/>" % rpc).xpath("//" + element):
            address = (item.findtext(address_field) or "").strip().split("+")[0]
            states[canonical_address(address) or address] = (item.findtext(state_field) or "").strip()
        return states

    def confirm(self):
        """A plain commit; then check that it confirmed the change and not the router's own rollback
        (a confirm after the timer ran out commits the rolled-back candidate and changes nothing)."""
        self._call("commit-configuration", self.connection.commit)
        self.pending, self.confirmed = False, True
        try:
            now = self._committed()
        except netconf.NetconfFailed as error:
            if error.lost:
                return  # the commit was answered: the change is confirmed
            raise
        if self.before is not None and statements(now) == statements(self.before):
            self.pending, self.confirmed = True, False
            raise DeviceError("the confirm came too late on %s: JunOS had already rolled the change back (the %s-minute "
                              "confirm timer ran out during the post-checks); nothing is changed. Raise confirm_timeout"
                              % (netconf.where(self.device), self.confirm_minutes))

    def __exit__(self, *exc_info):
        try:
            if not self.confirmed:
                self.restored = self._restore()
        finally:
            if self.connection is not None and not self.lost:
                if self.locked:
                    try:
                        self._call("unlock", self.connection.unlock, target="candidate")
                    except DeviceError:
                        pass  # the lock goes with the session
                netconf.close(self.connection)
            self.connection = None
        return False

    def _restore(self):
        where = netconf.where(self.device)
        if self.pending:
            return self._roll_back(where)
        if self.private:
            if not self.lost:
                try:
                    self._rpc("<close-configuration/>")
                except DeviceError:
                    pass  # a private candidate dies with its session
            return "nothing was committed: the private candidate was closed (check mode); the router is as it was"
        if not self.loaded:
            return "nothing was changed"
        if self.lost:
            return ("nothing was committed: the session was lost before the commit, and JunOS discards the "
                    "candidate of a session that held the lock when it ends")
        try:
            self._call("discard-changes", self.connection.discard_changes)
        except DeviceError as error:
            return ("nothing was committed; discarding the candidate failed (%s), JunOS discards it when the "
                    "session ends" % error)
        return "nothing was committed: the candidate was discarded and the lock released"

    def _roll_back(self, where):
        timer = ("JunOS rolls the commit back by itself when the session ends (RFC 6241 8.4.1) and at the latest "
                 "when the %s-minute confirm timer runs out" % self.confirm_minutes)
        if self.lost:
            return "the commit was not confirmed and the session was lost: %s" % timer
        already = ("the router had already rolled the unconfirmed commit back by itself (the %s-minute confirm "
                   "timer ran out); the committed configuration is the one before the change (checked)"
                   % self.confirm_minutes)
        try:
            if self.before is not None and statements(self._committed()) == statements(self.before):
                self.pending = False
                return already
            self._call("load-configuration", self.connection.rollback, rollback=1)
            if self.before is not None and statements(self._candidate()) != statements(self.before):
                # the timer ran out between the two reads: rollback 1 is now the change itself
                self._call("discard-changes", self.connection.discard_changes)
                if statements(self._committed()) == statements(self.before):
                    self.pending = False
                    return already
                raise DeviceError("rollback 1 is not the configuration from before the change")
            self._call("commit-configuration", self.connection.commit,
                       comment="peerwarden: rolled back, the change was not confirmed")
            after = self._committed()
        except DeviceError as error:
            if self.lost:
                return "the commit was not confirmed; rolling back at once failed (%s): %s" % (error, timer)
            raise DeviceError("the commit confirmed on %s could not be rolled back at once (%s); %s. Check the "
                              "router: it may be left changed until then" % (where, error, timer))
        self.pending = False
        if self.before is not None and statements(after) != statements(self.before):
            raise DeviceError("the commit confirmed on %s was rolled back (rollback 1 + commit) but the committed "
                              "configuration differs from the one before the change: the router may be left changed; "
                              "compare with 'show system commit' and 'show configuration | compare rollback 2'" % where)
        return ("rolled back at once: loaded rollback 1 and committed it; the committed configuration is the one "
                "before the change (checked)")


def session(driver, device, options):
    return JunosConfigSession(device, options)
