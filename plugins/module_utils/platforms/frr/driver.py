# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRRouting: vtysh as the login shell, which netmiko drives as cisco_ios."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, IosLikeDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config, logs


class FrrDriver(IosLikeDriver):
    name = "frr"
    network_os = ("frr.frr.frr", "frr")
    cli_type = "cisco_ios"
    capabilities = frozenset([LOGS, CONFIG])
    log_reader = logs
    config_module = config
