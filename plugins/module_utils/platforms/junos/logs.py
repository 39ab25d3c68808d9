# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Juniper JunOS over the SSH CLI: `show log <file>` for each log file and `show firewall log detail`.

The CLI (netmiko juniper_junos) is used rather than NETCONF because `show log` text is what the
line scanner reads either way, and it works with the same login operators already use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Capture
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos.firewall_log import parse_firewall_log

DEFAULT_LOG_FILES = ["messages"]
_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def collect(device, driver, options):
    log_files = options.get("log_files") or DEFAULT_LOG_FILES
    for name in log_files:
        if not _FILE_NAME.match(name):
            raise ValueError("log_files: %r is not a JunOS log file name (as in 'show log <name>', e.g. messages)"
                             % name)
    with device.cli(driver) as session:
        for name in log_files:
            yield Capture.log_text("show log %s" % name, session.run("show log %s" % name))
        if options.get("firewall_log", True):
            yield Capture.table("show firewall log detail", session.run("show firewall log detail"),
                                parse_firewall_log)
