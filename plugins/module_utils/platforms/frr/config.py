# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRRouting configuration over SSH with vtysh: the session, and plan/render/gather of rpki and limits.

FRR has no candidate configuration, no commit confirmed and no configuration lock in vtysh. The
session therefore:

- saves the running config (`show running-config`) when it opens: that text is the checkpoint;
- refuses to load if the running config changed since (someone else is changing the router: LockHeld);
- loads the lines in `configure terminal` (they are live at once), stopping at the first line FRR
  refuses;
- post-checks (`show rpki cache-connection`, `show bgp summary json`: every neighbour Established
  before still is), within the confirm timer, which is the controller's own: confirm_timeout minutes
  from the moment the lines went live. It runs in the controller, not on the router;
- `write memory` only when all of that passed (confirm);
- otherwise puts the saved config back: the difference between the running config now and the saved
  text, inverted line by line, then reads the running config again and compares it with the saved
  text. A restore that does not compare equal raises DeviceError: the router may be left changed.
  Because `write memory` never ran, a bgpd restart would still bring back the saved config.

In check mode nothing is sent in configuration mode: the lines are applied to a model of the running
config (the tree below) and the diff is the text diff of the two renderings.

A configuration is held as a list of paths: tuples of the lines from the top-level context down to
the line itself, e.g. ("router bgp 65000", "address-family ipv4 unicast", "neighbor 192.0.2.1 route-map X in").
Changes are ops: (kind, path, replaces) with kind "set" (configure the path's last line in its context),
"no" (remove it) or "enter" (create an empty context).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import json
import re
import time

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import (
    CommandRefused, ConfigRefused, DeviceError, LockHeld)
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import RestoringSession

HEADER_END = "Current configuration:"
STRUCTURE = ("!", "end", "exit", "exit-address-family", "exit-vrf")
#: FRR 8.x rpki timer defaults: a line with the default value is not shown in the running config
RPKI_TIMERS = (("refresh", "polling_period", 3600), ("retry", "retry_interval", 600), ("expire", "expire_interval", 7200))
DEFAULT_THRESHOLD = 75
#: how FRR answers a configuration line it does not take (most start with %; a few do not)
CONFIG_ERROR = r"(^|\n)\s*%|already configured|[Cc]an.t |[Nn]ot (found|allowed)|must be "
CONFIG_REFUSED = re.compile(CONFIG_ERROR)
SETTLE_SECONDS = 3.0
SUMMARY_FAMILIES = ("ipv4Unicast", "ipv6Unicast")


# ------------------------------------------------------------------------------- the config model


def config_text(output):
    """The running config without vtysh's preamble (Building configuration... Current configuration:)."""
    text = output.replace("\r\n", "\n")
    if HEADER_END in text:
        text = text.split(HEADER_END, 1)[1]
    return text.strip("\n") + "\n"


def parse(text):
    """The paths of a running config, in order; structure lines (!, exit, end) are left out."""
    paths, stack = [], []  # stack of (indent, line)
    for raw in config_text(text).splitlines():
        if not raw.strip() or raw.strip() in STRUCTURE:
            if raw.strip() in ("exit", "end") and not raw.startswith(" "):
                stack = []
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(line for dummy, line in stack) + (raw.strip(),)
        paths.append(path)
        stack.append((indent, raw.strip()))
    return paths


def is_context(paths, path):
    size = len(path)
    return any(len(other) > size and other[:size] == path for other in paths)


def render_paths(paths):
    """Paths back to FRR-shaped text (for check-mode diffs, where both sides are rendered alike)."""
    lines = []
    for index, path in enumerate(paths):
        depth = len(path) - 1
        lines.append(" " * depth + path[-1])
        following = paths[index + 1] if index + 1 < len(paths) else ()
        for level in range(depth, 0, -1):  # close the contexts the next path is not in
            context = path[:level]
            if following[:level] != context:
                if level == 2 and context[1].startswith("address-family"):
                    lines.append(" exit-address-family")
                elif level == 1:
                    lines.append("exit")
    return "\n".join(lines) + "\n"


def apply_ops(paths, ops):
    """What the config becomes after ops (the check-mode prediction)."""
    result = list(paths)
    for kind, path, replaces in ops:
        if kind == "no":
            result = [other for other in result if other[:len(path)] != path]
            continue
        if replaces:
            old = path[:-1] + (replaces,)
            result = [other for other in result if other[:len(old)] != old]
        for size in range(1, len(path) + 1):
            prefix = path[:size]
            if prefix not in result:
                result.insert(_insert_at(result, prefix), prefix)
    return result


def _insert_at(paths, path):
    """After the last path of the same context (so new lines land inside their block)."""
    parent = path[:-1]
    position = len(paths)
    for index, other in enumerate(paths):
        if parent and other[:len(parent)] == parent:
            position = index + 1
    return position


def negate(line):
    """The line that removes `line`. An rpki timer is set back to its default instead: FRR 8.4's
    `no rpki expire_interval` leaves `rpki expire_interval 60` behind (seen in the lab), not the default."""
    for dummy, keyword, default in RPKI_TIMERS:
        if line.startswith("rpki %s " % keyword):
            return "rpki %s %d" % (keyword, default)
    return line[3:] if line.startswith("no ") else "no " + line


SINGLE = re.compile(r"^(neighbor \S+ (?:route-map|prefix-list|filter-list|distribute-list) )\S+( in| out)$"
                    r"|^(neighbor \S+ maximum-prefix )|^(rpki (?:polling_period|retry_interval|expire_interval) )")


def _key(line):
    """Lines of which a context holds one at a time (a neighbour's inbound route-map, its max-prefix): setting
    a new one replaces the old, with no moment without."""
    match = SINGLE.match(line)
    return match and tuple(part for part in match.groups() if part)


def inverse_ops(current, wanted):
    """The ops that take the config `current` back to `wanted` (the restore)."""
    ops = []
    current_set, wanted_set = set(current), set(wanted)
    removed = [path for path in current if path not in wanted_set]
    removed_set = set(removed)
    added = [path for path in wanted if path not in current_set]
    replaced = {}
    for path in removed:
        key = _key(path[-1])
        for other in added:
            if key and other[:-1] == path[:-1] and _key(other[-1]) == key:
                replaced[other] = path[-1]
    for path in removed:
        if any(path[:size] in removed_set and len(path[:size]) == 1 and is_context(current, path[:size])
               for size in range(1, len(path))):
            continue  # inside a top-level block removed as a whole
        if len(path) > 1 and is_context(current, path):
            continue  # an inner block (address-family) goes away with its lines
        if path[-1] in replaced.values() and any(other[:-1] == path[:-1] and replaced[other] == path[-1] for other in replaced):
            continue  # the set below replaces it
        ops.append(("no", path, None))
    switches = [("set", path, replaced[path]) for path in added if path in replaced]
    for path in added:
        if is_context(wanted, path):
            ops.append(("enter", path, None))
        elif path not in replaced:
            ops.append(("set", path, None))
    # neighbours point back at the old maps before ours go; then the rpki timers in an order FRR takes
    return _timers_in_order(switches + ops, current)


def _timer_value(op, keyword):
    kind, path, dummy = op
    if path[:1] == ("rpki",) and len(path) == 2 and path[1].startswith("rpki %s " % keyword):
        return int(path[1].split()[-1]) if kind == "set" else dict((k, d) for t, k, d in RPKI_TIMERS)[keyword]
    return None


def _timers_in_order(ops, current):
    """FRR refuses an expire_interval below the polling_period at any moment: when the new polling period is
    above the current expire, the expire goes first."""
    polling = [op for op in ops if _timer_value(op, "polling_period") is not None]
    expire = [op for op in ops if _timer_value(op, "expire_interval") is not None]
    if not polling or not expire:
        return ops
    current_expire = 7200
    for path in current:
        if path[:1] == ("rpki",) and len(path) == 2 and path[1].startswith("rpki expire_interval "):
            current_expire = int(path[1].split()[-1])
    if _timer_value(polling[0], "polling_period") <= current_expire:
        return ops
    rest = [op for op in ops if op not in polling and op not in expire]
    at = ops.index(polling[0]) if ops.index(polling[0]) < ops.index(expire[0]) else ops.index(expire[0])
    before = [op for op in ops[:at] if op in rest]
    return before + expire + polling + [op for op in rest if op not in before]


def script(ops):
    """Ops as the lines typed in configuration mode, with the context lines and exits between them."""
    lines, where = [], ()
    for kind, path, dummy in ops:
        context = path if kind == "enter" else path[:-1]
        common = 0
        while common < min(len(where), len(context)) and where[common] == context[common]:
            common += 1
        while len(where) > common:
            closing = "exit-address-family" if where[-1].startswith("address-family") else "exit"
            lines.append(" " * (len(where) - 1) + closing)
            where = where[:-1]
        for line in context[common:]:
            lines.append(" " * len(where) + line)
            where = where + (line,)
        if kind == "set":
            lines.append(" " * len(where) + path[-1])
        elif kind == "no":
            lines.append(" " * len(where) + negate(path[-1]))
    while where:
        lines.append(" " * (len(where) - 1) + ("exit-address-family" if where[-1].startswith("address-family") else "exit"))
        where = where[:-1]
    return lines


def text_diff(before, after):
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        "running-config (before)", "running-config (after)"))


