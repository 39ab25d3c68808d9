"""RPKI-to-Router PDUs: encoding, framing and strict decoding (RFC 6810 v0, RFC 8210 v1, and
version 2 as draft-ietf-sidrops-8210bis-27 has it: the ASPA PDU, type 11).

Every PDU starts with the same 8-byte header (RFC 8210 §5.1):

    version (1) | PDU type (1) | session id, error code or zero (2) | length of the whole PDU (4)

Decoding checks each PDU's exact length and field ranges and raises RtrPduError carrying the
RFC 8210 §12 error code the router must send back in its Error Report; a router that accepted
garbage would validate routes against it. Both directions are encoded here, so that tests (and
any future cache) speak the same codec.

The ASPA PDU changed layout between drafts: up to about -13 it carried an AFI flag and a provider
count (StayRTR 0.5 still sends that form, "draft-ietf-sidrops-8210bis-10"); from -14 on, and in
-27 (August 2026), it is

    version 2 | type 11 | flags (bit 0: announce) | zero | length | customer AS | provider AS ...

with the providers in increasing order, each once; an announcement lists at least one (AS 0 only
alone), a withdrawal none (length 12). Only that current form is read: an old-form PDU fails its
checks and is answered with an Error Report.
"""

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from peerwarden_runner.rpki.vrp import Vrp

SUPPORTED_VERSIONS = (0, 1, 2)
ASPA_VERSION = 2  # the first version with the ASPA PDU
HEADER = struct.Struct("!BBHI")
HEADER_LENGTH = HEADER.size
MAX_PDU_LENGTH = 64 * 1024  # far above any valid PDU; protects against absurd lengths

Octets = bytes | bytearray  # a PDU: bytes, or a bytearray slice of what was read


class PduType(IntEnum):
    """RFC 8210 §5 PDU types, and ASPA (11) of version 2 (8210bis §5.12)."""

    SERIAL_NOTIFY = 0
    SERIAL_QUERY = 1
    RESET_QUERY = 2
    CACHE_RESPONSE = 3
    IPV4_PREFIX = 4
    IPV6_PREFIX = 6
    END_OF_DATA = 7
    CACHE_RESET = 8
    ROUTER_KEY = 9
    ERROR_REPORT = 10
    ASPA = 11


class ErrorCode(IntEnum):
    """RFC 8210 §12 Error Report codes, and those 8210bis-27 §12 adds (9-13: sent in version 2 only)."""

    CORRUPT_DATA = 0
    INTERNAL_ERROR = 1
    NO_DATA_AVAILABLE = 2
    INVALID_REQUEST = 3
    UNSUPPORTED_PROTOCOL_VERSION = 4
    UNSUPPORTED_PDU_TYPE = 5
    WITHDRAWAL_OF_UNKNOWN_RECORD = 6
    DUPLICATE_ANNOUNCEMENT_RECEIVED = 7
    UNEXPECTED_PROTOCOL_VERSION = 8
    ASPA_PROVIDER_LIST_ERROR = 9
    TRANSPORT_ERROR = 10
    ORDERING_ERROR = 11
    CACHE_RESTART = 12
    CACHE_SHUTDOWN = 13


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name.replace("_", " ").lower()
    except ValueError:
        return "error code %d" % code


class RtrPduError(Exception):
    """A PDU that must be answered with an Error Report of `code` (and the session dropped)."""

    def __init__(self, code: ErrorCode, message: str, pdu: Octets = b""):
        super().__init__(message)
        self.code = code
        self.pdu = pdu

    @property
    def pdu_type(self) -> int | None:
        return self.pdu[1] if len(self.pdu) >= 2 else None


@dataclass(frozen=True)
class SerialPdu:
    """The fields Serial Notify (RFC 8210 §5.2), Serial Query (§5.3) and End of Data (§5.8) share."""

    version: int
    session_id: int
    serial: int


@dataclass(frozen=True)
class SerialNotify(SerialPdu):
    """The cache has data newer than `serial`."""


@dataclass(frozen=True)
class SerialQuery(SerialPdu):
    """The router asks for what changed since `serial`."""


@dataclass(frozen=True)
class ResetQuery:
    version: int


@dataclass(frozen=True)
class CacheResponse:
    version: int
    session_id: int


@dataclass(frozen=True)
class PrefixPdu:
    """IPv4 or IPv6 Prefix PDU (RFC 8210 §5.6, §5.7): announce (flag bit 0 set) or withdraw."""

    version: int
    announce: bool
    vrp: Vrp


@dataclass(frozen=True)
class EndOfData(SerialPdu):
    """RFC 8210 §5.8; the three intervals exist from version 1 on (None in version 0)."""

    refresh: int | None = None
    retry: int | None = None
    expire: int | None = None


@dataclass(frozen=True)
class CacheReset:
    version: int


