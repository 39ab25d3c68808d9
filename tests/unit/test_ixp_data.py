"""IX-F exports and PeeringDB objects merged into a dataset: the three real samples, quirks,
disagreements, and contacts that must never be passed on."""

import copy
import json
import os

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.dataset import build_dataset
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_export import read_ixf
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_schema import SCHEMA
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import expand_embedded

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "ixp")
NOW = "2026-11-22T12:00:00Z"


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return json.load(handle)


EXPORT = {
    "version": "1.0",
    "timestamp": "2026-11-22T00:00:00Z",
    "ixp_list": [
        {
            "ixp_id": 1,
            "ixf_id": 901,
            "shortname": "Example-IX",
            "peeringdb_id": 1,
            "vlan": [
                {
                    "id": 10,
                    "name": "Example-IX LAN",
                    "ipv4": {"prefix": "192.0.2.0", "mask_length": 24},
                    "ipv6": {"prefix": "2001:db8:ffff::", "mask_length": 64},
                }
            ],
        }
    ],
    "member_list": [
        {
            "asnum": 64500,
            "name": "Example Net",
            "connection_list": [
                {
                    "ixp_id": 1,
                    "vlan_list": [
                        {"vlan_id": 10, "ipv4": {"address": "192.0.2.66"}, "ipv6": {"address": "2001:db8:ffff::66"}}
                    ],
                }
            ],
        },
        {
            "asnum": 64501,
            "name": "Other Net",
            "connection_list": [{"ixp_id": 1, "vlan_list": [{"vlan_id": 10, "ipv4": {"address": "192.0.2.77"}}]}],
        },
        {"asnum": 64502, "name": "Quiet Net", "connection_list": []},
    ],
}
PEERINGDB = {
    "ix": [{"id": 1, "name": "Example-IX", "status": "ok"}],
    "ixlan": [{"id": 11, "ix_id": 1, "name": "Example-IX: Main", "status": "ok"}],
    "ixpfx": [
        {"id": 1, "ixlan_id": 11, "protocol": "IPv4", "prefix": "192.0.2.0/24"},
        {"id": 2, "ixlan_id": 11, "protocol": "IPv6", "prefix": "2001:db8:ffff::/64"},
    ],
    "netixlan": [
        {
            "id": 1,
            "net_id": 100,
            "ix_id": 1,
            "ixlan_id": 11,
            "asn": 64500,
            "ipaddr4": "192.0.2.66",
            "ipaddr6": "2001:db8:ffff::66",
            "status": "ok",
        },
        {
            "id": 2,
            "net_id": 101,
            "ix_id": 1,
            "ixlan_id": 11,
            "asn": 64503,
            "ipaddr4": "192.0.2.77",
            "ipaddr6": None,
            "status": "ok",
        },
    ],
    "net": [
        {
            "id": 100,
            "asn": 64500,
            "name": "Example Net",
            "policy_general": "Open",
            "policy_url": "",
            "info_prefixes4": 20,
            "info_prefixes6": 5,
            "irr_as_set": "AS-EXAMPLE",
            "status": "ok",
        },
        {"id": 101, "asn": 64503, "name": "Renumbered Net", "status": "ok"},
    ],
    "poc": [
        {
            "id": 1,
            "net_id": 100,
            "role": "Policy",
            "name": "Peering",
            "email": "peering@example.net",
            "visible": "Public",
            "status": "ok",
        },
        {
            "id": 2,
            "net_id": 100,
            "role": "NOC",
            "name": "NOC\r\nBcc: victim@example.org",
            "email": "noc@example.net",
            "visible": "Public",
            "status": "ok",
        },
        {
            "id": 3,
            "net_id": 101,
            "role": "Policy",
            "name": "P",
            "email": "peering@example.org\r\nBcc: x@example.org",
            "visible": "Public",
            "status": "ok",
        },
        {
            "id": 4,
            "net_id": 101,
            "role": "NOC",
            "name": "N",
            "email": "not-an-email",
            "visible": "Public",
            "status": "ok",
        },
    ],
}


def test_the_nested_vlan_list_sample_parses_with_warnings():
    export, warnings = read_ixf(load("inex_ixf_0.5_excerpt_nested_vlan_list.json"), "inex.json")
    assert sorted(export.addresses)[:2] == [
        ("185.6.36.6", 112, "ixf:inex.json:1", None, {"max_prefix": 20, "as_macro": "AS112"}),
        ("194.88.240.6", 112, "ixf:inex.json:1", None, {"max_prefix": 20, "as_macro": "AS112"}),
    ]
    assert len(export.addresses) == 4
    assert export.members[112]["name"] == "AS112 Reverse DNS"
    assert any("vlan_list nested" in w for w in warnings)
    assert any("no timestamp" in w for w in warnings)
    assert any("schema version '0.5'" in w for w in warnings)


def without_titles(node):
    if isinstance(node, dict):
        return {k: without_titles(v) for k, v in node.items() if k not in ("title", "description")}
    return [without_titles(v) for v in node] if isinstance(node, list) else node


def test_the_schema_sample_is_the_schema_we_validate_with():
    """Whole, to the last field: the IPv4 and IPv6 halves ixf_schema makes from one template included."""
    assert without_titles(load("ixp-member-list-1.0.schema.json")) == SCHEMA


