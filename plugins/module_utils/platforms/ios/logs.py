# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS / IOS-XE over the SSH CLI: `show logging`, split into one record per message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture

_BUFFER_START = re.compile(r"^Log Buffer \(\d+ bytes\):\s*$")


def collect(device, driver, options):
    with device.cli(driver) as session:
        output = session.run("show logging")
    yield Capture.log_text("show logging", "\n".join(split_show_logging(output)))


def split_show_logging(output):
    """The log buffer of `show logging` as one line per message.

    Our own splitter, not ntc-templates: its template knows one header shape per state (no "."
    clock marker, no year, three-letter zones only) and glues a line it does not know to the
    previous record, so a real message got lost in another one's text.

    The buffer holds one message per line, whatever its header ("022701: ", "*", ".", a year, a
    zone, an uptime such as "7:04:"); only the indented lines that continue a message belong to
    the one before. The header above "Log Buffer (N bytes):" is left out; without that line (a
    filtered `show logging | include ...`) every line is taken.
    """
    lines = output.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _BUFFER_START.match(line)), 0)
    records = []
    for line in lines[start:]:
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if line[0] in " \t" and records:
            records[-1] += " " + line.strip()
        else:
            records.append(line.strip())
    return records