@dataclass(frozen=True)
class RouterKey:
    """RFC 8210 §5.10 (BGPsec); parsed so that it can be skipped, not used."""

    version: int
    announce: bool
    subject_key_identifier: bytes
    asn: int
    subject_public_key_info: bytes


@dataclass(frozen=True)
class AspaPdu:
    """8210bis-27 §5.12: a customer AS's whole provider set (announce, replacing what that cache
    sent for the customer before) or its withdrawal (`providers` empty)."""

    version: int
    announce: bool
    customer: int
    providers: tuple[int, ...]


@dataclass(frozen=True)
class ErrorReport:
    version: int
    code: int
    erroneous_pdu: bytes
    text: str

    def describe(self) -> str:
        return "%s%s" % (error_name(self.code), (": " + self.text) if self.text else "")


Pdu = (
    SerialNotify
    | SerialQuery
    | ResetQuery
    | CacheResponse
    | PrefixPdu
    | EndOfData
    | CacheReset
    | RouterKey
    | AspaPdu
    | ErrorReport
)

# -- encoding -----------------------------------------------------------------------------------------


def _header(version: int, pdu_type: PduType, field: int, length: int) -> bytes:
    return HEADER.pack(version, pdu_type, field, length)


def encode_serial_notify(version: int, session_id: int, serial: int) -> bytes:
    return _header(version, PduType.SERIAL_NOTIFY, session_id, 12) + struct.pack("!I", serial)


def encode_serial_query(version: int, session_id: int, serial: int) -> bytes:
    return _header(version, PduType.SERIAL_QUERY, session_id, 12) + struct.pack("!I", serial)


def encode_reset_query(version: int) -> bytes:
    return _header(version, PduType.RESET_QUERY, 0, 8)


def encode_cache_response(version: int, session_id: int) -> bytes:
    return _header(version, PduType.CACHE_RESPONSE, session_id, 8)


def encode_prefix(version: int, vrp: Vrp, announce: bool = True) -> bytes:
    flags = 1 if announce else 0
    if vrp.version == 4:
        return _header(version, PduType.IPV4_PREFIX, 0, 20) + struct.pack(
            "!BBBBII", flags, vrp.length, vrp.max_length, 0, vrp.network, vrp.asn
        )
    return (
        _header(version, PduType.IPV6_PREFIX, 0, 32)
        + struct.pack("!BBBB", flags, vrp.length, vrp.max_length, 0)
        + vrp.network.to_bytes(16, "big")
        + struct.pack("!I", vrp.asn)
    )


def encode_end_of_data(
    version: int, session_id: int, serial: int, refresh: int = 3600, retry: int = 600, expire: int = 7200
) -> bytes:
    if version == 0:
        return _header(version, PduType.END_OF_DATA, session_id, 12) + struct.pack("!I", serial)
    return _header(version, PduType.END_OF_DATA, session_id, 24) + struct.pack("!IIII", serial, refresh, retry, expire)


def encode_aspa(version: int, customer: int, providers: Iterable[int] = (), announce: bool = True) -> bytes:
    """An ASPA PDU (8210bis-27 §5.12): providers sorted and once each; a withdrawal lists none."""
    listed = sorted(set(providers)) if announce else []
    return (
        HEADER.pack(version, PduType.ASPA, (1 if announce else 0) << 8, 12 + 4 * len(listed))
        + struct.pack("!I", customer)
        + b"".join(struct.pack("!I", provider) for provider in listed)
    )


def encode_cache_reset(version: int) -> bytes:
    return _header(version, PduType.CACHE_RESET, 0, 8)


