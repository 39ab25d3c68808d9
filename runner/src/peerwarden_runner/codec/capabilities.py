"""OPEN capabilities (RFC 5492) and the decoded views of the ones the proxy must understand.

A capability is kept as its code and value octets, which is all a transparent proxy needs to pass
it on (graceful restart, FQDN and unknown codes are never interpreted beyond display).  The
properties decode the few that change how UPDATEs are parsed: multiprotocol (RFC 4760 §8), 4-octet
AS (RFC 6793 §3), ADD-PATH (RFC 7911 §4) and extended message (RFC 8654 §3).
"""

import struct
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from peerwarden_runner.codec import constants as c

__all__ = ["Capability", "CAPABILITY_NAMES", "decode_capabilities", "encode_capabilities"]

_MULTIPROTOCOL = struct.Struct(">HBB")  # AFI, reserved, SAFI
_ADD_PATH_ENTRY = struct.Struct(">HBB")  # AFI, SAFI, send/receive
_U32 = struct.Struct(">I")
_GRACEFUL_RESTART_HEADER = struct.Struct(">H")

CAPABILITY_NAMES = {
    c.CAP_MULTIPROTOCOL: "multiprotocol",
    c.CAP_ROUTE_REFRESH: "route_refresh",
    c.CAP_OUTBOUND_ROUTE_FILTERING: "outbound_route_filtering",
    c.CAP_EXTENDED_MESSAGE: "extended_message",
    c.CAP_BGP_ROLE: "bgp_role",
    c.CAP_GRACEFUL_RESTART: "graceful_restart",
    c.CAP_FOUR_OCTET_AS: "four_octet_as",
    c.CAP_ADD_PATH: "add_path",
    c.CAP_ENHANCED_ROUTE_REFRESH: "enhanced_route_refresh",
    c.CAP_LONG_LIVED_GRACEFUL_RESTART: "long_lived_graceful_restart",
    c.CAP_FQDN: "fqdn",
    c.CAP_ROUTE_REFRESH_CISCO: "route_refresh_cisco",
}
CAPABILITY_CODES = {name: code for code, name in CAPABILITY_NAMES.items()}
# capabilities whose value must be empty (RFC 2918 §2, RFC 8654 §3, RFC 7313 §3.1)
_EMPTY_VALUE = frozenset(
    {c.CAP_ROUTE_REFRESH, c.CAP_ROUTE_REFRESH_CISCO, c.CAP_EXTENDED_MESSAGE, c.CAP_ENHANCED_ROUTE_REFRESH}
)


