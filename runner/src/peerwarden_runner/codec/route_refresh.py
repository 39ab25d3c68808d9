"""ROUTE-REFRESH messages (RFC 2918 §3, RFC 7313 §3.2 subtypes, RFC 5291 ORF entries kept as octets)."""

import struct
from dataclasses import dataclass

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.errors import MessageError
from peerwarden_runner.codec.framing import is_whole_message, make_header, message_octets

__all__ = ["RouteRefresh", "decode_route_refresh", "encode_route_refresh"]

_BODY = struct.Struct(">HBB")  # AFI, subtype (the "Reserved" octet of RFC 2918), SAFI
_SUBTYPE_NAMES = {c.REFRESH_NORMAL: "refresh", c.REFRESH_BEGIN: "begin", c.REFRESH_END: "end"}


@dataclass(frozen=True)
class RouteRefresh:
    """A request to resend a family (subtype 0), or the Begin/End-of-RIB-refresh markers (1, 2).

    `orf` holds Outbound Route Filtering entries (RFC 5291 §4) as octets.
    """

    afi: int
    safi: int
    subtype: int = c.REFRESH_NORMAL
    orf: bytes = b""

    @property
    def subtype_name(self) -> str:
        return _SUBTYPE_NAMES.get(self.subtype, "subtype_%d" % self.subtype)

    def encode(self) -> bytes:
        return encode_route_refresh(self.afi, self.safi, self.subtype, self.orf)


def decode_route_refresh(data: c.Octets | c.Framed) -> RouteRefresh:
    """Decode a whole ROUTE-REFRESH; MessageError 7/1 (with the message as data, RFC 7313 §5) for a
    BoRR/EoRR whose length is not 23."""
    raw = message_octets(data)
    if not is_whole_message(raw, c.ROUTE_REFRESH):
        raise MessageError(
            c.ERR_ROUTE_REFRESH, c.ROUTE_REFRESH_INVALID_LENGTH, raw, "not a ROUTE-REFRESH of at least 23 octets"
        )
    afi, subtype, safi = _BODY.unpack_from(raw, c.HEADER_LEN)
    orf = raw[23:]
    if subtype in (c.REFRESH_BEGIN, c.REFRESH_END) and orf:
        raise MessageError(
            c.ERR_ROUTE_REFRESH,
            c.ROUTE_REFRESH_INVALID_LENGTH,
            raw,
            "ROUTE-REFRESH subtype %d with %d extra octets" % (subtype, len(orf)),
        )
    return RouteRefresh(afi, safi, subtype, orf)


def encode_route_refresh(afi: int, safi: int, subtype: int = c.REFRESH_NORMAL, orf: bytes = b"") -> bytes:
    """A ROUTE-REFRESH message; subtype 1/2 are RFC 7313's Begin/End of RIB refresh."""
    body = _BODY.pack(afi, subtype, safi) + bytes(orf)
    return make_header(c.HEADER_LEN + len(body), c.ROUTE_REFRESH) + body
