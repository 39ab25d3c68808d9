# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge IX-F exports and PeeringDB objects into one compact, JSON-serialisable dataset.

    {"version": 2, "generated": ISO, "fingerprint": sha256,
     "exchanges": {key: {"name", "peeringdb_id", "ixf_id", "sources", "lans": [{"name", "prefixes"}]}},
     "addresses": {address: {"asn", "exchange", "lan", "sources": {"ixf": asn, "peeringdb": asn},
                             + "max_prefix", "as_macro" where the IX-F export gives them for the session}},
     "networks": {"<asn>": {"asn", "name", "policy_general", "policy_url", "info_prefixes4",
                            "info_prefixes6", "irr_as_set", "sources", "contacts": [{"role", "name",
                            "email", "visible"}], "ixf": None or {"peering_policy", "peering_policy_url",
                            "as_macro", "max_prefix4", "max_prefix6"}}}}

Version 2 added what the IX-F export tells of each member: its `contact_email` as contacts of role
"IX-F", its `peering_policy`, `peering_policy_url` and `as_macro` (filling policy_general, policy_url
and irr_as_set where PeeringDB has no value, and kept as said under "ixf"), and each session's
`max_prefix` on its address (prefix_limits' step 2).

Contacts are untrusted input: an address that is not a plain email address, or a name or email
with control characters (CR/LF header injection), is left out and listed in `rejected`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import canonical_address

DATASET_VERSION = 2
IXF_ROLE = "IX-F"
# network field <- the IX-F member field that fills it where PeeringDB has no value
IXF_FILLS = (("policy_general", "peering_policy"), ("policy_url", "peering_policy_url"), ("irr_as_set", "as_macro"))
IXF_FIELDS = ("peering_policy", "peering_policy_url", "as_macro", "max_prefix4", "max_prefix6")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NETWORK_FIELDS = ("name", "policy_general", "policy_url", "info_prefixes4", "info_prefixes6", "irr_as_set")


def build_dataset(ixf_exports, peeringdb, prefer, generated):
    """Returns (dataset, warnings, rejected contacts). `ixf_exports`: IxfData list; `peeringdb`:
    dict of object type -> records, or None; `prefer`: "ixf" or "peeringdb" for disagreements."""
    warnings, rejected = [], []
    exchanges, addresses, networks, aliases = {}, {}, {}, {}
    if peeringdb:
        _peeringdb_exchanges(peeringdb, exchanges)
    for export in ixf_exports:
        _ixf_exchanges(export, exchanges, aliases)
    claims = {}  # address -> {"ixf": (asn, exchange, lan), "peeringdb": (...)}
    if peeringdb:
        lan_of = {}
        for key, exchange in exchanges.items():
            for lan in exchange["lans"]:
                for ixlan_id in lan.get("ixlan_ids", ()):
                    lan_of[ixlan_id] = (key, lan["name"])
        for netixlan in peeringdb.get("netixlan", ()):
            if netixlan.get("status", "ok") != "ok":
                continue
            where = lan_of.get(netixlan.get("ixlan_id"), ("ix:%s" % netixlan.get("ix_id"), netixlan.get("name")))
            for field in ("ipaddr4", "ipaddr6"):
                address = canonical_address(netixlan.get(field))
                if address:
                    claims.setdefault(address, {})["peeringdb"] = (netixlan["asn"],) + where
    for export in ixf_exports:
        for address, asn, key, lan, session in export.addresses:
            claims.setdefault(address, {})["ixf"] = (asn, aliases[key], lan, session)
    other = "peeringdb" if prefer == "ixf" else "ixf"
    for address, said in claims.items():
        chosen = said.get(prefer) or said[other]
        sources = {name: claim[0] for name, claim in said.items()}
        if len(set(sources.values())) > 1:
            warnings.append("%s: IX-F says AS%d, PeeringDB says AS%d; using %s (prefer: %s)"
                            % (address, sources["ixf"], sources["peeringdb"],
                               "IX-F" if prefer == "ixf" else "PeeringDB", prefer))
        entry = addresses[address] = {"asn": chosen[0], "exchange": chosen[1], "lan": chosen[2], "sources": sources}
        if "ixf" in said and said["ixf"][0] == chosen[0]:  # the exchange's session facts, for the AS it names
            entry.update((field, value) for field, value in said["ixf"][3].items() if value is not None)
    if peeringdb:
        _peeringdb_networks(peeringdb, networks, rejected)
    for export in ixf_exports:
        for asn, member in export.members.items():
            _ixf_network(networks.setdefault(str(asn), _network(asn, {"name": member["name"]}, "ixf")), member,
                         rejected)
    for network in networks.values():
        for contact in network["contacts"]:
            contact.pop("net_id", None)
    for exchange in exchanges.values():
        for lan in exchange["lans"]:
            lan.pop("ixlan_ids", None)
    dataset = {"version": DATASET_VERSION, "generated": generated, "exchanges": exchanges, "addresses": addresses,
               "networks": networks}
    dataset["fingerprint"] = fingerprint(dataset)
    return dataset, warnings, rejected


def fingerprint(dataset):
    """A digest of the content (not of `generated`): filters cache their indexes by it. The
    dataset is built in a fixed order, so its keys need no sorting (which would double the cost)."""
    content = {k: v for k, v in dataset.items() if k not in ("generated", "fingerprint")}
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


def _peeringdb_exchanges(peeringdb, exchanges):
    prefixes = {}
    for ixpfx in peeringdb.get("ixpfx", ()):
        prefixes.setdefault(ixpfx.get("ixlan_id"), []).append(ixpfx.get("prefix"))
    lans = {}
    for ixlan in peeringdb.get("ixlan", ()):
        lans.setdefault(ixlan.get("ix_id"), []).append(ixlan)
    for ix in peeringdb.get("ix", ()):
        key = "ix:%d" % ix["id"]
        exchanges[key] = {
            "name": ix.get("name"), "peeringdb_id": ix["id"], "ixf_id": None, "sources": ["peeringdb"],
            "lans": [{"name": ixlan.get("name") or ix.get("name"), "ixlan_ids": [ixlan["id"]],
                      "prefixes": sorted(p for p in prefixes.get(ixlan["id"], ()) if p)}
                     for ixlan in lans.get(ix["id"], ())],
        }


def _ixf_exchanges(export, exchanges, aliases):
    """An IX-F exchange joins PeeringDB's when it names its PeeringDB id or shares a LAN prefix;
    `aliases` maps its own key to the key it is known by in the dataset."""
    for key, ixf in export.exchanges.items():
        prefixes = {p for lan in ixf["lans"].values() for p in lan["prefixes"]}
        target = key if key in exchanges else next(
            (k for k, ex in exchanges.items() if prefixes & {p for lan in ex["lans"] for p in lan["prefixes"]}), None)
        aliases[key] = target or key
        if target is None:
            exchanges[key] = {"name": ixf["name"], "peeringdb_id": ixf["peeringdb_id"],
                              "ixf_id": ixf["ixf_id"], "sources": ["ixf"],
                              "lans": [{"name": lan["name"], "prefixes": sorted(lan["prefixes"])}
                                       for lan in ixf["lans"].values()]}
            continue
        merged = exchanges[target]
        merged["ixf_id"] = ixf["ixf_id"]
        if "ixf" not in merged["sources"]:
            merged["sources"].append("ixf")
        known = {p for lan in merged["lans"] for p in lan["prefixes"]}
        for lan in ixf["lans"].values():
            if not set(lan["prefixes"]) & known:
                merged["lans"].append({"name": lan["name"], "prefixes": sorted(lan["prefixes"])})


def _network(asn, record, source):
    network = {"asn": asn}
    for field in NETWORK_FIELDS:
        network[field] = record.get(field)
    network["sources"] = [source]
    network["contacts"] = []
    network["ixf"] = None
    return network


def _ixf_network(network, member, rejected):
    """What an export says of a member: kept under "ixf" (the first export to say a field wins),
    filling PeeringDB's gaps, and its contact_email as contacts of role IX-F."""
    if "ixf" not in network["sources"]:
        network["sources"].append("ixf")
    said = network["ixf"] = network["ixf"] or dict((field, None) for field in IXF_FIELDS)
    for field in IXF_FIELDS:
        if said[field] is None:
            said[field] = member[field]
    for field, ixf_field in IXF_FILLS:
        if not network[field] and said[ixf_field]:
            network[field] = said[ixf_field]
    known = set((c["role"], c["email"].lower()) for c in network["contacts"])
    for email in member["contact_email"]:
        contact = {"role": IXF_ROLE, "name": "", "email": email, "visible": None}
        if (IXF_ROLE, email.lower()) not in known:
            known.add((IXF_ROLE, email.lower()))
            _add_contact(network, contact, rejected)


def _peeringdb_networks(peeringdb, networks, rejected):
    by_id = {}
    for net in peeringdb.get("net", ()):
        if net.get("status", "ok") != "ok" or not isinstance(net.get("asn"), int):
            continue
        networks[str(net["asn"])] = by_id[net["id"]] = _network(net["asn"], net, "peeringdb")
    for poc in peeringdb.get("poc", ()):
        network = by_id.get(poc.get("net_id"))
        if network is None or poc.get("status", "ok") != "ok":
            continue
        contact = {"role": poc.get("role"), "name": poc.get("name") or "", "email": (poc.get("email") or "").strip(),
                   "visible": poc.get("visible")}
        _add_contact(network, contact, rejected)


def _add_contact(network, contact, rejected):
    """Contacts are untrusted input: one that is unsafe or not an address is listed, not kept. A field
    that lists several addresses (`a@x, b@x` or `a@x; b@x`, as some PeeringDB records do) gives one
    contact each, every one checked on its own."""
    emails = [part.strip() for part in re.split(r"[,;]", contact["email"])] if contact["email"] else [""]
    if len(emails) > 1 and all(emails):
        for email in emails:
            _add_contact(network, dict(contact, email=email), rejected)
        return
    problem = _contact_problem(contact)
    if problem:
        rejected.append({"asn": network["asn"], "role": contact["role"], "email": repr(contact["email"]),
                         "reason": problem})
    else:
        network["contacts"].append(contact)


def _contact_problem(contact):
    if CONTROL.search(contact["name"]) or CONTROL.search(contact["email"]):
        return "control characters (CR/LF) in the name or email: a header injection attempt or broken data"
    if not contact["email"]:
        return None if contact["name"] else "no email and no name"
    if not EMAIL.match(contact["email"]):
        return "not a valid email address"
    return None
