"""Framing (RFC 4271 §4.1, §6.1; RFC 8654 §4) and the lazy Message."""

import asyncio

import pytest

import codec_fixtures as fx
from peerwarden_runner.codec import FramingError, Message, NegotiatedContext, decode_message, framing, read_message
from peerwarden_runner.codec.framing import HEADER_LEN, cut_messages, make_header, parse_header, split_messages

MARKER = b"\xff" * 16


def header(length, kind, marker=MARKER):
    return marker + length.to_bytes(2, "big") + bytes((kind,))


def test_constants():
    assert HEADER_LEN == 19
    assert (framing.OPEN, framing.UPDATE, framing.NOTIFICATION, framing.KEEPALIVE, framing.ROUTE_REFRESH) == (
        1,
        2,
        3,
        4,
        5,
    )


@pytest.mark.parametrize("kind, length", [(1, 29), (2, 23), (3, 21), (4, 19), (5, 23), (2, 4096), (1, 4096)])
def test_valid_headers(kind, length):
    assert parse_header(header(length, kind)) == (length, kind)


def test_bad_marker_is_1_1_without_data():
    with pytest.raises(FramingError) as caught:
        parse_header(header(19, 4, marker=b"\xff" * 15 + b"\xfe"))
    assert (caught.value.code, caught.value.subcode, caught.value.data) == (1, 1, b"")


@pytest.mark.parametrize(
    "kind, length",
    [
        (4, 18),
        (4, 20),  # KEEPALIVE is exactly 19
        (2, 22),
        (1, 28),
        (3, 20),
        (5, 22),  # too short for the type
        (2, 4097),
        (2, 0),
        (2, 65535),
    ],
)
def test_bad_length_is_1_2_with_the_length_field(kind, length):
    with pytest.raises(FramingError) as caught:
        parse_header(header(length, kind))
    assert (caught.value.code, caught.value.subcode) == (1, 2)
    assert caught.value.data == length.to_bytes(2, "big")


def test_extended_messages_allow_65535_except_open_and_keepalive():
    assert parse_header(header(65535, 2), extended=True) == (65535, 2)
    assert parse_header(header(5000, 3), extended=True) == (5000, 3)
    for kind, length in ((1, 4097), (4, 20)):
        with pytest.raises(FramingError):
            parse_header(header(length, kind), extended=True)


@pytest.mark.parametrize("kind", [0, 6, 255])
def test_bad_type_is_1_3_with_the_type(kind):
    with pytest.raises(FramingError) as caught:
        parse_header(header(30, kind))
    assert (caught.value.code, caught.value.subcode, caught.value.data) == (1, 3, bytes((kind,)))


def test_truncated_header():
    with pytest.raises(FramingError):
        parse_header(MARKER)


def test_make_header():
    assert make_header(19, 4) == fx.KEEPALIVE


def test_split_messages_leaves_a_partial_message():
    stream = fx.KEEPALIVE + fx.UPDATE_IPV4_ALL + fx.OPEN_4OCTET[:40]
    messages, consumed = split_messages(stream)
    assert messages == [fx.KEEPALIVE, fx.UPDATE_IPV4_ALL]
    assert consumed == len(fx.KEEPALIVE) + len(fx.UPDATE_IPV4_ALL)
    with pytest.raises(FramingError):
        split_messages(b"\x00" * 19)


def test_cut_messages_gives_the_messages_before_a_bad_header_and_its_error():
    stream = fx.KEEPALIVE + fx.UPDATE_IPV4_ALL + b"\x00" * 19 + fx.KEEPALIVE
    messages, consumed, error = cut_messages(stream)
    assert messages == [fx.KEEPALIVE, fx.UPDATE_IPV4_ALL]
    assert consumed == len(fx.KEEPALIVE) + len(fx.UPDATE_IPV4_ALL)
    assert isinstance(error, FramingError) and error.subcode == 1  # Connection Not Synchronized
    assert cut_messages(fx.KEEPALIVE + fx.OPEN_4OCTET[:40]) == ([fx.KEEPALIVE], len(fx.KEEPALIVE), None)


def test_message_is_lazy_and_forwards_raw():
    message = Message(fx.UPDATE_IPV4_ALL)
    assert message.type == 2 and message.raw == fx.UPDATE_IPV4_ALL
    assert message._decoded is None  # nothing decoded just by holding it
    assert message.open is None
    update = message.update
    assert update is message.update  # cached
    assert len(update.nlri) == 3
    assert message.raw is message.raw and message.raw == fx.UPDATE_IPV4_ALL


def test_message_views_per_type():
    assert Message(fx.OPEN_4OCTET).open.asn == 4200000001
    assert Message(fx.KEEPALIVE).keepalive is not None
    assert Message(fx.NOTIFICATION_SHUTDOWN).notification.code == 6
    assert Message(fx.ROUTE_REFRESH_IPV6).route_refresh.afi == 2


def test_message_parse_checks_the_header():
    with pytest.raises(FramingError):
        Message.parse(fx.UPDATE_IPV4_ALL[:-1])
    with pytest.raises(FramingError):
        decode_message(fx.KEEPALIVE + b"\x00")


def test_read_message_from_a_stream():
    async def scenario():
        reader = asyncio.StreamReader()
        reader.feed_data(fx.OPEN_4OCTET + fx.KEEPALIVE)
        reader.feed_eof()
        first = await read_message(reader)
        second = await read_message(reader, NegotiatedContext(extended_message=True))
        return first, second

    first, second = asyncio.run(scenario())
    assert first.raw == fx.OPEN_4OCTET and second.raw == fx.KEEPALIVE
