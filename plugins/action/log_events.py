# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for log_events: routers are read from the controller, log files on their host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.options import ARGUMENT_SPEC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.run import run_log_events
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.router_action import RouterAction


class ActionModule(RouterAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    MODULE = "peerwarden.bgp.log_events"
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def runs_on_router(self, args):
        return args.get("source", "device") != "file"

    def run_on_router(self, params, task_vars):
        return dict(changed=False, **run_log_events(params))
