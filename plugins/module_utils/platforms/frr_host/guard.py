# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TCP/179 guard on a Linux FRR host as an nftables table of our own: render, gather, plan.

The table (`table inet peerwarden_bgp_guard` for the default name) holds every value in named sets and
two fixed rules, so the rules' text never depends on the data and `nft list table` can be compared:

    table inet peerwarden_bgp_guard {
        set interfaces { type ifname; elements = { "eth1" } }
        set lans4 { type ipv4_addr; flags interval; elements = { 192.0.2.0/24 } }
        set lans6 { type ipv6_addr; flags interval; ... }
        set neighbors4 { type ipv4_addr; elements = { 192.0.2.1 } }
        set neighbors6 { type ipv6_addr; ... }
        chain input {
            type filter hook input priority filter; policy accept;
            iifname @interfaces ip saddr @lans4 ip saddr != @neighbors4 tcp dport 179 log prefix "peerwarden-bgp-guard: " drop
            iifname @interfaces ip6 saddr @lans6 ip6 saddr != @neighbors6 tcp dport 179 log prefix "peerwarden-bgp-guard: " drop
        }
    }

Loaded as one nft transaction (`nft -f`): `table inet T` (creates it when missing), `delete table inet T`,
then the table: atomic, and no other table is touched. Sources for the syntax: nft(8) (nftables 1.0.6),
the nftables wiki "Sets", "Logging traffic" (log prefix, log group for NFLOG) and "Atomic rule replacement".
The listing format was read from nft 1.0.6's own `nft list table` output.

Hand-written: no library renders or parses nft text (python-nftables needs the host's libnftables and
root, and the controller has neither).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import re

#: what every logged drop starts with: log_events finds the lines by it (logs/patterns.py NETFILTER_GUARD)
LOG_PREFIX = "peerwarden-bgp-guard: "
FAMILIES = (("4", "ip", "ipv4_addr"), ("6", "ip6", "ipv6_addr"))
IFNAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")
HOOK = "type filter hook input priority filter; policy accept;"
UNNUMBERED_LAN = ipaddress.ip_network("fe80::/10")


def table_name(intent):
    """The nft table of a guard: its name in lower case, - as _ (PEERWARDEN-BGP-GUARD -> peerwarden_bgp_guard)."""
    return intent["name"].lower().replace("-", "_")


def check(intent):
    """The rules nft has for the values, checked with no device (render and plan call it)."""
    for interface in intent["interfaces"]:
        if not IFNAME.match(interface):
            raise ValueError("interfaces: %r is not a Linux interface name (1 to 15 letters, digits, _ . : @ -; "
                             "nftables sets take no wildcards)" % interface)
    group = intent.get("log_group")
    if group is not None and not (0 <= group <= 65535):
        raise ValueError("log_group: %r must be an NFLOG group from 0 to 65535" % group)
    lans = [ipaddress.ip_network(lan) for lan in intent["peering_lans"]]
    for index, lan in enumerate(lans):
        for other in lans[index + 1:]:
            if lan.version == other.version and lan.overlaps(other):
                raise ValueError("peering_lans: %s and %s overlap: an nftables interval set takes each address once; "
                                 "keep the larger" % (lan, other))


def wanted(intent, neighbors):
    """The guard's content: intent plus the router's own neighbours (addresses), canonical and sorted."""
    check(intent)
    return {
        "table": table_name(intent),
        "interfaces": sorted(set(intent["interfaces"])),
        "peering_lans": _sorted_networks(intent["peering_lans"]),
        "neighbors": _sorted_addresses(list(intent["neighbors"]) + list(neighbors)),
        "log": intent["log"],
        "log_group": intent.get("log_group") if intent["log"] else None,
        "rules_as_rendered": True,
    }


def _sorted_networks(values):
    networks = set(ipaddress.ip_network(value, strict=False) for value in values)
    return [str(net) for net in sorted(networks, key=lambda net: (net.version, net))]


def _sorted_addresses(values):
    addresses = set(ipaddress.ip_address(value) for value in values)
    return [str(addr) for addr in sorted(addresses, key=lambda addr: (addr.version, addr))]


def _by_family(values, version):
    return [value for value in values if (":" in value) == (version == "6")]


