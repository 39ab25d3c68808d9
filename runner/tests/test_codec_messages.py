"""NOTIFICATION (RFC 4271 §4.5, RFC 8203/9003 shutdown communication), KEEPALIVE, ROUTE-REFRESH (RFC 2918, 7313)."""

import pytest

import codec_fixtures as fx
from peerwarden_runner.codec import (
    MessageError,
    decode_notification,
    decode_route_refresh,
    encode_keepalive,
    encode_notification,
    encode_route_refresh,
    shutdown_notification,
)
from peerwarden_runner.codec.keepalive import Keepalive
from peerwarden_runner.codec.notification import Notification, error_name


def test_shutdown_notification_fixture():
    assert shutdown_notification("maintenance ☃") == fx.NOTIFICATION_SHUTDOWN
    notification = decode_notification(fx.NOTIFICATION_SHUTDOWN)
    assert (notification.code, notification.subcode) == (6, 2)
    assert notification.shutdown_message == "maintenance ☃"
    assert notification.name == "Cease / Administrative Shutdown"
    assert notification.encode() == fx.NOTIFICATION_SHUTDOWN


def test_administrative_reset():
    notification = decode_notification(shutdown_notification("new config", reset=True))
    assert (notification.code, notification.subcode, notification.shutdown_message) == (6, 4, "new config")


def test_shutdown_text_is_cut_to_255_octets_at_a_character_boundary():
    raw = shutdown_notification("é" * 200)  # 400 octets of UTF-8
    notification = decode_notification(raw)
    assert notification.data[0] == 254 and notification.shutdown_message == "é" * 127
    assert len(decode_notification(shutdown_notification("x" * 300)).shutdown_message) == 255


def test_empty_shutdown_text_sends_no_data():
    assert decode_notification(shutdown_notification()).data == b""
    assert decode_notification(shutdown_notification()).shutdown_message is None


@pytest.mark.parametrize("data", [b"\x10abc", b"\x02\xff\xfe", b"\x00"])
def test_malformed_shutdown_text_is_ignored(data):
    assert Notification(6, 2, data).shutdown_message is None


def test_notification_round_trip_and_names():
    raw = encode_notification(3, 1, b"\x01\x02")
    assert raw == bytes.fromhex("ff" * 16 + "0017 03 03 01 0102".replace(" ", ""))
    assert decode_notification(raw) == Notification(3, 1, b"\x01\x02")
    assert error_name(1, 2) == "Message Header Error / Bad Message Length"
    assert error_name(42, 7) == "Error 42 / subcode 7"
    assert len(encode_notification(3, 1, bytes(5000))) == 4096


def test_decode_notification_rejects_other_octets():
    with pytest.raises(MessageError):
        decode_notification(fx.KEEPALIVE)


def test_keepalive():
    assert encode_keepalive() == fx.KEEPALIVE
    assert Keepalive().encode() == fx.KEEPALIVE


def test_route_refresh():
    assert encode_route_refresh(2, 1) == fx.ROUTE_REFRESH_IPV6
    refresh = decode_route_refresh(fx.ROUTE_REFRESH_IPV6)
    assert (refresh.afi, refresh.safi, refresh.subtype, refresh.subtype_name) == (2, 1, 0, "refresh")
    begin = decode_route_refresh(fx.ROUTE_REFRESH_BEGIN)
    assert begin.subtype_name == "begin" and begin.encode() == fx.ROUTE_REFRESH_BEGIN


def test_route_refresh_with_orf_entries_kept():
    raw = encode_route_refresh(1, 1, 0, b"\x01\x40\x00\x05abcde")
    refresh = decode_route_refresh(raw)
    assert refresh.orf == b"\x01\x40\x00\x05abcde" and refresh.encode() == raw


def test_enhanced_route_refresh_length_error():
    with pytest.raises(MessageError) as caught:
        decode_route_refresh(encode_route_refresh(1, 1, 2, b"\x00"))
    assert (caught.value.code, caught.value.subcode) == (7, 1)
    assert caught.value.data == encode_route_refresh(1, 1, 2, b"\x00")  # the whole message (RFC 7313 §5)