def encode_error_report(version: int, code: int, erroneous_pdu: Octets = b"", text: str = "") -> bytes:
    """RFC 8210 §5.11: the offending PDU (truncated to what fits) and a UTF-8 diagnostic."""
    encapsulated = bytes(erroneous_pdu[: MAX_PDU_LENGTH // 2])
    message = text.encode("utf-8")[: MAX_PDU_LENGTH // 4]
    length = HEADER_LENGTH + 4 + len(encapsulated) + 4 + len(message)
    return (
        _header(version, PduType.ERROR_REPORT, code, length)
        + struct.pack("!I", len(encapsulated))
        + encapsulated
        + struct.pack("!I", len(message))
        + message
    )


# -- framing -------------------------------------------------------------------------------------------


_LENGTH_FIELD = struct.Struct("!I")


def split_pdus(buffer: bytearray) -> list[bytearray]:
    """Remove and return the complete PDUs at the start of `buffer` (which keeps the rest).

    Raises RtrPduError (Corrupt Data) for a length that cannot be right, since the stream can no
    longer be framed after it; complete PDUs before it are then lost, which is fine because the
    session is dropped anyway.
    """
    pdus = []
    offset = 0
    available = len(buffer)
    while available - offset >= HEADER_LENGTH:
        length = _LENGTH_FIELD.unpack_from(buffer, offset + 4)[0]
        if length < HEADER_LENGTH or length > MAX_PDU_LENGTH:
            raise RtrPduError(
                ErrorCode.CORRUPT_DATA,
                "PDU length %d is impossible" % length,
                bytes(buffer[offset : offset + HEADER_LENGTH]),
            )
        end = offset + length
        if end > available:
            break
        pdus.append(buffer[offset:end])
        offset = end
    del buffer[:offset]
    return pdus


# -- decoding ------------------------------------------------------------------------------------------

_EXACT_LENGTHS = {
    PduType.SERIAL_NOTIFY: 12,
    PduType.SERIAL_QUERY: 12,
    PduType.RESET_QUERY: 8,
    PduType.CACHE_RESPONSE: 8,
    PduType.IPV4_PREFIX: 20,
    PduType.IPV6_PREFIX: 32,
    PduType.CACHE_RESET: 8,
}
_IPV4_PDU = struct.Struct("!BBHIBBBBII")
_IPV6_PDU = struct.Struct("!BBHIBBBBQQI")
_END_OF_DATA_V1 = struct.Struct("!IIII")
_ROUTER_KEY_MINIMUM = HEADER_LENGTH + 20 + 4
_ERROR_REPORT_MINIMUM = HEADER_LENGTH + 4 + 4


def decode_pdu(pdu: Octets) -> Pdu:
    """One complete PDU (header included) -> its dataclass; RtrPduError when malformed."""
    if len(pdu) < HEADER_LENGTH:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "PDU shorter than its header", pdu)
    version, pdu_type, field, length = HEADER.unpack_from(pdu)
    if length != len(pdu):
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "PDU length field %d but %d bytes" % (length, len(pdu)), pdu)
    if version not in SUPPORTED_VERSIONS:
        raise RtrPduError(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, "protocol version %d is not supported" % version, pdu)
    expected = _EXACT_LENGTHS.get(pdu_type)
    if expected is not None and length != expected:
        raise RtrPduError(
            ErrorCode.CORRUPT_DATA, "%s PDU of length %d, not %d" % (PduType(pdu_type).name, length, expected), pdu
        )
    if pdu_type == PduType.IPV4_PREFIX or pdu_type == PduType.IPV6_PREFIX:
        return _decode_prefix(pdu, version, pdu_type)
    if pdu_type == PduType.SERIAL_NOTIFY:
        return SerialNotify(version, field, int.from_bytes(pdu[8:12], "big"))
    if pdu_type == PduType.END_OF_DATA:
        return _decode_end_of_data(pdu, version, field, length)
    if pdu_type == PduType.CACHE_RESPONSE:
        return CacheResponse(version, field)
    if pdu_type == PduType.CACHE_RESET:
        return CacheReset(version)
    if pdu_type == PduType.ERROR_REPORT:
        return _decode_error_report(pdu, version, field, length)
    if pdu_type == PduType.SERIAL_QUERY:
        return SerialQuery(version, field, int.from_bytes(pdu[8:12], "big"))
    if pdu_type == PduType.RESET_QUERY:
        return ResetQuery(version)
    if pdu_type == PduType.ROUTER_KEY and version >= 1:
        return _decode_router_key(pdu, version, field, length)
    if pdu_type == PduType.ASPA and version >= ASPA_VERSION:
        return decode_aspa(pdu)
    raise RtrPduError(
        ErrorCode.UNSUPPORTED_PDU_TYPE, "PDU type %d is not known in version %d" % (pdu_type, version), pdu
    )


def _decode_prefix(pdu: Octets, version: int, pdu_type: int) -> PrefixPdu:
    announce, vrp = decode_prefix(pdu)
    return PrefixPdu(version, announce, vrp)


def decode_prefix(pdu: Octets) -> tuple[bool, Vrp]:
    """(announce, VRP) of an IPv4 or IPv6 Prefix PDU (RFC 8210 §5.6, §5.7), checked.

    The hot path of a full sync (800,000 of these): one struct call, no intermediate objects.
    The header's version is the caller's to check.
    """
    if pdu[1] == PduType.IPV4_PREFIX:
        if len(pdu) != 20:
            raise RtrPduError(ErrorCode.CORRUPT_DATA, "IPV4_PREFIX PDU of length %d, not 20" % len(pdu), pdu)
        dummy_version, dummy_type, dummy_zero, length_field, flags, length, max_length, dummy_pad, network, asn = (
            _IPV4_PDU.unpack(pdu)
        )
        ip_version, max_bits = 4, 32
    else:
        if len(pdu) != 32:
            raise RtrPduError(ErrorCode.CORRUPT_DATA, "IPV6_PREFIX PDU of length %d, not 32" % len(pdu), pdu)
        (dummy_version, dummy_type, dummy_zero, length_field, flags, length, max_length, dummy_pad, high, low, asn) = (
            _IPV6_PDU.unpack(pdu)
        )
        network = high << 64 | low
        ip_version, max_bits = 6, 128
    if length_field != len(pdu):
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "PDU length field %d but %d bytes" % (length_field, len(pdu)), pdu)
    if not length <= max_length <= max_bits:
        if length > max_bits:
            raise RtrPduError(ErrorCode.CORRUPT_DATA, "IPv%d prefix length %d" % (ip_version, length), pdu)
        raise RtrPduError(
            ErrorCode.CORRUPT_DATA,
            "IPv%d max length %d outside %d..%d" % (ip_version, max_length, length, max_bits),
            pdu,
        )
    if network & ((1 << (max_bits - length)) - 1):
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "IPv%d prefix has bits set beyond /%d" % (ip_version, length), pdu)
    return bool(flags & 1), Vrp(ip_version, network, length, max_length, asn)


