# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn log_events' events into a report (docs: one YAML file per filter beside this)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.plugin_utils.filter_errors import named_filter
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_html import report_html
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.knock_report import (
    as_csv, as_table, not_understood, not_understood_csv, not_understood_table, peers_table, summarize)
from ansible_collections.peerwarden.bgp.plugins.plugin_utils.notification_report import notifications_csv


class FilterModule(object):
    def filters(self):
        return {
            "summarize_knocks": named_filter("summarize_knocks", summarize),
            "knocks_csv": named_filter("knocks_csv", as_csv),
            "knocks_table": named_filter("knocks_table", as_table),
            "knocks_html": named_filter("knocks_html", report_html),
            "peers_table": named_filter("peers_table", peers_table),
            "not_understood": named_filter("not_understood", not_understood),
            "not_understood_csv": named_filter("not_understood_csv", not_understood_csv),
            "not_understood_table": named_filter("not_understood_table", not_understood_table),
            "notifications_csv": named_filter("notifications_csv", notifications_csv),
        }
