# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each neighbour's max-prefix comes from, and where the router and PeeringDB disagree.

Per neighbour and address family, the first that applies:
1. an explicit value (neighbors[].max_prefixes.ipv4/ipv6);
2. the exchange's own max_prefix for that session, from its IX-F member list, which ixp_data's dataset
   (version 2) keeps as addresses[ADDRESS].max_prefix (an int; {"ipv4", "ipv6"} is read too) when the
   export gives it;
3. PeeringDB's info_prefixes4 / info_prefixes6 of the neighbour's network (its ASN from neighbors[].asn,
   else from the dataset's addresses), plus `headroom` percent, and never below `floor`;
   an EMPTY PeeringDB value (missing, null or 0) takes the floor itself, not headroom on top of a fallback.
Without an explicit value, only the family of the session's own address is filled in (an IPv4 session at an
exchange carries the network's IPv4 routes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents

FIELD = {"ipv4": "info_prefixes4", "ipv6": "info_prefixes6"}


def family_of(address):
    return "ipv6" if ":" in address else "ipv4"


def _with_headroom(value, headroom):
    return -(-value * (100 + headroom) // 100)


def settings(options):
    headroom = options.get("headroom")
    headroom = intents.integer("headroom", 10 if headroom is None else headroom, 0, 1000)
    floor = options.get("floor") or {}
    floors = dict((family, intents.integer("floor.%s" % family, floor[family], 1, 10000000)
                   if floor.get(family) is not None else 100) for family in ("ipv4", "ipv6"))
    dataset = options.get("dataset") or {}
    if dataset and not isinstance(dataset.get("addresses", {}), dict):
        raise intents.IntentError("dataset: %r is not ixp_data's dataset (no addresses mapping)" % type(dataset).__name__)
    return headroom, floors, dataset


def _asn(option, value):
    return intents.integer(option, value, 1, intents.MAX_ASN) if value is not None else None


def resolve(options):
    """(the limits intent, the sources): every value checked before any router is touched."""
    headroom, floors, dataset = settings(options)
    addresses, networks = dataset.get("addresses") or {}, dataset.get("networks") or {}
    neighbors, sources = [], []
    for index, given in enumerate(options.get("neighbors") or []):
        where = "neighbors[%d]" % index
        address = intents.address(where + ".address", given.get("address"))
        record = addresses.get(address) or {}
        asn = _asn(where + ".asn", given.get("asn")) or _asn("dataset.addresses[%s].asn" % address, record.get("asn"))
        network = networks.get(str(asn)) if asn else None
        explicit = given.get("max_prefixes") or {}
        values, how, peeringdb = {}, {}, {}
        for family in ("ipv4", "ipv6"):
            if network is not None:
                peeringdb[family] = network.get(FIELD[family]) or None
            values[family], how[family] = None, None
            if explicit.get(family) is not None:
                values[family], how[family] = explicit[family], "explicit"
            elif family == family_of(address):
                ixf = record.get("max_prefix")
                if isinstance(ixf, dict):
                    ixf = ixf.get(family)
                if ixf:
                    values[family], how[family] = int(ixf), "ixf"
                elif network is not None:
                    if peeringdb[family]:
                        values[family] = max(floors[family], _with_headroom(int(peeringdb[family]), headroom))
                        how[family] = "peeringdb"
                    else:
                        values[family], how[family] = floors[family], "floor"
        if values["ipv4"] is None and values["ipv6"] is None:
            raise intents.IntentError(
                "%s.max_prefixes: %r: no value given, and %s is %s: give max_prefixes, or the dataset of ixp_data "
                "that names its network"
                % (where, explicit or None, address, "not in the dataset" if not asn else "AS%d, not in the dataset's networks" % asn))
        neighbor = {"address": address, "max_prefixes": values}
        for key in ("threshold", "on_exceed", "restart_minutes"):
            neighbor[key] = given.get(key) if given.get(key) is not None else options.get(key)
        if neighbor["threshold"] is None:
            neighbor["threshold"] = 90
        if neighbor["on_exceed"] is None:
            neighbor["on_exceed"] = "teardown"
        if neighbor["restart_minutes"] is None:
            neighbor.pop("restart_minutes")
        neighbors.append(neighbor)
        sources.append({"address": address, "asn": asn, "max_prefixes": values, "source": how, "peeringdb": peeringdb})
    intent = intents.limits_intent(dict(options, neighbors=neighbors))
    return intent, sources


def disagreements(gathered, options):
    """Where the limit the router has now and PeeringDB disagree, for every neighbour the dataset names:
    no_limit (PeeringDB has a value, the router none), below_peeringdb (the limit would trip on what the
    network says it announces) and above_headroom (more than PeeringDB plus headroom: it protects little)."""
    headroom, floors, dataset = settings(options)
    addresses, networks = dataset.get("addresses") or {}, dataset.get("networks") or {}
    asns = dict((str(given.get("address")), given.get("asn")) for given in options.get("neighbors") or [] if given.get("asn"))
    found = []
    for neighbor in gathered.get("neighbors") or []:
        address = neighbor["address"]
        asn = asns.get(address) or (addresses.get(address) or {}).get("asn")
        network = networks.get(str(asn)) if asn else None
        if network is None:
            continue
        family = family_of(address)
        peeringdb = network.get(FIELD[family]) or None
        if not peeringdb:
            continue
        configured = (neighbor.get("max_prefixes") or {}).get(family)
        kind = None
        if configured is None:
            kind = "no_limit"
        elif configured < peeringdb:
            kind = "below_peeringdb"
        elif configured > max(floors[family], _with_headroom(peeringdb, headroom)):
            kind = "above_headroom"
        if kind:
            found.append({"neighbor": address, "asn": asn, "family": family, "configured": configured,
                          "peeringdb": peeringdb, "kind": kind})
    return found
