"""OPEN (RFC 4271 §4.2), capabilities (RFC 5492 and friends), RFC 9072 parameters, negotiation."""

import ipaddress

import pytest

import codec_fixtures as fx
from peerwarden_runner.codec import (
    Capability,
    MessageError,
    NegotiatedContext,
    decode_open,
    encode_open,
    negotiate,
    validate_open,
)
from peerwarden_runner.codec.open_message import Open, OptionalParameter


def test_real_world_open_fields():
    message = decode_open(fx.OPEN_4OCTET)
    assert message.version == 4
    assert message.my_as == 23456 and message.asn == 4200000001
    assert message.hold_time == 180
    assert message.bgp_id == ipaddress.IPv4Address("192.0.2.1")
    assert [cap.code for cap in message.capabilities] == [1, 1, 128, 2, 70, 65, 69, 64, 6, 73]
    assert message.families == {(1, 1), (2, 1)}
    assert message.four_octet_as and message.extended_message
    assert message.route_refresh and message.enhanced_route_refresh
    assert message.add_path_modes == {(1, 1): 3, (2, 1): 3}
    restart = message.graceful_restart
    assert restart.value == bytes.fromhex("40780001 0180".replace(" ", ""))
    assert restart.graceful_restart_info == {"restart_flags": 4, "restart_time": 120, "families": [(1, 1, 0x80)]}
    assert message.capability(73).fqdn_info == ("router", "net")


def test_open_round_trips_bit_exact():
    for raw in (fx.OPEN_4OCTET, fx.OPEN_2OCTET_SPLIT):
        assert decode_open(raw).encode() == raw


def test_split_parameter_layout_is_kept():
    message = decode_open(fx.OPEN_2OCTET_SPLIT)
    assert len(message.parameters) == 3
    assert message.asn == 64500 and not message.four_octet_as
    assert message.families == {(1, 1)}
    assert message.route_refresh


def test_no_multiprotocol_means_ipv4_unicast():
    raw = encode_open(64500, 90, "10.0.0.1", [Capability.route_refresh()], add_four_octet_as=False)
    message = decode_open(raw)
    assert message.families == {(1, 1)}
    assert not message.four_octet_as and message.asn == 64500


def test_encode_open_uses_as_trans_and_adds_the_capability():
    raw = encode_open(4200000001, 90, "192.0.2.1", [Capability.multiprotocol(1, 1)])
    message = decode_open(raw)
    assert message.my_as == 23456 and message.asn == 4200000001
    # the hand-built layout: one capabilities parameter
    assert raw[28] == len(raw) - 29 and raw[29] == 2


def test_rfc9072_extended_optional_parameters():
    many = [Capability(200, bytes(range(100))), Capability(201, bytes(range(100))), Capability(202, bytes(80))]
    raw = encode_open(64500, 90, "192.0.2.1", many)
    assert raw[28] == 255 and raw[29] == 255  # Non-Ext OP Len and Non-Ext OP Type (RFC 9072 §2)
    message = decode_open(raw)
    assert message.extended_parameters
    assert [cap.code for cap in message.capabilities] == [200, 201, 202, 65]
    assert message.encode() == raw


def test_rfc9072_hand_built():
    body = bytes.fromhex("04 fbf4 005a 0a000001 ff ff 0009 02 0006 41 04 0000fbf4".replace(" ", ""))
    raw = b"\xff" * 16 + (19 + len(body)).to_bytes(2, "big") + b"\x01" + body
    message = decode_open(raw)
    assert message.extended_parameters and message.asn == 64500
    assert message.encode() == raw


def test_unknown_capability_and_parameter_kept_raw():
    parameters = (OptionalParameter(1, b"\x01\x02"), OptionalParameter.of_capabilities([Capability(99, b"xyz")]))
    raw = Open(4, 64500, 90, ipaddress.IPv4Address("10.0.0.1"), parameters).encode()
    message = decode_open(raw)
    assert message.parameters[0] == OptionalParameter(1, b"\x01\x02")
    assert message.capabilities == [Capability(99, b"xyz")]
    assert message.encode() == raw
    with pytest.raises(MessageError) as caught:
        validate_open(message)
    assert (caught.value.code, caught.value.subcode) == (2, 4)


