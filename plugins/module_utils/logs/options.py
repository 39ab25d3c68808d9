# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of log_events, in one place for the module and its action plugin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.options import CONNECTION_OPTIONS
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import KINDS

ARGUMENT_SPEC = dict(
    source=dict(type="str", default="device", choices=["device", "file"]),
    path=dict(type="list", elements="path"),
    log_files=dict(type="list", elements="str"),
    firewall_log=dict(type="bool", default=True),
    kinds=dict(type="list", elements="str", choices=list(KINDS), default=list(KINDS)),
    since=dict(type="str"),
    peering_lans=dict(type="list", elements="str", default=[]),
    exclude_addresses=dict(type="list", elements="str", default=[]),
    timezone=dict(type="str", default="UTC"),
    router=dict(type="str"),
    **CONNECTION_OPTIONS
)