def _decode_end_of_data(pdu: Octets, version: int, session_id: int, length: int) -> EndOfData:
    expected = 12 if version == 0 else 24
    if length != expected:
        raise RtrPduError(
            ErrorCode.CORRUPT_DATA, "version %d End of Data of length %d, not %d" % (version, length, expected), pdu
        )
    if version == 0:
        return EndOfData(version, session_id, int.from_bytes(pdu[8:12], "big"))
    serial, refresh, retry, expire = _END_OF_DATA_V1.unpack_from(pdu, HEADER_LENGTH)
    return EndOfData(version, session_id, serial, refresh, retry, expire)


def _decode_router_key(pdu: Octets, version: int, field: int, length: int) -> RouterKey:
    if length < _ROUTER_KEY_MINIMUM:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "Router Key PDU of length %d" % length, pdu)
    flags = field >> 8
    return RouterKey(version, bool(flags & 1), bytes(pdu[8:28]), int.from_bytes(pdu[28:32], "big"), bytes(pdu[32:]))


def _aspa_error(message: str, pdu: Octets) -> RtrPduError:
    return RtrPduError(ErrorCode.ASPA_PROVIDER_LIST_ERROR, message, pdu)


def decode_aspa(pdu: Octets) -> AspaPdu:
    """An ASPA PDU (8210bis-27 §5.12), checked: Corrupt Data for a length that is not 12 plus whole
    AS numbers, ASPA Provider List Error (9) for a list the draft forbids (an announcement without
    providers, AS 0 among others, providers out of order or repeated, the customer among them, a
    withdrawal with providers). The header's version is the caller's to check."""
    length = len(pdu)
    if length < 12 or length % 4:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "ASPA PDU of length %d, not 12 + 4 per provider" % length, pdu)
    length_field = _LENGTH_FIELD.unpack_from(pdu, 4)[0]
    if length_field != length:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "PDU length field %d but %d bytes" % (length_field, length), pdu)
    announce = bool(pdu[2] & 1)
    customer = _LENGTH_FIELD.unpack_from(pdu, 8)[0]
    providers = struct.unpack_from("!%dI" % ((length - 12) // 4), pdu, 12)
    if not announce:
        if providers:
            raise _aspa_error("ASPA withdrawal of AS%d lists %d provider(s)" % (customer, len(providers)), pdu)
        return AspaPdu(pdu[0], False, customer, ())
    if not providers:
        raise _aspa_error("ASPA announcement of AS%d lists no provider" % customer, pdu)
    if len(providers) > 1 and 0 in providers:
        raise _aspa_error("ASPA of AS%d lists AS 0 among other providers" % customer, pdu)
    if any(first >= second for first, second in zip(providers, providers[1:])):
        raise _aspa_error("ASPA of AS%d: providers not in increasing order, each once" % customer, pdu)
    if customer in providers:
        raise _aspa_error("ASPA of AS%d lists itself as its own provider" % customer, pdu)
    return AspaPdu(pdu[0], True, customer, providers)


def _decode_error_report(pdu: Octets, version: int, code: int, length: int) -> ErrorReport:
    if length < _ERROR_REPORT_MINIMUM:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "Error Report of length %d" % length, pdu)
    encapsulated_length = int.from_bytes(pdu[8:12], "big")
    text_offset = 12 + encapsulated_length
    if text_offset + 4 > length:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "Error Report encapsulated PDU overruns it", pdu)
    text_length = int.from_bytes(pdu[text_offset : text_offset + 4], "big")
    if text_offset + 4 + text_length != length:
        raise RtrPduError(ErrorCode.CORRUPT_DATA, "Error Report lengths do not add up", pdu)
    text = pdu[text_offset + 4 :].decode("utf-8", errors="replace")
    return ErrorReport(version, code, bytes(pdu[12:text_offset]), text)
