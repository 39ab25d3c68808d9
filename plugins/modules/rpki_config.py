#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rpki_config
short_description: RTR caches and a route-origin validation import policy, applied safely
version_added: 0.2.0
description:
  - Configures RPKI-to-Router (RTR) cache sessions and an import policy that rejects RPKI-invalid routes and
    tags valid and not-found ones (a community or a local-preference), on the chosen neighbours or groups,
    in front of their existing import policy without breaking its chain.
  - JunOS goes over NETCONF (exclusive lock, commit check, commit confirmed; check mode in a private candidate); IOS over SSH (archive
    checkpoint, revert timer, configure confirm); FRR over SSH into vtysh (the running config is saved first,
    restored and compared again if anything fails, C(write memory) only on success).
  - On FRR the policy is a route-map (C(deny 10 match rpki invalid), C(permit 20 match rpki notfound),
    C(permit 30 match rpki valid)). A neighbour that already had an inbound route-map OLD gets
    C(<policy>-OLD) whose entries end in C(call OLD), so the old chain still decides. C(soft-reconfiguration
    inbound) is set and C(clear bgp ... soft in) run so existing routes are re-evaluated.
  - After the change the RTR session must be up and every BGP neighbour that was Established must still be;
    otherwise the change is not kept and the router is put back as before.
author:
  - peerwarden contributors (@peerwarden)
options:
  caches:
    description: The RTR caches. Required with O(state=present). FRR has one set of timers for all caches.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The cache's IPv4 or IPv6 address.
        type: str
        required: true
      port:
        description: The cache's RTR port.
        type: int
        default: 3323
      preference:
        description: Lower is preferred. Default the cache's place in the list (1, 2, ...).
        type: int
      refresh:
        description: Seconds between polls of the cache (1-86400).
        type: int
      retry:
        description: Seconds before a failed poll is retried (1-7200).
        type: int
      expire:
        description: Seconds the router keeps the cache's data without a refresh (600-172800), longer than O(caches[].refresh).
        type: int
  policy:
    description: The name of the validation policy (route-map or policy-statement).
    type: str
    default: PEERWARDEN-RPKI
  valid:
    description: How RPKI-valid routes are marked.
    type: dict
    suboptions: &marks
      community:
        description: A standard community ASN:VALUE added to the route.
        type: str
      local_preference:
        description: The local-preference set on the route.
        type: int
  not_found:
    description: How RPKI-not-found routes are marked.
    type: dict
    suboptions: *marks  # the same two ways as O(valid)
  groups:
    description: BGP groups (peer-groups) the policy goes on.
    type: list
    elements: str
    default: []
  neighbors:
    description: Neighbour addresses the policy goes on. With neither this nor O(groups), every configured neighbour.
    type: list
    elements: str
    default: []
seealso:
  - name: push_rpki playbook
    description: Runs this module over an inventory in serial batches, made for CI.
    link: https://github.com/peerwarden/peerwarden/blob/main/docs/push.md
extends_documentation_fragment:
  - peerwarden.bgp._attributes
  - peerwarden.bgp._connection
  - peerwarden.bgp._config
"""

EXAMPLES = r"""
- name: Validate what the exchange peers send
  peerwarden.bgp.rpki_config:
    caches:
      - address: 192.0.2.10
        refresh: 300
        expire: 7200
      - address: 192.0.2.11
    valid:
      local_preference: 110
    not_found:
      community: "64500:65"
    groups: [IXP-PEERS]
    comment: "CI pipeline 1234"

- name: The configuration for review, with no router
  peerwarden.bgp.rpki_config:
    state: rendered
    platform: frr
    caches: [{address: 192.0.2.10}]
  register: rpki_text
"""

RETURN = r"""
commands:
  description: The lines loaded (or, with V(rendered), the configuration); the sample is FRR's for one cache.
  returned: always
  type: list
  elements: str
  sample: ["rpki", " rpki cache 192.0.2.10 3323 preference 1", "exit", "route-map PEERWARDEN-RPKI deny 10",
           " match rpki invalid", "exit", "route-map PEERWARDEN-RPKI permit 20", " match rpki notfound", "exit",
           "route-map PEERWARDEN-RPKI permit 30", " match rpki valid", "exit"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_module


def main():
    run_module(AnsibleModule, "rpki_config")


if __name__ == "__main__":
    main()
