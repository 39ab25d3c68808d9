# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Answer questions about an ixp_data dataset fast: address -> ASN, address -> peering LAN,
ASN -> network and contacts, and log_events' events -> one group per network.

Filters are called once per item in a Jinja loop, so the index of a dataset is built once and
kept, keyed by the dataset's fingerprint (the dataset itself may be a fresh copy on each call).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import address_number
from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address as canonical

# PeeringDB's peering contact first, then its NOC and Technical, then the exchange's own contact_email
# from its IX-F export (role "IX-F"): a network known only to the exchange is still reachable.
DEFAULT_ROLES = ("Policy", "NOC", "Technical", "IX-F")
_INDEXES = {}
_MAX_INDEXES = 4


class Index:
    """Lookups over one dataset: addresses by text, LAN prefixes by (version, length) buckets."""

    def __init__(self, dataset):
        if not isinstance(dataset, dict) or not isinstance(dataset.get("addresses"), dict):
            raise TypeError("expected the dataset that peerwarden.bgp.ixp_data returns (with exchanges, "
                            "addresses and networks), got %s" % type(dataset).__name__)
        self.addresses = dataset["addresses"]
        self.networks = dataset.get("networks") or {}
        self.exchanges = dataset.get("exchanges") or {}
        # LAN prefixes, bucketed by (version, host bits): an address is checked with one
        # shift and one dict lookup per bucket instead of a walk over every prefix.
        self.buckets = {}
        for key, exchange in self.exchanges.items():
            for lan in exchange.get("lans", ()):
                for prefix in lan.get("prefixes", ()):
                    network = ipaddress.ip_network(prefix, strict=False)
                    bits = network.max_prefixlen - network.prefixlen
                    bucket = self.buckets.setdefault((network.version, bits), {})
                    bucket[int(network.network_address) >> bits] = (key, lan.get("name"))

    def entry(self, address):
        found = self.addresses.get(address)
        if found is None:
            text = canonical(address)
            found = self.addresses.get(text) if text else None
        return found

    def lan(self, address):
        """(exchange key, LAN name) of the peering LAN holding the address, or None."""
        parsed = address_number(address)
        if parsed is None:
            return None
        version, number = parsed
        for (bucket_version, bits), bucket in self.buckets.items():
            if bucket_version == version:
                hit = bucket.get(number >> bits)
                if hit is not None:
                    return hit
        return None

    def network(self, asn):
        return self.networks.get(str(asn))


def index_of(dataset):
    key = dataset.get("fingerprint") if isinstance(dataset, dict) else None
    index = _INDEXES.get(key) if key else None
    if index is None:
        index = Index(dataset)
        if key:
            if len(_INDEXES) >= _MAX_INDEXES:
                _INDEXES.clear()
            _INDEXES[key] = index
    return index


def ip_to_asn(address, dataset):
    entry = index_of(dataset).entry(address)
    return entry["asn"] if entry else None


def in_peering_lan(addresses, dataset):
    index = index_of(dataset)
    if isinstance(addresses, (list, tuple)):
        return [index.lan(a) is not None for a in addresses]
    return index.lan(addresses) is not None


def asn_info(asn, dataset):
    return index_of(dataset).network(_asn(asn))


def peering_contacts(network, dataset=None, roles=None):
    """Emails of the first role in `roles` (None: DEFAULT_ROLES) that has any, de-duplicated
    (case-insensitively)."""
    if not isinstance(network, dict):
        if dataset is None:
            raise TypeError("give a network record (from asn_info) or an ASN and the dataset")
        network = index_of(dataset).network(_asn(network)) or {}
    for role in _roles(roles):
        emails, seen = [], set()
        for contact in network.get("contacts") or ():
            email = contact.get("email")
            if contact.get("role") == role and email and email.lower() not in seen:
                seen.add(email.lower())
                emails.append(email)
        if emails:
            return emails
    return []


def _roles(roles):
    """The contact order: DEFAULT_ROLES when none is given, a lone role as a list of one."""
    if roles is None:
        return DEFAULT_ROLES
    if isinstance(roles, str):
        return [roles]
    if not isinstance(roles, (list, tuple)) or not all(isinstance(role, str) for role in roles):
        raise TypeError("roles: expected a list of contact roles (e.g. ['Policy', 'NOC', 'Technical', 'IX-F']), "
                        "got %r" % (roles,))
    return roles


