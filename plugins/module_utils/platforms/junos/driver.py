# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Juniper JunOS: logs over the SSH CLI, configuration over NETCONF."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, Driver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos import config, logs


class JunosDriver(Driver):
    name = "junos"
    network_os = ("junipernetworks.junos.junos", "junos")
    cli_type = "juniper_junos"
    capabilities = frozenset([LOGS, CONFIG])
    # "error: permission denied", "error: could not resolve file: x", "unknown command.", "syntax error, expecting ..."
    refusals = (re.compile(r"^error:"), re.compile(r"^unknown command"), re.compile(r"^syntax error"))
    log_reader = logs
    config_module = config

    def refusal_hint(self, device):
        return ("Check the command's arguments (log_files) and that the login class of %s may run it "
                "(JunOS permissions view, trace)" % device.username)
