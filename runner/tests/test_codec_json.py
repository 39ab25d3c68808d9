"""The JSON form (codec.json_form): fields, and from_json(to_json(m)) == m.raw with and without "raw"."""

import json

import pytest

import codec_fixtures as fx
from codec_contexts import ADD_PATH, FOUR, TWO, UPDATES
from peerwarden_runner.codec import Message, encode_open, from_json, to_json
from peerwarden_runner.codec.capabilities import Capability
from peerwarden_runner.codec.json_form import JsonFormError
from peerwarden_runner.codec.open_message import Open, OptionalParameter

OPENS = [fx.OPEN_4OCTET, fx.OPEN_2OCTET_SPLIT]
OTHERS = [fx.KEEPALIVE, fx.NOTIFICATION_SHUTDOWN, fx.ROUTE_REFRESH_IPV6, fx.ROUTE_REFRESH_BEGIN]
ALL = [(raw, FOUR) for raw in OPENS + OTHERS] + UPDATES  # the UPDATEs each in its own session


@pytest.mark.parametrize("raw, ctx", ALL)
def test_round_trip_through_text(raw, ctx):
    record = json.loads(json.dumps(to_json(raw, ctx)))
    assert "lossy" not in record
    assert from_json(record, ctx) == raw
    del record["raw"]
    assert from_json(record, ctx) == raw  # the fields alone are enough


def test_update_fields():
    record = to_json(Message(fx.UPDATE_IPV4_ALL, FOUR), direction="to_peer", peer="r1", time=1700000000.5)
    assert record["type"] == "update" and record["direction"] == "to_peer" and record["peer"] == "r1"
    assert record["time"] == 1700000000.5
    assert record["withdrawn"] == ["198.51.100.0/24"]
    assert record["nlri"] == ["203.0.113.0/24", "10.1.0.0/16", "192.0.2.128/32"]
    assert record["attributes"] == {
        "origin": "igp",
        "as_path": [["sequence", [64500, 64501, 4200000001]]],
        "next_hop": "192.0.2.1",
        "med": 10,
        "local_pref": 100,
        "atomic_aggregate": True,
        "aggregator": {"asn": 64500, "address": "192.0.2.1"},
        "communities": ["64500:1", "65535:65281"],
        "originator_id": "192.0.2.2",
        "cluster_list": ["192.0.2.3", "192.0.2.4"],
        "ext_communities": ["target:64500:1"],
        "large_communities": ["64500:1:2"],
        "unknown": [{"flags": 224, "type": 99, "value": "010203"}],
    }
    assert record["origin_as"] == 4200000001
    assert record["raw"] == fx.UPDATE_IPV4_ALL.hex()


def test_mp_fields_and_non_canonical_flags():
    record = to_json(fx.UPDATE_IPV6, FOUR)
    assert record["attributes"]["mp_reach"] == {
        "afi": 2,
        "safi": 1,
        "next_hop": ["2001:db8::1", "fe80::1"],
        "nlri": ["2001:db8:1::/48", "2001:db8:2::/64"],
    }
    assert record["attributes"]["mp_unreach"] == {"afi": 2, "safi": 1, "withdrawn": ["2001:db8::/32"]}
    assert record["attribute_flags"] == {"mp_reach": 0x90}  # Extended Length on a short value
    assert record["attribute_order"] == [14, 15, 1, 2]
    assert to_json(fx.END_OF_RIB_IPV6, FOUR)["end_of_rib"] == {"afi": 2, "safi": 1}


def test_add_path_prefixes():
    record = to_json(fx.UPDATE_ADD_PATH, ADD_PATH)
    assert record["nlri"] == [{"prefix": "203.0.113.0/24", "path_id": 1}, {"prefix": "203.0.113.0/24", "path_id": 2}]


def test_opaque_family():
    reach = to_json(fx.UPDATE_VPNV4, FOUR)["attributes"]["mp_reach"]
    assert reach == {
        "afi": 1,
        "safi": 128,
        "next_hop_raw": "0000000000000000c0000201",
        "nlri_raw": "700006410000fbf4000000010a0000",
    }


def test_open_fields():
    record = to_json(fx.OPEN_4OCTET)
    assert (record["my_as"], record["asn"], record["hold_time"], record["bgp_id"]) == (
        23456,
        4200000001,
        180,
        "192.0.2.1",
    )
    capabilities = record["capabilities"]
    assert capabilities[0] == {"code": 1, "name": "multiprotocol", "afi": 1, "safi": 1}
    assert capabilities[5] == {"code": 65, "name": "four_octet_as", "asn": 4200000001}
    assert capabilities[6] == {
        "code": 69,
        "name": "add_path",
        "families": [{"afi": 1, "safi": 1, "mode": "both"}, {"afi": 2, "safi": 1, "mode": "both"}],
    }
    assert capabilities[7]["value"] == "407800010180" and capabilities[7]["restart_time"] == 120
    assert capabilities[9]["hostname"] == "router" and "value" in capabilities[9]
    assert "parameter_layout" not in record
    assert to_json(fx.OPEN_2OCTET_SPLIT)["parameter_layout"] == [1, 1, 1]


def test_open_odd_layouts_round_trip():
    odd_multiprotocol = Capability(1, b"\x00\x01\x07\x01")
    parameters = (
        OptionalParameter(1, b"\x01\x02"),
        OptionalParameter.of_capabilities([odd_multiprotocol]),
        OptionalParameter.of_capabilities([]),
    )
    import ipaddress

    raw = Open(4, 64500, 90, ipaddress.IPv4Address("10.0.0.1"), parameters).encode()
    record = to_json(raw)
    assert record["parameter_layout"] == [{"type": 1, "value": "0102"}, 1, 0]
    assert record["capabilities"][0]["value"] == "00010701"  # reserved octet not 0: rebuilt from octets
    del record["raw"]
    assert from_json(record) == raw
    big = encode_open(64500, 90, "10.0.0.1", [Capability(200, bytes(250)), Capability(201, bytes(10))])
    record = to_json(big)
    assert record["extended_parameters"] is True
    del record["raw"]
    assert from_json(record) == big