def _asn(value):
    text = str(value).strip().upper()
    if text.startswith("AS"):
        text = text[2:]
    if not text.isdigit():
        raise ValueError("%r is not an AS number (e.g. 64500 or AS64500)" % (value,))
    return int(text)


def resolve_peers(events, dataset, roles=None):
    """log_events' events (of any number of routers) as one group per ASN, biggest first; the
    addresses no source knows stay in a last group with asn None, named "unknown"."""
    if not isinstance(events, (list, tuple)):
        raise TypeError("expected the list of events that log_events returns, got %s" % type(events).__name__)
    index = index_of(dataset)
    roles = _roles(roles)
    groups = {}
    for number, event in enumerate(events):
        if not isinstance(event, dict) or "address" not in event or "kind" not in event:
            raise TypeError("event %d is not a log_events event (it needs address and kind): %r" % (number, event))
        address = canonical(event["address"]) or event["address"]
        entry = index.entry(address)
        asn = entry["asn"] if entry else None
        group = groups.get(asn)
        if group is None:
            group = groups[asn] = _new_group(asn, index, roles)
        where = (entry["exchange"], entry.get("lan")) if entry else index.lan(address)
        _add_event(group, dict(event, address=address), where, index)
    ordered = sorted((g for a, g in groups.items() if a is not None), key=lambda g: (-g["count"], g["asn"]))
    if None in groups:
        ordered.append(groups[None])
    for group in ordered:
        group["addresses"] = sorted(group["addresses"].values(), key=lambda a: (-a["count"], a["address"]))
        for record in group["addresses"]:
            record["routers"] = sorted(record["routers"])
            record["local_addresses"] = sorted(record["local_addresses"])
        for field in ("exchanges", "lans", "routers", "kinds"):
            group[field] = sorted(group[field])
    return ordered


def _new_group(asn, index, roles):
    network = index.network(asn) if asn is not None else None
    group = {"asn": asn, "name": (network or {}).get("name") or ("unknown" if asn is None else "AS%d" % asn),
             "known": network is not None, "count": 0, "first_seen": None, "last_seen": None,
             "exchanges": set(), "lans": set(), "routers": set(), "kinds": set(), "addresses": {},
             "contacts": [], "contact_role": None, "contacts_by_role": {}}
    if network:
        for contact in network.get("contacts") or ():
            emails = group["contacts_by_role"].setdefault(contact.get("role"), [])
            if contact.get("email") and contact["email"].lower() not in [e.lower() for e in emails]:
                emails.append(contact["email"])
        for field in ("policy_general", "policy_url", "irr_as_set", "info_prefixes4", "info_prefixes6"):
            group[field] = network.get(field)
        for role in roles:
            emails = peering_contacts(network, roles=[role])
            if emails:
                group["contacts"], group["contact_role"] = emails, role
                break
    return group


def _earliest(a, b):
    return b if a is None or (b is not None and b < a) else a


def _latest(a, b):
    return b if a is None or (b is not None and b > a) else a


def _add_event(group, event, where, index):
    count = int(event.get("count", 1))
    first, last, kind, router = event.get("first_seen"), event.get("last_seen"), event["kind"], event.get("router")
    group["count"] += count
    group["first_seen"] = _earliest(group["first_seen"], first)  # ISO 8601 UTC compares as text
    group["last_seen"] = _latest(group["last_seen"], last)
    group["kinds"].add(kind)
    exchange_name = lan_name = None
    if where:
        exchange_name = (index.exchanges.get(where[0]) or {}).get("name") or where[0]
        lan_name = where[1]
        group["exchanges"].add(exchange_name)
        if lan_name:
            group["lans"].add(lan_name)
    record = group["addresses"].get(event["address"])
    if record is None:
        record = group["addresses"][event["address"]] = {
            "address": event["address"], "exchange": exchange_name, "lan": lan_name, "count": 0, "kinds": {},
            "first_seen": first, "last_seen": last, "routers": set(), "local_addresses": set()}
    record["count"] += count
    kinds = record["kinds"]
    kinds[kind] = kinds.get(kind, 0) + count
    record["first_seen"] = _earliest(record["first_seen"], first)
    record["last_seen"] = _latest(record["last_seen"], last)
    if router:
        group["routers"].add(router)
        record["routers"].add(router)
    record["local_addresses"].update(event.get("local_addresses") or ())
    if event.get("peer_as") is not None:
        record["peer_as"] = event["peer_as"]  # the AS the peer's OPEN claimed
