"""The filters over a dataset: address -> ASN and LAN, ASN -> network and contacts, events -> networks."""

import copy

import pytest
from ansible.errors import AnsibleFilterError
from unit.test_ixp_data import EXPORT, PEERINGDB

from ansible_collections.peerwarden.bgp.plugins.filter.ixp import FilterModule
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.dataset import build_dataset
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_export import read_ixf

F = FilterModule().filters()
DATASET = build_dataset([read_ixf(EXPORT, "x.json")[0]], PEERINGDB, "ixf", "2026-11-22T12:00:00Z")[0]


def event(
    router, address, kind="unconfigured_neighbor", count=1, first="2026-11-20T01:00:00Z", last="2026-11-20T02:00:00Z"
):
    return {"router": router, "address": address, "kind": kind, "count": count, "first_seen": first, "last_seen": last}


def test_ip_to_asn():
    assert F["ip_to_asn"]("192.0.2.66", DATASET) == 64500
    assert F["ip_to_asn"]("2001:DB8:FFFF:0::66", DATASET) == 64500  # any text form
    assert F["ip_to_asn"]("192.0.2.200", DATASET) is None
    assert F["ip_to_asn"]("garbage", DATASET) is None


def test_in_peering_lan():
    assert F["in_peering_lan"]("192.0.2.200", DATASET) is True
    assert F["in_peering_lan"]("2001:db8:ffff::1234", DATASET) is True
    assert F["in_peering_lan"](["198.51.100.1", "2001:db8:fffe::1", "192.0.2.1", "x"], DATASET) == [
        False,
        False,
        True,
        False,
    ]


def test_asn_info_and_contacts():
    assert F["asn_info"]("AS64500", DATASET)["irr_as_set"] == "AS-EXAMPLE"
    assert F["asn_info"](64999, DATASET) is None
    assert F["peering_contacts"](64500, DATASET) == ["peering@example.net"]
    network = dict(F["asn_info"](64500, DATASET))
    network["contacts"] = [
        {"role": "NOC", "email": "noc@example.net"},
        {"role": "NOC", "email": "NOC@example.net"},
        {"role": "Technical", "email": "tech@example.net"},
    ]
    assert F["peering_contacts"](network) == ["noc@example.net"]  # no Policy: the next role, de-duplicated
    assert F["peering_contacts"](network, roles=["Technical"]) == ["tech@example.net"]
    assert F["peering_contacts"](64503, DATASET) == []  # both its contacts were unsafe


def test_resolve_peers():
    groups = F["resolve_peers"](
        [
            event("r1", "192.0.2.66", count=3),
            dict(event("r2", "192.0.2.66", last="2026-11-21T00:00:00Z"), local_addresses=["192.0.2.1"]),
            event("r1", "2001:db8:ffff::66", kind="md5_unexpected"),
            dict(event("r1", "192.0.2.77", kind="peer_as_mismatch"), peer_as=64512),
            event("r1", "192.0.2.250"),
            event("r1", "203.0.113.9"),
        ],
        DATASET,
    )
    assert [(g["asn"], g["name"], g["count"]) for g in groups] == [
        (64500, "Example Net", 5),
        (64501, "Other Net", 1),
        (None, "unknown", 2),
    ]
    example = groups[0]
    assert example["contacts"] == ["peering@example.net"] and example["contact_role"] == "Policy"
    assert example["exchanges"] == ["Example-IX"] and example["lans"] == ["Example-IX LAN"]
    assert example["routers"] == ["r1", "r2"] and example["kinds"] == ["md5_unexpected", "unconfigured_neighbor"]
    assert example["last_seen"] == "2026-11-21T00:00:00Z"
    assert example["addresses"][0] == {
        "address": "192.0.2.66",
        "exchange": "Example-IX",
        "lan": "Example-IX LAN",
        "count": 4,
        "kinds": {"unconfigured_neighbor": 4},
        "first_seen": "2026-11-20T01:00:00Z",
        "last_seen": "2026-11-21T00:00:00Z",
        "routers": ["r1", "r2"],
        "local_addresses": ["192.0.2.1"],  # r2's lines named our address; r1's did not
    }
    assert groups[1]["addresses"][0]["peer_as"] == 64512  # the AS the peer's OPEN claimed
    unknown = groups[-1]
    assert [a["address"] for a in unknown["addresses"]] == ["192.0.2.250", "203.0.113.9"]
    assert unknown["addresses"][0]["exchange"] == "Example-IX"  # on the LAN, but nobody claims it
    assert unknown["addresses"][1]["exchange"] is None
    assert unknown["contacts"] == [] and unknown["known"] is False
    assert F["resolve_peers"]([], DATASET) == []


