"""Drive the fake PeeringDB with urllib, as the collection's client will, and check that it answers
like the real API (pages, filters, depth, keys, errors), that each scripted fault reaches the
client as the real failure would, and that the sample world holds the flaws tests rely on."""

from __future__ import annotations

import http.client
import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lab.peeringdb_server import (
    EXAMPLE_IX_EXPORT_PATH,
    FakePeeringDB,
    Fault,
    sample_ixf_export,
    sample_objects,
)

pytestmark = pytest.mark.lab

IXF_SCHEMA = Path(__file__).parents[1] / "unit" / "fixtures" / "ixp" / "ixp-member-list-1.0.schema.json"
DOCUMENTATION_NETWORKS = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
DOCUMENTATION_ASNS = set(range(64496, 64512)) | set(range(65536, 65552))


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, Any, bytes]:
    """(status, headers, body) of a GET; HTTP errors are answers here, not exceptions."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def get_data(url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The ``data`` list of a successful API answer."""
    status, dummy, body = get(url, headers)
    assert status == 200, body
    return json.loads(body)["data"]


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [record["id"] for record in records]


# --- Lists, pages, filters -------------------------------------------------------------------


def test_a_list_answers_data_and_meta_as_json(peeringdb_server):
    server = peeringdb_server()
    status, headers, body = get(f"{server.url}/api/ix")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["meta"] == {}
    assert [(ix["id"], ix["name"]) for ix in answer["data"]] == [(1, "Example-IX"), (2, "Sample-IX")]
    assert server.url.startswith("http://127.0.0.1:")


def test_a_client_asking_for_pages_of_the_cap_gets_three_pages(peeringdb_server):
    server = peeringdb_server(max_limit=2)
    records: list[dict[str, Any]] = []
    while True:
        page = get_data(f"{server.url}/api/net?limit=2&skip={len(records)}")
        records += page
        if len(page) < 2:
            break
    assert ids(records) == [1, 2, 3, 4, 5]
    assert [(r.query["limit"], r.query["skip"]) for r in server.requests] == [("2", "0"), ("2", "2"), ("2", "4")]


def test_pages_are_capped_below_what_was_asked_so_only_an_empty_page_ends_the_list(peeringdb_server):
    server = peeringdb_server(max_limit=2)
    page_sizes = []
    while True:
        page = get_data(f"{server.url}/api/net?limit=250&skip={sum(page_sizes)}&depth=0")
        page_sizes.append(len(page))
        if not page:
            break
    assert page_sizes == [2, 2, 1, 0]
    assert len(get_data(f"{server.url}/api/net")) == 2  # no limit: still one capped page
    assert len(get_data(f"{peeringdb_server(max_limit=None).url}/api/net")) == 5


@pytest.mark.parametrize(
    ("query", "expected_ids"),
    [
        ("net?asn=64499", [4]),
        ("net?name=Alpha%20Networks", [1]),
        ("net?asn__in=65536,64496,64510", [1, 5]),
        ("ix?name__in=Sample-IX,Example-IX", [1, 2]),
        ("net?name__contains=CLOUD", [3]),
        ("net?irr_as_set__startswith=ripe::", [2]),
        ("netixlan?ixlan_id=1", [1, 3, 5, 7]),
        ("netixlan?ixlan_id=2&asn=64499", [6]),
        ("netixlan?is_rs_peer=false", [6]),
        ("netixlan?ix_id__in=2", [2, 4, 6]),
        ("ixpfx?ixlan_id=1&protocol=IPv6", [2]),
        ("poc?net_id__in=1,2&role=NOC", [2, 4]),
        ("net?asn=64500", []),
    ],
)
def test_filters_select_records_like_the_api(peeringdb_server, query, expected_ids):
    server = peeringdb_server()
    assert ids(get_data(f"{server.url}/api/{query}")) == expected_ids


@pytest.mark.parametrize(
    "query",
    ["net?colour=red", "net?asn__regex=64", "net?asn=AS64496", "netixlan?operational=maybe", "net?limit=-1"],
)
def test_an_invalid_query_is_a_400_with_the_error_in_meta(peeringdb_server, query):
    server = peeringdb_server()
    status, headers, body = get(f"{server.url}/api/{query}")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["meta"]["error"]


