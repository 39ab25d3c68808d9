# -*- coding: utf-8 -*-
# Copyright: peerwarden contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue of log messages that say somebody is knocking on TCP/179, and their parsers.

Each message type has a literal keyword (found with bytes.find over the raw file, which is what
makes the scan fast) and a parser that turns one decoded line into a Finding, NOT_BGP (a message
of that type about something else: LDP, another port, an accepted packet) or None (the line has
the keyword but not the shape: truncated, garbled, or an unknown variant).

No library parses these lines: ntc-templates has no JunOS log templates and its IOS template
only frames `show logging`; napalm-logs and genieparser do not cover BADAUTH/ACL/BIRD/FRR.
The shapes come from real lines (tests/unit/fixtures/log_samples.txt says where each is from).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.addresses import address_and_zone

UNCONFIGURED = "unconfigured_neighbor"
MD5_UNEXPECTED = "md5_unexpected"
MD5_MISMATCH = "md5_mismatch"
FIREWALL_DROP = "firewall_drop_bgp"
PEER_AS_MISMATCH = "peer_as_mismatch"
KINDS = (UNCONFIGURED, MD5_UNEXPECTED, MD5_MISMATCH, FIREWALL_DROP, PEER_AS_MISMATCH)

PLATFORMS = ("junos", "ios", "frr", "frr_host", "bird")
#: what a platform's logs hold beyond its own messages: an FRR host's syslog has bgpd's lines too
ALSO_READS = {"frr_host": ("frr",)}
BGP_PORT = 179

# address: canonical text; port: the remote end's TCP port when the line gives it;
# interface: where the packet came in, when the line says; peer_as: the AS a peer claimed;
# local: our address the packet was for, when the line says (firewall drops, BADAUTH).
Finding = namedtuple("Finding", "kind address port interface peer_as local")
NOT_BGP = "not_bgp"

_ADDR = r"[0-9A-Fa-f:.]+"


def finding(kind, address_text, port, interface=None, peer_as=None, local=None):
    """A Finding, or None when address_text (or a given local) is not an address; an address's %zone is its interface."""
    address, zone = address_and_zone(address_text)
    if address is None:
        return None
    if local is not None:
        local = address_and_zone(local)[0]
        if local is None:
            return None
    return Finding(kind, address, int(port) if port is not None else None, interface or zone, peer_as, local)


def _remote_port(src_port, dst_port):
    """The remote end's port when one of the two is 179, else None (then it is not BGP)."""
    if dst_port == BGP_PORT:
        return src_port
    if src_port == BGP_PORT:
        return BGP_PORT
    return None


# --- Juniper JunOS ------------------------------------------------------------------------------

# Three shapes: short; NOTIFICATION (6/5 Connection Rejected); RFC 5424 with "%DAEMON-4:".
_JUNOS_UNCONFIGURED = re.compile(
    r"bgp_listen_accept(?::\d+)?: (?:%[A-Z]+-\d+: )?"
    r"(?:NOTIFICATION sent to \S+ \(proto\): code 6 \(Cease\) subcode 5 \(Connection Rejected\), Reason: )?"
    r"Connection attempt from unconfigured neighbor: (?P<addr>\S+?)\+(?P<port>\d+)\b")


def parse_junos_unconfigured(line):
    match = _JUNOS_UNCONFIGURED.search(line)
    return match and finding(UNCONFIGURED, match.group("addr"), match.group("port"))


# IPv6 and port are joined with ":" and no brackets: the greedy address backtracks to the last ":".
_JUNOS_TCP_AUTH = re.compile(
    r"tcp_auth_ok: Packet from (?P<addr>" + _ADDR + r"):(?P<port>\d+) "
    r"(?P<what>unexpectedly has|missing|wrong) (?:MD5|AUTH) digest")


def parse_junos_tcp_auth(line):
    match = _JUNOS_TCP_AUTH.search(line)
    if not match:
        return None
    # "unexpectedly has": the peer signs and we hold no key for it -> not configured here.
    kind = MD5_UNEXPECTED if match.group("what") == "unexpectedly has" else MD5_MISMATCH
    return finding(kind, match.group("addr"), match.group("port"))


