# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_network_os -> platform driver. A platform is one package under platforms/ (its logs.py, config.py);
a driver whose behaviour is the base's is declared here in a few lines, one with behaviour of its own
(JunOS's refusals, the FRR host's shell) in its package's driver.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import CONFIG, LOGS, Driver, IosLikeDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.bird import logs as bird_logs
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config as frr_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import logs as frr_logs
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host.driver import FrrHostDriver
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios import config as ios_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios import logs as ios_logs
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos.driver import JunosDriver


class IosDriver(IosLikeDriver):
    """Cisco IOS and IOS-XE over the SSH CLI."""
    name, network_os, cli_type = "ios", ("cisco.ios.ios", "ios"), "cisco_ios"
    capabilities, log_reader, config_module = frozenset([LOGS, CONFIG]), ios_logs, ios_config


class FrrDriver(IosLikeDriver):
    """FRRouting: vtysh as the login shell, which netmiko drives as cisco_ios."""
    name, network_os, cli_type = "frr", ("frr.frr.frr", "frr"), "cisco_ios"
    capabilities, log_reader, config_module = frozenset([LOGS, CONFIG]), frr_logs, frr_config


class BirdDriver(Driver):
    """BIRD: no CLI over SSH; its log file is read over SFTP."""
    name, network_os, capabilities, log_reader = "bird", ("bird",), frozenset([LOGS]), bird_logs


DRIVERS = dict((driver.name, driver)
               for driver in (JunosDriver(), IosDriver(), FrrDriver(), FrrHostDriver(), BirdDriver()))
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
