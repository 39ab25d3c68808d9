"""UPDATE decoding and encoding (RFC 4271 §4.3, RFC 4760, RFC 6793, RFC 7911, RFC 8950) on hand-built octets."""

import ipaddress
from ipaddress import IPv4Address, IPv6Address

import pytest

import codec_fixtures as fx
from codec_contexts import ADD_PATH, FOUR, TWO, UPDATES
from peerwarden_runner.codec import (
    AsPath,
    ErrorAction,
    Prefix,
    decode_update,
    encode_update,
    make_attribute,
    mp_reach_attribute,
    mp_unreach_attribute,
    unknown_attribute,
)
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.aspath import AsPathSegment, decode_as_path, encode_as_path, merge_as4_path


def p(text, path_id=None, safi=1):
    return Prefix.parse(text, safi, path_id)


def test_every_ipv4_attribute():
    update = decode_update(fx.UPDATE_IPV4_ALL, FOUR)
    assert update.error_action == ErrorAction.NONE and update.errors == ()
    assert update.withdrawn == (p("198.51.100.0/24"),)
    assert update.nlri == (p("203.0.113.0/24"), p("10.1.0.0/16"), p("192.0.2.128/32"))
    assert update.origin == c.ORIGIN_IGP
    assert update.as_path == AsPath((AsPathSegment(2, (64500, 64501, 4200000001)),))
    assert update.next_hop == IPv4Address("192.0.2.1")
    assert update.med == 10 and update.local_pref == 100 and update.atomic_aggregate
    assert update.aggregator == (64500, IPv4Address("192.0.2.1"))
    assert update.communities == (0xFBF40001, 0xFFFFFF01)
    assert update.originator_id == IPv4Address("192.0.2.2")
    assert update.cluster_list == (IPv4Address("192.0.2.3"), IPv4Address("192.0.2.4"))
    assert update.ext_communities == (bytes.fromhex("0002fbf400000001"),)
    assert update.large_communities == ((64500, 1, 2),)
    unknown = update.attribute(99)
    assert (unknown.flags, unknown.data, unknown.value, unknown.partial) == (0xE0, b"\x01\x02\x03", None, True)
    assert update.origin_as() == 4200000001


def test_round_trip_bit_exact():
    for raw, ctx in UPDATES:
        update = decode_update(raw, ctx)
        assert update.error_action == ErrorAction.NONE, update.errors
        assert update.encode() == raw


def test_routes_carry_the_effective_attributes():
    update = decode_update(fx.UPDATE_IPV4_ALL, FOUR)
    routes = update.routes()
    assert [route.prefix for route in routes] == list(update.nlri)
    assert all(route.next_hop == IPv4Address("192.0.2.1") for route in routes)
    assert routes[0].attributes[c.MULTI_EXIT_DISC].value == 10
    assert c.MP_REACH_NLRI not in routes[0].attributes
    assert update.withdrawals() == [p("198.51.100.0/24")]


def test_ipv6_mp_reach_and_unreach():
    update = decode_update(fx.UPDATE_IPV6, FOUR)
    reach = update.mp_reach
    assert reach.family == (2, 1)
    assert reach.next_hops == (IPv6Address("2001:db8::1"), IPv6Address("fe80::1"))
    assert reach.nlri == (p("2001:db8:1::/48"), p("2001:db8:2::/64"))
    assert update.attribute(c.MP_REACH_NLRI).flags & c.FLAG_EXTENDED_LENGTH
    routes = update.routes()
    assert [str(route.prefix) for route in routes] == ["2001:db8:1::/48", "2001:db8:2::/64"]
    assert routes[0].next_hop == IPv6Address("2001:db8::1")
    assert update.withdrawals() == [p("2001:db8::/32")]
    assert routes[0].prefix.network == ipaddress.ip_network("2001:db8:1::/48")