def test_fields_keeps_only_the_named_keys(peeringdb_server):
    server = peeringdb_server()
    assert get_data(f"{server.url}/api/net?asn=64497&fields=id,asn,irr_as_set") == [
        {"id": 2, "asn": 64497, "irr_as_set": "RIPE::AS-BRAVO"}
    ]


# --- depth, single objects, 404 --------------------------------------------------------------


def test_depth_2_embeds_the_sets_of_a_net_without_their_parent_key(peeringdb_server):
    server = peeringdb_server()
    (alpha,) = get_data(f"{server.url}/api/net?asn=64496&depth=2")
    assert ids(alpha["netixlan_set"]) == [1, 2]
    assert alpha["netixlan_set"][0]["ipaddr4"] == "192.0.2.11"
    assert ids(alpha["poc_set"]) == [1, 2]  # the Users contact 3 stays hidden from anonymous users
    assert alpha["netfac_set"] == []
    assert all("net_id" not in entry for entry in alpha["netixlan_set"] + alpha["poc_set"])


def test_depth_0_embeds_nothing_and_depth_1_gives_ids(peeringdb_server):
    server = peeringdb_server()
    assert all("netixlan_set" not in net for net in get_data(f"{server.url}/api/net"))
    (delta,) = get_data(f"{server.url}/api/net?asn=64499&depth=1")
    assert delta["netixlan_set"] == [5, 6]
    assert delta["poc_set"] == [5]


def test_a_single_object_defaults_to_depth_2(peeringdb_server):
    server = peeringdb_server()
    (example_ix,) = get_data(f"{server.url}/api/ix/1")
    (ixlan,) = example_ix["ixlan_set"]
    assert ixlan["id"] == 1 and "ix_id" not in ixlan
    assert "ixlan_set" not in get_data(f"{server.url}/api/ix/1?depth=0")[0]
    assert ids(get_data(f"{server.url}/api/ix?depth=2")[1]["ixlan_set"]) == [2]


@pytest.mark.parametrize("path", ["/api/net/99", "/api/net/alpha", "/api/unicorn", "/api/unicorn/1", "/api/net/1/x"])
def test_unknown_objects_and_types_are_404_with_the_error_in_meta(peeringdb_server, path):
    server = peeringdb_server()
    status, dummy, body = get(server.url + path)
    assert status == 404
    assert json.loads(body)["meta"]["error"]
    if path == "/api/net/99":
        assert json.loads(body) == {"meta": {"error": "Entity not found"}}


def test_a_known_type_without_records_is_an_empty_list(peeringdb_server):
    server = peeringdb_server()
    assert get_data(f"{server.url}/api/carrier") == []
    assert get_data(f"{server.url}/api/netfac?net_id=1") == []


# --- Static files and the IX-F export --------------------------------------------------------


def test_the_ixlan_points_at_the_ixf_export_the_server_serves(peeringdb_server):
    server = peeringdb_server()
    (ixlan,) = get_data(f"{server.url}/api/ixlan?ix_id=1")
    assert ixlan["ixf_ixp_member_list_url"] == server.url + EXAMPLE_IX_EXPORT_PATH
    status, headers, body = get(ixlan["ixf_ixp_member_list_url"])
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == sample_ixf_export()
    status, dummy, body = get(f"{server.url}/ixf/missing.json")
    assert (status, body) == (404, b"Not Found\n")


def test_files_are_served_byte_for_byte(peeringdb_server):
    server = peeringdb_server(objects={}, files={"/exports/ix.json": b'{"version": "0.6"}\r\n'})
    assert get(f"{server.url}/exports/ix.json")[2] == b'{"version": "0.6"}\r\n'
    assert get(f"{server.url}/api/net")[2] == b'{"data": [], "meta": {}}'


# --- API keys --------------------------------------------------------------------------------


def test_contacts_that_are_not_public_need_the_api_key(peeringdb_server):
    server = peeringdb_server(api_key="s3cret")
    key = {"Authorization": "Api-Key s3cret"}
    assert ids(get_data(f"{server.url}/api/poc")) == [1, 2, 4, 5, 7]
    assert ids(get_data(f"{server.url}/api/poc", key)) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert get(f"{server.url}/api/poc/3")[0] == 404
    assert get_data(f"{server.url}/api/poc/3", key)[0]["visible"] == "Users"
    assert ids(get_data(f"{server.url}/api/net/5", key)[0]["poc_set"]) == [7, 8]
    assert [r.headers.get("Authorization") for r in server.requests] == [
        None,
        "Api-Key s3cret",
        None,
        "Api-Key s3cret",
        "Api-Key s3cret",
    ]


