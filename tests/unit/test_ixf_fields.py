"""Everything an IX-F export tells, used: contact_email as contacts (role IX-F, last in the default
order), peering_policy, peering_policy_url, as_macro and per-session max_prefix, from IXP Manager's
own 1.0 export (fixtures/ixp/SOURCES.md) and PeeringDB's real answer for AS2128."""

import copy

import pytest
from unit.test_ixp_data import NOW, load

from ansible_collections.peerwarden.bgp.plugins.filter.ixp import FilterModule
from ansible_collections.peerwarden.bgp.plugins.module_utils.config import limits
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.options import LIMITS_SPEC
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.dataset import build_dataset
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.ixf_export import read_ixf
from ansible_collections.peerwarden.bgp.plugins.module_utils.ixp.peeringdb import expand_embedded

F = FilterModule().filters()
EXPORT_FILE = "ixpmanager_ixf_1.0_auth.json"


def dataset_of(document, peeringdb=None, prefer="ixf"):
    export, warnings = read_ixf(document, "ixpm.json")
    dataset, merged, rejected = build_dataset([export], peeringdb, prefer, NOW)
    return dataset, warnings + merged, rejected


def with_peeringdb():
    return expand_embedded({"net": load("peeringdb_api_net_asn2128_depth2.json")["data"]})


def test_the_export_says_session_facts_per_address_and_family():
    dataset, warnings, rejected = dataset_of(load(EXPORT_FILE))
    addresses = dataset["addresses"]
    assert dataset["version"] == 2
    assert addresses["10.1.0.10"] == {
        "asn": 1213,
        "exchange": "ix:48",
        "lan": "Peering LAN 1",
        "sources": {"ixf": 1213},
        "max_prefix": 1000,
        "as_macro": "AS-HEANET",
    }
    assert (addresses["2001:db8:1::8"]["asn"], addresses["2001:db8:1::8"]["max_prefix"]) == (25441, 1000)
    assert addresses["2001:db8:1::8"]["as_macro"] == "AS-IBIS"
    assert "as_macro" not in addresses["10.1.0.6"]  # AS112's sessions name no AS-SET: nothing made up
    assert addresses["10.1.0.6"]["max_prefix"] == 20
    # the real quirks of this export are said, not hidden
    assert any("address(es) outside their LAN's prefix; kept" in w for w in warnings)
    assert any("ignored vendor extension keys (member: ixp_manager, top level: generator)" in w for w in warnings)
    assert rejected == []


def test_the_export_says_policy_as_set_and_max_prefix_per_network():
    networks = dataset_of(load(EXPORT_FILE))[0]["networks"]
    heanet = networks["1213"]
    assert heanet["ixf"] == {
        "peering_policy": "open",
        "peering_policy_url": None,
        "as_macro": "AS-HEANET",
        "max_prefix4": 1000,
        "max_prefix6": 1000,
    }
    assert (heanet["policy_general"], heanet["irr_as_set"], heanet["sources"]) == ("open", "AS-HEANET", ["ixf"])
    assert networks["25441"]["ixf"]["max_prefix4"] == 1000  # its IPv4 session is on LAN 2 only
    inex = networks["2128"]
    assert (inex["policy_general"], inex["policy_url"]) == ("mandatory", "http://www.siep.com/noc/")
    assert inex["contacts"] == [{"role": "IX-F", "name": "", "email": "peering@siep.net", "visible": None}]


def test_peeringdb_first_the_export_fills_its_gaps_and_adds_its_contact():
    dataset = dataset_of(load(EXPORT_FILE), with_peeringdb())[0]
    inex = dataset["networks"]["2128"]
    assert inex["sources"] == ["peeringdb", "ixf"]
    assert inex["policy_general"] == "Open"  # PeeringDB's value stands...
    assert inex["ixf"]["peering_policy"] == "mandatory"  # ...and the export's is kept beside it
    assert inex["policy_url"] == "http://www.siep.com/noc/"  # PeeringDB's is empty: the export fills it
    assert [(c["role"], c["email"]) for c in inex["contacts"]] == [
        ("NOC", "operations@inex.ie"),
        ("IX-F", "peering@siep.net"),
    ]
    # the documented order: Policy -> NOC -> Technical -> IX-F, unless the user orders otherwise
    assert F["peering_contacts"](2128, dataset) == ["operations@inex.ie"]
    assert F["peering_contacts"](2128, dataset, roles=["IX-F", "NOC"]) == ["peering@siep.net"]


def test_a_network_only_the_exchange_knows_is_reached_through_its_contact_email():
    dataset = dataset_of(load(EXPORT_FILE), with_peeringdb())[0]
    assert "42" not in {str(n["asn"]) for n in dataset["networks"].values() if "peeringdb" in n["sources"]}
    event = {"router": "r1", "address": "10.1.0.36", "kind": "unconfigured_neighbor", "count": 2}
    (group,) = F["resolve_peers"]([event], dataset)
    assert (group["asn"], group["name"], group["known"]) == (42, "PCH DNS", True)
    assert (group["contacts"], group["contact_role"]) == (["peering@example.com"], "IX-F")
    assert (group["policy_general"], group["irr_as_set"]) == ("open", "AS-PCH")
    (group,) = F["resolve_peers"]([event], dataset, roles=["Policy", "NOC"])  # the user left IX-F out
    assert (group["contacts"], group["contact_role"]) == ([], None)