# ---------------------------------------------------------------------------------- reading it


def bgp_context(paths):
    for path in paths:
        if len(path) == 1 and path[0].startswith("router bgp") and " vrf " not in path[0]:
            return path
    return None


def _leaves(paths, context):
    size = len(context)
    return [path[-1] for path in paths if len(path) == size + 1 and path[:size] == context]


def bgp_neighbors(paths):
    """{address or group: {"remote_as", "group" (its peer-group), "is_group"}} from router bgp."""
    context = bgp_context(paths)
    found = {}
    if context is None:
        return found
    for line in _leaves(paths, context):
        match = re.match(r"^neighbor (\S+) (remote-as (\S+)|peer-group(?: (\S+))?|interface.*)$", line)
        if not match:
            continue
        entry = found.setdefault(match.group(1), {"remote_as": None, "group": None, "is_group": False})
        if match.group(3):
            entry["remote_as"] = match.group(3)
        elif match.group(2).startswith("peer-group"):
            if match.group(4):
                entry["group"] = match.group(4)
            else:
                entry["is_group"] = True
    return found


def _family_of(name):
    try:
        return "ipv%d" % ipaddress.ip_address(name).version
    except ValueError:
        return None


def af_context(paths, family):
    context = bgp_context(paths) or ("router bgp",)
    return context + ("address-family %s unicast" % family,)


