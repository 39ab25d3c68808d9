"""Benchmark: resolving addresses with an ixp_data dataset, and loading a full dataset from cache.

Generates PeeringDB-shaped data for 2,000 exchanges, 60,000 address entries and 30,000 networks,
stores it in ixp_data's cache, then measures:
  - ixp_data loading it from the cache (offline) and building the dataset;   goal < 2 s
  - ip_to_asn over 100,000 addresses (a mix of known, on-LAN unknown and off-LAN); goal < 1 s
  - resolve_peers over 100,000 events;
with a plain dict lookup of the same addresses as the baseline measured in the same run.

    python bench/resolve.py
"""

import ipaddress
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "collections"))
if not os.path.exists(os.path.join(ROOT, "collections", "ansible_collections", "peerwarden", "bgp")):
    sys.exit("run `make collection` (or `make test`) first: the collection link is missing")

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.cache import SourceCache  # noqa: E402
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.run import run_ixp_data  # noqa: E402
from ansible_collections.peerwarden.bgp.plugins.plugin_utils import ixp_lookup  # noqa: E402

EXCHANGES, NETWORKS, PORTS = 2000, 30000, 30000  # 30,000 ports with IPv4 and IPv6: 60,000 addresses
URL = "http://127.0.0.1:1/api"


def generate(rnd):
    objects = {"ix": [], "ixlan": [], "ixpfx": [], "netixlan": [], "net": [], "poc": []}
    for ix in range(1, EXCHANGES + 1):
        objects["ix"].append({"id": ix, "name": "IX-%d" % ix, "status": "ok"})
        objects["ixlan"].append({"id": ix, "ix_id": ix, "name": "IX-%d LAN" % ix, "status": "ok"})
        objects["ixpfx"].append(
            {
                "id": 2 * ix,
                "ixlan_id": ix,
                "protocol": "IPv4",
                "prefix": str(ipaddress.ip_network((0x0A000000 + ix * 256, 24))),
            }
        )
        objects["ixpfx"].append(
            {"id": 2 * ix + 1, "ixlan_id": ix, "protocol": "IPv6", "prefix": "2001:db8:%x::/64" % ix}
        )
    for net in range(1, NETWORKS + 1):
        objects["net"].append(
            {
                "id": net,
                "asn": 64000 + net,
                "name": "Network %d" % net,
                "status": "ok",
                "policy_general": "Open",
                "info_prefixes4": net % 500,
                "info_prefixes6": net % 50,
            }
        )
        for role in rnd.sample(["Policy", "NOC", "Technical"], rnd.randint(1, 2)):
            objects["poc"].append(
                {
                    "id": len(objects["poc"]) + 1,
                    "net_id": net,
                    "role": role,
                    "name": role,
                    "email": "%s@as%d.example" % (role.lower(), 64000 + net),
                    "visible": "Public",
                    "status": "ok",
                }
            )
    seen = set()
    while len(objects["netixlan"]) < PORTS:
        ix, host = rnd.randint(1, EXCHANGES), rnd.randint(1, 254)
        if (ix, host) in seen:
            continue
        seen.add((ix, host))
        net = rnd.randint(1, NETWORKS)
        objects["netixlan"].append(
            {
                "id": len(objects["netixlan"]) + 1,
                "net_id": net,
                "ix_id": ix,
                "ixlan_id": ix,
                "asn": 64000 + net,
                "ipaddr4": str(ipaddress.ip_address(0x0A000000 + ix * 256 + host)),
                "ipaddr6": "2001:db8:%x::%x" % (ix, host),
                "status": "ok",
            }
        )
    return objects


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main():
    rnd = random.Random(179)
    objects = generate(rnd)
    with tempfile.TemporaryDirectory() as cache_dir:
        SourceCache(cache_dir).save('%s "all" anonymous' % URL, objects)
        params = {"peeringdb": {"url": URL}, "cache_dir": cache_dir, "offline": True, "prefer": "ixf"}
        load_seconds, result = timed(run_ixp_data, params, None)
    dataset = result["dataset"]
    print(
        "dataset: %d exchanges, %d addresses, %d networks"
        % (len(dataset["exchanges"]), len(dataset["addresses"]), len(dataset["networks"]))
    )
    print("ixp_data from cache (offline): %.2f s" % load_seconds)

    known = list(dataset["addresses"])
    queries = []
    for _dummy in range(100000):
        pick = rnd.random()
        if pick < 0.6:
            queries.append(rnd.choice(known))
        elif pick < 0.9:
            queries.append(str(ipaddress.ip_address(0x0A000000 + rnd.randint(1, EXCHANGES) * 256 + 255)))
        else:
            queries.append("198.51.100.%d" % rnd.randint(1, 254))
    addresses = dataset["addresses"]
    baseline, dummy = timed(lambda: [addresses.get(q) for q in queries])
    ixp_lookup.index_of(dataset)  # the index is built once per dataset, as in a play
    index_seconds, dummy = timed(lambda: ixp_lookup.Index(dataset))
    asn_seconds, dummy = timed(lambda: [ixp_lookup.ip_to_asn(q, dataset) for q in queries])
    lan_seconds, dummy = timed(lambda: [ixp_lookup.in_peering_lan(q, dataset) for q in queries])
    events = [
        {
            "router": "r%d" % (i % 8),
            "address": q,
            "kind": "unconfigured_neighbor",
            "count": 1,
            "first_seen": "2026-11-20T00:00:00Z",
            "last_seen": "2026-11-21T00:00:00Z",
        }
        for i, q in enumerate(queries)
    ]
    resolve_seconds, groups = timed(ixp_lookup.resolve_peers, events, dataset)
    print("index build: %.3f s (once per dataset)" % index_seconds)
    print("baseline dict.get x100000: %.3f s" % baseline)
    print(
        "ip_to_asn x100000: %.3f s (%.2f us/address, %.1fx the baseline)"
        % (asn_seconds, asn_seconds * 10, asn_seconds / baseline)
    )
    print("in_peering_lan x100000: %.3f s (%.2f us/address)" % (lan_seconds, lan_seconds * 10))
    print(
        "resolve_peers of 100000 events: %.3f s (%.2f us/event), %d groups"
        % (resolve_seconds, resolve_seconds * 10, len(groups))
    )


if __name__ == "__main__":
    main()
