"""IP addresses as the configuration gives them: one parser for "ADDRESS[:PORT]" and one
canonical form, for the proxy's sessions, the metrics listener and the speakers alike."""

import ipaddress


def canonical_address(value: object) -> str:
    """The canonical text of an IP address ("2001:DB8::01" -> "2001:db8::1"); ValueError if it is none."""
    return str(ipaddress.ip_address(str(value)))


def same_address(text: str, configured: str) -> bool:
    """Is `text` the address `configured` (an IPv4-mapped IPv6 address counts as its IPv4 address)?"""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address == ipaddress.ip_address(configured)


def address_port(text: object, default_port: int = 179) -> tuple[str, int]:
    """ "127.0.0.1:179", "[2001:db8::1]:179", "2001:db8::1" or "127.0.0.1" -> (host, port); the host as
    written, checked to be an IP address (ValueError otherwise, or for a port out of range)."""
    text = str(text).strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    canonical_address(host)
    number = int(port) if port else default_port
    if not 0 < number < 65536:
        raise ValueError("port %d out of range" % number)
    return host, number
