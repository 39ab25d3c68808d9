# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Platform drivers: what to read on each kind of router. A new platform is one file here.

Every driver has collect(device, options) yielding Capture objects: a named piece of log text
(or an open binary stream) and how to read it ("log" for the line scanner, or a table name that
has its own parser, such as JunOS `show firewall log`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

Capture = namedtuple("Capture", "name kind text stream")

# ansible_network_os values (FQCN and short) -> driver module name
NETWORK_OS = {
    "junipernetworks.junos.junos": "junos", "junos": "junos",
    "cisco.ios.ios": "ios", "ios": "ios",
    "frr.frr.frr": "frr", "frr": "frr",
    "bird": "bird",
}


def platform_of(network_os):
    """The driver name for an ansible_network_os value, or ValueError saying which are known."""
    name = NETWORK_OS.get(str(network_os or "").strip().lower())
    if name is None:
        raise ValueError("unknown platform %r: set ansible_network_os (or the platform option) to one of %s"
                         % (network_os, ", ".join(sorted(NETWORK_OS))))
    return name
