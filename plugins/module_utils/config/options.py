# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of rpki_config, prefix_limits and bgp_filter, in one place for the modules and their action
plugins: the connection options, the safe-apply options, `state`, and each module's own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import APPLY_OPTIONS
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.options import CONNECTION_OPTIONS

STATES = ["present", "absent", "rendered", "gathered"]


def _spec(own):
    spec = dict(state=dict(type="str", default="present", choices=STATES))
    spec.update(APPLY_OPTIONS)
    spec.update(CONNECTION_OPTIONS)
    spec.update(own)
    return spec


MARK = dict(type="dict", options=dict(community=dict(type="str"), local_preference=dict(type="int")))
FAMILIES_INT = dict(ipv4=dict(type="int"), ipv6=dict(type="int"))

RPKI_SPEC = _spec(dict(
    caches=dict(type="list", elements="dict", default=[], options=dict(
        address=dict(type="str", required=True),
        port=dict(type="int", default=3323),
        preference=dict(type="int"),
        refresh=dict(type="int"),
        retry=dict(type="int"),
        expire=dict(type="int"),
    )),
    policy=dict(type="str", default="PEERWARDEN-RPKI"),
    valid=MARK,
    not_found=MARK,
    groups=dict(type="list", elements="str", default=[]),
    neighbors=dict(type="list", elements="str", default=[]),
))

LIMITS_SPEC = _spec(dict(
    neighbors=dict(type="list", elements="dict", default=[], options=dict(
        address=dict(type="str", required=True),
        asn=dict(type="int"),
        max_prefixes=dict(type="dict", options=FAMILIES_INT),
        threshold=dict(type="int"),
        on_exceed=dict(type="str", choices=["teardown", "warning"]),
        restart_minutes=dict(type="int"),
    )),
    threshold=dict(type="int", default=90),
    on_exceed=dict(type="str", default="teardown", choices=["teardown", "warning"]),
    restart_minutes=dict(type="int"),
    dataset=dict(type="dict"),
    headroom=dict(type="int", default=10),
    floor=dict(type="dict", apply_defaults=True,
               options=dict(ipv4=dict(type="int", default=100), ipv6=dict(type="int", default=100))),
    max_length=dict(type="dict", apply_defaults=True,
                    options=dict(ipv4=dict(type="int", default=24), ipv6=dict(type="int", default=48))),
    min_length=dict(type="dict", options=FAMILIES_INT),
    policy=dict(type="str", default="PEERWARDEN-LIMITS"),
    groups=dict(type="list", elements="str", default=[]),
))

FILTER_SPEC = _spec(dict(
    name=dict(type="str", default="PEERWARDEN-BGP-GUARD"),
    interfaces=dict(type="list", elements="str", default=[]),
    peering_lans=dict(type="list", elements="str", default=[]),
    neighbors=dict(type="list", elements="str", default=[]),
    log=dict(type="bool", default=True),
    log_group=dict(type="int"),
))

#: module name -> (feature, argument spec)
MODULES = {
    "rpki_config": ("rpki", RPKI_SPEC),
    "prefix_limits": ("limits", LIMITS_SPEC),
    "bgp_filter": ("guard", FILTER_SPEC),
}
