# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One canonical text form for IP addresses, used by parsers, lookups, stores and reports.

IPv4-mapped IPv6 (::ffff:192.0.2.1, as dual-stack sockets log IPv4 peers) becomes the IPv4
address, IPv6 is compressed and lower-case, a %zone is split off. inet_pton/inet_ntop rather than
ipaddress: an exchange's member list is tens of thousands of addresses, and this runs at C speed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket

_V4_MAPPED = b"\0" * 10 + b"\xff\xff"
_V4_COMPATIBLE = b"\0" * 12


def _parse(text):
    """(family, packed bytes with an IPv4-mapped address unwrapped to IPv4, zone or None), or None."""
    if not text:
        return None
    address, dummy, zone = str(text).strip().partition("%")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        packed = socket.inet_pton(family, address)
    except (OSError, ValueError):
        return None
    if family == socket.AF_INET6 and packed[:12] == _V4_MAPPED:
        return socket.AF_INET, packed[12:], zone or None
    return family, packed, zone or None


def address_and_zone(text):
    """(canonical address, zone or None); (None, None) when the text is not an address."""
    parsed = _parse(text)
    if parsed is None:
        return None, None
    family, packed, zone = parsed
    if family == socket.AF_INET6 and packed[:12] == _V4_COMPATIBLE:
        # ::1, :: and the deprecated ::a.b.c.d, which inet_ntop prints in dotted forms
        return str(ipaddress.IPv6Address(packed)), zone
    return socket.inet_ntop(family, packed), zone


def address_number(text):
    """(IP version, the address as an integer) for prefix arithmetic, with the same reading as
    canonical_address (an IPv4-mapped IPv6 address is IPv4); None when the text is not an address."""
    parsed = _parse(text)
    if parsed is None:
        return None
    return 6 if parsed[0] == socket.AF_INET6 else 4, int.from_bytes(parsed[1], "big")


def canonical_address(text):
    """The canonical text of an address (any zone dropped), or None if the text is not one."""
    return address_and_zone(text)[0]
