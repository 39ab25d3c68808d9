# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sending router named in a syslog header, in every form a log host writes.

A log host's file mixes many routers; each finding must be filed under the router that logged
it, not under the log host. Only lines that are findings are asked (about one in a thousand), so
this may be thorough without costing the scan anything.

Forms read (each with or without `<PRI>`, after indentation, tabs or a UTF-8 BOM):
  RFC 3164        `Nov 20 08:14:09 edge1 rpd[3167]: ...`, `Nov 20 2026 08:14:09 edge1 ...`, with an
                  IPv4 or IPv6 address as the host, or with an IOS sequence number before the time
  RFC 5424        `<28>1 2020-05-22T14:59:09.250-03:00 edge1 rpd 6589 - - ...`
  RFC 3339        `2026-11-20T08:14:09.123456+01:00 edge1 rpd[3167]: ...` (rsyslog's high-precision
                  file format; syslog-ng's ISO dates)
  IOS-XR          `883282: edge1 RP/0/RP0/CPU0:2021 Feb 13 ...` (host before the node name)
  IOS origin-id   `15162564: edge1: 29391555: Jun 26 ...` (`logging origin-id hostname`)
Lines that name no host (router buffers, FRR and BIRD file logs, `bird: BGP: ...`) give None.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address

_START = r"^\ufeff?[ \t]*(?:<\d{1,3}>)?"
_SP = r"[ \t]+"
_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"\d{1,2}:\d{2}:\d{2}(?:\.\d{1,9})?"
_ISO = r"\d{4}-\d{2}-\d{2}[T ]" + _TIME + r"(?:Z|[+-]\d{2}:?\d{2})?"
# a host token: hostname, IPv4 or IPv6 (a trailing ":" is only allowed when the token is an address)
_HOST = r"(?P<host>[A-Za-z0-9][\w.:-]*)"

_FORMS = (
    # RFC 3164, optionally an IOS sequence number and a "*"/"." clock mark before the time
    re.compile(_START + r"(?:\d+:" + _SP + r")?[*.]?" + _MON + _SP + r"\d{1,2}(?:" + _SP + r"\d{4})?" + _SP + _TIME
               + _SP + _HOST + r"(?=[ \t])"),
    # RFC 5424 (version 1) and RFC 3339 without a version
    re.compile(_START + r"(?:1" + _SP + r")?" + _ISO + _SP + _HOST + r"(?=[ \t])"),
    # IOS-XR: the host, then the node ("RP/0/RP0/CPU0:", "0/RSP0/CPU0:", "LC/0/1/CPU0:")
    re.compile(_START + r"(?:\d+:" + _SP + r")?" + _HOST + _SP + r"(?:[A-Z]+/)?\d+/\S*?CPU\d+:"),
    # IOS with `logging origin-id`: "[seq: ]host: seq: "
    re.compile(_START + r"(?:\d*:" + _SP + r")?(?P<host>[A-Za-z0-9][\w.:-]*?):" + _SP + r"\d+:" + _SP),
)
_NOT_HOSTS = frozenset(("kernel", "last"))


def syslog_host(line):
    """The sending host named in a syslog header, or None (FRR/BIRD file logs and CLI output have none)."""
    for form in _FORMS:
        match = form.match(line)
        if match is None:
            continue
        host = match.group("host")
        if host.endswith(":"):  # "EDT:", "bird:", "rpd[1]:" are not hosts; "2001:db8::" is one
            return canonical_address(host)
        if host in _NOT_HOSTS:
            return None
        return canonical_address(host) or host
    return None
