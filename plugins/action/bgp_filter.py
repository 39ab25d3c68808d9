# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for bgp_filter: the router is reached from the controller (config/run.py does the work)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.plugin_utils.config_action import ConfigAction


class ActionModule(ConfigAction):
    NAME = "bgp_filter"