def families(paths, target):
    """The address families a neighbour or group takes part in: its own address family, and IPv6 when
    it is activated there."""
    own = _family_of(target)
    result = [own] if own else ["ipv4"]
    for family in ("ipv4", "ipv6"):
        if family not in result and "neighbor %s activate" % target in _leaves(paths, af_context(paths, family)):
            result.append(family)
    return result


def _af_leaf(paths, family, target, pattern):
    """The line `neighbor TARGET <pattern>` in the address family, or None."""
    regex = re.compile(r"^neighbor %s %s$" % (re.escape(target), pattern))
    for line in _leaves(paths, af_context(paths, family)):
        if regex.match(line):
            return line
    return None


def route_map_entries(paths, name):
    """{header ("route-map NAME permit 20"): [lines]} of one route-map."""
    entries = {}
    for path in paths:
        if path[0].startswith("route-map %s " % name) and re.match(r"^route-map \S+ (permit|deny) \d+$", path[0]):
            entries.setdefault(path[0], [])
            if len(path) == 2:
                entries[path[0]].append(path[1])
    return entries


# ------------------------------------------------------------------------------------------ rpki


def _ours(name, policy):
    return name == policy or name.startswith(policy + "-")


def _rpki_route_map(intent, name, call):
    """{header: [lines]} of the route-map `name` for intent, continuing into `call` (or None)."""
    def marked(match, mark):
        lines = [match]
        if mark.get("community"):
            lines.append("set community %s additive" % mark["community"])
        if mark.get("local_preference") is not None:
            lines.append("set local-preference %d" % mark["local_preference"])
        if call:
            lines.append("call %s" % call)
        return lines
    return {
        "route-map %s deny 10" % name: ["match rpki invalid"],
        "route-map %s permit 20" % name: marked("match rpki notfound", intent["not_found"]),
        "route-map %s permit 30" % name: marked("match rpki valid", intent["valid"]),
    }


def _cache_line(cache):
    return "rpki cache %s %d preference %d" % (cache["address"], cache["port"], cache["preference"])


def check_rpki(intent):
    """FRR's own rules, checked with no device (render calls it)."""
    for timer, dummy, dummy2 in RPKI_TIMERS:
        values = set(cache[timer] for cache in intent["caches"] if cache[timer] is not None)
        if len(values) > 1:
            raise ValueError("caches[].%s: %s differ, but FRR has one %s for all RTR caches: give every cache "
                             "the same value" % (timer, sorted(values), timer))
    refresh, expire = _timer(intent, "refresh"), _timer(intent, "expire")
    if refresh and expire and expire < refresh:
        raise ValueError("caches[].expire: %r must be at least refresh (%d) on FRR" % (expire, refresh))
    preferences = [cache["preference"] for cache in intent["caches"]]
    if len(set(preferences)) != len(preferences):
        raise ValueError("caches[].preference: %r: FRR needs a different preference for each cache" % preferences)