def test_add_path_ids():
    update = decode_update(fx.UPDATE_ADD_PATH, ADD_PATH)
    assert update.withdrawn == (p("198.51.100.0/24", 1),)
    assert update.nlri == (p("203.0.113.0/24", 1), p("203.0.113.0/24", 2))
    assert [route.prefix.path_id for route in update.routes()] == [1, 2]
    # without ADD-PATH negotiated the same octets do not parse: the path id is read as a prefix length
    assert decode_update(fx.UPDATE_ADD_PATH, FOUR).error_action == ErrorAction.SESSION_RESET


def test_add_path_mp():
    ctx = ADD_PATH
    attribute = mp_reach_attribute(2, 1, "2001:db8::1", [p("2001:db8:1::/48", 7)], ctx)
    raw = encode_update(
        attributes=[make_attribute("origin", 0), make_attribute("as_path", AsPath.sequence(64500)), attribute], ctx=ctx
    )
    assert attribute.data[4 + 16 + 1 : 4 + 16 + 5] == b"\x00\x00\x00\x07"  # path id before the length
    update = decode_update(raw, ctx)
    assert update.mp_reach.nlri == (p("2001:db8:1::/48", 7),)
    assert update.encode() == raw


def test_as4_merge_from_a_two_octet_speaker():
    update = decode_update(fx.UPDATE_AS4, TWO)
    assert update.error_action == ErrorAction.NONE
    assert update.as_path.segments[0].asns == (64500, 23456, 23456, 64501)
    assert update.aggregator.asn == c.AS_TRANS
    assert update.as4_aggregator.asn == 4200000002
    assert update.full_as_path() == AsPath.sequence(64500, 4200000001, 4200000002, 64501)
    assert update.origin_as() == 64501


def test_as4_path_ignored_when_longer_than_as_path():
    short = AsPath.sequence(64500)
    assert merge_as4_path(short, AsPath.sequence(1, 2)) == short


def test_as4_merge_keeps_leading_confederation_and_set():
    as_path = AsPath((AsPathSegment(3, (65001,)), AsPathSegment(2, (64500, 23456)), AsPathSegment(1, (23456, 7))))
    as4 = AsPath((AsPathSegment(2, (4200000001,)), AsPathSegment(1, (4200000002, 7))))
    merged = merge_as4_path(as_path, as4)
    assert merged == AsPath(
        (AsPathSegment(3, (65001,)), AsPathSegment(2, (64500, 4200000001)), AsPathSegment(1, (4200000002, 7)))
    )


def test_as4_path_between_four_octet_speakers_is_discarded():
    update = decode_update(fx.UPDATE_AS4, FOUR)
    # with a 4-octet session the 2-octet AS_PATH octets are a malformed path already
    assert update.error_action == ErrorAction.TREAT_AS_WITHDRAW


@pytest.mark.parametrize(
    "segments, expected",
    [
        ((), "local"),
        (((2, (64500, 64501)),), 64501),
        (((2, (64500,)), (1, (64501, 64502))), None),  # ends in an AS_SET: NONE (RFC 6811 §2)
        (((3, (65001,)),), "local"),  # confederation only: our own AS
        (((2, (64500,)), (2, (64510,))), 64510),
    ],
)
def test_origin_as(segments, expected):
    path = AsPath(tuple(AsPathSegment(kind, asns) for kind, asns in segments))
    assert path.origin_as(local_as="local") == expected


def test_origin_as_of_an_update_without_as_path():
    update = decode_update(fx.END_OF_RIB_IPV4, FOUR)
    assert update.origin_as() is None


def test_as_path_two_octet_encoding_uses_as_trans():
    path = AsPath.sequence(64500, 4200000001)
    assert encode_as_path(path, 2) == bytes.fromhex("0202fbf45ba0")
    assert decode_as_path(encode_as_path(path, 4), 4) == path
    long_path = AsPath.sequence(*range(1, 301))
    encoded = encode_as_path(long_path, 4)
    assert encoded[1] == 255 and decode_as_path(encoded, 4).asns() == list(range(1, 301))
    assert str(AsPath.from_list([["sequence", [1, 2]], ["set", [3, 4]], ["confed_sequence", [5]]])) == "1 2 {3 4} (5)"


