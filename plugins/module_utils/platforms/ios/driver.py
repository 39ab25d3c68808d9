# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS and IOS-XE over the SSH CLI."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, IosLikeDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios import config, logs


class IosDriver(IosLikeDriver):
    name = "ios"
    network_os = ("cisco.ios.ios", "ios")
    cli_type = "cisco_ios"
    capabilities = frozenset([LOGS, CONFIG])
    log_reader = logs
    config_module = config