@pytest.mark.parametrize(
    "name,args,message",
    [
        ("ip_to_asn", ("192.0.2.1", "not a dataset"), "peerwarden.bgp.ip_to_asn: expected the dataset"),
        ("resolve_peers", ("x", DATASET), "peerwarden.bgp.resolve_peers: expected the list of events"),
        ("resolve_peers", ([{"router": "r1"}], DATASET), "resolve_peers: event 0 is not a log_events event"),
        ("asn_info", ("ASxyz", DATASET), "peerwarden.bgp.asn_info: 'ASxyz' is not an AS number"),
        ("peering_contacts", (64500,), "peering_contacts: give a network record"),
    ],
)
def test_bad_arguments_name_the_filter(name, args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F[name](*args)


# ---------------------------------------------------- IPv4-mapped IPv6, as dual-stack sockets log IPv4 peers

MAPPED = ["::ffff:192.0.2.66", "::FFFF:192.0.2.66", "::ffff:c000:242", "0:0:0:0:0:ffff:c000:0242"]


@pytest.mark.parametrize("mapped", MAPPED)
def test_every_filter_takes_an_ipv4_mapped_address(mapped):
    assert F["ip_to_asn"](mapped, DATASET) == 64500
    assert F["in_peering_lan"](mapped, DATASET) is True
    assert F["in_peering_lan"]([mapped, "::ffff:198.51.100.1"], DATASET) == [True, False]
    assert F["asn_info"](F["ip_to_asn"](mapped, DATASET), DATASET)["name"] == "Example Net"
    assert F["peering_contacts"](F["ip_to_asn"](mapped, DATASET), DATASET) == ["peering@example.net"]
    # the mapped and the plain form are one address of one network, not two
    groups = F["resolve_peers"]([event("r1", mapped, count=2), event("r2", "192.0.2.66")], DATASET)
    assert [(g["asn"], g["count"]) for g in groups] == [(64500, 3)]
    assert [(a["address"], a["count"], a["routers"]) for a in groups[0]["addresses"]] == [
        ("192.0.2.66", 3, ["r1", "r2"])
    ]
    # on the LAN, claimed by nobody: still placed on its LAN, under its IPv4 form
    (unknown,) = F["resolve_peers"]([event("r1", mapped.replace("66", "250").replace("242", "2fa"))], DATASET)
    assert unknown["addresses"][0]["address"] == "192.0.2.250"
    assert unknown["addresses"][0]["exchange"] == "Example-IX"


def test_the_dataset_keys_mapped_source_addresses_by_their_ipv4_form():
    export = copy.deepcopy(EXPORT)
    export["member_list"][1]["connection_list"][0]["vlan_list"][0]["ipv4"]["address"] = "::ffff:192.0.2.77"
    peeringdb = copy.deepcopy(PEERINGDB)
    peeringdb["netixlan"][0]["ipaddr4"] = "::ffff:192.0.2.66"
    dataset = build_dataset([read_ixf(export, "x.json")[0]], peeringdb, "ixf", "2026-11-22T12:00:00Z")[0]
    assert dataset["addresses"]["192.0.2.77"]["sources"] == {"ixf": 64501, "peeringdb": 64503}
    assert dataset["addresses"]["192.0.2.66"]["sources"] == {"peeringdb": 64500, "ixf": 64500}
    assert not [a for a in dataset["addresses"] if a.startswith("::ffff")]


def test_the_contact_order_defaults_and_is_checked():
    assert F["peering_contacts"](64500, DATASET, roles=None) == ["peering@example.net"]
    (group,) = F["resolve_peers"]([event("r1", "192.0.2.66")], DATASET, roles=None)
    assert group["contact_role"] == "Policy"
    (group,) = F["resolve_peers"]([event("r1", "192.0.2.66")], DATASET, roles="Technical")
    assert (group["contacts"], group["contact_role"]) == ([], None)
    with pytest.raises(AnsibleFilterError, match=r"resolve_peers: roles: expected a list of contact roles"):
        F["resolve_peers"]([event("r1", "192.0.2.66")], DATASET, roles=[{"role": "NOC"}])
