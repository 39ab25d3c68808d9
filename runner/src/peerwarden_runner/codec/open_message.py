"""OPEN messages (RFC 4271 §4.2) with optional parameters (RFC 5492, RFC 9072 extended lengths).

The decoded Open keeps the optional parameters exactly as they were laid out (one parameter per
capability or all in one, normal or RFC 9072 extended lengths), so `Open.encode()` gives back the
received octets, and a proxy can rewrite one capability without disturbing the rest.
"""

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.capabilities import Capability, decode_capabilities, encode_capabilities
from peerwarden_runner.codec.context import negotiate
from peerwarden_runner.codec.errors import MessageError
from peerwarden_runner.codec.framing import make_header, message_octets

__all__ = [
    "Open",
    "OptionalParameter",
    "decode_open",
    "encode_open",
    "validate_open",
    "negotiate",
    "capability_parameters",
]

_FIXED = struct.Struct(">BHH4sB")  # version, My AS, Hold Time, BGP Identifier, Opt Parm Len
_EXTENDED_PARAMETERS = struct.Struct(">BH")  # RFC 9072 §2: Non-Ext OP Type (255), Extended Opt. Parm. Length
_FIXED_END = c.HEADER_LEN + _FIXED.size  # 29


@dataclass(frozen=True)
class OptionalParameter:
    """One optional parameter; for type 2 (Capabilities, RFC 5492 §4) its capabilities are parsed."""

    type: int
    value: bytes
    capabilities: tuple[Capability, ...] = ()

    @classmethod
    def of_capabilities(cls, capabilities: Iterable[Capability]) -> "OptionalParameter":
        listed = tuple(capabilities)
        return cls(c.PARAM_CAPABILITIES, encode_capabilities(listed), listed)


@dataclass(frozen=True)
class Open:
    """A decoded OPEN.  `my_as` is the 2-octet field (AS_TRANS for a 4-octet AS); `asn` the real AS."""

    version: int
    my_as: int
    hold_time: int
    bgp_id: ipaddress.IPv4Address
    parameters: tuple[OptionalParameter, ...] = ()
    extended_parameters: bool = False  # RFC 9072 encoding used
    raw: bytes = field(default=b"", compare=False, repr=False)

    @property
    def capabilities(self) -> list[Capability]:
        """All capabilities, in order, across parameters."""
        return [capability for parameter in self.parameters for capability in parameter.capabilities]

    def capability(self, code: int) -> Capability | None:
        """The first capability with this code, or None."""
        for capability in self.capabilities:
            if capability.code == code:
                return capability
        return None

    @property
    def four_octet_as(self) -> bool:
        capability = self.capability(c.CAP_FOUR_OCTET_AS)
        return capability is not None and capability.asn is not None

    @property
    def asn(self) -> int:
        """The speaker's AS: from the 4-octet AS capability when present (RFC 6793 §4.1), else My AS."""
        capability = self.capability(c.CAP_FOUR_OCTET_AS)
        if capability is not None and capability.asn is not None:
            return capability.asn
        return self.my_as

    @property
    def families(self) -> frozenset[c.Family]:
        """Families announced with Multiprotocol; IPv4 unicast when there is none (RFC 4760 §8)."""
        announced = {capability.family for capability in self.capabilities if capability.family is not None}
        return frozenset(announced) if announced else frozenset({c.IPV4_UNICAST})

    @property
    def add_path_modes(self) -> dict[c.Family, int]:
        """{(afi, safi): mode} over all ADD-PATH capabilities (RFC 7911 §4)."""
        modes: dict[c.Family, int] = {}
        for capability in self.capabilities:
            modes.update(capability.add_path_modes or {})
        return modes

    @property
    def extended_message(self) -> bool:
        return self.capability(c.CAP_EXTENDED_MESSAGE) is not None

    @property
    def route_refresh(self) -> bool:
        return (
            self.capability(c.CAP_ROUTE_REFRESH) is not None or self.capability(c.CAP_ROUTE_REFRESH_CISCO) is not None
        )

    @property
    def enhanced_route_refresh(self) -> bool:
        return self.capability(c.CAP_ENHANCED_ROUTE_REFRESH) is not None

    @property
    def graceful_restart(self) -> Capability | None:
        """The Graceful Restart capability (octets to pass through, RFC 4724 §3), or None."""
        return self.capability(c.CAP_GRACEFUL_RESTART)

    def encode(self) -> bytes:
        """The message octets from the fields, keeping the parameter layout."""
        return _encode(self.version, self.my_as, self.hold_time, self.bgp_id, self.parameters, self.extended_parameters)


