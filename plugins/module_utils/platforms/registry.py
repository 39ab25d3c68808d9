# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_network_os -> platform driver. Adding a platform: one package under platforms/, one line here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.bird.driver import BirdDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr.driver import FrrDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host.driver import FrrHostDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios.driver import IosDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos.driver import JunosDriver

DRIVERS = dict((driver.name, driver) for driver in (JunosDriver(), IosDriver(), FrrDriver(), FrrHostDriver(), BirdDriver()))
NETWORK_OS = dict((name, driver) for driver in DRIVERS.values() for name in driver.network_os)


def driver_for(network_os, capability=None):
    """The driver for an ansible_network_os value (FQCN or short), or ValueError saying which are known."""
    driver = NETWORK_OS.get(str(network_os or "").strip().lower())
    if driver is None:
        raise ValueError("unknown platform %r: set ansible_network_os (or the platform option) to one of %s"
                         % (network_os, ", ".join(sorted(NETWORK_OS))))
    if capability is not None and capability not in driver.capabilities:
        can = ", ".join(sorted(driver.capabilities)) or "nothing"
        raise ValueError("platform %s cannot %s (it can: %s)" % (driver.name, capability, can))
    return driver