def rules(guard):
    """The chain's two rules, exactly as `nft list table` prints them."""
    action = "drop"
    if guard["log"]:
        action = 'log prefix "%s" %sdrop' % (LOG_PREFIX, "group %d " % guard["log_group"] if guard["log_group"] is not None else "")
    return ["iifname @interfaces %s saddr @lans%s %s saddr != @neighbors%s tcp dport 179 %s" % (word, version, word, version, action)
            for version, word, dummy in FAMILIES]


def _set(name, kind, elements, interval=False):
    lines = ["\tset %s {" % name, "\t\ttype %s" % kind]
    if interval:
        lines.append("\t\tflags interval")
    if elements:
        lines.append("\t\telements = { %s }" % ", ".join(elements))
    return lines + ["\t}"]


def table_text(guard):
    """The table as nft input (and as the diff shows it); '' for no table."""
    if guard is None:
        return ""
    lines = ["table inet %s {" % guard["table"]]
    lines += _set("interfaces", "ifname", ['"%s"' % name for name in guard["interfaces"]])
    for version, dummy, kind in FAMILIES:
        lines += _set("lans" + version, kind, _by_family(guard["peering_lans"], version), interval=True)
    for version, dummy, kind in FAMILIES:
        lines += _set("neighbors" + version, kind, _by_family(guard["neighbors"], version))
    lines += ["\tchain input {"]
    lines += ["\t\t" + rule for rule in (guard.get("rules") or [HOOK] + rules(guard))]
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def script(table, guard):
    """The nft input that replaces table `table` with guard (None: removes it), as one transaction."""
    lines = ["table inet %s" % table, "delete table inet %s" % table]
    return lines + (table_text(guard).rstrip("\n").split("\n") if guard is not None else [])


# ------------------------------------------------------------------------------------------ reading

_TABLE = re.compile(r"^table inet (\S+) \{$")
_SET = re.compile(r"^set (\S+) \{$")


def gather(listing):
    """`nft list table inet T` text -> the guard's content (as wanted() gives it), None for no table.
    rules_as_rendered is False when the chain is not exactly our two rules (edited by hand)."""
    if not listing or not listing.strip():
        return None
    lines = [line.strip() for line in listing.splitlines() if line.strip()]
    match = _TABLE.match(lines[0])
    if not match:
        raise ValueError("not an nftables table listing: %r" % lines[0])
    sets, chain, current, collecting = {}, [], None, None
    for line in lines[1:]:
        if collecting is not None:
            collecting.append(line)
            if line.endswith("}"):
                sets[current] = _elements(" ".join(collecting))
                collecting = None
            continue
        opened = _SET.match(line)
        if opened:
            current = opened.group(1)
            sets[current] = []
        elif line.startswith("elements = {"):
            collecting = [line]
            if line.endswith("}"):
                sets[current] = _elements(line)
                collecting = None
        elif line.startswith("chain "):
            current = None
        elif current is None and line != "}":
            chain.append(line)
    guard = {
        "table": match.group(1),
        "interfaces": sorted(sets.get("interfaces", [])),
        "peering_lans": _sorted_networks(sets.get("lans4", []) + sets.get("lans6", [])),
        "neighbors": _sorted_addresses(sets.get("neighbors4", []) + sets.get("neighbors6", [])),
    }
    logs = [re.search(r' log prefix "[^"]*"(?: group (\d+))?', rule) for rule in chain[1:]]
    guard["log"] = bool(logs) and all(logs)
    guard["log_group"] = int(logs[0].group(1)) if guard["log"] and logs[0].group(1) else None
    guard["rules_as_rendered"] = chain == [HOOK] + rules(guard)
    if not guard["rules_as_rendered"]:
        guard["rules"] = chain
    return guard


def _elements(text):
    inner = text[text.index("{") + 1:text.rindex("}")]
    return [item.strip().strip('"') for item in inner.split(",") if item.strip()]


def plan(table, have, want):
    """The nft script that takes the table from have (gathered, or None) to want (None: no table); [] when equal."""
    if have == want:
        return []
    return script(table, want)


def diff(before, after):
    """The text diff of our table, before and after (both as table_text renders them)."""
    return "".join(difflib.unified_diff(table_text(before).splitlines(True), table_text(after).splitlines(True),
                                        "nft table (before)", "nft table (after)"))
