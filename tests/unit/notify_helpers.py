"""Shared data for the notify tests: resolve_peers groups and our identity."""

import copy

OUR = {
    "asn": 64511,
    "name": "Small ISP",
    "contact": "peering@small-isp.example",
    "policy_url": "https://small-isp.example/peering",
    "how_to_reach": "Request a session at https://small-isp.example/peering.",
}


def group(
    asn,
    name,
    addresses,
    contacts=("peering@as%(asn)d.example",),
    role="Policy",
    exchanges=("Example-IX",),
    last_seen="2026-11-21T06:00:00Z",
    kinds=("unconfigured_neighbor",),
    by_role=None,
):
    records = [
        {
            "address": address,
            "exchange": exchanges[0],
            "lan": exchanges[0] + " LAN",
            "count": 3,
            "kinds": {kind: 3 for kind in kinds},
            "first_seen": "2026-11-20T08:00:00Z",
            "last_seen": last_seen,
            "routers": ["edge1"],
        }
        for address in addresses
    ]
    emails = [c % {"asn": asn} for c in contacts]
    return {
        "asn": asn,
        "name": name,
        "known": True,
        "count": 3 * len(addresses),
        "first_seen": "2026-11-20T08:00:00Z",
        "last_seen": last_seen,
        "exchanges": list(exchanges),
        "lans": [e + " LAN" for e in exchanges],
        "routers": ["edge1"],
        "kinds": list(kinds),
        "addresses": records,
        "contacts": emails,
        "contact_role": role if emails else None,
        "contacts_by_role": copy.deepcopy(by_role or {role: emails}),
        "policy_general": "Open",
        "policy_url": "",
    }


def params(store, peers, **more):
    settings = {
        "peers": peers,
        "our": dict(OUR),
        "store": str(store),
        "renotify_after": 30,
        "renotify_on_new_addresses": True,
        "max_notifications": 3,
        "escalate_to": None,
        "suppress": [],
        "max_per_run": 20,
        "resolved_after": 14,
        "kinds": None,
        "cc": [],
        "bcc": [],
    }
    settings.update(more)
    return settings