@pytest.mark.parametrize(
    "mutate, subcode",
    [
        (lambda raw: raw[:28] + b"\x05" + raw[29:], 0),  # optional parameters length lies
        (lambda raw: raw[:30] + b"\x7f" + raw[31:], 0),  # parameter length overruns
        (lambda raw: raw[:32] + b"\x40" + raw[33:], 0),  # capability length overruns the parameter
    ],
)
def test_malformed_open_raises_message_error(mutate, subcode):
    with pytest.raises(MessageError) as caught:
        decode_open(mutate(fx.OPEN_4OCTET))
    assert caught.value.code == 2 and caught.value.subcode == subcode


def test_truncated_open_raises_message_error():
    with pytest.raises(MessageError):
        decode_open(fx.OPEN_4OCTET[:28])


@pytest.mark.parametrize(
    "field, value, subcode",
    [
        ("version", 3, 1),
        ("hold_time", 2, 6),
        ("bgp_id", ipaddress.IPv4Address(0), 3),
    ],
)
def test_validate_open(field, value, subcode):
    import dataclasses

    message = dataclasses.replace(decode_open(fx.OPEN_4OCTET), **{field: value})
    with pytest.raises(MessageError) as caught:
        validate_open(message)
    assert (caught.value.code, caught.value.subcode) == (2, subcode)
    validate_open(decode_open(fx.OPEN_4OCTET), expected_asn=4200000001)
    with pytest.raises(MessageError) as caught:
        validate_open(decode_open(fx.OPEN_4OCTET), expected_asn=64500)
    assert caught.value.subcode == 2


def test_malformed_capability_values_are_kept_but_not_used():
    message = decode_open(
        encode_open(
            64500, 90, "10.0.0.1", [Capability(1, b"\x00\x01\x00"), Capability(65, b"\x01")], add_four_octet_as=False
        )
    )
    assert message.families == {(1, 1)}  # the 3-octet multiprotocol is not a family
    assert not message.four_octet_as and message.asn == 64500
    assert not message.capabilities[0].well_formed


def test_negotiate_one_direction():
    router = decode_open(fx.OPEN_4OCTET)
    peer = decode_open(
        encode_open(
            64500,
            90,
            "192.0.2.2",
            [
                Capability.multiprotocol(1, 1),
                Capability.add_path({(1, 1): "send", (2, 1): "receive"}),
            ],
        )
    )
    # what the peer receives from the router
    to_peer = negotiate(peer, router)
    assert to_peer.four_octet_as
    assert to_peer.add_path_receive == {(2, 1)}  # peer receives IPv6 paths, router sends them
    assert to_peer.add_path_send == {(1, 1)}  # the other way round for IPv4
    assert to_peer.families == {(1, 1)}
    # RFC 8654 §3: the router announced extended messages, the peer did not: neither way may carry them
    assert not to_peer.extended_message and not to_peer.extended_message_send
    assert to_peer.max_message_length == 4096
    to_router = negotiate(router, peer)
    assert to_router == to_peer.reversed()
    assert to_router.max_message_length == 4096


def test_negotiate_with_an_old_speaker():
    ctx = negotiate(decode_open(fx.OPEN_4OCTET), decode_open(fx.OPEN_2OCTET_SPLIT))
    # the old speaker announces no extended messages: 4,096 octets both ways (RFC 8654 §3)
    assert ctx == NegotiatedContext(four_octet_as=False, extended_message=False, families=frozenset({(1, 1)}))


def test_negotiate_extended_messages_when_both_announce_them():
    router = decode_open(fx.OPEN_4OCTET)
    peer = decode_open(encode_open(64500, 90, "192.0.2.2", [Capability.extended_message()]))
    assert router.extended_message and peer.extended_message
    for ctx in (negotiate(router, peer), negotiate(peer, router)):
        assert ctx.extended_message and ctx.extended_message_send and ctx.max_message_length == 65535