class Capability(NamedTuple):
    """One capability TLV: code and value octets."""

    code: int
    value: bytes = b""

    @property
    def name(self) -> str:
        return CAPABILITY_NAMES.get(self.code, "capability_%d" % self.code)

    # ---- decoded views; None when the value does not have the defined shape ----

    @property
    def family(self) -> c.Family | None:
        """(afi, safi) of a well-formed Multiprotocol capability (RFC 4760 §8)."""
        if self.code == c.CAP_MULTIPROTOCOL and len(self.value) == 4:
            afi, dummy, safi = _MULTIPROTOCOL.unpack(self.value)
            return (afi, safi)
        return None

    @property
    def asn(self) -> int | None:
        """The AS number of a well-formed 4-octet AS capability (RFC 6793 §3)."""
        if self.code == c.CAP_FOUR_OCTET_AS and len(self.value) == 4:
            asn: int = _U32.unpack(self.value)[0]
            return asn
        return None

    @property
    def add_path_modes(self) -> dict[c.Family, int] | None:
        """{(afi, safi): mode} of a well-formed ADD-PATH capability (RFC 7911 §4), mode 1/2/3."""
        if self.code != c.CAP_ADD_PATH or not self.value or len(self.value) % 4:
            return None
        modes: dict[c.Family, int] = {}
        for offset in range(0, len(self.value), 4):
            afi, safi, mode = _ADD_PATH_ENTRY.unpack_from(self.value, offset)
            modes[(afi, safi)] = mode
        return modes

    @property
    def graceful_restart_info(self) -> dict[str, Any] | None:
        """Informational view of Graceful Restart (RFC 4724 §3): flags, time, [(afi, safi, flags)]."""
        value = self.value
        if self.code != c.CAP_GRACEFUL_RESTART or len(value) < 2 or (len(value) - 2) % 4:
            return None
        header = _GRACEFUL_RESTART_HEADER.unpack_from(value)[0]
        families = [
            (int.from_bytes(value[i : i + 2], "big"), value[i + 2], value[i + 3]) for i in range(2, len(value), 4)
        ]
        return {"restart_flags": header >> 12, "restart_time": header & 0x0FFF, "families": families}

    @property
    def fqdn_info(self) -> tuple[str, str] | None:
        """Informational view of the FQDN capability: (hostname, domain), decoded leniently."""
        value = self.value
        if self.code != c.CAP_FQDN or not value:
            return None
        host_end = 1 + value[0]
        if host_end >= len(value) or host_end + 1 + value[host_end] > len(value):
            return None
        domain = value[host_end + 1 : host_end + 1 + value[host_end]]
        return (value[1:host_end].decode("utf-8", "replace"), domain.decode("utf-8", "replace"))

    @property
    def well_formed(self) -> bool:
        """True when the value has the shape its RFC defines (always True for codes not checked here)."""
        if self.code == c.CAP_MULTIPROTOCOL:
            return self.family is not None
        if self.code == c.CAP_FOUR_OCTET_AS:
            return self.asn is not None
        if self.code == c.CAP_ADD_PATH:
            return self.add_path_modes is not None
        if self.code in _EMPTY_VALUE:
            return not self.value
        return True

    # ---- builders ----

    @classmethod
    def multiprotocol(cls, afi: int, safi: int) -> "Capability":
        return cls(c.CAP_MULTIPROTOCOL, _MULTIPROTOCOL.pack(afi, 0, safi))

    @classmethod
    def route_refresh(cls) -> "Capability":
        return cls(c.CAP_ROUTE_REFRESH)

    @classmethod
    def enhanced_route_refresh(cls) -> "Capability":
        return cls(c.CAP_ENHANCED_ROUTE_REFRESH)

    @classmethod
    def extended_message(cls) -> "Capability":
        return cls(c.CAP_EXTENDED_MESSAGE)

    @classmethod
    def four_octet_as(cls, asn: int) -> "Capability":
        return cls(c.CAP_FOUR_OCTET_AS, _U32.pack(asn))

    @classmethod
    def add_path(cls, modes: Mapping[c.Family, int | str]) -> "Capability":
        """From {(afi, safi): mode} (mode 1 receive, 2 send, 3 both, or those names)."""
        names: dict[int | str, int | str] = {name: code for code, name in c.ADD_PATH_MODE_NAMES.items()}
        return cls(
            c.CAP_ADD_PATH,
            b"".join(_ADD_PATH_ENTRY.pack(afi, safi, names.get(mode, mode)) for (afi, safi), mode in modes.items()),
        )

    @classmethod
    def graceful_restart(cls, value: c.Octets) -> "Capability":
        """Graceful Restart is passed through as octets (RFC 4724 §3); the proxy never restarts itself."""
        return cls(c.CAP_GRACEFUL_RESTART, bytes(value))


def decode_capabilities(value: bytes) -> list[Capability]:
    """The capabilities in a Capabilities optional parameter (RFC 5492 §4), or ValueError on an overrun."""
    capabilities: list[Capability] = []
    position = 0
    end = len(value)
    while position < end:
        if position + 2 > end:
            raise ValueError("capability header truncated at offset %d" % position)
        code = value[position]
        start = position + 2
        position = start + value[position + 1]
        if position > end:
            raise ValueError("capability %d length %d overruns the parameter" % (code, value[start - 1]))
        capabilities.append(Capability(code, value[start:position]))
    return capabilities


def encode_capabilities(capabilities: Iterable[Capability]) -> bytes:
    """Octets of a run of capability TLVs."""
    parts = []
    for capability in capabilities:
        if len(capability.value) > 255:
            raise ValueError("capability %d value of %d octets exceeds 255" % (capability.code, len(capability.value)))
        parts.append(bytes((capability.code, len(capability.value))) + capability.value)
    return b"".join(parts)
