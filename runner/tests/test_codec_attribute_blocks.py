"""Attribute sections decoded once: UPDATEs that repeat one share its decoding (IPv4 and IPv6, whose
MP_REACH_NLRI differs every time), and nothing a cached decoding says differs from a fresh one."""

import codec_fixtures as fx
from codec_contexts import FOUR, TWO
from peerwarden_runner import codec
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attribute_blocks import AttributeBlocks, section_key


def attributes(path=(65001, 64500), med=10, communities=(0xFDE80001,)):
    return [
        codec.make_attribute(c.ORIGIN, 0),
        codec.make_attribute(c.AS_PATH, [["sequence", list(path)]]),
        codec.make_attribute(c.MULTI_EXIT_DISC, med),
        codec.make_attribute(c.COMMUNITIES, list(communities)),
    ]


def ipv4(prefix, **options):
    listed = attributes(**options)
    return codec.encode_update(
        attributes=listed[:2] + [codec.make_attribute(c.NEXT_HOP, "192.0.2.1")] + listed[2:],
        nlri=[codec.Prefix.parse(prefix)],
    )


def ipv6(prefix, next_hop="2001:db8::1", **options):
    reach = codec.mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, next_hop, [codec.Prefix.parse(prefix)])
    return codec.encode_update(attributes=attributes(**options) + [reach])


def test_an_ipv4_section_that_comes_again_is_decoded_once():
    blocks = AttributeBlocks()
    first = codec.decode_update(ipv4("203.0.113.0/24"), FOUR, blocks=blocks)
    second = codec.decode_update(ipv4("198.51.100.0/24"), FOUR, blocks=blocks)
    third = codec.decode_update(ipv4("192.0.2.0/24"), FOUR, blocks=blocks)
    assert first.section is None and len(blocks) == 1  # kept when it came again
    assert second.section is third.section
    assert third.attributes[1] is first.attributes[1]  # the AS_PATH decoded once
    assert third.routes()[0].attributes is second.routes()[0].attributes  # one mapping for the RIB
    assert [str(route.prefix) for route in third.routes()] == ["192.0.2.0/24"]
    assert third.origin_as() == second.origin_as() == 64500


def test_an_ipv6_section_is_kept_without_its_prefixes_and_next_hop():
    blocks = AttributeBlocks()
    codec.decode_update(ipv6("2001:db8:1::/48"), FOUR, blocks=blocks)
    second = codec.decode_update(ipv6("2001:db8:2::/48", next_hop="2001:db8::2"), FOUR, blocks=blocks)
    third = codec.decode_update(ipv6("2001:db8:3::/48", next_hop="2001:db8::3"), FOUR, blocks=blocks)
    assert second.section is third.section is not None
    assert [(str(r.prefix), str(r.next_hop)) for r in third.routes()] == [("2001:db8:3::/48", "2001:db8::3")]
    assert [(str(r.prefix), str(r.next_hop)) for r in second.routes()] == [("2001:db8:2::/48", "2001:db8::2")]
    assert c.MP_REACH_NLRI not in third.routes()[0].attributes


def test_other_attributes_are_another_section():
    blocks = AttributeBlocks()
    for med in (1, 1, 2, 2):
        update = codec.decode_update(ipv4("203.0.113.0/24", med=med), FOUR, blocks=blocks)
        assert update.med == med
    assert len(blocks) == 2


def test_a_malformed_section_is_never_kept():
    raw = fx.update("", "40 01 01 00 40 02 06 02 01 0000fbf4 40 03 04 c0000201 c0 08 03 000001", "18 cb0071")
    blocks = AttributeBlocks()
    for dummy in range(3):
        update = fx.decode_cached(raw, FOUR)
        assert update.error_action.name == "TREAT_AS_WITHDRAW"  # COMMUNITIES of 3 octets
        assert codec.decode_update(raw, FOUR, blocks=blocks).section is None
    assert len(blocks) == 0


BASE6 = "40 01 01 00 40 02 06 02 01 0000fbf4 "
NEXT_HOP6 = "20010db8000000000000000000000001"


def test_a_malformed_mp_reach_after_a_kept_section_gets_every_check():
    blocks = AttributeBlocks()
    for network in ("20010db8", "20010db9"):
        update = codec.decode_update(
            fx.update("", BASE6 + "80 0e 1a 0002 01 10 %s 00 20 %s" % (NEXT_HOP6, network)), FOUR, blocks=blocks
        )
    assert update.section is not None and str(update.routes()[0].prefix) == "2001:db9::/32"
    bad = fx.update("", BASE6 + "80 0e 19 0002 01 0f %s 00 20 20010dba" % NEXT_HOP6[:30])  # a 15-octet next hop
    cached = codec.decode_update(bad, FOUR, blocks=blocks)
    assert cached.section is None and cached.error_action.name == "SESSION_RESET"
    assert fx.decoded_facts(cached) == fx.decoded_facts(codec.decode_update(bad, FOUR))


def test_withdrawals_only_in_both_families():
    blocks = AttributeBlocks()
    for index in range(1, 4):
        prefix = "2001:db8:%x::/48" % index
        raw = codec.encode_update(
            attributes=[codec.mp_unreach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, [codec.Prefix.parse(prefix)])]
        )
        assert [str(p) for p in codec.decode_update(raw, FOUR, blocks=blocks).withdrawals()] == [prefix]
        raw = codec.encode_update(withdrawn=[codec.Prefix.parse("10.%d.0.0/16" % index)])
        assert [str(p) for p in codec.decode_update(raw, FOUR, blocks=blocks).withdrawals()] == ["10.%d.0.0/16" % index]


def test_the_same_octets_in_a_two_octet_session_decode_as_they_should():
    raw = fx.update("", "40 01 01 00 40 02 04 02 01 fde8 40 03 04 c0000201", "18 cb0071")
    update = fx.decode_cached(raw, TWO)
    assert update.origin_as() == 65000 and update.section is not None


def test_a_section_key_leaves_the_mp_attributes_out_and_refuses_broken_headers():
    raw = ipv6("2001:db8:1::/48")
    start, end = 23, len(raw)
    key, spans = section_key(raw, start, end)
    assert [index for index, dummy, dummy in spans] == [4]
    assert key == section_key(ipv6("2001:db8:ffff::/48", next_hop="2001:db8::9"), start, end)[0]
    assert section_key(raw, start, end - 1) == (None, None)  # the last attribute overruns
    twice = codec.encode_update(
        attributes=attributes()
        + [codec.mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::1", [codec.Prefix.parse("2001:db8::/48")])]
        * 2
    )
    assert section_key(twice, 23, len(twice)) == (None, None)


def test_looking_up_rests_while_every_section_is_new():
    blocks = AttributeBlocks()
    for index in range(AttributeBlocks.MISSES_TO_REST):
        codec.decode_update(ipv4("203.0.113.0/24", med=index), FOUR, blocks=blocks)
    assert blocks.rest == AttributeBlocks.REST
    for _index in range(AttributeBlocks.REST + 2):
        codec.decode_update(ipv4("203.0.113.0/24", med=7), FOUR, blocks=blocks)
    assert blocks.rest == 0 and len(blocks) == 1  # looking again after the rest, and found
