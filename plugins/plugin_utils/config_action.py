# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin base of rpki_config, prefix_limits and bgp_filter (a RouterAction: the router is
reached from the controller). Check mode comes from the task; a failed apply says which step failed and
what was done to put the router back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import ApplyFailed
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.options import MODULES
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_config
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.router_action import RouterAction


class ConfigAction(RouterAction):
    """A subclass names its module in NAME; its feature, argument spec and valid arguments follow from MODULES."""

    NAME = None
    FEATURE = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.FEATURE, cls.ARGUMENT_SPEC = MODULES[cls.NAME]
        cls.MODULE = "peerwarden.bgp." + cls.NAME
        cls._VALID_ARGS = frozenset(cls.ARGUMENT_SPEC)

    def run_on_router(self, params, task_vars):
        check_mode = bool(self._task.check_mode or getattr(self._play_context, "check_mode", False))
        try:
            return run_config(self.FEATURE, params, check_mode=check_mode)
        except ApplyFailed as error:
            return dict(failed=True, changed=False, step=error.step, restored=error.restored,
                        msg="%s: %s" % (params.get("inventory_hostname"), error))
