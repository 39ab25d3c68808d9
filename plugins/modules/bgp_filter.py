#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bgp_filter
short_description: The TCP/179 guard on the peering interfaces, applied safely
version_added: 0.2.0
description:
  - Lets only the configured BGP neighbours (read from the router's own configuration) reach TCP/179 on the
    peering interfaces, logs and discards TCP/179 from every other source in the peering LANs, and accepts
    everything else; IPv4 and IPv6. The drops it logs are the lines P(peerwarden.bgp.log_events#module) reads.
  - The platform's driver decides how. JunOS, a firewall filter with C(log) and C(syslog) and a final accept term;
    IOS, extended ACLs with C(log); an FRR router's Linux host (C(ansible_network_os=peerwarden.bgp.frr_host),
    an SSH login to the host's shell), an nftables table of its own (C(table inet peerwarden_bgp_guard)) with
    the neighbours FRR has configured (C(vtysh -c 'show running-config')), checked with C(nft -c) and loaded
    as one transaction that touches no other table (docs/push.md).
author:
  - peerwarden contributors (@peerwarden)
requirements:
  - FRR hosts, C(nft) (nftables) and C(vtysh) on the host, run as root (log in as root or become with sudo)
attributes:
  platform:
    support: full
    platforms: [junos, ios, frr_host]
    description:
      - Juniper JunOS over NETCONF, Cisco IOS and IOS-XE over SSH (C(cisco.ios.ios)), the Linux host of an FRR
        router over SSH to its shell (C(peerwarden.bgp.frr_host)). Platform C(frr) (vtysh as the login) is
        refused with a reason (vtysh cannot run nft).
options:
  name:
    description: The name of the filter (firewall filter, ACL).
    type: str
    default: PEERWARDEN-BGP-GUARD
  interfaces:
    description: The peering interfaces the guard goes on.
    type: list
    elements: str
    default: []
  peering_lans:
    description: The exchanges' peering LAN prefixes (IPv4 and IPv6).
    type: list
    elements: str
    default: []
  neighbors:
    description: Addresses permitted in addition to the neighbours configured on the router.
    type: list
    elements: str
    default: []
  log:
    description: Log the discarded packets.
    type: bool
    default: true
  log_group:
    description:
      - FRR hosts, log through NFLOG group N (for ulogd2, whose LOGEMU output P(peerwarden.bgp.log_events#module)
        reads) instead of the kernel log. Other platforms refuse it.
    type: int
extends_documentation_fragment:
  - peerwarden.bgp._attributes
  - peerwarden.bgp._connection
  - peerwarden.bgp._config
"""

EXAMPLES = r"""
- name: Guard the peering interfaces
  peerwarden.bgp.bgp_filter:
    interfaces: [et-0/0/0.100]
    peering_lans: [192.0.2.0/24, "2001:db8:ffff::/64"]

- name: Guard an FRR router's host (inventory, ansible_network_os=peerwarden.bgp.frr_host, become with sudo)
  peerwarden.bgp.bgp_filter:
    interfaces: [eth1]
    peering_lans: [192.0.2.0/24, "2001:db8:ffff::/64"]
    log_group: 5
"""

RETURN = r"""
commands:
  description: The lines loaded (or, with V(rendered), the configuration); the sample is the start of JunOS's for one peering LAN.
  returned: always
  type: list
  elements: str
  sample: ["# bgp-peers: the neighbours configured in protocols bgp inside the peering LANs (read when applied)",
           "set firewall family inet filter PEERWARDEN-BGP-GUARD term bgp-strangers from source-address 192.0.2.0/24",
           "set firewall family inet filter PEERWARDEN-BGP-GUARD term bgp-strangers from protocol tcp",
           "set firewall family inet filter PEERWARDEN-BGP-GUARD term bgp-strangers from port bgp"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_module


def main():
    run_module(AnsibleModule, "bgp_filter")


if __name__ == "__main__":
    main()
