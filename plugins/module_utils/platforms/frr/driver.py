# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FRRouting: vtysh as the login shell, which netmiko drives as cisco_ios."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, IosLikeDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config, logs

#: why bgp_filter has no FRR implementation (docs/push.md says more)
NO_GUARD = ("platform frr cannot guard: the TCP/179 guard on Linux is an nftables table, which needs root on the "
            "router's host, and the login peerwarden uses lands in vtysh, which cannot run nft; a guard that "
            "could be loaded but not checked or restored the same safe way would be half-working. Use the "
            "host's own firewall management for now (docs/push.md, 'FRR and the TCP/179 guard')")


class FrrDriver(IosLikeDriver):
    name = "frr"
    network_os = ("frr.frr.frr", "frr")
    cli_type = "cisco_ios"
    capabilities = frozenset([LOGS, CONFIG])

    def logs(self, device, options):
        return logs.collect(device, self, options)

    def config(self, device, options):
        return config.FrrConfigSession(self, device, options)

    def plan(self, feature, intent, running, state):
        paths = config.parse(running)
        if feature == "rpki":
            config.check_rpki(intent)
            ops, expect = config.rpki_ops(paths, intent, state)
        elif feature == "limits":
            ops, expect = config.limits_ops(paths, intent, state)
        else:
            raise ValueError(NO_GUARD)
        return (config.Script(ops) if ops else []), expect

    def render(self, feature, intent):
        if feature == "rpki":
            return config.rpki_render(intent)
        if feature == "limits":
            return config.limits_render(intent)
        raise ValueError(NO_GUARD)

    def gather(self, feature, running):
        paths = config.parse(running)
        if feature == "rpki":
            return config.rpki_gather(paths)
        if feature == "limits":
            return config.limits_gather(paths)
        raise ValueError(NO_GUARD)
