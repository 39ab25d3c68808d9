"""Framing (RFC 4271 §4.1, §6.1; RFC 8654 §4) and the lazy Message."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import codec_fixtures as fx
from peerwarden_runner.codec import FramingError, Message, NegotiatedContext, decode_message, framing, read_message
from peerwarden_runner.codec.framing import HEADER_LEN, cut_messages, make_header, parse_header, split_messages
from peerwarden_runner.codec.open_message import encode_open

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


def _cut_by_parse_header(data, extended, until_open):
    """What cut_messages must answer, with parse_header on every header (no inline check)."""
    messages, position = [], 0
    while len(data) - position >= HEADER_LEN:
        try:
            length, kind = parse_header(data[position : position + HEADER_LEN], extended)
        except FramingError as error:
            return messages, position, error
        if len(data) - position < length:
            break
        messages.append(data[position : position + length])
        position += length
        if until_open and kind == framing.OPEN:
            break
    return messages, position, None


_HEADERS = st.tuples(
    st.sampled_from([framing.MARKER, b"\xff" * 15 + b"\xfe"]),
    st.sampled_from([0, 18, 19, 20, 21, 22, 23, 29, 40, 4096, 4097, 6000, 65535]),
    st.sampled_from([0, framing.OPEN, framing.UPDATE, framing.NOTIFICATION, framing.KEEPALIVE, 5, 6, 200]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_HEADERS, max_size=6), st.booleans(), st.booleans(), st.integers(0, 30))
def test_cut_messages_checks_every_header_as_parse_header_does(headers, extended, until_open, cut):
    """The inline check of UPDATE and KEEPALIVE headers accepts and refuses exactly what parse_header
    does (marker, length bounds, Extended Message), and until_open stops after an OPEN."""
    stream = b"".join(
        marker + length.to_bytes(2, "big") + bytes([kind]) + b"\x01" * max(0, length - HEADER_LEN)
        for marker, length, kind in headers
    )
    stream = stream[: len(stream) - cut] if cut < len(stream) else stream
    for data in (stream, bytearray(stream), memoryview(stream)):
        messages, used, error = cut_messages(data, extended, until_open)
        expected, expected_used, expected_error = _cut_by_parse_header(stream, extended, until_open)
        assert messages == expected and used == expected_used
        assert (error is None) == (expected_error is None)
        if error is not None:
            assert (error.code, error.subcode, error.data) == (
                expected_error.code,
                expected_error.subcode,
                expected_error.data,
            )


def test_cut_messages_stops_after_an_open_so_the_rest_is_cut_with_what_it_negotiated():
    big = make_header(6000, framing.UPDATE) + b"\0" * (6000 - HEADER_LEN)
    keepalive = make_header(HEADER_LEN, framing.KEEPALIVE)
    open_message = encode_open(65001, 90, "192.0.2.1")
    stream = open_message + keepalive + big
    messages, used, error = cut_messages(stream, False, until_open=True)
    assert messages == [open_message] and used == len(open_message) and error is None
    messages, used, error = cut_messages(stream[used:], True, until_open=True)
    assert messages == [keepalive, big] and error is None
    messages, used, error = cut_messages(stream, False)  # without: the big UPDATE is refused
    assert messages == [open_message, keepalive] and error is not None and error.subcode == 2
