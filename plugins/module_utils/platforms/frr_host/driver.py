# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An FRR router's Linux host, reached at its shell (netmiko `linux`): the TCP/179 guard as an nftables table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, Driver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host import config, logs

BECOME_HINT = ("nft needs root (vtysh: root or the frrvty group): log in as root, or set ansible_become: true, "
               "ansible_become_method: sudo and, if sudo asks one, ansible_become_password")


class FrrHostDriver(Driver):
    name = "frr_host"
    network_os = ("peerwarden.bgp.frr_host", "frr_host")
    cli_type = "linux"
    capabilities = frozenset([LOGS, CONFIG])
    log_reader = logs
    #: how a Linux shell says no (the shell, nft, sudo, vtysh)
    refusals = (
        re.compile(r"[Oo]peration not permitted"),
        re.compile(r"[Pp]ermission denied"),
        re.compile(r"command not found|^(?:-?\w*sh: )?(?:\d+: )?\S+: not found$|No such file or directory"),
        re.compile(r"^sudo: |^\[sudo\] password for "),
        re.compile(r"Exiting: failed to connect to any daemons"),
    )
    config_module = config
    guard_options = ("log_group",)
    #: netmiko's linux enable() is `sudo -s` (with the become password when sudo asks one)
    become_methods = ("sudo", "ansible.builtin.sudo")

    def refusal_hint(self, device):
        return BECOME_HINT