@pytest.mark.parametrize(
    ("server_key", "header"),
    [("s3cret", "Api-Key wrong"), ("s3cret", "Basic Zm9vOmJhcg=="), (None, "Api-Key s3cret")],
)
def test_a_key_the_server_does_not_know_is_a_401(peeringdb_server, server_key, header):
    server = peeringdb_server(api_key=server_key)
    status, dummy, body = get(f"{server.url}/api/net", {"Authorization": header})
    assert status == 401
    assert json.loads(body)["meta"]["error"]


# --- Faults ----------------------------------------------------------------------------------


def test_a_429_carries_retry_after_and_normal_answers_resume(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/net", {"status": 429, "headers": {"Retry-After": "1"}})
    status, headers, body = get(f"{server.url}/api/net")
    assert (status, headers["Retry-After"]) == (429, "1")
    assert json.loads(body)["meta"]["error"] == "Too Many Requests"
    assert get(f"{server.url}/api/net")[0] == 200


def test_server_errors_are_answered_in_the_order_queued(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/", Fault(status=500), Fault(status=503))
    assert [get(f"{server.url}/api/ix")[0] for dummy in range(3)] == [500, 503, 200]


def test_a_fault_only_hits_paths_with_its_prefix(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/poc", {"status": 500})
    assert get(f"{server.url}/api/net")[0] == 200
    assert get(f"{server.url}/api/poc?net_id=1")[0] == 500
    assert get(f"{server.url}/api/poc?net_id=1")[0] == 200


def test_a_broken_body_comes_with_status_200(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/netixlan", {"body": b"{not json"})
    status, dummy, body = get(f"{server.url}/api/netixlan?ixlan_id=1")
    assert (status, body) == (200, b"{not json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_a_delay_makes_a_client_time_out_without_holding_up_other_requests(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/net", {"delay": 2.0})
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(f"{server.url}/api/net", timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert get(f"{server.url}/api/net", timeout=1.0)[0] == 200


def test_a_dropped_connection_reaches_the_client_as_a_disconnect(peeringdb_server):
    server = peeringdb_server()
    server.fail_next(EXAMPLE_IX_EXPORT_PATH, {"drop": True})
    with pytest.raises(http.client.RemoteDisconnected):
        get(server.url + EXAMPLE_IX_EXPORT_PATH)
    assert get(server.url + EXAMPLE_IX_EXPORT_PATH)[0] == 200


def test_stop_cuts_a_delayed_answer_short():
    server = FakePeeringDB()
    server.start()
    server.fail_next("/api/", {"delay": 60})
    outcome: list[BaseException] = []

    def slow_client() -> None:
        try:
            get(f"{server.url}/api/ix", timeout=30)
        except (OSError, http.client.HTTPException) as error:
            outcome.append(error)

    client = threading.Thread(target=slow_client)
    client.start()
    while not server.requests:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    client.join(timeout=5)
    assert time.monotonic() - started < 2
    assert not client.is_alive() and outcome


def test_the_context_manager_listens_on_loopback_only_while_open():
    with FakePeeringDB(objects={}) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert get(f"{server.url}/api/net")[0] == 200
    with pytest.raises(urllib.error.URLError):
        get(f"{server.url}/api/net", timeout=1)


# --- Request recording -----------------------------------------------------------------------


def test_requests_are_recorded_with_query_and_headers(peeringdb_server):
    server = peeringdb_server()
    server.fail_next("/api/net", {"status": 500})
    get(f"{server.url}/api/net?asn=64496&depth=2", {"X-Trace": "1", "user-agent": "peerwarden"})
    get(f"{server.url}/ixf/example-ix.json")
    first, second = server.requests
    assert (first.method, first.path) == ("GET", "/api/net?asn=64496&depth=2")
    assert first.query == {"asn": "64496", "depth": "2"}
    assert first.headers["X-Trace"] == "1" and first.headers["User-Agent"] == "peerwarden"
    assert second.path == EXAMPLE_IX_EXPORT_PATH and second.query == {}


def test_the_fake_is_read_only_and_records_writes_too(peeringdb_server):
    server = peeringdb_server()
    request = urllib.request.Request(f"{server.url}/api/net", data=b'{"asn": 64500}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)  # pylint: disable=consider-using-with
    with raised.value as error:
        assert (error.code, error.headers["Allow"]) == (405, "GET")
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/api/net")]


@pytest.mark.parametrize("fields", [{}, {"headers": {"Retry-After": "1"}}])
def test_a_fault_that_would_change_nothing_is_refused(fields):
    with pytest.raises(ValueError):
        Fault(**fields)


# --- The sample world ------------------------------------------------------------------------


def _is_documentation(address: str) -> bool:
    return any(ipaddress.ip_address(address) in network for network in DOCUMENTATION_NETWORKS)


def test_the_sample_world_is_consistent_and_uses_documentation_numbers_only():
    world = sample_objects()
    for object_type, records in world.items():
        assert len(set(ids(records))) == len(records), object_type
    by_id = {object_type: {r["id"]: r for r in records} for object_type, records in world.items()}
    assert {net["asn"] for net in world["net"]} <= DOCUMENTATION_ASNS
    prefixes = {(p["ixlan_id"], ipaddress.ip_network(p["prefix"])) for p in world["ixpfx"]}
    assert all(_is_documentation(str(network.network_address)) for dummy, network in prefixes)
    for netixlan in world["netixlan"]:
        assert netixlan["asn"] == by_id["net"][netixlan["net_id"]]["asn"]
        assert by_id["ixlan"][netixlan["ixlan_id"]]["ix_id"] == netixlan["ix_id"]
        for address in filter(None, (netixlan["ipaddr4"], netixlan["ipaddr6"])):
            assert any(ipaddress.ip_address(address) in net for lan, net in prefixes if lan == netixlan["ixlan_id"])
    for poc in world["poc"]:
        assert poc["net_id"] in by_id["net"]


def test_the_sample_world_holds_the_cases_clients_must_handle():
    world = sample_objects()
    assert [n["asn"] for n in world["netixlan"] if n["ipaddr4"] is None] == [64497]
    roles = {net["asn"]: {p["role"] for p in world["poc"] if p["net_id"] == net["id"]} for net in world["net"]}
    assert roles[64497] == {"NOC"} and roles[64498] == set()
    emails = {p["email"] for p in world["poc"]}
    assert "peering@example.net\r\nBcc: victim@example.org" in emails and "not-an-email" in emails
    assert {p["visible"] for p in world["poc"]} == {"Public", "Users", "Private"}
    assert {p["role"] for p in world["poc"]} == {"Policy", "NOC", "Technical"}


def test_the_ixf_export_differs_from_peeringdb_exactly_where_documented():
    world, export = sample_objects(), sample_ixf_export()
    peeringdb = {
        address: n["asn"]
        for n in world["netixlan"]
        if n["ixlan_id"] == 1
        for address in (n["ipaddr4"], n["ipaddr6"])
        if address
    }
    ixf = {}
    for member in export["member_list"]:
        for connection in member["connection_list"]:
            assert connection["ixp_id"] == export["ixp_list"][0]["ixp_id"]
            for vlan in connection["vlan_list"]:
                for family in ("ipv4", "ipv6"):
                    if family in vlan:
                        ixf[vlan[family]["address"]] = member["asnum"]
    assert all(_is_documentation(address) for address in ixf)
    disagreements = {a: (peeringdb[a], ixf[a]) for a in peeringdb.keys() & ixf.keys() if peeringdb[a] != ixf[a]}
    assert disagreements == {"192.0.2.15": (65536, 64499)}
    assert {m["asnum"] for m in export["member_list"]} - {n["asn"] for n in world["net"]} == {65537}
    assert [m["asnum"] for m in export["member_list"] if not m["connection_list"]] == [64498]


def test_the_ixf_export_follows_the_1_0_schema():
    jsonschema = pytest.importorskip("jsonschema")
    if not IXF_SCHEMA.exists():
        pytest.skip(f"{IXF_SCHEMA} is not in this checkout")
    schema = json.loads(IXF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(
        sample_ixf_export()
    )
