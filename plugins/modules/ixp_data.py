#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ixp_data
short_description: Load IXP member lists (IX-F) and PeeringDB into a dataset for the peerwarden filters
version_added: 0.1.0
description:
  - Reads IX-F Member Exports (schema 0.6, 0.7 and 1.0) and PeeringDB (the API or dump files) and
    merges them into one compact dataset. It holds the exchanges with their LAN prefixes, address to
    ASN entries naming the sources, and networks with their policy and contacts. The filters
    P(peerwarden.bgp.ip_to_asn#filter), P(peerwarden.bgp.in_peering_lan#filter),
    P(peerwarden.bgp.asn_info#filter), P(peerwarden.bgp.peering_contacts#filter) and
    P(peerwarden.bgp.resolve_peers#filter) answer questions about it offline.
  - Run it on the controller, with C(delegate_to) V(localhost) and C(run_once), or in a play on
    localhost. Network I/O happens here, never in the filters.
  - IX-F exports are validated with the IX-F JSON schema 1.0. Known quirks (IXP Manager's nested
    C(vlan_list), a missing C(timestamp), vendor extension keys, members without connections) are
    tolerated and reported in the warnings, as are schema problems that remain.
  - Each answer is kept in O(cache_dir), written atomically. A source whose cached answer is younger
    than O(cache_ttl) is not fetched again. When a refresh fails (timeout, HTTP 429 or 5xx, invalid
    JSON) the last good copy is used and a warning says so. The module fails only when a source has
    neither an answer nor a cached copy.
  - When IX-F and PeeringDB disagree about an address, both are recorded in the entry's C(sources),
    O(prefer) decides the C(asn), and a warning names the address.
  - What an IX-F export says of a member is used. Its C(contact_email) addresses become contacts of role
    V(IX-F), after PeeringDB's roles in the filters' default order (V(Policy), V(NOC), V(Technical), V(IX-F)),
    so a network on the exchange's list but not in PeeringDB still has a contact. Its C(peering_policy),
    C(peering_policy_url) and C(as_macro) (AS-SET) fill C(policy_general), C(policy_url) and C(irr_as_set)
    where PeeringDB has no value, and are kept as said under the network's C(ixf). Each session's
    C(max_prefix) is kept on its address, where P(peerwarden.bgp.prefix_limits#module) takes it.
  - IPv4-mapped IPv6 addresses (V(::ffff:192.0.2.1)) in any source are keyed by their IPv4 form.
  - Contacts are untrusted, from PeeringDB and IX-F alike. A contact whose email is not a plain email
    address, or whose name or email holds control characters (CR/LF header injection), is left out and
    listed in RV(rejected_contacts).
author:
  - peerwarden contributors (@peerwarden)
attributes:
  check_mode:
    support: full
    description: Sources are read as usual; the cache is not written.
  diff_mode:
    support: none
    description: Nothing on a managed host changes.
  platform:
    support: full
    platforms: posix
    description: Runs where the task runs, normally the controller (C(delegate_to) V(localhost)); it reaches the
      IX-F and PeeringDB URLs over HTTPS or reads files there.
extends_documentation_fragment:
  - peerwarden.bgp._attributes
options:
  ixf:
    description: IX-F Member Export URLs (C(https://...)) or file paths.
    type: list
    elements: str
    default: []
  peeringdb:
    description: Where to read PeeringDB, and which exchanges.
    type: dict
    suboptions:
      url:
        description: The API base URL.
        type: str
        default: https://www.peeringdb.com/api
      api_key:
        description:
          - "An API key, sent as C(Authorization: Api-Key ...). Without one, only public contacts are
            visible, and requests are rate-limited harder."
        type: str
      ix_ids:
        description:
          - PeeringDB ids of the exchanges to read (with their LANs, members, networks and contacts).
          - An id PeeringDB (or the dump in O(peeringdb.dump_dir)) does not have fails the task, naming it
            (and, with a dump, the exchanges it has).
          - Mutually exclusive with O(peeringdb.ix_names).
        type: list
        elements: int
      ix_names:
        description:
          - Exact PeeringDB names of the exchanges to read.
          - A name PeeringDB (or the dump in O(peeringdb.dump_dir)) does not have fails the task, naming it;
            with a dump, the closest names are suggested (did you mean) and the known ones listed.
          - Mutually exclusive with O(peeringdb.ix_ids).
        type: list
        elements: str
      dump_dir:
        description:
          - Read PeeringDB offline from a directory with C(ix.json), C(ixlan.json), C(ixpfx.json),
            C(netixlan.json), C(net.json) and C(poc.json), each a list response as the API returns it.
          - O(peeringdb.ix_ids) or O(peeringdb.ix_names) select the exchanges from the dump, as they do from the API.
        type: path
      page_size:
        description: Records per API request.
        type: int
        default: 250
      timeout:
        description: Seconds to wait for one HTTP answer.
        type: int
        default: 30
  cache_dir:
    description: Where the last good answer of every source is kept.
    type: path
    default: ~/.cache/peerwarden
  cache_ttl:
    description: Seconds a cached answer is used without asking the source again.
    type: int
    default: 86400
  offline:
    description: Use only the cache and files; fail for a URL that is not cached.
    type: bool
    default: false
  prefer:
    description: Which source decides an address's ASN when they disagree.
    type: str
    choices: [ixf, peeringdb]
    default: ixf
notes:
  - Without any filter, O(peeringdb) reads all of PeeringDB (tens of thousands of records). Name the
    exchanges you peer at with O(peeringdb.ix_ids) or O(peeringdb.ix_names).
"""

EXAMPLES = r"""
- name: Load the member lists of the exchanges we peer at
  peerwarden.bgp.ixp_data:
    ixf:
      - https://portal.example-ix.net/api/v4/member-export/ixf/1.0
    peeringdb:
      ix_names: [Example-IX, Sample-IX]
      api_key: "{{ vault_peeringdb_api_key }}"
  delegate_to: localhost
  run_once: true
  register: ixp

- name: Who is 192.0.2.66?
  ansible.builtin.debug:
    msg: "{{ '192.0.2.66' | peerwarden.bgp.ip_to_asn(ixp.dataset) }}"

- name: Offline, from files
  peerwarden.bgp.ixp_data:
    ixf: [/srv/peerwarden/example-ix.json]
    peeringdb:
      dump_dir: /srv/peerwarden/peeringdb
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
dataset:
  description: The merged data; pass it to the peerwarden filters.
  returned: success
  type: dict
  contains:
    version:
      description: Format version of the dataset (V(2) since IX-F contacts, policy, AS-SET and max-prefix are kept).
      type: int
    generated:
      description: When it was built, ISO 8601 UTC.
      type: str
    fingerprint:
      description: A digest of the content; filters cache their indexes by it.
      type: str
    exchanges:
      description: Per exchange key (V(ix:<peeringdb id>) or V(ixf:<source>:<ixp_id>)), its name, ids, sources and LANs with prefixes.
      type: dict
    addresses:
      description:
        - Per address (canonical text, IPv4-mapped IPv6 as IPv4), its C(asn), C(exchange) key, C(lan) name and
          C(sources) (the ASN each source gave).
        - Where the IX-F export gives them for the session (and names the same AS as the entry), C(max_prefix)
          (an int) and C(as_macro) (the AS-SET).
      type: dict
    networks:
      description:
        - Per ASN (as a string), name, C(policy_general), C(policy_url), C(info_prefixes4), C(info_prefixes6),
          C(irr_as_set), C(sources) and C(contacts) (each with C(role), C(name), C(email), C(visible); role V(IX-F)
          for an export's C(contact_email)).
        - C(ixf) is what the IX-F exports say of the member (V(null) when none lists it) - C(peering_policy),
          C(peering_policy_url), C(as_macro) and C(max_prefix4) / C(max_prefix6), the largest of its sessions
          per family.
      type: dict
rejected_contacts:
  description: Contacts left out, with the ASN, role, the offending email (quoted) and why.
  returned: success
  type: list
  elements: dict
sources:
  description: Each source and where its data came from (V(network), V(cache), V(stale cache), V(file)).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.report import exit_with_report
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.run import run_ixp_data
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import DEFAULT_URL, FetchError

ARGUMENT_SPEC = dict(
    ixf=dict(type="list", elements="str", default=[]),
    peeringdb=dict(type="dict", options=dict(
        url=dict(type="str", default=DEFAULT_URL),
        api_key=dict(type="str", no_log=True),
        ix_ids=dict(type="list", elements="int"),
        ix_names=dict(type="list", elements="str"),
        dump_dir=dict(type="path"),
        page_size=dict(type="int", default=250),
        timeout=dict(type="int", default=30),
    ), mutually_exclusive=[["ix_ids", "ix_names"]]),
    cache_dir=dict(type="path", default="~/.cache/peerwarden"),
    cache_ttl=dict(type="int", default=86400),
    offline=dict(type="bool", default=False),
    prefer=dict(type="str", choices=["ixf", "peeringdb"], default="ixf"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    timeout = (module.params.get("peeringdb") or {}).get("timeout") or 30

    def fetch(url, headers):
        return open_url(url, headers=headers, timeout=timeout, http_agent="peerwarden").read()

    exit_with_report(
        module,
        lambda: run_ixp_data(module.params, fetch, check_mode=module.check_mode),
        (FetchError, ValueError, OSError),
    )


if __name__ == "__main__":
    main()