_JUNOS_PEER_AS = re.compile(
    r"bgp_pp_recv(?::\d+)?: NOTIFICATION sent to (?P<addr>\S+?)\+(?P<port>\d+) \(proto\): "
    r"code 2 \(Open Message Error\) subcode 2 \(bad peer AS number\)"
    r"(?:.*? from AS (?P<asn>\d+))?(?:.*? in [^(\s]*\((?P<ifl>[^)\s]+)\))?")


def parse_junos_peer_as(line):
    match = _JUNOS_PEER_AS.search(line)
    if not match:
        return None
    asn = match.group("asn")
    return finding(PEER_AS_MISMATCH, match.group("addr"), match.group("port"), match.group("ifl"),
                   int(asn) if asn else None)


_JUNOS_FW = re.compile(r"PFE_FW_SYSLOG_\w+: FW: (?P<fields>.*?)\s*\((?P<packets>\d+) packets?\)")
_PROTOCOL_TCP = ("tcp", "6")


def parse_junos_firewall_syslog(line):
    """`then syslog` lines: "FW: <ifl> <A|D|R> [<mac> -> <mac>] <proto> <src> <dst> <sport> <dport> (<n> packets)".

    Fields are read as tokens because whitespace is irregular and bridge filters add MACs; the
    IPv6 variants (PFE_FW_SYSLOG_IP6_*) may add SA/DA keywords, which are skipped.
    """
    match = _JUNOS_FW.search(line)
    if not match:
        return None
    tokens = match.group("fields").split()
    if len(tokens) < 2:
        return None
    interface, action = tokens[0], tokens[1]
    rest = tokens[2:]
    proto_at = next((i for i, tok in enumerate(rest) if tok.lower() in _PROTOCOL_TCP), None)
    if proto_at is None:
        return NOT_BGP if rest else None
    addresses, ports = [], []
    for token in rest[proto_at + 1:]:
        if token.isdigit() and addresses:
            ports.append(int(token))
        elif address_and_zone(token)[0] is not None:
            addresses.append(token)
    if len(addresses) < 2 or len(ports) < 2:
        return None
    remote_port = _remote_port(ports[0], ports[1])
    if remote_port is None or action not in ("D", "R"):
        return NOT_BGP
    return finding(FIREWALL_DROP, addresses[0], remote_port, interface, local=addresses[1])


# --- Cisco IOS / IOS-XE / IOS-XR ----------------------------------------------------------------

# "from" is always the remote end; ports as "(p)" (IOS-XE) or ":p" (older IOS, IOS-XR).
_IOS_BADAUTH = re.compile(
    r"BADAUTH\s?: (?:No|Invalid)\s+(?:MD5 )?digest from (?P<src>" + _ADDR + r"?)(?:\((?P<sp>\d+)\)|:(?P<sp2>\d+))"
    r" to (?P<dst>" + _ADDR + r"?)(?:\((?P<dp>\d+)\)|:(?P<dp2>\d+))(?=[\s,]|$)")


def parse_ios_badauth(line):
    match = _IOS_BADAUTH.search(line)
    if not match:
        return None
    src_port = int(match.group("sp") or match.group("sp2"))
    dst_port = int(match.group("dp") or match.group("dp2"))
    remote_port = _remote_port(src_port, dst_port)
    if remote_port is None:  # LDP (646) and friends use the same message
        return NOT_BGP
    return finding(MD5_MISMATCH, match.group("src"), remote_port, local=match.group("dst"))


# Plain: "A(p) -> B(q)"; log-input: "A(p) (GigabitEthernet0/0/1 0011.2233.4455) -> B(q)" (interface and
# source MAC; serial links give no MAC); IOS-XE FMANFP log-input: "MAC A(p) TenGigabitEthernet0/1/1-> B(q)".
_IOS_ACL = re.compile(
    r"ACCESSLOGP\s?:\s+(?:\S+: fman_fp_image:\s+)?(?:list|access-list) (?P<acl>\S+) "
    r"(?P<action>denied|deny|permitted|permit) (?P<proto>\S+) "
    r"(?:[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5} )?"  # FMANFP log-input: source MAC first
    r"(?P<src>" + _ADDR + r")\((?P<sp>\d+)\)\s?"
    r"(?:\((?P<input>[A-Za-z][\w/.:-]*)(?: [0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})?\s?\)\s?"
    r"|(?P<iface>[A-Za-z][\w/.:-]*)\s?)?-> "
    r"(?P<dst>" + _ADDR + r")\((?P<dp>\d+)\), (?P<packets>\d+) packets?")