def _timer(intent, timer):
    for cache in intent["caches"]:
        if cache[timer] is not None:
            return cache[timer]
    return None


def _targets(paths, intent, allow_missing=False):
    """The neighbours and groups the policy goes on; each must exist on the router."""
    configured = bgp_neighbors(paths)
    targets = []
    for option, names in (("neighbors", intent.get("neighbors") or []), ("groups", intent.get("groups") or [])):
        for name in names:
            entry = configured.get(name)
            if entry is None or (option == "groups") != entry["is_group"]:
                if allow_missing:
                    continue
                raise ValueError("%s: %r is not a configured BGP %s of this router (router bgp has: %s)"
                                 % (option, name, "peer-group" if option == "groups" else "neighbour",
                                    ", ".join(sorted(configured)) or "none"))
            targets.append(name)
    if not intent.get("neighbors") and not intent.get("groups"):
        targets = [name for name, entry in configured.items() if not entry["is_group"] and _family_of(name)]
    return targets


def rpki_ops(paths, intent, state):
    if bgp_context(paths) is None:
        raise ValueError("the running config has no `router bgp`: nothing to protect")
    policy = intent["policy"]
    ops, neighbor_ops, refresh = [], [], []
    rpki = ("rpki",)
    current_caches = [line for line in _leaves(paths, rpki) if line.startswith("rpki cache ")]
    wanted_caches = [_cache_line(cache) for cache in intent["caches"]]
    if state == "absent" and not intent["caches"]:
        wanted_caches = []
    if state == "present":
        for line in current_caches:
            if line not in wanted_caches:
                ops.append(("no", rpki + (line,), None))
        ops.extend(_timer_ops(paths, intent))
        for line in wanted_caches:
            if line not in current_caches:
                ops.append(("set", rpki + (line,), None))
    else:
        for line in current_caches:
            if line in wanted_caches or not intent["caches"]:
                ops.append(("no", rpki + (line,), None))
    wanted_maps = {}
    for target in _targets(paths, intent, allow_missing=(state == "absent")):
        for family in families(paths, target):
            context = af_context(paths, family)
            line = _af_leaf(paths, family, target, r"route-map \S+ in")
            current = line.split()[3] if line else None
            call = current
            if current and _ours(current, policy):
                calls = [entry for lines in route_map_entries(paths, current).values() for entry in lines
                         if entry.startswith("call ")]
                call = calls[0].split()[1] if calls else None
            if state == "absent":
                if current and _ours(current, policy):
                    if call:
                        neighbor_ops.append(("set", context + ("neighbor %s route-map %s in" % (target, call),), line))
                    else:
                        neighbor_ops.append(("no", context + (line,), None))
                    refresh.append((family, target))
                continue
            name = policy if not call else "%s-%s" % (policy, call)
            wanted_maps[name] = _rpki_route_map(intent, name, call)
            soft = "neighbor %s soft-reconfiguration inbound" % target
            if soft not in _leaves(paths, context):
                neighbor_ops.append(("set", context + (soft,), None))
            wanted = "neighbor %s route-map %s in" % (target, name)
            if line != wanted:
                neighbor_ops.append(("set", context + (wanted,), line))
                refresh.append((family, target))
    route_map_ops = []
    existing = set(path[0].split()[1] for path in paths if re.match(r"^route-map \S+ (permit|deny) \d+$", path[0]))
    for name in sorted(existing | set(wanted_maps)):
        if not _ours(name, policy):
            continue
        have, want = route_map_entries(paths, name), wanted_maps.get(name, {})
        for header in sorted(have):
            if header not in want:
                route_map_ops.append(("no", (header,), None))
        for header in sorted(want):
            for entry in have.get(header, []):
                if entry not in want[header]:
                    route_map_ops.append(("no", (header, entry), None))
            for entry in want[header]:
                if entry not in have.get(header, []):
                    route_map_ops.append(("set", (header, entry), None))
    if state == "present":  # the caches, then the maps, then the neighbours that point at them
        ops = ops + route_map_ops + neighbor_ops
    else:  # the neighbours leave the maps before the maps go
        ops = neighbor_ops + route_map_ops + ops
    expect = {"rtr_caches": [(cache["address"], cache["port"]) for cache in intent["caches"]] if state == "present" else [],
              "refresh": sorted(set(refresh))}
    return ops, expect


