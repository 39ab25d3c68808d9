# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every router-facing module shares (documented once, in the
peerwarden.bgp._connection doc fragment). The action plugin base fills them from the inventory,
the play context (AWX Machine credentials) and the ANSIBLE_NET_* environment (Network credentials)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CONNECTION_OPTIONS = dict(
    platform=dict(type="str"),
    host=dict(type="str"),
    port=dict(type="int"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    ssh_key_file=dict(type="path"),
    allow_agent=dict(type="bool", default=True),
    enable=dict(type="bool", default=False),
    enable_password=dict(type="str", no_log=True),
    host_key_checking=dict(type="bool", default=True),
    known_hosts_file=dict(type="path"),
    proxy_command=dict(type="str"),
    timeout=dict(type="int", default=30),
    inventory_hostname=dict(type="str"),
)

#: Option names that carry secrets: never shown, never in an error message.
SECRET_OPTIONS = frozenset(name for name, spec in CONNECTION_OPTIONS.items() if spec.get("no_log"))
