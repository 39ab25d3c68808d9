# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JunOS `show firewall log` (the PFE ring buffer filled by a filter's `then log`).

The brief table has no ports, so its TCP rows cannot be tied to BGP: they are counted as not
BGP. The detail form has ports; an entry spans two lines (JunOS documentation copies sometimes
glue them, "fxp0.0Name of protocol"), both shapes are read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import (
    BGP_PORT, FIREWALL_DROP, NOT_BGP, finding)
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import find_timestamp, time_of_day_before

_BRIEF_ROW = re.compile(r"^(?P<time>\d{2}:\d{2}:\d{2})\s+\S+\s+(?P<action>[ADR])\s+(?P<ifl>\S+)\s+(?P<proto>\S+)"
                        r"\s+(?P<src>[0-9A-Fa-f:.]+)\s+(?P<dst>[0-9A-Fa-f:.]+)\s*$")
_DETAIL = re.compile(
    r"Time of Log: (?P<time>[^,]+), Filter: [^,]*, Filter action: (?P<action>\w+), "
    r"Name of interface: (?P<ifl>\S+?),?\s*Name of protocol: (?P<proto>\w+),\s*Packet Length: \d+, "
    r"Source address: (?P<src>[0-9A-Fa-f:.]+):(?P<sp>\d+), Destination address: (?P<dst>[0-9A-Fa-f:.]+):(?P<dp>\d+)")
_DROP_ACTIONS = ("discard", "reject", "D", "R")


def parse_firewall_log(text, zone, reference):
    """Yield (Finding | NOT_BGP | None, stamp, line) per entry of brief or detail output."""
    lines = [line.rstrip() for line in text.splitlines()]
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "Time of Log:" in line:
            if "Source address:" not in line and index < len(lines):
                line = line + " " + lines[index].strip()
                index += 1
            yield _detail(line, zone, reference)
            continue
        row = _BRIEF_ROW.match(line.strip())
        if row:
            yield NOT_BGP, time_of_day_before(row.group("time"), zone, reference), line


def _detail(line, zone, reference):
    entry = _DETAIL.search(line)
    if entry is None:
        return None, None, line
    stamp = find_timestamp(entry.group("time"), zone, reference)
    src_port, dst_port = int(entry.group("sp")), int(entry.group("dp"))
    if (entry.group("proto").lower() != "tcp" or entry.group("action") not in _DROP_ACTIONS
            or BGP_PORT not in (src_port, dst_port)):
        return NOT_BGP, stamp, line
    remote_port = src_port if dst_port == BGP_PORT else BGP_PORT
    return finding(FIREWALL_DROP, entry.group("src"), remote_port, entry.group("ifl"), local=entry.group("dst")), stamp, line