def parse_ios_acl(line):
    match = _IOS_ACL.search(line)
    if not match:
        return None
    if match.group("proto").lower() not in _PROTOCOL_TCP or match.group("action") not in ("denied", "deny"):
        return NOT_BGP
    remote_port = _remote_port(int(match.group("sp")), int(match.group("dp")))
    if remote_port is None:
        return NOT_BGP
    return finding(FIREWALL_DROP, match.group("src"), remote_port, match.group("input") or match.group("iface"),
                   local=match.group("dst"))


# "%BGP-3-NOTIFICATION: sent to neighbor 192.0.2.1 [active|passive ]2/2 (peer in wrong AS) 2 bytes FDE8":
# the data is the "My Autonomous System" field of the peer's OPEN, the AS it said it is. A 4-byte AS
# travels as AS_TRANS (23456) there, so that value names no AS. "received from" is the other side
# refusing *our* OPEN: about our configuration, not a peer knocking.
_IOS_PEER_AS = re.compile(
    r"NOTIFICATION\s?: (?P<direction>sent to|received from) neighbor (?P<addr>[0-9A-Fa-f:.]+(?:%\S+)?)"
    r"(?: \S+)*? 2/2 \(peer in wrong AS\)(?: (?P<length>\d+) bytes?(?: (?P<data>[0-9A-Fa-f]+))?)?")
AS_TRANS = 23456


def parse_ios_peer_as(line):
    match = _IOS_PEER_AS.search(line)
    if not match:
        return None
    if match.group("direction") != "sent to":
        return NOT_BGP
    data, length = match.group("data"), match.group("length")
    asn = int(data, 16) if data and length in ("2", "4") and len(data) == 2 * int(length) else None
    return finding(PEER_AS_MISMATCH, match.group("addr"), None, peer_as=None if asn in (None, AS_TRANS) else asn)


# --- FRRouting and BIRD -------------------------------------------------------------------------

# FRR >= 7.5 adds "(VRF default:65000:default)"; older versions do not.
_FRR_UNCONFIGURED = re.compile(
    r"\[Event\] (?P<addr>\S+) connection rejected(?:\([^)]*\))? - not configured and not valid for dynamic")


def parse_frr_unconfigured(line):
    match = _FRR_UNCONFIGURED.search(line)
    return match and finding(UNCONFIGURED, match.group("addr"), None)


# "%I%J (port %d)": the address, "%iface" for link-local peers, the remote port; lines without the port
# are seen in the wild too (quoted by users, cut by log shippers), and the address is what counts.
_BIRD_UNCONFIGURED = re.compile(
    r"BGP: Unexpected connect from unknown address (?P<addr>[0-9A-Fa-f:.]+(?:%[\w.-]+)?)"
    r"(?: \(port (?P<port>\d+)\)|(?=\s*$|\\n|\"))")  # no port: the message ends there (a JSON wrapper may follow)


def parse_bird_unconfigured(line):
    match = _BIRD_UNCONFIGURED.search(line)
    return match and finding(UNCONFIGURED, match.group("addr"), match.group("port"))


# --- Linux netfilter: the guard bgp_filter puts on an FRR host (platforms/frr_host/guard.py) -----------

# The kernel's nf_log format (net/netfilter/nf_log_syslog.c), in syslog after "kernel: [uptime] <prefix>", and
# ulogd2's LOGEMU (the same fields, from its PRINTPKT filter) after "<time> <host> <prefix>":
#   IN=eth1 OUT= MAC=... SRC=192.0.2.9 DST=192.0.2.254 LEN=60 TOS=0x00 ... PROTO=TCP SPT=40000 DPT=179 ...
# The kernel writes IPv6 addresses in full (2001:0db8:0000:...); they are made canonical.
GUARD_PREFIX = "peerwarden-bgp-guard: "
_NETFILTER = re.compile(
    re.escape(GUARD_PREFIX) + r"\s*IN=(?P<iface>\S*) OUT=\S* (?:MAC=\S* )?SRC=(?P<src>" + _ADDR + r") "
    r"DST=(?P<dst>" + _ADDR + r") .*?PROTO=(?P<proto>\S+)(?: SPT=(?P<spt>\d+) DPT=(?P<dpt>\d+))?")