def test_the_peeringdb_sample_resolves():
    sample = load("peeringdb_api_net_asn2128_depth2.json")
    dataset, warnings, rejected = build_dataset([], expand_embedded({"net": sample["data"]}), "ixf", NOW)
    assert dataset["addresses"]["185.6.36.126"]["asn"] == 2128
    assert dataset["addresses"]["2001:7f8:18::f:0:1"]["exchange"] == "ix:48"
    network = dataset["networks"]["2128"]
    assert network["name"] == "INEX Route Collectors" and network["policy_general"] == "Open"
    assert network["contacts"] == [
        {"role": "NOC", "name": "INEX Operations", "email": "operations@inex.ie", "visible": "Public"}
    ]
    assert warnings == [] and rejected == []


def test_a_valid_export_has_no_warnings_and_extensions_are_named():
    export, warnings = read_ixf(EXPORT, "x.json")
    assert warnings == ["x.json: 1 member(s) with an empty connection_list"]
    with_extension = copy.deepcopy(EXPORT)
    with_extension["ixp_manager"] = {"version": "6"}
    with_extension["member_list"][0]["vendor_extension"] = {"foo": 1}
    export, warnings = read_ixf(with_extension, "x.json")
    assert any(
        "ignored vendor extension keys (member: vendor_extension, top level: ixp_manager)" in w for w in warnings
    )


def test_schema_problems_are_listed_not_fatal():
    broken = copy.deepcopy(EXPORT)
    broken["member_list"][1]["connection_list"][0]["vlan_list"][0]["ipv4"]["max_prefix"] = "lots"
    export, warnings = read_ixf(broken, "x.json")
    assert any(
        "schema: member_list/1/connection_list/0/vlan_list/0/ipv4/max_prefix: 'lots' is not of type 'integer'" in w
        for w in warnings
    )
    assert len(export.addresses) == 3


@pytest.mark.parametrize("document", [[], {"version": "1.0"}, {"member_list": "x"}])
def test_not_an_export(document):
    with pytest.raises(ValueError, match="is not an IX-F Member Export"):
        read_ixf(document, "x.json")


def test_merge_disagreement_and_prefer():
    export, dummy = read_ixf(EXPORT, "x.json")
    dataset, warnings, rejected = build_dataset([export], PEERINGDB, "ixf", NOW)
    entry = dataset["addresses"]["192.0.2.77"]
    assert entry == {
        "asn": 64501,
        "exchange": "ix:1",
        "lan": "Example-IX LAN",
        "sources": {"peeringdb": 64503, "ixf": 64501},
    }
    assert "192.0.2.77: IX-F says AS64501, PeeringDB says AS64503; using IX-F (prefer: ixf)" in warnings
    dataset, warnings, rejected = build_dataset([export], PEERINGDB, "peeringdb", NOW)
    assert dataset["addresses"]["192.0.2.77"]["asn"] == 64503
    # IX-F names the PeeringDB id: one exchange, both sources
    assert list(dataset["exchanges"]) == ["ix:1"]
    assert dataset["exchanges"]["ix:1"]["sources"] == ["peeringdb", "ixf"]
    assert dataset["networks"]["64502"] == {
        "asn": 64502,
        "name": "Quiet Net",
        "policy_general": None,
        "policy_url": None,
        "info_prefixes4": None,
        "info_prefixes6": None,
        "irr_as_set": None,
        "sources": ["ixf"],
        "contacts": [],
        "ixf": {
            "peering_policy": None,
            "peering_policy_url": None,
            "as_macro": None,
            "max_prefix4": None,
            "max_prefix6": None,
        },
    }


def test_an_export_without_peeringdb_id_joins_by_prefix():
    export = copy.deepcopy(EXPORT)
    del export["ixp_list"][0]["peeringdb_id"]
    dataset = build_dataset([read_ixf(export, "x.json")[0]], PEERINGDB, "ixf", NOW)[0]
    assert list(dataset["exchanges"]) == ["ix:1"]
    assert dataset["addresses"]["192.0.2.66"]["exchange"] == "ix:1"


def test_unsafe_contacts_are_rejected_and_listed():
    dataset, warnings, rejected = build_dataset([], PEERINGDB, "ixf", NOW)
    assert dataset["networks"]["64500"]["contacts"] == [
        {"role": "Policy", "name": "Peering", "email": "peering@example.net", "visible": "Public"}
    ]
    assert dataset["networks"]["64503"]["contacts"] == []
    reasons = {(r["asn"], r["role"]): r["reason"] for r in rejected}
    assert reasons[(64500, "NOC")].startswith("control characters")
    assert reasons[(64503, "Policy")].startswith("control characters")
    assert reasons[(64503, "NOC")] == "not a valid email address"
    assert "\r" not in json.dumps(dataset["networks"])  # no CR/LF anywhere in what is passed on


def test_fingerprint_follows_content_not_time():
    first = build_dataset([], PEERINGDB, "ixf", NOW)[0]
    again = build_dataset([], PEERINGDB, "ixf", "2027-01-01T00:00:00Z")[0]
    changed = copy.deepcopy(PEERINGDB)
    changed["net"][0]["name"] = "Renamed"
    assert first["fingerprint"] == again["fingerprint"] != build_dataset([], changed, "ixf", NOW)[0]["fingerprint"]
