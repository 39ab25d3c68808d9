"""Encoders: withdrawals split to the size limit (RFC 4271 §4.1, RFC 8654), End-of-RIB, size checks."""

import pytest

from codec_contexts import ADD_PATH, FOUR
from peerwarden_runner.codec import (
    ErrorAction,
    MessageTooLong,
    NegotiatedContext,
    Prefix,
    decode_update,
    encode_end_of_rib,
    encode_update,
    encode_withdraw,
    make_attribute,
    split_messages,
)


def ipv4_prefixes(count, length=24):
    return [Prefix.parse("%d.%d.%d.0/%d" % (10 + i // 65536, (i // 256) % 256, i % 256, length)) for i in range(count)]


def ipv6_prefixes(count):
    return [Prefix.parse("2001:db8:%x::/48" % i) for i in range(count)]


def withdrawn_by(messages, ctx=FOUR):
    prefixes = []
    for raw in messages:
        update = decode_update(raw, ctx)
        assert update.error_action == ErrorAction.NONE
        prefixes.extend(update.withdrawals())
    return prefixes


def test_small_withdrawal_is_one_message():
    messages = encode_withdraw(["198.51.100.0/24", "203.0.113.0/24"])
    assert messages == [bytes.fromhex("ff" * 16 + "001f 02 0008 18c63364 18cb0071 0000".replace(" ", ""))]


def test_big_ipv4_withdrawal_is_split_at_4096():
    prefixes = ipv4_prefixes(5000)  # 4 octets each: 20000 octets
    messages = encode_withdraw(prefixes)
    assert len(messages) == 5 and all(len(raw) <= 4096 for raw in messages)
    assert len(messages[0]) >= 4096 - 3  # filled, not just under the limit
    assert withdrawn_by(messages) == prefixes


def test_big_ipv6_withdrawal_goes_in_mp_unreach():
    prefixes = ipv6_prefixes(3000)  # 7 octets each
    messages = encode_withdraw(prefixes)
    assert all(len(raw) <= 4096 for raw in messages) and len(messages) == 6
    assert withdrawn_by(messages) == prefixes
    assert decode_update(messages[0], FOUR).mp_unreach.family == (2, 1)


def test_mixed_families_and_add_path():
    ctx = ADD_PATH
    prefixes = [p.with_path_id(i) for i, p in enumerate(ipv4_prefixes(1000) + ipv6_prefixes(1000))]
    messages = encode_withdraw(prefixes, ctx)
    assert all(len(raw) <= 4096 for raw in messages)
    assert withdrawn_by(messages, ctx) == prefixes


def test_extended_messages_need_fewer_updates():
    ctx = NegotiatedContext(extended_message=True)
    messages = encode_withdraw(ipv4_prefixes(20000), ctx)
    assert len(messages) == 2 and max(len(raw) for raw in messages) <= 65535
    framed, consumed = split_messages(b"".join(messages), extended=True)
    assert framed == messages


def test_withdraw_nothing():
    assert encode_withdraw([]) == []


def test_encode_update_refuses_oversized():
    attributes = [make_attribute("origin", 0), make_attribute("as_path", ()), make_attribute("next_hop", "192.0.2.1")]
    with pytest.raises(MessageTooLong):
        encode_update(attributes=attributes, nlri=ipv4_prefixes(1100))
    raw = encode_update(attributes=attributes, nlri=ipv4_prefixes(1100), ctx=NegotiatedContext(extended_message=True))
    assert len(raw) > 4096


def test_end_of_rib():
    assert decode_update(encode_end_of_rib(), FOUR).end_of_rib() == (1, 1)
    assert decode_update(encode_end_of_rib(2, 1), FOUR).end_of_rib() == (2, 1)