def parse_netfilter_guard(line):
    match = _NETFILTER.search(line)
    if not match:
        return None
    if match.group("proto").upper() != "TCP" or match.group("dpt") is None:
        return NOT_BGP
    remote_port = _remote_port(int(match.group("spt")), int(match.group("dpt")))
    if remote_port is None:
        return NOT_BGP
    return finding(FIREWALL_DROP, match.group("src"), remote_port, match.group("iface") or None, local=match.group("dst"))


# keyword: bytes every line of this message type contains.
# port_mark: bytes a line of this type about TCP/179 must contain; lines without it are not BGP.
# anchor: what the scan searches in the raw log, the keyword or, when the keyword is common and
#   the port mark rare (ACL logging fills logs with lines about other ports), the port mark: the
#   keyword's other lines are then never looked at, nor counted (a count would cost a pass over
#   every byte of the log for a statistic).
# platform, parser, and the kinds it can yield.
Message = namedtuple("Message", "keyword port_mark anchor platform parse kinds")


def _message(keyword, port_mark, platform, parse, kinds, anchor_on_port=False):
    return Message(keyword, port_mark, port_mark if anchor_on_port else keyword, platform, parse, kinds)


# Keywords are as long as every line of the type allows: a longer needle is skipped over faster
# (bytes.find moves by up to its length), which is most of the scan's time.
CATALOGUE = (
    _message(b"Connection attempt from unconfigured neighbor", None, "junos", parse_junos_unconfigured,
             (UNCONFIGURED,)),
    _message(b"tcp_auth_ok: Packet from ", None, "junos", parse_junos_tcp_auth, (MD5_UNEXPECTED, MD5_MISMATCH)),
    _message(b"(Open Message Error) subcode 2 (bad peer AS number)", None, "junos", parse_junos_peer_as,
             (PEER_AS_MISMATCH,)),
    _message(b"PFE_FW_SYSLOG_", b"179", "junos", parse_junos_firewall_syslog, (FIREWALL_DROP,)),
    _message(b"BADAUTH", b"179", "ios", parse_ios_badauth, (MD5_MISMATCH,)),
    _message(b"ACCESSLOGP", b"(179)", "ios", parse_ios_acl, (FIREWALL_DROP,), anchor_on_port=True),
    _message(b"2/2 (peer in wrong AS)", None, "ios", parse_ios_peer_as, (PEER_AS_MISMATCH,)),
    _message(b"not configured and not valid for dynamic", None, "frr", parse_frr_unconfigured, (UNCONFIGURED,)),
    _message(b"BGP: Unexpected connect from unknown address ", None, "bird", parse_bird_unconfigured,
             (UNCONFIGURED,)),
    _message(GUARD_PREFIX.encode("ascii"), None, "frr_host", parse_netfilter_guard, (FIREWALL_DROP,)),
)


def messages_for(platform, kinds):
    """The catalogue entries worth searching for: one platform (or all for "auto") and the wanted kinds."""
    platforms = (platform,) + ALSO_READS.get(platform, ())
    return tuple(m for m in CATALOGUE
                 if (platform == "auto" or m.platform in platforms) and set(m.kinds) & set(kinds))


# syslogd folds repeats: BSD "last message repeated N times" (a line of its own, after the message)
# and rsyslog "message repeated N times: [ <message> ]" (the message inside).
REPEATED_AFTER = re.compile(r"last message repeated (\d+) times?")
REPEATED_INSIDE = re.compile(r"message repeated (\d+) times?: \[")


def classify(line, platform="auto"):
    """Classify one line: (Finding | NOT_BGP | None for not understood, message) or None if no keyword."""
    raw = line.encode("utf-8", "replace")
    for message in CATALOGUE:
        if (platform == "auto" or message.platform in (platform,) + ALSO_READS.get(platform, ())) and message.keyword in raw:
            if message.port_mark is not None and message.port_mark not in raw:
                return NOT_BGP, message
            return message.parse(line), message
    return None
