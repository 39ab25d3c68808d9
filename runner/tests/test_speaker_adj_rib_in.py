"""The speaker's Adj-RIB-In: routes in and out by key, IPv4 and IPv6, the routes of one UPDATE share one
record (a full table costs a dict entry per route), and the JSON the API shows."""

from peerwarden_runner.speaker.adj_rib_in import AdjRibIn
from test_speaker_api import received_update


def test_routes_in_and_out_and_shared_records():
    rib = AdjRibIn(clock=lambda: 1700000000.0)
    assert rib.apply(received_update(["10.1.0.0/16", "10.1.2.0/24", "192.0.2.0/24"])) == (3, 0)
    assert rib.apply(received_update(["2001:db8:1::/48"])) == (1, 0)
    ipv4_records = {id(record) for key, record in rib.routes.items() if len(key) < 8}
    assert len(rib) == 4 and len(ipv4_records) == 1
    records = rib.to_json()
    assert [r["prefix"] for r in records] == ["10.1.0.0/16", "10.1.2.0/24", "192.0.2.0/24", "2001:db8:1::/48"]
    assert records[0]["attributes"]["as_path"] == records[2]["attributes"]["as_path"]
    assert records[3]["next_hop"] == "2001:db8::1" and records[0]["next_hop"] == "192.0.2.1"
    assert records[0]["origin_as"] == 64500 and records[0]["received"] == 1700000000.0


def test_withdrawals_remove_by_prefix():
    from peerwarden_runner.codec import DEFAULT_CONTEXT, Prefix, decode_update, encode_update

    rib = AdjRibIn()
    rib.apply(received_update(["10.1.0.0/16", "10.2.0.0/16"]))
    withdraw = decode_update(
        encode_update(withdrawn=[Prefix.parse("10.1.0.0/16"), Prefix.parse("10.9.0.0/16")]), DEFAULT_CONTEXT
    )
    assert rib.apply(withdraw) == (0, 2)
    assert [r["prefix"] for r in rib.to_json()] == ["10.2.0.0/16"]
    rib.clear()
    assert len(rib) == 0 and rib.to_json() == []
