# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS / IOS-XE configuration: the safe apply session and the rpki, limits and guard lines.

The session (IosConfigSession), over SSH with netmiko (Device.cli):

    open:   `show archive` (the archive must be configured, else an error saying how), a lock probe
            (`configure terminal`: with `configuration mode exclusive auto` someone else's session
            refuses it: LockHeld, nothing touched), `archive config` = the checkpoint
    load:   `configure terminal revert timer N`, then each line; the first refusal stops the load
    diff:   `do show archive config differences CHECKPOINT system:running-config` (IOS's own diff)
    commit: nothing to send: IOS applies each line as it is typed; the revert timer started at load
            puts the checkpoint back by itself unless confirmed
    post_check: `show ip bgp rpki servers` (or `show bgp ipv4 unicast rpki servers`), `show ip bgp summary`
    confirm: `end`, `configure confirm`, `archive config` (the archive's newest file is this run's
            configuration: IOS has no commit comment, see commit()), `write memory`
    leave without confirm: `configure replace CHECKPOINT force` at once (reconnecting if the session
            died), the running config compared with the checkpoint; if the router cannot be reached, its
            revert timer puts the checkpoint back when it runs out, and the error says so.

The session stays in configuration mode from load to confirm (the post-checks run with `do`), so
`configuration mode exclusive` keeps other sessions out until the change is confirmed.

Check mode changes nothing: no checkpoint, no configuration mode. The candidate is computed here
from `show running-config` and the lines (apply_lines), and the diff is given in IOS's contextual
diff form (contextual_diff): IOS has no candidate configuration to compare without applying, and a
candidate file on flash would need `ip scp server enable` or a writable file system. Sections the
router sorts itself (new top-level blocks) may be listed in another order than IOS would; the lines
are the same.

Configuration (VENDOR.md 2a, copied with sources into tests/lab/fixtures/ios_config.md):
* rpki: `bgp rpki server tcp A port P refresh R` under `router bgp`; ROV as route-map entries:
  deny `match rpki invalid`, permit `match rpki not-found|valid` with `set local-preference` /
  `set community ... additive`. A neighbour with no inbound route-map gets ours (POLICY, ending in a
  catch-all permit); a neighbour with one gets our entries inserted in front of its first entry,
  each marked `description peerwarden-rpki`, the permits ending in `continue` so that its own
  entries still run: the chain is never cut (IOS allows one inbound route-map per neighbour).
* limits: `neighbor A maximum-prefix N [T] [restart M | warning-only]` per address family (T left
  out when it is IOS's default 75, which IOS does not show); prefix lengths with
  `ip prefix-list POLICY-V4 seq 5 deny 0.0.0.0/0 ge MAX+1` (+ `le MIN-1`) and a final permit,
  bound with `neighbor A prefix-list POLICY-V4 in` (IOS applies a neighbour's prefix-list and its
  route-map both, so the route-map chain is untouched); a neighbour that already has an inbound
  prefix-list gets our deny lines inserted in front of that list's first line.
* guard: `ip access-list extended NAME` / `ipv6 access-list NAME`: permit TCP/179 both ways for each
  neighbour configured under `router bgp` (read from the running config each run), deny TCP/179 from
  the peering LANs with `log` (%SEC-6-IPACCESSLOGP / %IPV6_ACL-6-ACCESSLOGP: the lines log_events
  reads), permit everything else; `ip access-group NAME in` / `ipv6 traffic-filter NAME in` on the
  interfaces. An interface that already has another inbound filter is an error, not replaced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import time

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import (
    CommandRefused, ConfigRefused, DeviceError, LockHeld)
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import ConfigSession

MARK = "peerwarden-rpki"
DEFAULT_REFRESH = 600
LOCKED = re.compile(r"locked exclusively", re.I)
ARCHIVE_HINT = ("IOS keeps the checkpoint and the revert timer's backup in its configuration archive; "
                "configure it first: `archive` / ` path flash:archive` / ` maximum 14`")


# --- the running config as a tree ------------------------------------------------------------

class Node:
    __slots__ = ("text", "children")

    def __init__(self, text, children=None):
        self.text, self.children = text, children or []

    def copy(self):
        return Node(self.text, [child.copy() for child in self.children])

    def find(self, text):
        return next((child for child in self.children if child.text == text), None)


_BLOCKS = (r"router bgp \S+", r"ip access-list (extended|standard) \S+", r"ipv6 access-list \S+",
           r"route-map \S+ (permit|deny) \d+", r"interface \S+", r"archive", r"line .+",
           r"address-family .+", r"log config")


def parse(text):
    """The running config (`show running-config`) as a root Node; `!`, `end`, the header and
    `exit-address-family` dropped, one space of indent per level."""
    root = Node("")
    stack = [(-1, root)]
    started = False
    for raw in (text or "").replace("\r", "").splitlines():
        stripped = raw.strip()
        if not started and (raw.startswith(("Building configuration", "Current configuration")) or not stripped):
            continue
        started = True
        if not stripped or stripped in ("!", "end", "exit-address-family") or stripped.startswith("!"):
            continue
        depth = len(raw) - len(raw.lstrip(" "))
        while stack[-1][0] >= depth:
            stack.pop()
        node = Node(stripped)
        stack[-1][1].children.append(node)
        stack.append((depth, node))
    return root


def _is_block(text):
    return any(re.fullmatch(pattern, text) for pattern in _BLOCKS)


def _walk(nodes, path=()):
    for node in nodes:
        yield path, node
        yield from _walk(node.children, path + (node.text,))


def _same(text):
    """What makes two lines "the same setting" (a new one replaces the old), or None."""
    for pattern in (r"(neighbor \S+ maximum-prefix) ", r"(neighbor \S+ (?:route-map|prefix-list) )\S+ (in|out)$",
                    r"(bgp rpki server tcp \S+) ", r"(ip prefix-list \S+ seq \d+) ", r"(ipv6 prefix-list \S+ seq \d+) ",
                    r"(set local-preference) ", r"(set community) ", r"(ip access-group )\S+ (in|out)$",
                    r"(ipv6 traffic-filter )\S+ (in|out)$", r"(description) "):
        match = re.match(pattern, text)
        if match:
            return "".join(group for group in match.groups() if group)
    return None


def _acl_entry(text):
    """IOS pads the action of IPv4 extended ACL entries to six columns (` deny   tcp`)."""
    match = re.match(r"(permit|deny)\s+(.*)$", text)
    return "%-6s %s" % match.groups() if match else text


def apply_lines(root, lines):
    """The candidate: root (a parsed running config) with the configuration lines applied as IOS
    applies them (submodes entered by their lines and left by `exit`, `no X` removing X, single-valued
    settings replaced). Only what this module's plans send is modelled."""
    root = root.copy()
    path = [root]
    for line in lines:
        text = re.sub(r"\s+", " ", line.strip())
        if text in ("exit", "exit-address-family"):
            if len(path) > 1:
                path.pop()
            continue
        if text == "end":
            path = [root]
            continue
        parent = path[-1]
        if text.startswith("no "):
            body = text[3:]
            targets = [parent] if parent is not root or not _is_block(body) else [root]
            for where in targets:
                where.children[:] = [child for child in where.children
                                     if not (child.text == body or child.text.startswith(body + " "))]
            continue
        if _is_block(text):
            if not text.startswith(("address-family", "log config")):
                path, parent = [root], root
            node = parent.find(text)
            if node is None:
                node = Node(text)
                parent.children.append(node)
            path.append(node)
            continue
        if parent.text.startswith("ip access-list"):
            text = _acl_entry(text)
        if parent.find(text) is not None:
            continue
        key = _same(text)
        if key is not None:
            for index, child in enumerate(parent.children):
                if _same(child.text) == key:
                    parent.children[index] = Node(text)
                    break
            else:
                key = None
        if key is None:
            # a block's own lines go above its nested submodes (router lines above the address families)
            first_block = next((i for i, child in enumerate(parent.children) if child.children or _is_block(child.text)),
                               len(parent.children)) if parent is not root else len(parent.children)
            parent.children.insert(first_block, Node(text))
    return root


def contextual_diff(old, new):
    """`show archive config differences` in IOS's contextual form: lines only in new with `+`,
    lines only in old with `-`, each under its unsigned parent lines, additions first."""
    added = _diff(old.children, new.children, "+", 0)
    removed = _diff(new.children, old.children, "-", 0)
    if not added and not removed:
        return ""
    return "!Contextual Config Diffs:\n" + "".join(added + removed)


def _diff(base, other, sign, depth):
    by_text = dict((node.text, node) for node in base)
    lines = []
    for node in other:
        twin = by_text.get(node.text)
        if twin is None:
            lines.extend(_signed(node, sign, depth))
        elif node.children or twin.children:
            inner = _diff(twin.children, node.children, sign, depth + 1)
            if inner:
                lines.append(" " * depth + node.text + "\n")
                lines.extend(inner)
    return lines


def _signed(node, sign, depth):
    lines = [" " * depth + sign + node.text + "\n"]
    for child in node.children:
        lines.extend(_signed(child, sign, depth + 1))
    return lines


# --- reading the BGP configuration ---------------------------------------------------------

def _norm(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def _family(address):
    try:
        return "ipv%d" % ipaddress.ip_address(address).version
    except ValueError:
        return None


class Bgp:
    """What the running config says about BGP: router bgp, neighbours, address families."""

    def __init__(self, root):
        self.root = root
        self.node = next((n for n in root.children if n.text.startswith("router bgp ")), None)
        self.header = self.node.text if self.node else None
        self.neighbors = []  # (text as IOS shows it, canonical address)
        self.groups = []
        for child in (self.node.children if self.node else []):
            match = re.match(r"neighbor (\S+) (remote-as|peer-group)( \S+)?$", child.text)
            if not match:
                continue
            name, kind, value = match.groups()
            if kind == "peer-group" and value is None:
                self.groups.append(name)
            elif _family(name) and name not in [text for text, dummy in self.neighbors]:
                self.neighbors.append((name, _norm(name)))

    def require(self):
        if self.node is None:
            raise ConfigRefused("the running config has no `router bgp`: nothing to attach BGP settings to")
        return self

    def spelled(self, address):
        """The address as the running config spells it (IOS upper-cases IPv6), or as given."""
        return next((text for text, canonical in self.neighbors if canonical == _norm(address)), address)

    def af_path(self, family):
        """The path of the address family's block (or the router level for IPv4 without one)."""
        for child in self.node.children:
            if re.fullmatch(r"address-family %s( unicast)?" % family, child.text):
                return (self.header, child.text)
        if family == "ipv4" and not self.node.find("no bgp default ipv4-unicast"):
            return (self.header,)
        return (self.header, "address-family %s" % family)

    def lines_at(self, path):
        node = self.root
        for text in path:
            node = node.find(text) if node is not None else None
        return [child.text for child in node.children] if node is not None else []

    def setting(self, path, neighbor, what):
        """The name in `neighbor X route-map|prefix-list NAME in` at path, or None."""
        for text in self.lines_at(path):
            match = re.fullmatch(r"neighbor %s %s (\S+) in" % (re.escape(neighbor), what), text)
            if match:
                return match.group(1)
        return None

    def targets(self, intent):
        """(name as spelled, family) for the intent's neighbours and groups; all neighbours if none."""
        chosen = [(self.spelled(a), _family(a)) for a in intent.get("neighbors") or []]
        for group in intent.get("groups") or []:
            if group not in self.groups:
                raise ConfigRefused("groups: %r is not a peer-group under %s" % (group, self.header))
            chosen.append((group, "ipv4"))
        if not chosen:
            chosen = [(text, _family(text)) for text, dummy in self.neighbors]
        return chosen


def route_map_entries(root, name):
    """[(action, seq, node)] of route-map name, by sequence."""
    entries = []
    for node in root.children:
        match = re.fullmatch(r"route-map %s (permit|deny) (\d+)" % re.escape(name), node.text)
        if match:
            entries.append((match.group(1), int(match.group(2)), node))
    return sorted(entries, key=lambda entry: entry[1])


class Edits:
    """Configuration lines grouped by the submode path they go in, sent in the order added."""

    def __init__(self, root):
        self.root, self.groups = root, []

    def present(self, path, line):
        node = self.root
        for text in path:
            node = node.find(text) if node is not None else None
        if node is None:
            return False
        if line.startswith("no "):
            body = line[3:]
            return not any(c.text == body or c.text.startswith(body + " ") for c in node.children)
        wanted = re.sub(r"\s+", " ", line)
        return any(re.sub(r"\s+", " ", child.text) == wanted for child in node.children)

    def add(self, path, line, force=False):
        path = tuple(path)
        if not force and self.present(path, line):
            return
        if self.groups and self.groups[-1][0] == path:
            self.groups[-1][1].append(line)
        else:
            self.groups.append((path, [line]))

    def block(self, path):
        """Enter a (new) block with no lines of its own, e.g. a catch-all route-map entry."""
        node = self.root
        for text in path:
            node = node.find(text) if node is not None else None
        if node is None:
            self.groups.append((tuple(path), []))

    def lines(self):
        out = []
        for path, lines in self.groups:
            out.extend(path)
            out.extend(lines)
            out.extend(["exit"] * len(path))
        return out


# --- the three features --------------------------------------------------------------------

def _sets(mark):
    lines = []
    if mark.get("local_preference") is not None:
        lines.append("set local-preference %d" % mark["local_preference"])
    if mark.get("community"):
        lines.append("set community %s additive" % mark["community"])
    return lines


def _rpki(root, intent, state):
    bgp = Bgp(root).require()
    edits, expect = Edits(root), {"rtr_caches": []}
    policy = intent["policy"]
    servers = dict((_norm(re.match(r"bgp rpki server tcp (\S+)", text).group(1)), text)
                   for text in bgp.lines_at((bgp.header,)) if text.startswith("bgp rpki server tcp "))
    if state == "absent":
        for path, node in list(_walk(root.children)):
            match = re.fullmatch(r"neighbor (\S+) route-map %s in" % re.escape(policy), node.text)
            if match and path and path[0] == bgp.header:
                edits.add(path, "no " + node.text)
        if route_map_entries(root, policy):
            edits.add((), "no route-map %s" % policy)
        for node in root.children:
            match = re.fullmatch(r"route-map (\S+) (permit|deny) (\d+)", node.text)
            if match and match.group(1) != policy and node.find("description %s" % MARK):
                edits.add((), "no " + node.text)
        for cache in intent["caches"]:
            if cache["address"] in servers:
                edits.add((bgp.header,), "no " + servers[cache["address"]])
        return edits.lines(), {}
    for index, cache in enumerate(intent["caches"]):
        for timer in ("retry", "expire"):
            if cache.get(timer) is not None:
                raise IntentError("caches[%d].%s: %r IOS has no RTR %s timer (only refresh); leave it unset"
                                  % (index, timer, cache[timer], timer))
        address = cache["address"].upper() if ":" in cache["address"] else cache["address"]
        edits.add((bgp.header,), "bgp rpki server tcp %s port %d refresh %d"
                  % (address, cache["port"], cache["refresh"] or DEFAULT_REFRESH))
        expect["rtr_caches"].append(cache["address"])
    own, chained = [], {}
    targets = bgp.targets(intent)
    for name, family in targets:
        path = bgp.af_path(family)
        existing = bgp.setting(path, name, "route-map")
        if existing in (None, policy):
            own.append((path, name))
        else:
            chained.setdefault(existing, []).append(name)
    if own or not targets:  # rendered with no neighbours: the policy alone
        entries = [(("route-map %s deny 10" % policy,), ["description %s" % MARK, "match rpki invalid"]),
                   (("route-map %s permit 20" % policy,), ["match rpki not-found"] + _sets(intent["not_found"])),
                   (("route-map %s permit 30" % policy,), ["match rpki valid"] + _sets(intent["valid"])),
                   (("route-map %s permit 40" % policy,), [])]
        for path, lines in entries:
            edits.block(path)
            for line in lines:
                edits.add(path, line)
    for name, users in sorted(chained.items()):
        ours = [(a, s, n) for a, s, n in route_map_entries(root, name) if n.find("description %s" % MARK)]
        theirs = [(a, s, n) for a, s, n in route_map_entries(root, name) if not n.find("description %s" % MARK)]
        wanted = [("deny", ["description %s" % MARK, "match rpki invalid"])]
        for state_name, mark in (("not-found", intent["not_found"]), ("valid", intent["valid"])):
            if _sets(mark):
                wanted.append(("permit", ["description %s" % MARK, "match rpki %s" % state_name] + _sets(mark) + ["continue"]))
        first = theirs[0][1] if theirs else 10
        if ours:
            seqs = [s for dummy, s, dummy2 in ours][:len(wanted)]
            seqs += list(range(seqs[-1] + 1, seqs[-1] + 1 + len(wanted) - len(seqs)))
        else:
            seqs = list(range(first - len(wanted), first))
        if not seqs or seqs[0] < 1 or (theirs and seqs[-1] >= first):
            raise ConfigRefused("route-map %s (inbound for %s) starts at sequence %d: no room for the %d RPKI entries "
                                "in front of it; renumber it (e.g. start at 10)" % (name, ", ".join(users), first, len(wanted)))
        for seq, (action, lines) in zip(seqs, wanted):
            path = ("route-map %s %s %d" % (name, action, seq),)
            for line in lines:
                edits.add(path, line)
    for path, name in own:
        edits.add(path, "neighbor %s route-map %s in" % (name, policy))
    return edits.lines(), expect


def _length_lines(intent, family):
    """The prefix-list lines (without the list's name) that enforce the length limits."""
    zero, top = ("0.0.0.0/0", 32) if family == "ipv4" else ("::/0", 128)
    lines = []
    high, low = intent["max_length"][family], intent["min_length"][family]
    if high is not None and high < top:
        lines.append((5, "deny %s ge %d" % (zero, high + 1)))
    if low:
        lines.append((6, "deny %s le %d" % (zero, low - 1)))
    return lines, (1000, "permit %s le %d" % (zero, top))


def _limits(root, intent, state):
    bgp = Bgp(root).require()
    edits = Edits(root)
    prefix = {"ipv4": "ip", "ipv6": "ipv6"}
    names = {"ipv4": intent["policy"] + "-V4", "ipv6": intent["policy"] + "-V6"}
    targets = [(bgp.spelled(n["address"]), n) for n in intent["neighbors"]]
    if state == "absent":
        for name, neighbor in targets:
            for family in ("ipv4", "ipv6"):
                path = bgp.af_path(family)
                for text in bgp.lines_at(path):
                    if text.startswith("neighbor %s maximum-prefix " % name):
                        edits.add(path, "no " + text)
        for path, node in list(_walk(root.children)):
            if path and path[0] == bgp.header and re.fullmatch(
                    r"neighbor \S+ prefix-list (%s) in" % "|".join(map(re.escape, names.values())), node.text):
                edits.add(path, "no " + node.text)
        for family in ("ipv4", "ipv6"):
            ours = [line for dummy, line in _length_lines(intent, family)[0]]
            for node in root.children:
                match = re.fullmatch(r"%s prefix-list (\S+) seq \d+ (.+)" % prefix[family], node.text)
                if match and match.group(1) != names[family] and match.group(2) in ours:
                    edits.add((), "no " + node.text)
            if any(n.text.startswith("%s prefix-list %s " % (prefix[family], names[family])) for n in root.children):
                edits.add((), "no %s prefix-list %s" % (prefix[family], names[family]))
        return edits.lines(), {}
    bindings = []
    for name, neighbor in targets:
        for family in ("ipv4", "ipv6"):
            maximum = neighbor["max_prefixes"][family]
            if maximum is None:
                continue
            line = "neighbor %s maximum-prefix %d" % (name, maximum)
            if neighbor["threshold"] != 75:
                line += " %d" % neighbor["threshold"]
            if neighbor["on_exceed"] == "warning":
                line += " warning-only"
            elif neighbor["restart_minutes"]:
                line += " restart %d" % neighbor["restart_minutes"]
            edits.add(bgp.af_path(family), line)
        family = _family(neighbor["address"])
        bindings.append((bgp.af_path(family), name, family))
    for family in ("ipv4", "ipv6"):
        denies, permit = _length_lines(intent, family)
        users = [(path, name) for path, name, fam in bindings if fam == family]
        if not denies or not users:
            continue
        own = []
        for path, name in users:
            existing = bgp.setting(path, name, "prefix-list")
            if existing in (None, names[family]):
                own.append((path, name))
                continue
            # in front of the neighbour's own prefix-list: our deny lines at the sequences before its first
            entries = [(int(m.group(1)), m.group(2)) for m in (
                re.fullmatch(r"%s prefix-list %s seq (\d+) (.+)" % (prefix[family], re.escape(existing)), n.text)
                for n in root.children) if m]
            theirs = sorted(seq for seq, line in entries if line not in [d for dummy, d in denies])
            first = theirs[0] if theirs else 10
            for offset, (dummy, line) in enumerate(denies):
                if any(line == text for dummy, text in entries):
                    continue
                seq = first - len(denies) + offset
                if seq < 1:
                    raise ConfigRefused("%s prefix-list %s starts at seq %d: no room for the length limits in front of "
                                        "it; renumber it" % (prefix[family], existing, first))
                edits.add((), "%s prefix-list %s seq %d %s" % (prefix[family], existing, seq, line))
        if own:
            for seq, line in denies + [permit]:
                edits.add((), "%s prefix-list %s seq %d %s" % (prefix[family], names[family], seq, line))
            for path, name in own:
                edits.add(path, "neighbor %s prefix-list %s in" % (name, names[family]))
    return edits.lines(), {}


def _acl_lines(intent, neighbors, family):
    lans = [ipaddress.ip_network(lan) for lan in intent["peering_lans"]]
    log = " log" if intent.get("log", True) else ""
    lines = []
    if family == "ipv4":
        for address in neighbors:
            lines += ["permit tcp host %s any eq bgp" % address, "permit tcp host %s eq bgp any" % address]
        for lan in lans:
            where = ("host %s" % lan.network_address) if lan.prefixlen == 32 else "%s %s" % (lan.network_address, lan.hostmask)
            lines += ["deny tcp %s any eq bgp%s" % (where, log), "deny tcp %s eq bgp any%s" % (where, log)]
        return [_acl_entry(line) for line in lines + ["permit ip any any"]]
    for address in neighbors:
        address = address.upper()
        lines += ["permit tcp host %s any eq bgp" % address, "permit tcp host %s eq bgp any" % address]
    for lan in lans:
        where = ("host %s" % lan.network_address) if lan.prefixlen == 128 else str(lan)
        lines += ["deny tcp %s any eq bgp%s" % (where.upper(), log), "deny tcp %s eq bgp any%s" % (where.upper(), log)]
    return lines + ["permit ipv6 any any"]


def _guard(root, intent, state):
    edits = Edits(root)
    name = intent["name"]
    headers = {"ipv4": "ip access-list extended %s" % name, "ipv6": "ipv6 access-list %s" % name}
    binds = {"ipv4": "ip access-group %s in" % name, "ipv6": "ipv6 traffic-filter %s in" % name}
    if state == "absent":
        for node in root.children:
            if node.text.startswith("interface "):
                for family in ("ipv4", "ipv6"):
                    if node.find(binds[family]):
                        edits.add((node.text,), "no " + binds[family])
        for family in ("ipv4", "ipv6"):
            if root.find(headers[family]):
                edits.add((), "no " + headers[family])
        return edits.lines(), {}
    bgp = Bgp(root)
    configured = [canonical for dummy, canonical in bgp.neighbors] if bgp.node else []
    neighbors = list(configured) + [a for a in intent.get("neighbors") or [] if _norm(a) not in configured]
    families = {}
    for family in ("ipv4", "ipv6"):
        lans = [lan for lan in intent["peering_lans"] if _family(lan.split("/")[0]) == family]
        if lans:
            families[family] = _acl_lines(dict(intent, peering_lans=lans), [a for a in neighbors if _family(a) == family], family)
    for family, lines in families.items():
        node = root.find(headers[family])
        have = [re.sub(r"\s+", " ", c.text).lower() for c in node.children] if node else None
        if have == [re.sub(r"\s+", " ", line).lower() for line in lines]:
            continue
        if node is not None:  # entries are ordered: rebuild rather than append after the final permit
            edits.add((), "no " + headers[family], force=True)
        edits.groups.append(((headers[family],), list(lines)))
    for interface in intent["interfaces"]:
        node = next((n for n in root.children if n.text == "interface %s" % interface), None)
        if node is None:
            raise ConfigRefused("interfaces: %r is not in the running config" % interface)
        for family in families:
            other = next((c.text for c in node.children
                          if re.fullmatch(r"(ip access-group|ipv6 traffic-filter) \S+ in", c.text)
                          and c.text.startswith(binds[family].split(" " + name)[0] + " ")
                          and c.text != binds[family]), None)
            if other:
                raise ConfigRefused("interface %s already filters inbound with `%s`; the guard would replace it. Add "
                                    "the guard's entries to that filter or name it as the guard" % (interface, other))
            edits.add((node.text,), binds[family])
    return edits.lines(), {}


PLANS = {"rpki": _rpki, "limits": _limits, "guard": _guard}


def plan(feature, intent, running, state):
    if state not in ("present", "absent"):
        raise ValueError("state %r cannot be planned (present or absent)" % state)
    return PLANS[feature](parse(running), intent, state)


RENDER_AS = 4294967295


def render(feature, intent):
    """The complete configuration for intent with no device: against a router with only
    `router bgp <local-as>` and the intent's neighbours (ASN shown as <local-as>)."""
    lines = ["router bgp %d" % RENDER_AS]
    for address in intent.get("neighbors") or []:
        lines.append(" neighbor %s remote-as 65535" % (address if isinstance(address, str) else address["address"]))
    for interface in intent.get("interfaces") or []:
        lines.append("interface %s" % interface)
    running = "\n".join(lines) + "\n"
    if feature == "guard":
        intent = dict(intent, neighbors=[])
        neighbors = [" neighbor %s remote-as 65535" % a for a in (intent.get("neighbors") or [])]
        running = "\n".join(["router bgp %d" % RENDER_AS] + neighbors
                            + ["interface %s" % i for i in intent["interfaces"]]) + "\n"
    return [line.replace(str(RENDER_AS), "<local-as>") for line in plan(feature, intent, running, "present")[0]]


def gather(feature, running):
    root = parse(running)
    bgp = Bgp(root)
    if feature == "rpki":
        caches = []
        for text in bgp.lines_at((bgp.header,)) if bgp.node else []:
            match = re.fullmatch(r"bgp rpki server tcp (\S+) port (\d+) refresh (\d+).*", text)
            if match:
                caches.append({"address": _norm(match.group(1)), "port": int(match.group(2)),
                               "refresh": int(match.group(3))})
        bindings = dict((_norm(m.group(1)), m.group(2)) for dummy, node in _walk(bgp.node.children if bgp.node else [])
                        for m in [re.fullmatch(r"neighbor (\S+) route-map (\S+) in", node.text)] if m)
        maps = {}
        for node in root.children:
            match = re.fullmatch(r"route-map (\S+) (permit|deny) (\d+)", node.text)
            if match and any(c.text.startswith("match rpki ") for c in node.children):
                maps.setdefault(match.group(1), []).append({
                    "seq": int(match.group(3)), "action": match.group(2),
                    "match": next(c.text.split()[-1] for c in node.children if c.text.startswith("match rpki ")),
                    "set": [c.text for c in node.children if c.text.startswith("set ")]})
        return {"caches": caches, "route_maps": maps,
                "neighbors": dict((a, m) for a, m in bindings.items() if m in maps)}
    if feature == "limits":
        neighbors = {}
        for path, node in _walk(bgp.node.children if bgp.node else []):
            match = re.fullmatch(r"neighbor (\S+) maximum-prefix (\d+)( \d+)?( restart (\d+)| warning-only)?", node.text)
            if not match:
                continue
            family = "ipv6" if path and "ipv6" in path[-1] else "ipv4"
            entry = neighbors.setdefault(_norm(match.group(1)), {
                "address": _norm(match.group(1)), "max_prefixes": {"ipv4": None, "ipv6": None}})
            entry["max_prefixes"][family] = int(match.group(2))
            entry.update(threshold=int(match.group(3)) if match.group(3) else 75,
                         on_exceed="warning" if match.group(4) == " warning-only" else "teardown",
                         restart_minutes=int(match.group(5)) if match.group(5) else None)
        lists = dict((_norm(m.group(1)), m.group(2)) for dummy, node in _walk(bgp.node.children if bgp.node else [])
                     for m in [re.fullmatch(r"neighbor (\S+) prefix-list (\S+) in", node.text)] if m)
        return {"neighbors": list(neighbors.values()), "prefix_lists": lists}
    filters = {}
    for node in root.children:
        match = re.fullmatch(r"(?:ip access-list extended|ipv6 access-list) (\S+)", node.text)
        if match and any(" eq bgp" in c.text for c in node.children):
            entry = filters.setdefault(match.group(1), {
                "name": match.group(1), "interfaces": [], "neighbors": [], "peering_lans": [], "log": False})
            for child in node.children:
                words = child.text.split()
                if words[:3] == ["permit", "tcp", "host"] and words[4:] == ["any", "eq", "bgp"]:
                    entry["neighbors"].append(_norm(words[3]))
                elif words[:2] == ["deny", "tcp"] and words[-3:-1] == ["eq", "bgp"] or words[-4:-1] == ["any", "eq", "bgp"]:
                    entry["log"] = entry["log"] or words[-1] == "log"
                    if words[2] != "host" and "/" in words[2]:
                        lan = str(ipaddress.ip_network(words[2].lower()))
                    elif words[2] != "host":  # address and wildcard
                        lan = str(ipaddress.IPv4Network("%s/%s" % (words[2], words[3])))
                    else:
                        lan = str(ipaddress.ip_network(words[3].lower()))
                    if lan not in entry["peering_lans"]:
                        entry["peering_lans"].append(lan)
    for node in root.children:
        if node.text.startswith("interface "):
            for child in node.children:
                match = re.fullmatch(r"(?:ip access-group|ipv6 traffic-filter) (\S+) in", child.text)
                if match and match.group(1) in filters:
                    interface = node.text.split(" ", 1)[1]
                    if interface not in filters[match.group(1)]["interfaces"]:
                        filters[match.group(1)]["interfaces"].append(interface)
    return {"filters": list(filters.values())}


# --- the session -----------------------------------------------------------------------------

class IosConfigSession(ConfigSession):
    """One change to an IOS router: checkpoint, revert timer, configure replace on failure."""

    def __init__(self, driver, device, options):
        self.driver, self.device = driver, device
        self.check_mode = bool(options.get("check_mode"))
        self.confirm_minutes = int(options.get("confirm_timeout") or 5)
        self.lock_timeout = float(options.get("lock_timeout") if options.get("lock_timeout") is not None else 60)
        self.post_check_wait = float(options.get("post_check_wait") if options.get("post_check_wait") is not None else 60)
        self.cli = None
        self.checkpoint = None      # the archive file taken before the change
        self.archived = None        # the archive file taken after the confirm (this run's configuration)
        self.changing = False       # the revert timer was asked for: the running config may differ
        self.saving = False         # write memory was sent
        self.confirmed = False
        self.in_config = False
        self.restored = None
        self.comment = None
        self._running = None
        self._candidate = None

    # plumbing ---------------------------------------------------------------------------------

    def _run(self, command):
        output = self.cli.exchange(("do " + command) if self.in_config else command)
        refusal = self.driver.refusal(output)
        if refusal:
            raise CommandRefused("%s refused %r: %s" % (self.device.where(), command, refusal))
        return output

    def __enter__(self):
        self.cli = self.device.cli(self.driver).__enter__()
        try:
            if not self.check_mode:
                self._open()
        except BaseException:
            self.cli.__exit__(None, None, None)
            raise
        return self

    def _open(self):
        archive = self._run("show archive")
        if "Archive feature not enabled" in archive or "archive" not in archive.lower():
            raise ConfigRefused("%s has no configuration archive (`show archive`: %s). %s"
                                % (self.device.where(), archive.strip().splitlines()[0] if archive.strip() else "",
                                   ARCHIVE_HINT))
        self._wait_for_lock("configure terminal")
        self.cli.exchange("end")
        out = self._run("archive config")
        if out.strip():
            raise ConfigRefused("%s refused the checkpoint `archive config`: %s" % (self.device.where(), out.strip()))
        self.checkpoint = _most_recent(self._run("show archive"))
        if self.checkpoint is None:
            raise ConfigRefused("%s took no checkpoint: `show archive` lists no most recent file" % self.device.where())

    def _wait_for_lock(self, command):
        """Enter configuration mode with command, waiting up to lock_timeout while someone else holds
        IOS's exclusive configuration lock; LockHeld when it does not come free."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            out = self.cli.exchange(command)
            if not LOCKED.search(out):
                break
            if time.monotonic() >= deadline:
                raise LockHeld("%s is being changed by someone else, not touched: %s (waited %ds; lock_timeout)"
                               % (self.device.where(), out.strip(), self.lock_timeout))
            time.sleep(min(2.0, max(0.1, self.lock_timeout / 10)))
        refusal = [line for line in out.splitlines() if line.strip().startswith("%")]
        if refusal:
            hint = (". " + ARCHIVE_HINT) if "rchive" in out else ""
            raise ConfigRefused("%s refused %r: %s%s" % (self.device.where(), command, " ".join(refusal), hint))
        return out

    # the steps --------------------------------------------------------------------------------

    def running(self):
        text = self._run("show running-config")
        self._running = text
        return text

    def baseline(self):
        return {"established": established(self._summaries())}

    def _summaries(self):
        """`show ip bgp summary` and `show bgp ipv6 unicast summary`, one text: the neighbours of both
        families (an IXP's IPv6 sessions are half of them)."""
        text = self._run("show ip bgp summary")
        try:
            return text + "\n" + self._run("show bgp ipv6 unicast summary")
        except CommandRefused:
            return text  # an IOS that does not know the command has no IPv6 neighbour to lose

    def load(self, lines):
        if self.check_mode:
            # nothing is sent: the candidate is computed from the running config (see the module docstring)
            self._candidate = apply_lines(parse(self._running), lines)
            return
        self.changing = True  # from here on a dropped session may have left the timer running: restore
        try:
            self._wait_for_lock("configure terminal revert timer %d" % self.confirm_minutes)
        except (LockHeld, ConfigRefused):
            self.changing = False  # refused before any change: nothing to put back
            raise
        self.in_config = True
        self.cli.configure(lines)

    def diff(self):
        if self.check_mode:
            return contextual_diff(parse(self._running), self._candidate)
        out = self._run("show archive config differences %s system:running-config" % self.checkpoint)
        if "No changes were found" in out:
            return ""
        return out.strip() + "\n"

    def commit(self, confirm_minutes, comment):
        """IOS applied each line as it was loaded, under `configure terminal revert timer`: the change
        is active and reverts by itself unless confirmed. IOS has no commit comment (a `!` line is
        dropped): the comment is kept for the result, and the archive file taken after the confirm
        (self.archived) holds this run's configuration."""
        self.comment = comment

    def problems(self, baseline, expect):
        problems = []
        caches = expect.get("rtr_caches") or []
        if caches:
            try:
                text = self._run("show ip bgp rpki servers")
            except CommandRefused:
                text = self._run("show bgp ipv4 unicast rpki servers")
            states = rtr_sessions(text)
            for address in caches:
                state = states.get(_norm(address))
                if state is None:
                    problems.append("RTR cache %s is not in `show ip bgp rpki servers`" % address)
                elif not state[0]:
                    problems.append("RTR session to %s is not up: %s" % (address, state[1]))
        text = self._summaries()
        now = established(text)
        for address in sorted(baseline.get("established") or {}):
            if address not in now:
                problems.append("BGP neighbour %s was Established before and is not now (`show %s`: %s)"
                                % (address, "ip bgp summary" if _family(address) == "ipv4" else "bgp ipv6 unicast summary",
                                   summary_row(text, address) or "not listed"))
        return problems

    def confirm(self):
        if self.in_config:
            self.cli.exchange("end")
            self.in_config = False
        out = self._run("configure confirm")
        if out.strip():
            raise ConfigRefused("%s answered `configure confirm` with: %s" % (self.device.where(), out.strip()))
        self._run("archive config")
        self.archived = _most_recent(self._run("show archive"))
        self.saving = True
        out = self._run("write memory")
        if "[OK]" not in out:
            raise ConfigRefused("%s did not save the configuration (`write memory`): %s" % (self.device.where(), out.strip()))
        self.confirmed = True

    # leaving ----------------------------------------------------------------------------------

    def __exit__(self, *exc_info):
        try:
            if self.changing and not self.confirmed:
                self._restore()
            elif self.in_config:
                try:
                    self.cli.exchange("end")
                except DeviceError:
                    pass
        finally:
            if self.cli is not None:
                self.cli.__exit__(None, None, None)
        return False

    def _restore(self):
        """Put the checkpoint back at once, on this session or a new one; verify it."""
        errors = []
        for attempt in ("this session", "a new session"):
            try:
                if attempt == "a new session":
                    self.cli.__exit__(None, None, None)
                    self.cli = self.device.cli(self.driver).__enter__()
                    self.in_config = False
                self._replace()
                return
            except DeviceError as error:
                errors.append("%s: %s" % (attempt, error))
        self.restored = ("the router could not be reached to put back %s (%s); its revert timer puts that configuration "
                         "back by itself within %d minutes of the change"
                         % (self.checkpoint, "; ".join(errors), self.confirm_minutes))
        raise DeviceError("%s may be left changed until its revert timer runs out (%d minutes): %s"
                          % (self.device.where(), self.confirm_minutes, self.restored))

    def _replace(self):
        if self.in_config:
            self.cli.exchange("end")
            self.in_config = False
        out = self.cli.exchange("configure replace %s force" % self.checkpoint)
        if "Rollback Done" not in out and "rollback done" not in out.lower():
            raise DeviceError("`configure replace %s force` answered: %s" % (self.checkpoint, out.strip()))
        diff = self.cli.exchange("show archive config differences %s system:running-config" % self.checkpoint)
        if "No changes were found" not in diff:
            raise DeviceError("after `configure replace %s force` the running config still differs: %s"
                              % (self.checkpoint, diff.strip()))
        said = "the change was undone: `configure replace %s force` put the checkpoint back (verified)" % self.checkpoint
        if self.saving:
            self.cli.exchange("write memory")
            said += ", and `write memory` saved it again"
        self.restored = said


def _most_recent(show_archive):
    for line in show_archive.splitlines():
        if "<- Most Recent" in line:
            return line.split()[1]
    return None


def summary_rows(summary):
    """{neighbour: the row's other columns} from `show ip bgp summary` / `show bgp ipv6 unicast summary`.
    IOS prints a neighbour address longer than its 15-character column alone on its line (with a * for
    a dynamic neighbour) and the other columns on the next, indented (genieparser's iosxe show_bgp
    parser documents the same form)."""
    rows, alone = {}, None
    for line in summary.splitlines():
        words = line.split()
        if alone and line[:1].isspace() and words[:1] == ["4"]:
            rows[_norm(alone)] = words
        elif len(words) >= 10 and _family(words[0].lstrip("*")) and words[1] == "4":
            rows[_norm(words[0].lstrip("*"))] = words[1:]
        alone = words[0].lstrip("*") if len(words) == 1 and _family(words[0].lstrip("*")) else None
    return rows


def established(summary):
    """{neighbour: prefixes received} for the Established rows (a number in State/PfxRcd)."""
    return dict((address, int(words[-1])) for address, words in summary_rows(summary).items() if words[-1].isdigit())


def summary_row(summary, address):
    words = summary_rows(summary).get(_norm(address))
    return " ".join([address] + words) if words else None


def rtr_sessions(text):
    """{cache address: (up, the router's words)} from `show ip bgp rpki servers`. A session is up
    when its Session ID is not 0 (a session that never synchronised has none) [mem, as the IOS
    double shows it; fixtures/ios_config.md]."""
    sessions = {}
    blocks = re.split(r"(?m)^(?=BGP SOVC neighbor is )", text)
    for block in blocks:
        match = re.match(r"BGP SOVC neighbor is (\S+?)/(\d+)", block)
        if not match:
            continue
        session = re.search(r"Session ID is (\d+)", block)
        failures = re.search(r"Connection failures: (\d+)", block)
        up = bool(session and int(session.group(1)))
        words = " ".join(line.strip() for line in block.strip().splitlines()[:2])
        if failures and not up:
            words += " (connection failures: %s)" % failures.group(1)
        sessions[_norm(match.group(1))] = (up, words)
    return sessions


def session(driver, device, options):
    return IosConfigSession(driver, device, options)