def _timer_ops(paths, intent):
    rpki = ("rpki",)
    have = {}
    for line in _leaves(paths, rpki):
        for dummy, keyword, default in RPKI_TIMERS:
            if line.startswith("rpki %s " % keyword):
                have[keyword] = line
    ops = {}
    for timer, keyword, default in RPKI_TIMERS:
        value = _timer(intent, timer)
        if value is None:
            continue
        line = have.get(keyword)
        if value == default:
            if line:
                ops[keyword] = ("no", rpki + (line,), None)
        elif line != "rpki %s %d" % (keyword, value):
            ops[keyword] = ("set", rpki + ("rpki %s %d" % (keyword, value),), line)
    # FRR wants expire >= polling at every moment: raise the one that keeps that true first
    current_expire = int(have["expire_interval"].split()[-1]) if "expire_interval" in have else 7200
    new_polling = _timer(intent, "refresh")
    order = ["retry_interval", "polling_period", "expire_interval"]
    if new_polling and new_polling > current_expire:
        order = ["retry_interval", "expire_interval", "polling_period"]
    return [ops[keyword] for keyword in order if keyword in ops]


def rpki_render(intent):
    check_rpki(intent)
    paths = [("rpki",)]
    ops = []
    for timer, keyword, default in RPKI_TIMERS:
        value = _timer(intent, timer)
        if value is not None and value != default:
            ops.append(("set", ("rpki", "rpki %s %d" % (keyword, value)), None))
    ops += [("set", ("rpki", _cache_line(cache)), None) for cache in intent["caches"]]
    for header, lines in sorted(_rpki_route_map(intent, intent["policy"], None).items()):
        ops += [("set", (header, line), None) for line in lines]
    context = ("router bgp",)
    for target in (intent.get("neighbors") or []) + (intent.get("groups") or []):
        family = _family_of(target) or "ipv4"
        af = context + ("address-family %s unicast" % family,)
        ops.append(("set", af + ("neighbor %s soft-reconfiguration inbound" % target,), None))
        ops.append(("set", af + ("neighbor %s route-map %s in" % (target, intent["policy"]),), None))
    return script(ops) if ops else []


def rpki_gather(paths):
    caches = []
    timers = {}
    for line in _leaves(paths, ("rpki",)):
        match = re.match(r"^rpki cache (?:tcp )?(\S+) (\d+) preference (\d+)$", line)
        if match:
            caches.append({"address": match.group(1), "port": int(match.group(2)), "preference": int(match.group(3))})
        for timer, keyword, default in RPKI_TIMERS:
            if line.startswith("rpki %s " % keyword):
                timers[timer] = int(line.split()[-1])
    for cache in caches:
        for timer, keyword, default in RPKI_TIMERS:
            cache[timer] = timers.get(timer, default)
    neighbors = []
    for target, entry in sorted(bgp_neighbors(paths).items()):
        for family in families(paths, target):
            line = _af_leaf(paths, family, target, r"route-map \S+ in")
            name = line.split()[3] if line else None
            calls = [item for lines in route_map_entries(paths, name).values() for item in lines
                     if item.startswith("call ")] if name else []
            validates = any("match rpki invalid" in lines for lines in route_map_entries(paths, name).values()) \
                if name else False
            neighbors.append({
                "neighbor": target, "group": entry["is_group"], "family": family, "route_map_in": name,
                "validates": validates, "continues_into": calls[0].split()[1] if calls else None,
                "soft_reconfiguration": _af_leaf(paths, family, target, "soft-reconfiguration inbound") is not None,
            })
    return {"caches": caches, "neighbors": neighbors}


# ---------------------------------------------------------------------------------------- limits


def _max_prefix_line(target, value, neighbor):
    line = "neighbor %s maximum-prefix %d" % (target, value)
    if neighbor["threshold"] != DEFAULT_THRESHOLD:
        line += " %d" % neighbor["threshold"]
    if neighbor["on_exceed"] == "warning":
        line += " warning-only"
    elif neighbor.get("restart_minutes"):
        line += " restart %d" % neighbor["restart_minutes"]
    return line


def _prefix_lists(intent):
    """{family: (name, [entries])} of the prefix-length filter."""
    result = {}
    for family, any_prefix, bits, keyword in (("ipv4", "0.0.0.0/0", 32, "ip"), ("ipv6", "::/0", 128, "ipv6")):
        name = "%s-%s" % (intent["policy"], "V4" if family == "ipv4" else "V6")
        entries = []
        longest, shortest = intent["max_length"][family], intent["min_length"][family]
        if longest is not None and longest < bits:
            entries.append("%s prefix-list %s seq 5 deny %s ge %d" % (keyword, name, any_prefix, longest + 1))
        if shortest:
            entries.append("%s prefix-list %s seq 10 deny %s le %d" % (keyword, name, any_prefix, shortest - 1))
        entries.append("%s prefix-list %s seq 100 permit %s le %d" % (keyword, name, any_prefix, bits))
        result[family] = (name, entries)
    return result


