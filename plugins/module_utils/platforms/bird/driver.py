# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BIRD: no CLI over SSH; its log file is read over SFTP."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import LOGS, Driver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.bird import logs


class BirdDriver(Driver):
    name = "bird"
    network_os = ("bird",)
    capabilities = frozenset([LOGS])
    log_reader = logs