def decode_open(data: c.Octets | c.Framed) -> Open:
    """Decode a whole OPEN message (header included); raise MessageError when it cannot be parsed.

    Only structure is checked here; `validate_open` applies RFC 4271 §6.2's checks of the values.
    """
    raw = message_octets(data)
    if len(raw) < _FIXED_END or raw[:16] != c.MARKER or raw[18] != c.OPEN:
        raise MessageError(c.ERR_HEADER, c.HEADER_BAD_LENGTH, raw[16:18], "not an OPEN of at least 29 octets")
    if struct.unpack_from(">H", raw, 16)[0] != len(raw):
        raise MessageError(c.ERR_HEADER, c.HEADER_BAD_LENGTH, raw[16:18], "OPEN length field disagrees with its size")
    version, my_as, hold_time, identifier, parameters_length = _FIXED.unpack_from(raw, c.HEADER_LEN)
    extended = False
    start = _FIXED_END
    # RFC 9072 §2: Opt Parm Len 255 followed by a parameter type 255 announces the extended form
    if parameters_length == 255 and len(raw) > _FIXED_END and raw[_FIXED_END] == c.PARAM_EXTENDED_LENGTH:
        if len(raw) < _FIXED_END + _EXTENDED_PARAMETERS.size:
            raise MessageError(c.ERR_OPEN, c.OPEN_UNSPECIFIC, b"", "extended optional parameters header truncated")
        dummy, parameters_length = _EXTENDED_PARAMETERS.unpack_from(raw, _FIXED_END)
        extended = True
        start = _FIXED_END + _EXTENDED_PARAMETERS.size
    if start + parameters_length != len(raw):
        raise MessageError(
            c.ERR_OPEN,
            c.OPEN_UNSPECIFIC,
            b"",
            "optional parameters length %d but %d octets follow" % (parameters_length, len(raw) - start),
        )
    parameters = _decode_parameters(raw, start, extended)
    return Open(version, my_as, hold_time, ipaddress.IPv4Address(identifier), tuple(parameters), extended, raw)


def _decode_parameters(raw: bytes, position: int, extended: bool) -> list[OptionalParameter]:
    parameters: list[OptionalParameter] = []
    header = 3 if extended else 2
    end = len(raw)
    while position < end:
        if position + header > end:
            raise MessageError(c.ERR_OPEN, c.OPEN_UNSPECIFIC, b"", "optional parameter header truncated")
        kind = raw[position]
        length = struct.unpack_from(">H", raw, position + 1)[0] if extended else raw[position + 1]
        start = position + header
        position = start + length
        if position > end:
            raise MessageError(c.ERR_OPEN, c.OPEN_UNSPECIFIC, b"", "optional parameter %d overruns the OPEN" % kind)
        value = raw[start:position]
        capabilities: tuple[Capability, ...] = ()
        if kind == c.PARAM_CAPABILITIES:
            try:
                capabilities = tuple(decode_capabilities(value))
            except ValueError as error:
                raise MessageError(c.ERR_OPEN, c.OPEN_UNSPECIFIC, b"", str(error)) from None
        parameters.append(OptionalParameter(kind, value, capabilities))
    return parameters


