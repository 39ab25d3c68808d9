# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn log_events' events into a report (docs: one YAML file per filter beside this)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.peerwarden.bgp.plugins.module_utils.knock_report import (
    as_csv, as_table, notifications_csv, peers_table, summarize)


def _guard(name, function):
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError, KeyError) as error:
            raise AnsibleFilterError("peerwarden.bgp.%s: %s" % (name, error))
    return wrapper


class FilterModule(object):
    def filters(self):
        return {
            "summarize_knocks": _guard("summarize_knocks", summarize),
            "knocks_csv": _guard("knocks_csv", as_csv),
            "knocks_table": _guard("knocks_table", as_table),
            "peers_table": _guard("peers_table", peers_table),
            "notifications_csv": _guard("notifications_csv", notifications_csv),
        }
