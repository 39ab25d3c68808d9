# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over an ixp_data dataset: pure, offline, fast (docs: one YAML file per filter beside this)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.plugin_utils import ixp_lookup
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.filter_errors import named_filter


class FilterModule(object):
    def filters(self):
        return {name: named_filter(name, getattr(ixp_lookup, name))
                for name in ("ip_to_asn", "in_peering_lan", "asn_info", "peering_contacts", "resolve_peers")}