def capability_parameters(capabilities: Iterable[Capability]) -> tuple[tuple[OptionalParameter, ...], bool]:
    """The usual layout: all capabilities in one Capabilities parameter; (parameters, extended form needed)."""
    listed = tuple(capabilities)
    if not listed:
        return (), False
    parameter = OptionalParameter.of_capabilities(listed)
    # the one-octet Opt Parm Len covers the parameter header (2) and its value (RFC 4271 §4.2)
    return (parameter,), len(parameter.value) + 2 > 255


def encode_open(
    asn: int,
    hold_time: int,
    bgp_id: str | ipaddress.IPv4Address,
    capabilities: Iterable[Capability] = (),
    version: int = c.BGP_VERSION,
    add_four_octet_as: bool = True,
) -> bytes:
    """An OPEN message.  My AS is AS_TRANS when `asn` needs 4 octets (RFC 6793 §4.1); the 4-octet AS
    capability is added when missing unless `add_four_octet_as` is False.  Capabilities go in one
    parameter, in RFC 9072 extended form if they do not fit in 255 octets."""
    listed = list(capabilities)
    if add_four_octet_as and not any(capability.code == c.CAP_FOUR_OCTET_AS for capability in listed):
        listed.append(Capability.four_octet_as(asn))
    parameters, extended = capability_parameters(listed)
    my_as = asn if asn <= 0xFFFF else c.AS_TRANS
    return _encode(version, my_as, hold_time, bgp_id, parameters, extended)


def _encode(
    version: int,
    my_as: int,
    hold_time: int,
    bgp_id: str | ipaddress.IPv4Address,
    parameters: Sequence[OptionalParameter],
    extended: bool,
) -> bytes:
    if extended:
        body = b"".join(struct.pack(">BH", p.type, len(p.value)) + p.value for p in parameters)
        fixed = _FIXED.pack(version, my_as, hold_time, ipaddress.IPv4Address(bgp_id).packed, 255)
        body = _EXTENDED_PARAMETERS.pack(c.PARAM_EXTENDED_LENGTH, len(body)) + body
    else:
        body = b"".join(bytes((p.type, len(p.value))) + p.value for p in parameters)
        if len(body) > 255:
            raise ValueError("optional parameters of %d octets need the RFC 9072 extended form" % len(body))
        fixed = _FIXED.pack(version, my_as, hold_time, ipaddress.IPv4Address(bgp_id).packed, len(body))
    length = _FIXED_END + len(body)
    return make_header(length, c.OPEN) + fixed + body


def validate_open(open_message: Open, expected_asn: int | None = None) -> None:
    """Raise MessageError for the value errors of RFC 4271 §6.2 (and RFC 6286 for the identifier).

    Kept apart from decoding so that a transparent proxy can still forward an OPEN it would itself
    refuse and let the router answer.
    """
    if open_message.version != c.BGP_VERSION:
        raise MessageError(
            c.ERR_OPEN,
            c.OPEN_UNSUPPORTED_VERSION,
            struct.pack(">H", c.BGP_VERSION),
            "BGP version %d" % open_message.version,
        )
    if expected_asn is not None and open_message.asn != expected_asn:
        raise MessageError(
            c.ERR_OPEN, c.OPEN_BAD_PEER_AS, b"", "peer AS %d, expected %d" % (open_message.asn, expected_asn)
        )
    if int(open_message.bgp_id) == 0:
        raise MessageError(c.ERR_OPEN, c.OPEN_BAD_BGP_IDENTIFIER, b"", "BGP Identifier 0.0.0.0")
    if open_message.hold_time in (1, 2):
        raise MessageError(c.ERR_OPEN, c.OPEN_UNACCEPTABLE_HOLD_TIME, b"", "hold time %d" % open_message.hold_time)
    for parameter in open_message.parameters:
        if parameter.type != c.PARAM_CAPABILITIES:
            raise MessageError(
                c.ERR_OPEN, c.OPEN_UNSUPPORTED_OPTIONAL_PARAMETER, b"", "optional parameter type %d" % parameter.type
            )