def limits_ops(paths, intent, state):
    if bgp_context(paths) is None:
        raise ValueError("the running config has no `router bgp`: nothing to limit")
    ops, refresh = [], []
    lists = _prefix_lists(intent)
    policy_lists = dict((family, name) for family, (name, dummy) in lists.items())
    targets = _targets(paths, {"neighbors": [n["address"] for n in intent["neighbors"]], "groups": intent["groups"]},
                       allow_missing=(state == "absent"))
    by_address = dict((n["address"], n) for n in intent["neighbors"])
    top = [path[0] for path in paths if len(path) == 1]
    list_ops, apply_ops_ = [], []
    for family, (name, entries) in sorted(lists.items()):
        keyword = "ip" if family == "ipv4" else "ipv6"
        have = [line for line in top if line.startswith("%s prefix-list %s " % (keyword, name))]
        want = entries if state == "present" else []
        list_ops += [("no", (line,), None) for line in have if line not in want]
        list_ops += [("set", (line,), None) for line in want if line not in have]
    for target in targets:
        neighbor = by_address.get(target)
        for family in families(paths, target):
            context = af_context(paths, family)
            name = policy_lists[family]
            line = _af_leaf(paths, family, target, r"prefix-list \S+ in")
            wanted = "neighbor %s prefix-list %s in" % (target, name)
            if state == "present":
                if line and line != wanted:
                    raise ValueError("neighbors: %s already has `%s` (address-family %s unicast); peerwarden does not "
                                     "replace another prefix-list: remove it or fold it into yours first" % (target, line, family))
                if line != wanted:
                    apply_ops_.append(("set", context + (wanted,), None))
                    refresh.append((family, target))
            elif line == wanted:
                apply_ops_.append(("no", context + (line,), None))
                refresh.append((family, target))
            if neighbor is None:
                continue
            current = _af_leaf(paths, family, target, r"maximum-prefix .*")
            value = neighbor["max_prefixes"].get(family)
            if state == "absent":
                if current and value is not None:
                    ops.append(("no", context + (current,), None))
                continue
            if value is None:
                continue
            wanted = _max_prefix_line(target, value, neighbor)
            if current != wanted:
                ops.append(("set", context + (wanted,), current))
    if state == "present":
        ops = list_ops + apply_ops_ + ops
    else:
        ops = apply_ops_ + ops + list_ops
    return ops, {"rtr_caches": [], "refresh": sorted(set(refresh))}


def limits_render(intent):
    ops = []
    for family, (name, entries) in sorted(_prefix_lists(intent).items()):
        ops += [("set", (line,), None) for line in entries]
    context = ("router bgp",)
    for neighbor in intent["neighbors"]:
        family = _family_of(neighbor["address"])
        af = context + ("address-family %s unicast" % family,)
        ops.append(("set", af + ("neighbor %s prefix-list %s in" % (neighbor["address"], _prefix_lists(intent)[family][0]),), None))
        for fam in ("ipv4", "ipv6"):
            if neighbor["max_prefixes"].get(fam) is not None:
                ops.append(("set", context + ("address-family %s unicast" % fam,
                                              _max_prefix_line(neighbor["address"], neighbor["max_prefixes"][fam], neighbor)), None))
    return script(ops)


MAX_PREFIX = re.compile(r"^neighbor (\S+) maximum-prefix (\d+)(?: (\d+))?(?: (warning-only|restart (\d+)))?(?: force)?$")


def limits_gather(paths):
    neighbors = {}
    for target in sorted(bgp_neighbors(paths)):
        for family in ("ipv4", "ipv6"):
            line = _af_leaf(paths, family, target, r"maximum-prefix .*")
            prefix_list = _af_leaf(paths, family, target, r"prefix-list \S+ in")
            entry = neighbors.setdefault(target, {"address": target, "max_prefixes": {"ipv4": None, "ipv6": None},
                                                  "threshold": None, "on_exceed": None, "restart_minutes": None,
                                                  "prefix_lists": {}})
            if prefix_list:
                entry["prefix_lists"][family] = prefix_list.split()[3]
            match = MAX_PREFIX.match(line or "")
            if match:
                entry["max_prefixes"][family] = int(match.group(2))
                entry["threshold"] = int(match.group(3) or DEFAULT_THRESHOLD)
                entry["on_exceed"] = "warning" if match.group(4) == "warning-only" else "teardown"
                entry["restart_minutes"] = int(match.group(5)) if match.group(5) else None
    prefix_lists = {}
    for path in paths:
        match = re.match(r"^(ip|ipv6) prefix-list (\S+) (seq \d+ .*)$", path[0])
        if len(path) == 1 and match:
            prefix_lists.setdefault(match.group(2), []).append(match.group(3))
    return {"neighbors": list(neighbors.values()), "prefix_lists": prefix_lists}


