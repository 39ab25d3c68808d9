"""RTR PDU codec: round trips, framing, and the Error Report code for each kind of malformed PDU."""

import struct

import pytest

from peerwarden_runner.rpki import make_vrp
from peerwarden_runner.rpki.rtr_pdu import (
    AspaPdu,
    CacheReset,
    CacheResponse,
    EndOfData,
    ErrorCode,
    ErrorReport,
    PrefixPdu,
    ResetQuery,
    RouterKey,
    RtrPduError,
    SerialNotify,
    SerialQuery,
    decode_pdu,
    encode_aspa,
    encode_cache_reset,
    encode_cache_response,
    encode_end_of_data,
    encode_error_report,
    encode_prefix,
    encode_reset_query,
    encode_serial_notify,
    encode_serial_query,
    split_pdus,
)


@pytest.mark.parametrize("version", [0, 1, 2])
def test_round_trips(version):
    ipv4 = make_vrp("192.0.2.0/24", 28, 65001)
    ipv6 = make_vrp("2001:db8::/32", 48, 4200000000)
    assert decode_pdu(encode_serial_notify(version, 7, 42)) == SerialNotify(version, 7, 42)
    assert decode_pdu(encode_serial_query(version, 7, 42)) == SerialQuery(version, 7, 42)
    assert decode_pdu(encode_reset_query(version)) == ResetQuery(version)
    assert decode_pdu(encode_cache_response(version, 7)) == CacheResponse(version, 7)
    assert decode_pdu(encode_prefix(version, ipv4)) == PrefixPdu(version, True, ipv4)
    assert decode_pdu(encode_prefix(version, ipv6, announce=False)) == PrefixPdu(version, False, ipv6)
    assert decode_pdu(encode_cache_reset(version)) == CacheReset(version)
    end = decode_pdu(encode_end_of_data(version, 7, 42, 10, 20, 30))
    assert end == (EndOfData(version, 7, 42) if version == 0 else EndOfData(version, 7, 42, 10, 20, 30))
    report = decode_pdu(encode_error_report(version, ErrorCode.CORRUPT_DATA, b"\x01\x04", "bad"))
    assert report == ErrorReport(version, 0, b"\x01\x04", "bad")
    assert report.describe() == "corrupt data: bad"


def test_aspa_round_trips_in_version_2_only():
    pdu = encode_aspa(2, 65001, [4200000000, 65002, 65002])
    assert pdu == bytes.fromhex("020b0100 00000014 0000fde9 0000fdea fa56ea00".replace(" ", ""))  # draft -27 form
    assert decode_pdu(pdu) == AspaPdu(2, True, 65001, (65002, 4200000000))
    assert decode_pdu(encode_aspa(2, 65001, [0])) == AspaPdu(2, True, 65001, (0,))
    withdrawal = encode_aspa(2, 65001, [65002], announce=False)
    assert len(withdrawal) == 12 and decode_pdu(withdrawal) == AspaPdu(2, False, 65001, ())
    with pytest.raises(RtrPduError) as caught:
        decode_pdu(encode_aspa(1, 65001, [65002]))
    assert caught.value.code == ErrorCode.UNSUPPORTED_PDU_TYPE


def test_router_key_is_decoded_in_version_1_only():
    body = bytes(20) + struct.pack("!I", 65001) + b"spki"
    pdu = struct.pack("!BBBBI", 1, 9, 1, 0, 8 + len(body)) + body
    assert decode_pdu(pdu) == RouterKey(1, True, bytes(20), 65001, b"spki")
    with pytest.raises(RtrPduError) as caught:
        decode_pdu(bytes([0]) + pdu[1:])
    assert caught.value.code == ErrorCode.UNSUPPORTED_PDU_TYPE


def test_split_pdus_keeps_partial_data():
    stream = bytearray(encode_reset_query(1) + encode_cache_response(1, 3) + encode_serial_query(1, 3, 9)[:5])
    assert [decode_pdu(pdu) for pdu in split_pdus(stream)] == [ResetQuery(1), CacheResponse(1, 3)]
    assert len(stream) == 5
    with pytest.raises(RtrPduError, match="length 3 is impossible"):
        split_pdus(bytearray(struct.pack("!BBHI", 1, 2, 0, 3)))


def malformed(pdu, offset, value):
    data = bytearray(pdu)
    data[offset] = value
    return bytes(data)


@pytest.mark.parametrize(
    "pdu, code, message",
    [
        (encode_reset_query(3), ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, "version 3"),
        (encode_aspa(2, 65001), ErrorCode.ASPA_PROVIDER_LIST_ERROR, "no provider"),
        (struct.pack("!BBHI", 1, 42, 0, 8), ErrorCode.UNSUPPORTED_PDU_TYPE, "type 42"),
        (struct.pack("!BBHI", 1, 3, 0, 12) + bytes(4), ErrorCode.CORRUPT_DATA, "CACHE_RESPONSE PDU of length 12"),
        (malformed(encode_prefix(1, make_vrp("192.0.2.0/24", 24, 1)), 9, 33), ErrorCode.CORRUPT_DATA, "length 33"),
        (malformed(encode_prefix(1, make_vrp("192.0.2.0/24", 24, 1)), 10, 23), ErrorCode.CORRUPT_DATA, "max length 23"),
        (malformed(encode_prefix(1, make_vrp("192.0.2.0/24", 24, 1)), 15, 1), ErrorCode.CORRUPT_DATA, "beyond /24"),
        (
            encode_end_of_data(0, 1, 1)[:1] + b"\x07" + encode_end_of_data(1, 1, 1)[2:],
            ErrorCode.CORRUPT_DATA,
            "24, not 12",
        ),
        (encode_error_report(1, 0, b"abc", "x")[:-1] + b"xy", ErrorCode.CORRUPT_DATA, "PDU length field"),
        (struct.pack("!BBHIII", 1, 10, 0, 16, 100, 0), ErrorCode.CORRUPT_DATA, "encapsulated PDU overruns"),
        (struct.pack("!BBHIII", 1, 10, 0, 16, 0, 1), ErrorCode.CORRUPT_DATA, "lengths do not add up"),
    ],
)
def test_malformed_pdus_carry_their_error_code(pdu, code, message):
    with pytest.raises(RtrPduError, match=message) as caught:
        decode_pdu(pdu)
    assert caught.value.code == code and caught.value.pdu == pdu
