"""MRT records (RFC 6396) of BGP messages and session state changes, the format bgpdump, BGPKIT
and route collectors read: BGP4MP_ET (microsecond timestamps) MESSAGE_AS4 and STATE_CHANGE_AS4.

Written by hand rather than with a library: the two record types are a few struct layouts, and
the Python MRT libraries only read.

A record names a peer (the sender of the message) and a local side (its receiver), each with an
AS and an address. Both addresses share one AFI field, so when one side of the proxy speaks IPv4
and the other IPv6, the IPv4 address is written IPv4-mapped (::ffff:a.b.c.d) under AFI 2.
Subtypes follow the session: MESSAGE_AS4 (4) when both OPENs carried the 4-octet AS capability,
MESSAGE (1) with 2-octet AS fields when they did not (the UPDATEs then carry 2-octet AS_PATHs, and
readers pick the AS_PATH width from the subtype), and the ADD-PATH variants (RFC 8050: 9 and 8)
when the direction carries path identifiers.
"""

import ipaddress
import struct

BGP4MP_ET = 17
STATE_CHANGE, MESSAGE, MESSAGE_AS4, STATE_CHANGE_AS4 = 0, 1, 4, 5
MESSAGE_ADDPATH, MESSAGE_AS4_ADDPATH = 8, 9
IDLE, CONNECT, ACTIVE, OPEN_SENT, OPEN_CONFIRM, ESTABLISHED = 1, 2, 3, 4, 5, 6
AFI_IPV4, AFI_IPV6 = 1, 2
AS_TRANS = 23456

_HEADER = struct.Struct(">IHHII")  # timestamp, type, subtype, length, microseconds (BGP4MP_ET, RFC 6396 §3)
_PEERS_AS4 = struct.Struct(">IIHH")  # peer AS, local AS, interface index, AFI
_PEERS_AS2 = struct.Struct(">HHHH")
_STATES = struct.Struct(">HH")
_UNKNOWN = ipaddress.IPv4Address("0.0.0.0")


def _record(when, subtype, body):
    seconds = int(when)
    micro = min(int(round((when - seconds) * 1000000)), 999999)
    # the ET Length counts the microsecond field too (RFC 6396 §3)
    return _HEADER.pack(seconds, BGP4MP_ET, subtype, len(body) + 4, micro) + body


def _addresses(peer_ip, local_ip):
    peer = ipaddress.ip_address(peer_ip or _UNKNOWN)
    local = ipaddress.ip_address(local_ip or _UNKNOWN)
    if peer.version == local.version == 4:
        return AFI_IPV4, peer.packed + local.packed
    return AFI_IPV6, _as_ipv6(peer).packed + _as_ipv6(local).packed


def _as_ipv6(address):
    return ipaddress.IPv6Address("::ffff:%s" % address) if address.version == 4 else address


def _peers(four_octet, peer_as, local_as, peer_ip, local_ip):
    afi, addresses = _addresses(peer_ip, local_ip)
    if four_octet:
        return _PEERS_AS4.pack(peer_as or 0, local_as or 0, 0, afi) + addresses
    return _PEERS_AS2.pack(_two_octet(peer_as), _two_octet(local_as), 0, afi) + addresses


def _two_octet(asn):
    return asn if asn is not None and asn <= 0xFFFF else (AS_TRANS if asn else 0)


def message_record(when, message, peer_as, local_as, peer_ip, local_ip, four_octet=True, add_path=False):
    """One BGP message (header included) as sent by the peer to the local side, at `when` (epoch seconds)."""
    return message_prefix(peer_as, local_as, peer_ip, local_ip, four_octet, add_path).record(when, message)


class MessagePrefix:
    """What the message records of one direction share (subtype, peers and addresses), made once:
    `record(when, message)` is then two struct packs and a concatenation per message."""

    __slots__ = ("subtype", "peers")

    def __init__(self, subtype, peers):
        self.subtype, self.peers = subtype, peers

    def record(self, when, message):
        seconds = int(when)
        micro = min(int(round((when - seconds) * 1000000)), 999999)
        body_length = len(self.peers) + len(message)
        return _HEADER.pack(seconds, BGP4MP_ET, self.subtype, body_length + 4, micro) + self.peers + bytes(message)


def message_prefix(peer_as, local_as, peer_ip, local_ip, four_octet=True, add_path=False):
    """The MessagePrefix of a direction."""
    if four_octet:
        subtype = MESSAGE_AS4_ADDPATH if add_path else MESSAGE_AS4
    else:
        subtype = MESSAGE_ADDPATH if add_path else MESSAGE
    return MessagePrefix(subtype, _peers(four_octet, peer_as, local_as, peer_ip, local_ip))


def state_change_record(when, old_state, new_state, peer_as, local_as, peer_ip, local_ip):
    """The local side's BGP state for the peer went from old_state to new_state (RFC 4271 §8.2.2 numbers)."""
    return _record(
        when, STATE_CHANGE_AS4, _peers(True, peer_as, local_as, peer_ip, local_ip) + _STATES.pack(old_state, new_state)
    )
