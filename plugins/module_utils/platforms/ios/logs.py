# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS / IOS-XE over the SSH CLI: `show logging`, framed with ntc-templates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import CATALOGUE
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture

try:
    from ntc_templates.parse import parse_output
    HAS_NTC = True
except ImportError:  # pragma: no cover - depends on the controller
    HAS_NTC = False


def collect(device, driver, options):
    with device.cli(driver) as session:
        output = session.run("show logging")
    yield Capture.log_text("show logging", "\n".join(frame_show_logging(output)))


def frame_show_logging(output):
    """The log buffer of `show logging` as one line per message.

    ntc-templates' cisco_ios_show_logging skips the header and gathers continuation lines into
    each record; each record is rebuilt as a line the scanner knows, and its extra lines follow.
    Two guards keep its gaps from losing a finding: the "." clock marker (time not authoritative),
    which the template mistakes for a month, is read as the "*" it knows; and a buffer line with a
    watched keyword whose message did not come out whole is passed on as it was.
    """
    if not HAS_NTC:
        raise ValueError("ntc-templates is needed on the controller to read IOS 'show logging' "
                         "(pip install ntc-templates)")
    lines = output.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("Log Buffer")), 0)
    buffer = ["*" + line[1:] if line.startswith(".") else line for line in lines[start:] if line.strip()]
    records = parse_output(platform="cisco_ios", command="show logging", data="\n".join(lines[:start] + buffer))
    framed = []
    for record in records:
        stamp = " ".join(x for x in (record["month"], record["day"], record["time"]) if x)
        zone = " " + record["timezone"] if record["timezone"] else ""
        tag = "%" + "-".join(x for x in (record["facility"], record["severity"], record["mnemonic"]) if x)
        message = record["message"] or [""]
        framed.append("%s%s: %s: %s" % (stamp, zone, tag, message[0]))
        framed.extend(message[1:])
    return [line for line in buffer if _lost(line, framed)] + framed


def _lost(line, framed):
    """True if the line carries a watched keyword and no framed line holds its message whole."""
    for message in CATALOGUE:
        keyword = message.keyword.decode()
        if keyword in line:
            tail = line[line.index(keyword):]
            return not any(tail in candidate for candidate in framed)
    return False
