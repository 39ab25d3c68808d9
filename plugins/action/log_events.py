# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for log_events: routers are read from the controller, log files on their host.

With source=device the inventory's connection variables become the module's options and the scan
runs here, in the controller's Python (where netmiko is installed), whatever connection the
inventory names: no persistent connection is started (_requires_connection = False). With
source=file the module runs on the play's host as any module does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.peerwarden.bgp.plugins.module_utils.device import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.log_events_args import ARGUMENT_SPEC
from ansible_collections.peerwarden.bgp.plugins.module_utils.log_events_run import run_log_events

# option -> inventory variables, then the environment AWX sets for network credentials
INVENTORY = {
    "host": (("ansible_host",), ()),
    "port": (("ansible_port",), ()),
    "username": (("ansible_user",), ("ANSIBLE_NET_USERNAME",)),
    "password": (("ansible_password", "ansible_ssh_pass"), ("ANSIBLE_NET_PASSWORD",)),
    "ssh_key_file": (("ansible_ssh_private_key_file", "ansible_private_key_file"), ("ANSIBLE_NET_SSH_KEYFILE",)),
    "platform": (("ansible_network_os",), ()),
}


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        args.setdefault("inventory_hostname", task_vars.get("inventory_hostname"))
        if args.get("source", "device") == "file":
            result.update(self._execute_module(module_name="peerwarden.bgp.log_events", module_args=args,
                                               task_vars=task_vars))
            return result
        for option, (variables, environment) in INVENTORY.items():
            if args.get(option) is None:
                args[option] = self._from_inventory(task_vars, variables, environment)
        if args.get("host") is None:
            args["host"] = args["inventory_hostname"]
        self._task.args = args
        try:
            dummy, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        except AnsibleActionFail as error:
            result.update(failed=True, msg=str(error))
            return result
        try:
            result.update(changed=False, **run_log_events(params))
        except (ValueError, DeviceError, OSError) as error:
            result.update(failed=True, msg="%s: %s" % (args["inventory_hostname"], error))
        return result

    def _from_inventory(self, task_vars, variables, environment):
        for name in variables:
            if task_vars.get(name) not in (None, ""):
                return self._templar.template(task_vars[name])
        for name in environment:
            if os.environ.get(name):
                return os.environ[name]
        return None
