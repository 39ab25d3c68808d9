# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one action plugin base for modules that read or change a router.

The router is reached from the controller (where netmiko and ncclient are installed), whatever
connection the inventory names: no persistent connection is started (_requires_connection = False).
The connection options come from, in this order: the task's own options; the inventory's
variables; the play context, which is how AWX passes a Machine credential (-u, the password
answered at the --ask-pass prompt, --private-key, --become / the become password); the
ANSIBLE_NET_* environment of an AWX Network credential. docs/connecting.md has the table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.bastion import proxy_command_from_ssh_args
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import Driver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

# option -> (inventory variables, play context attributes, environment variables); the first set wins
SOURCES = (
    ("host", ("ansible_host",), ("remote_addr",), ()),
    ("port", ("ansible_port", "ansible_ssh_port"), ("port",), ()),
    ("username", ("ansible_user", "ansible_ssh_user"), ("connection_user", "remote_user"), ("ANSIBLE_NET_USERNAME",)),
    ("password", ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password"), ("password",),
     ("ANSIBLE_NET_PASSWORD",)),
    ("ssh_key_file", ("ansible_ssh_private_key_file", "ansible_private_key_file"), ("private_key_file",),
     ("ANSIBLE_NET_SSH_KEYFILE",)),
    ("enable_password", ("ansible_become_password", "ansible_become_pass", "ansible_enable_pass"), ("become_pass",),
     ("ANSIBLE_NET_AUTH_PASS",)),
    ("host_key_checking", ("ansible_host_key_checking", "ansible_ssh_host_key_checking",
                           "ansible_paramiko_host_key_checking"), (), ()),
    ("platform", ("ansible_network_os",), (), ()),
)
SSH_ARGS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")


def connection_options(args, task_vars, play_context, environ, template=lambda value: value):
    """The task's options with every unset connection option filled in from where AWX and the inventory
    put it. Pure (given its inputs), so the precedence is tested without a play."""
    options = dict(args)
    for option, variables, attributes, environment in SOURCES:
        if options.get(option) is not None:
            continue
        options[option] = _first(
            [template(task_vars.get(name)) for name in variables]
            + [getattr(play_context, name, None) for name in attributes]
            + [environ.get(name) for name in environment])
    if options.get("enable") is None:
        options["enable"] = _enable(task_vars, play_context, environ, template, _become_methods(options.get("platform")))
    if options.get("host_key_checking") is None:
        options["host_key_checking"] = C.HOST_KEY_CHECKING
    options["host_key_checking"] = boolean(options["host_key_checking"], strict=False)
    if options.get("proxy_command") is None:
        options["proxy_command"] = proxy_command_from_ssh_args(*[template(task_vars.get(name)) for name in SSH_ARGS])
    options.setdefault("inventory_hostname", task_vars.get("inventory_hostname"))
    if options.get("host") is None:
        options["host"] = options["inventory_hostname"]
    return options


def _first(values):
    for value in values:
        if value not in (None, ""):
            return value
    return None


def _become_methods(platform):
    """The become methods that enter the platform's privileged mode (its driver says: enable on routers, sudo on
    a host's shell); the routers' when the platform is not known here (its error comes later, from the registry)."""
    try:
        return driver_for(platform).become_methods
    except ValueError:
        return Driver.become_methods


def _enable(task_vars, play_context, environ, template, methods):
    """Enable mode, as cisco.ios takes it: become with the platform's method (enable; sudo on a host), or
    ANSIBLE_NET_AUTHORIZE."""
    become = template(task_vars.get("ansible_become"))
    method = template(task_vars.get("ansible_become_method"))
    if become is None:
        become = getattr(play_context, "become", False)
        method = method or getattr(play_context, "become_method", None)
    if boolean(become or False, strict=False) and method in methods:
        return True
    return boolean(environ.get("ANSIBLE_NET_AUTHORIZE") or False, strict=False)


class RouterAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC and implement run_on_router(params, task_vars) -> result dict.

    A subclass that also runs as a plain module on the play's host (log_events with source=file)
    overrides runs_on_router(args) and names its MODULE.
    """

    _requires_connection = False
    ARGUMENT_SPEC = {}
    MODULE = None

    def runs_on_router(self, args):
        return True

    def run_on_router(self, params, task_vars):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(RouterAction, self).run(tmp, task_vars)
        args = dict(self._task.args)
        args.setdefault("inventory_hostname", task_vars.get("inventory_hostname"))
        if not self.runs_on_router(args):
            result.update(self._execute_module(module_name=self.MODULE, module_args=args, task_vars=task_vars))
            return result
        self._task.args = connection_options(args, task_vars, self._play_context, os.environ, self._templar.template)
        try:
            dummy, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        except AnsibleActionFail as error:
            result.update(failed=True, msg=str(error))
            return result
        try:
            result.update(self.run_on_router(params, task_vars))
        except (ValueError, DeviceError, OSError) as error:
            result.update(failed=True, msg="%s: %s" % (params["inventory_hostname"], error))
        return result