# ------------------------------------------------------------------------------------- the session


class FrrConfigSession(RestoringSession):
    """One change to one FRR router through its vtysh; see the module docstring for how it is made safe."""

    def __init__(self, driver, device, options):
        self.driver, self.device, self.options = driver, device, options
        self.check_mode = bool(options.get("check_mode"))
        wait = options.get("post_check_wait")
        self.post_check_wait = float(60 if wait is None else wait)
        self.cli = None
        self.saved = None
        self.predicted = None
        self.after = None
        self.touched = False
        self.confirmed = False
        self.deadline = None
        self.restored = None
        self.was_up = set()

    # -- the way in (RestoringSession opens, calls checkpoint(), and restore() when left unconfirmed)
    def checkpoint(self):
        self.saved = self._show_running()

    def _run(self, command):
        """One command at the enable prompt. Through CliSession.exchange, not netmiko's send_command: a
        session that went away is a DeviceError at once, where send_command would wait out its read timeout
        (4 x timeout) on the closed channel, before the restore could even start."""
        output = self.cli.exchange(command)
        refusal = self.driver.refusal(output)
        if refusal:
            raise CommandRefused("%s refused %r: %s" % (self.device.where(), command, refusal))
        return output

    def _show_running(self):
        return config_text(self._run("show running-config"))

    # -- the steps
    def running(self):
        return self.saved

    def baseline(self):
        self.was_up = self._established()
        return {"established": self.was_up}

    def _established(self):
        return established(self._run("show bgp summary json"), self.device.where())

    def load(self, lines):
        self.lines = list(lines)
        if self.check_mode:
            self.predicted = render_paths(apply_ops(parse(self.saved), getattr(lines, "ops", None) or []))
            return
        now = self._show_running()
        if now != self.saved:
            raise LockHeld("%s: the running config changed since it was read at the start of this change: someone "
                           "else is changing the router; it was not touched. Differences:\n%s"
                           % (self.device.where(), text_diff(self.saved, now)))
        self.touched = True
        self._configure(self.lines)
        self.after = self._show_running()

    def _configure(self, lines):
        """The lines in configuration mode, stopping at the first one FRR refuses (ConfigRefused quoting it)."""
        self.cli.exchange("configure terminal")
        try:
            self.cli.configure([line.strip() for line in lines], refused=CONFIG_REFUSED)
        except ConfigRefused as error:
            raise ConfigRefused("%s refused the change at %r: %s" % (self.device.where(), error.line, error.words))
        finally:
            try:
                self.cli.exchange("end")
            except DeviceError:  # gone: the restore opens a new session
                pass

    def diff(self):
        if self.check_mode:
            return text_diff(render_paths(parse(self.saved)), self.predicted)
        return text_diff(self.saved, self.after)

    def commit(self, confirm_minutes, comment):
        """The lines are live since load(); FRR has no commit confirmed, so the timer is ours: the change must
        be confirmed (post-check passed, write memory) within confirm_minutes, else it is restored. FRR keeps
        no commit log: the comment stays in the task's result."""
        self.deadline = time.monotonic() + confirm_minutes * 60
        self.comment = comment

    def post_check(self, baseline, expect):
        problems = []
        caches = expect.get("rtr_caches") or []
        if caches:
            seen = self._wait_rtr(caches)
            if seen is not True:
                problems.append("no RTR cache session came up (%s); `show rpki cache-connection` said: %s"
                                % (", ".join("%s port %d" % cache for cache in caches), seen.strip() or "nothing"))
        for family, target in expect.get("refresh") or []:
            self._run("clear bgp %s unicast %s soft in" % (family, target))
        time.sleep(SETTLE_SECONDS)
        return problems + down_since(baseline, self._established())

    def _wait_rtr(self, caches):
        wanted = [re.compile(r"%s %d pref \d+ \(connected\)" % (re.escape(address), port)) for address, port in caches]
        limit = time.monotonic() + self.post_check_wait
        if self.deadline:
            limit = min(limit, self.deadline)
        while True:
            output = self._run("show rpki cache-connection")
            if any(pattern.search(output) for pattern in wanted):
                return True
            if time.monotonic() >= limit:
                return output
            time.sleep(1.0)

    def confirm(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeviceError("the confirm timer ran out before the post-check finished: the change is not kept")
        output = self._run("write memory")
        if "saved" not in output.lower() and "[ok]" not in output.lower():
            raise DeviceError("%s: `write memory` did not say it saved: %s" % (self.device.where(), output.strip()))
        self.confirmed = True

    # -- going back
    def restore(self):
        """Put the saved running config back and compare; raises DeviceError when it does not compare equal."""
        reason = "the router may be left changed (not written to its startup config: `write memory` did not run)"
        try:
            try:
                current = self._show_running()
            except DeviceError:
                self.close_cli()
                self.open_cli()  # the session broke: a new one
                current = self._show_running()
            if current == self.saved:
                return "nothing was left changed: the running config is as it was"
            ops = inverse_ops(parse(current), parse(self.saved))
            self._configure(script(ops))
            for family, target in _refresh_all(parse(self.saved)):
                self._run("clear bgp %s unicast %s soft in" % (family, target))
            after = self._show_running()
            # a session the change tore down (e.g. a limit below what the neighbour sends: Idle (PfxCt)) stays down
            # on FRR after the limit is gone, until cleared: bring back those that were up before the change
            down = sorted(set(address for dummy, address in self.was_up - self._established()))
            for address in down:
                self._run("clear bgp %s" % address)
        except DeviceError as error:
            raise DeviceError("the restore of the saved running config failed: %s; %s" % (error, reason))
        if after != self.saved:
            raise DeviceError("the restore of the saved running config did not compare equal; %s. Still different:\n%s"
                              % (reason, text_diff(self.saved, after)))
        return ("restored the running config saved before the change (%d lines; verified identical)%s"
                % (len(ops), "; cleared the sessions it had taken down: %s" % ", ".join(down) if down else ""))


def established(output, where):
    """{(family, address)} of the neighbours `show bgp summary json` says are Established."""
    try:
        summary = json.loads(output or "{}")
    except ValueError:
        raise DeviceError("%s: `show bgp summary json` did not answer JSON: %s" % (where, output[:200]))
    up = set()
    for family in SUMMARY_FAMILIES:
        for address, peer in (summary.get(family) or {}).get("peers", {}).items():
            if peer.get("state") == "Established":
                up.add((family, address))
    return up


def down_since(baseline, now):
    """The post-check's words for neighbours Established in baseline and not now ([] when none)."""
    down = sorted(baseline.get("established", set()) - now)
    if not down:
        return []
    return ["BGP neighbours Established before the change are not now: %s"
            % ", ".join("%s (%s)" % (address, family) for family, address in down)]


def _refresh_all(paths):
    result = []
    for target, entry in sorted(bgp_neighbors(paths).items()):
        if not entry["is_group"] and _family_of(target):
            result.append((_family_of(target), target))
    return result


class Script(list):
    """The lines plan() returns, carrying the ops they were made from (for the check-mode prediction)."""

    def __init__(self, ops):
        list.__init__(self, script(ops))
        self.ops = list(ops)


#: why bgp_filter has no FRR implementation (docs/push.md says more)
NO_GUARD = ("platform frr cannot guard: the TCP/179 guard on Linux is an nftables table, which needs root on the "
            "router's host, and the login peerwarden uses lands in vtysh, which cannot run nft; a guard that "
            "could be loaded but not checked or restored the same safe way would be half-working. Use the "
            "host's own firewall management for now (docs/push.md, 'FRR and the TCP/179 guard')")


def session(driver, device, options):
    return FrrConfigSession(driver, device, options)


def plan(feature, intent, running, state):
    paths = parse(running)
    if feature == "rpki":
        check_rpki(intent)
        ops, expect = rpki_ops(paths, intent, state)
    elif feature == "limits":
        ops, expect = limits_ops(paths, intent, state)
    else:
        raise ValueError(NO_GUARD)
    return (Script(ops) if ops else []), expect


def render(feature, intent):
    if feature == "rpki":
        return rpki_render(intent)
    if feature == "limits":
        return limits_render(intent)
    raise ValueError(NO_GUARD)


def gather(feature, running):
    paths = parse(running)
    if feature == "rpki":
        return rpki_gather(paths)
    if feature == "limits":
        return limits_gather(paths)
    raise ValueError(NO_GUARD)