def test_vpnv4_is_carried_opaque():
    update = decode_update(fx.UPDATE_VPNV4, FOUR)
    reach = update.mp_reach
    assert reach.family == (1, 128) and reach.nlri == () and len(reach.opaque_nlri) == 15
    assert reach.next_hops == () and len(reach.next_hop_data) == 12
    assert update.routes() == []


def test_ipv4_nlri_with_ipv6_next_hop():
    update = decode_update(fx.UPDATE_IPV4_V6_NEXT_HOP, FOUR)
    assert update.mp_reach.next_hops == (IPv6Address("2001:db8::1"),)
    assert update.routes()[0].prefix == p("203.0.113.0/24")


def test_end_of_rib():
    assert decode_update(fx.END_OF_RIB_IPV4, FOUR).end_of_rib() == (1, 1)
    assert decode_update(fx.END_OF_RIB_IPV6, FOUR).end_of_rib() == (2, 1)
    assert decode_update(fx.UPDATE_IPV6, FOUR).end_of_rib() is None


def test_host_bits_survive():
    raw = fx.update(attributes="40 01 01 00  40 02 00  40 03 04 c0000201", nlri="09 0aff")  # 10.255.0.0/9 on the wire
    update = decode_update(raw, FOUR)
    prefix = update.nlri[0]
    assert str(prefix) == "10.255.0.0/9" and str(prefix.network) == "10.128.0.0/9"
    assert update.encode() == raw
    assert Prefix.parse(str(prefix)) == prefix


def test_encode_update_builds_what_the_fixture_says():
    attributes = [
        make_attribute("origin", "igp"),
        make_attribute("as_path", AsPath.sequence(64500, 64501, 4200000001)),
        make_attribute("next_hop", "192.0.2.1"),
        make_attribute("med", 10),
        make_attribute("local_pref", 100),
        make_attribute("atomic_aggregate", True),
        make_attribute("aggregator", (64500, "192.0.2.1")),
        make_attribute("communities", (0xFBF40001, 0xFFFFFF01)),
        make_attribute("originator_id", "192.0.2.2"),
        make_attribute("cluster_list", ("192.0.2.3", "192.0.2.4")),
        make_attribute("ext_communities", (bytes.fromhex("0002fbf400000001"),)),
        make_attribute("large_communities", ((64500, 1, 2),)),
        unknown_attribute(0xE0, 99, b"\x01\x02\x03"),
    ]
    raw = encode_update(["198.51.100.0/24"], attributes, ["203.0.113.0/24", "10.1.0.0/16", "192.0.2.128/32"], FOUR)
    assert raw == fx.UPDATE_IPV4_ALL


def test_encode_ipv6_from_parts():
    reach = mp_reach_attribute(2, 1, ["2001:db8::1", "fe80::1"], ["2001:db8:1::/48", "2001:db8:2::/64"])
    assert reach.flags == c.FLAG_OPTIONAL
    reach.flags |= c.FLAG_EXTENDED_LENGTH  # the fixture's sender used Extended Length on 53 octets
    attributes = [
        reach,
        mp_unreach_attribute(2, 1, ["2001:db8::/32"]),
        make_attribute("origin", 2),
        make_attribute("as_path", AsPath.sequence(64500)),
    ]
    assert encode_update(attributes=attributes, ctx=FOUR) == fx.UPDATE_IPV6


def test_encode_update_refuses_other_families_in_the_fields():
    with pytest.raises(ValueError):
        encode_update(nlri=["2001:db8::/32"])


def test_long_attribute_gets_extended_length():
    attribute = make_attribute("communities", tuple(range(100)))
    assert attribute.flags & c.FLAG_EXTENDED_LENGTH and attribute.encode()[2:4] == (400).to_bytes(2, "big")