def test_export_contacts_are_untrusted_like_peeringdb_ones():
    document = load(EXPORT_FILE)
    member = document["member_list"][0]
    member["contact_email"] = [
        "peering@pch.example\r\nBcc: victim@example.org",
        "not-an-email",
        "a@pch.example",
        "A@pch.example",
        " ",
    ]
    dataset, dummy, rejected = dataset_of(document)
    assert [c["email"] for c in dataset["networks"]["42"]["contacts"]] == ["a@pch.example"]
    reasons = sorted((r["asn"], r["role"], r["reason"]) for r in rejected)
    assert reasons == [
        (42, "IX-F", "control characters (CR/LF) in the name or email: a header injection attempt or broken data"),
        (42, "IX-F", "not a valid email address"),
    ]


def test_a_lone_contact_email_string_and_wrong_max_prefix_types():
    document = load(EXPORT_FILE)
    member = document["member_list"][0]
    member["contact_email"] = "noc@pch.example"
    member["connection_list"][0]["vlan_list"][0]["ipv4"]["max_prefix"] = "lots"
    dataset, warnings, dummy = dataset_of(document)
    assert [c["email"] for c in dataset["networks"]["42"]["contacts"]] == ["noc@pch.example"]
    assert "max_prefix" not in dataset["addresses"]["10.1.0.36"]
    assert any("contact_email: 'noc@pch.example' is not of type 'array'" in w for w in warnings)
    assert any("ipv4/max_prefix: 'lots' is not of type 'integer'" in w for w in warnings)
    for wrong in (0, -5, True):
        member["connection_list"][0]["vlan_list"][0]["ipv4"]["max_prefix"] = wrong
        assert "max_prefix" not in dataset_of(document)[0]["addresses"]["10.1.0.36"], wrong


def test_session_facts_follow_the_as_the_dataset_names():
    """Where PeeringDB wins a disagreement, the exchange's max_prefix (set for another AS) is not carried."""
    document = load(EXPORT_FILE)
    peeringdb = {"netixlan": [{"ixlan_id": 1, "ix_id": 48, "asn": 64999, "ipaddr4": "10.1.0.10", "status": "ok"}]}
    assert dataset_of(document, peeringdb, prefer="ixf")[0]["addresses"]["10.1.0.10"]["max_prefix"] == 1000
    entry = dataset_of(document, peeringdb, prefer="peeringdb")[0]["addresses"]["10.1.0.10"]
    assert entry["asn"] == 64999 and "max_prefix" not in entry and "as_macro" not in entry


# ------------------------------------------------------------------ prefix_limits, source order step 2


def resolve(neighbors, dataset):
    spec = dict((name, option.get("default")) for name, option in LIMITS_SPEC.items())
    spec.update(platform="frr", state="rendered", neighbors=neighbors, dataset=dataset)
    return spec, limits.resolve(spec)


def test_prefix_limits_take_the_exchanges_max_prefix_per_session_and_family():
    dataset = dataset_of(load(EXPORT_FILE), with_peeringdb())[0]
    spec, (dummy, sources) = resolve(
        [
            {"address": "10.1.0.10"},
            {"address": "2001:db8:1::8"},
            {"address": "::ffff:10.1.0.6"},  # as a dual-stack socket logs it
            {"address": "10.1.0.36", "max_prefixes": {"ipv4": 5000}},  # explicit still wins
        ],
        dataset,
    )
    got = [(s["address"], s["max_prefixes"], s["source"]) for s in sources]
    assert got == [
        ("10.1.0.10", {"ipv4": 1000, "ipv6": None}, {"ipv4": "ixf", "ipv6": None}),
        ("2001:db8:1::8", {"ipv4": None, "ipv6": 1000}, {"ipv4": None, "ipv6": "ixf"}),
        ("10.1.0.6", {"ipv4": 20, "ipv6": None}, {"ipv4": "ixf", "ipv6": None}),
        ("10.1.0.36", {"ipv4": 5000, "ipv6": None}, {"ipv4": "explicit", "ipv6": None}),
    ]
    rendered = run_config("limits", spec)["rendered"]
    assert " neighbor 10.1.0.10 maximum-prefix 1000 90\n" in rendered
    assert " neighbor 2001:db8:1::8 maximum-prefix 1000 90\n" in rendered


def test_without_the_exchanges_figure_peeringdb_then_the_floor_still_apply():
    document = load(EXPORT_FILE)
    del document["member_list"][2]["connection_list"][0]["vlan_list"][0]["ipv4"]["max_prefix"]
    dummy, (dummy_intent, sources) = resolve([{"address": "10.1.0.10"}], dataset_of(document)[0])
    assert (sources[0]["max_prefixes"]["ipv4"], sources[0]["source"]["ipv4"]) == (100, "floor")
    with pytest.raises(IntentError, match="10.1.0.99 is not in the dataset"):
        resolve([{"address": "10.1.0.99"}], dataset_of(copy.deepcopy(document))[0])


def test_two_exports_listing_one_member_add_up():
    """The same network at two exchanges: each export's contact kept once, the first export's facts first."""
    first = load(EXPORT_FILE)
    second = copy.deepcopy(first)
    for member in second["member_list"]:
        member["contact_email"] = ["noc@other-ix.example", "PEERING@example.com"]
        member["peering_policy"] = "selective"
    exports = [read_ixf(first, "a.json")[0], read_ixf(second, "b.json")[0]]
    network = build_dataset(exports, None, "ixf", NOW)[0]["networks"]["1213"]
    assert [c["email"] for c in network["contacts"]] == ["peering@example.com", "noc@other-ix.example"]
    assert network["ixf"]["peering_policy"] == "open" and network["sources"] == ["ixf"]