def test_notification_fields():
    record = to_json(fx.NOTIFICATION_SHUTDOWN)
    assert record["shutdown_message"] == "maintenance ☃" and record["name"] == "Cease / Administrative Shutdown"
    assert (record["code"], record["subcode"]) == (6, 2)


def test_route_refresh_and_keepalive_fields():
    assert to_json(fx.KEEPALIVE) == {"type": "keepalive", "raw": fx.KEEPALIVE.hex()}
    record = to_json(fx.ROUTE_REFRESH_BEGIN)
    assert (record["afi"], record["safi"], record["subtype"]) == (1, 1, 1)


def test_malformed_update_is_lossy_and_rebuilt_from_raw():
    raw = fx.update("", "40 01 01 07 40 02 00 40 03 04 c0000201", "18 cb0071")
    record = to_json(raw, FOUR)
    assert record["lossy"] is True
    assert record["error"]["action"] == "treat-as-withdraw" and "ORIGIN" in record["error"]["reason"]
    assert record["error"]["subcode"] == 6
    assert record["attributes"]["malformed"] == [{"flags": 64, "type": 1, "value": "07"}]
    assert from_json(record, FOUR) == raw


def test_undecodable_message_is_lossy():
    raw = fx.OPEN_4OCTET[:28] + b"\x05" + fx.OPEN_4OCTET[29:]
    record = to_json(raw)
    assert record["lossy"] and record["error"]["code"] == 2
    assert from_json(record) == raw


def test_hand_written_update_without_raw():
    record = {
        "type": "update",
        "withdrawn": [],
        "nlri": ["192.0.2.0/24"],
        "attributes": {
            "next_hop": "192.0.2.1",
            "origin": "igp",
            "as_path": [["sequence", [64500]]],
            "communities": ["no-export", "64500:7"],
        },
    }
    update = Message(from_json(record, FOUR), FOUR).update
    assert update.error_action == 0 and update.communities == (0xFFFFFF01, 0xFBF40007)
    assert [a.code for a in update.attributes] == [1, 2, 3, 8]  # canonical order: by type code


def _fuzzer():
    """fuzz/fuzz_codec.py as a module: its generator of valid messages over its session contexts."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_codec.py"
    spec = importlib.util.spec_from_file_location("fuzz_codec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzzer_updates_round_trip_through_json_text():
    """encode(from_json(to_json(m))) == m over 2,000 UPDATEs the fuzzer generates, in each of its contexts."""
    import random

    fuzz = _fuzzer()
    rng = random.Random(11)
    checked = 0
    for index in range(2000):
        ctx = fuzz.CONTEXTS[index % len(fuzz.CONTEXTS)]
        raw = fuzz.valid_update(rng, ctx)
        record = json.loads(json.dumps(to_json(raw, ctx), separators=(",", ":")))
        if record.get("lossy"):  # a generated UPDATE RFC 7606 objects to (e.g. a next hop it refuses)
            assert from_json(record, ctx) == raw
            continue
        del record["raw"]
        assert from_json(record, ctx) == raw, record
        checked += 1
    assert checked > 1500  # most are clean: the fields, not "raw", rebuilt them


UPDATE_AS4_RECORD = {
    "type": "update",
    "nlri": ["192.0.2.0/24"],
    "attributes": {"origin": "igp", "as_path": [["sequence", [4200000001]]], "next_hop": "192.0.2.1"},
}


@pytest.mark.parametrize(
    "record, ctx, expected",
    [
        (UPDATE_AS4_RECORD, TWO, "AS 4200000001 does not fit the 2-octet AS numbers"),
        (
            dict(
                UPDATE_AS4_RECORD,
                attributes=dict(
                    UPDATE_AS4_RECORD["attributes"], as_path=[], aggregator={"asn": 70000, "address": "192.0.2.1"}
                ),
            ),
            TWO,
            "AS 70000 does not fit",
        ),
        (
            dict(UPDATE_AS4_RECORD, nlri=[{"prefix": "192.0.2.0/24", "path_id": 1}]),
            FOUR,
            "nlri: {'prefix': '192.0.2.0/24', 'path_id': 1} has a path_id, but ADD-PATH is off for AFI 1 SAFI 1",
        ),
        (UPDATE_AS4_RECORD, ADD_PATH, "nlri: 192.0.2.0/24 lacks a path_id, but ADD-PATH is on for AFI 1 SAFI 1"),
        (
            dict(
                UPDATE_AS4_RECORD,
                nlri=[],
                attributes={"mp_unreach": {"afi": 2, "safi": 1, "withdrawn": ["2001:db8::/32"]}},
            ),
            ADD_PATH,
            "mp_unreach.withdrawn: 2001:db8::/32 lacks a path_id, but ADD-PATH is on for AFI 2 SAFI 1",
        ),
    ],
)
def test_records_the_session_cannot_encode_as_written_are_refused(record, ctx, expected):
    with pytest.raises(JsonFormError, match=expected.replace("(", r"\(").replace("{", r"\{")):
        from_json(record, ctx)


def test_a_record_from_the_same_session_kind_is_accepted():
    assert Message(from_json(UPDATE_AS4_RECORD, FOUR), FOUR).update.as_path.to_list() == [["sequence", [4200000001]]]
