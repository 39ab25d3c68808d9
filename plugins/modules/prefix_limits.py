#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prefix_limits
short_description: Per-neighbour max-prefix limits (from PeeringDB) and prefix-length limits, applied safely
version_added: 0.2.0
description:
  - Sets a maximum-prefix limit per neighbour and address family (threshold percent; teardown with an
    optional restart timer, or warning only) and prefix-length limits (too specific, optionally too short)
    on the neighbours' import.
  - Where a limit comes from. An explicit value wins. Else the exchange's IX-F max_prefix for the session,
    which the dataset of P(peerwarden.bgp.ixp_data#module) keeps on the address (C(addresses[ADDRESS].max_prefix))
    when the export gives it. Else PeeringDB's info_prefixes4 or
    info_prefixes6 plus O(headroom) percent, never below O(floor). An empty PeeringDB value takes the floor itself.
  - Reports every neighbour whose limit on the router disagrees with PeeringDB (no limit, below PeeringDB,
    above PeeringDB plus headroom), as the router had it before the change.
  - On FRR the length limits are prefix-lists C(<policy>-V4) and C(<policy>-V6) applied with C(neighbor X
    prefix-list ... in); a neighbour that already has another inbound prefix-list is refused, not overwritten.
author:
  - peerwarden contributors (@peerwarden)
options:
  neighbors:
    description: The neighbours to limit.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The neighbour's address.
        type: str
        required: true
      asn:
        description: The neighbour's AS, to find its network in PeeringDB. Default the dataset's AS for the address.
        type: int
      max_prefixes:
        description: Explicit limits; they win over the dataset.
        type: dict
        suboptions:
          ipv4:
            description: The IPv4 unicast limit (1-10000000).
            type: int
          ipv6:
            description: The IPv6 unicast limit (1-10000000).
            type: int
      threshold:
        description: Percent of the limit at which a warning is logged. Default O(threshold).
        type: int
      on_exceed:
        description: Tear the session down or only warn. Default O(on_exceed).
        type: str
        choices: [teardown, warning]
      restart_minutes:
        description: With teardown, restart the session after this many minutes. Default O(restart_minutes).
        type: int
  threshold:
    description: Percent of the limit at which a warning is logged (1-100).
    type: int
    default: 90
  on_exceed:
    description: What happens when a neighbour sends more than its limit.
    type: str
    choices: [teardown, warning]
    default: teardown
  restart_minutes:
    description: With teardown, restart the session after this many minutes (1-65535); without, it stays down.
    type: int
  dataset:
    description: The dataset of P(peerwarden.bgp.ixp_data#module) (its C(dataset) result).
    type: dict
  headroom:
    description: Percent added to PeeringDB's value (0-1000).
    type: int
    default: 10
  floor:
    description: The lowest limit a value from PeeringDB may give, and the limit when PeeringDB's value is empty.
    type: dict
    suboptions:
      ipv4:
        description: IPv4 floor.
        type: int
        default: 100
      ipv6:
        description: IPv6 floor.
        type: int
        default: 100
  max_length:
    description: The longest prefix accepted per family; longer ones (too specific) are rejected.
    type: dict
    suboptions:
      ipv4:
        description: IPv4, 0-32.
        type: int
        default: 24
      ipv6:
        description: IPv6, 0-128.
        type: int
        default: 48
  min_length:
    description: The shortest prefix accepted per family (too short ones are rejected); unset, none are.
    type: dict
    suboptions:
      ipv4:
        description: IPv4, 0-32.
        type: int
      ipv6:
        description: IPv6, 0-128.
        type: int
  policy:
    description: The base name of the prefix-length filter.
    type: str
    default: PEERWARDEN-LIMITS
  groups:
    description: BGP groups (peer-groups) the prefix-length filter also goes on.
    type: list
    elements: str
    default: []
notes:
  - The names follow the runner's C(limit) stage where they mean the same (max_prefixes, max_length, min_length).
extends_documentation_fragment:
  - peerwarden.bgp._attributes
  - peerwarden.bgp._connection
  - peerwarden.bgp._config
"""

EXAMPLES = r"""
- name: Load PeeringDB
  peerwarden.bgp.ixp_data:
    peeringdb: {}
  register: ixp
  run_once: true
  delegate_to: localhost

- name: Limits from PeeringDB with 10 percent headroom, teardown with a 30-minute restart
  peerwarden.bgp.prefix_limits:
    dataset: "{{ ixp.dataset }}"
    restart_minutes: 30
    neighbors:
      - address: 192.0.2.1
      - address: 192.0.2.2
        max_prefixes: {ipv4: 500}
        on_exceed: warning
"""

RETURN = r"""
commands:
  description: The lines loaded (or, with V(rendered), the configuration); the sample is FRR's for one neighbour with O(neighbors[].max_prefixes.ipv4=500).
  returned: always
  type: list
  elements: str
  sample: ["ip prefix-list PEERWARDEN-LIMITS-V4 seq 5 deny 0.0.0.0/0 ge 25",
           "ip prefix-list PEERWARDEN-LIMITS-V4 seq 100 permit 0.0.0.0/0 le 32",
           "ipv6 prefix-list PEERWARDEN-LIMITS-V6 seq 5 deny ::/0 ge 49", "ipv6 prefix-list PEERWARDEN-LIMITS-V6 seq 100 permit ::/0 le 128",
           "router bgp", " address-family ipv4 unicast", "  neighbor 192.0.2.1 prefix-list PEERWARDEN-LIMITS-V4 in",
           "  neighbor 192.0.2.1 maximum-prefix 500 90", " exit-address-family", "exit"]
limits:
  description: Per neighbour, the limits and where each came from (explicit, ixf, peeringdb, floor).
  returned: always
  type: list
  elements: dict
disagreements:
  description: Where the router's configured limit and PeeringDB disagree (kind no_limit, below_peeringdb, above_headroom).
  returned: with state present, absent or gathered
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_module


def main():
    run_module(AnsibleModule, "prefix_limits")


if __name__ == "__main__":
    main()
