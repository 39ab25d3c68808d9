"""Parsers of whole command outputs: IOS `show logging` (split into records) and JunOS
`show firewall log` (brief and detail), fed with the real framing lines of the samples."""

from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC, iso_utc
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import NOT_BGP, Finding, classify
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios.logs import split_show_logging
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos.firewall_log import parse_firewall_log
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

IOS_HEADER = """\
Syslog logging: enabled (0 messages dropped, 34 messages rate-limited, 0 flushes, 0 overruns, xml disabled, filtering disabled)

No Active Message Discriminator.

    Console logging: level debugging, 22827 messages logged, xml disabled,
                     filtering disabled
    Trap logging: level informational, 22790 message lines logged
        Logging Source-Interface:       VRF Name:

Log Buffer (16384 bytes):
"""


# A buffer as routers print it: every header form IOS and IOS-XE produce, side by side.
MIXED_BUFFER = (
    "rtual-PPP2, changed state to down\n"  # the buffer starts mid-line
    "7:04: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet2/0/3, changed state to up\n"
    "022701: Jun 19 03:02:31: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi2/0/3, changed state to down\n"
    "*Oct 22 17:37:43.987: %TCP-6-BADAUTH: Invalid MD5 digest from 172.16.12.2(39656) to 172.16.12.1(179) tableid - 0\n"
    "*Sep 14 06:00:45.693: %CRYPTO-4-PKT_REPLAY_ERR: decrypt: replay check failed\n"
    "        connection id=29, sequence number=219\n"
    "\n"
    ".Jul 10 15:58:56.590 EDT: %SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(179), 1 packet\n"
    "065478: Dec  4 11:01:38.694 CEST: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.1(51000) "
    "(GigabitEthernet0/0/1 0011.2233.4455) -> 192.0.2.2(179), 1 packet\n"
    "*May 12 2020 13:35:15.181 UTC: %TCP-6-BADAUTH: Invalid MD5 digest from 2406:6400:4::(37854) to "
    "2406:6400:4::1(179) tableid - 0\n"
    "022702: Nov 20 10:05:00.200 UTC: %IPV6_ACL-6-ACCESSLOGP: list IXP6-IN/20 denied tcp 2001:db8:eeee::6(51001) "
    "(GigabitEthernet0/0/1 0011.2233.4455) -> 2001:db8:eeee::1(179), 1 packet\n"
    "Nov 20 10:06:00: %BGP-3-NOTIFICATION: sent to neighbor 192.0.2.12 passive 2/2 (peer in wrong AS) 2 bytes FDE8\n"
    "2y10w: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (192.0.2.200)\n"
    "RP/0/RP0/CPU0:2026 Nov 20 10:25:44.652 UTC: tcp[141]: %IP-TCP-3-BADAUTH : Invalid  digest from "
    "192.0.2.4:20923 to 192.0.2.5:179 for vrf:default (0x60000000)\n"
)
MIXED_FINDINGS = [
    ("md5_mismatch", "172.16.12.2"),
    ("firewall_drop_bgp", "10.0.6.56"),
    ("firewall_drop_bgp", "192.0.2.1"),
    ("md5_mismatch", "2406:6400:4::"),
    ("firewall_drop_bgp", "2001:db8:eeee::6"),
    ("peer_as_mismatch", "192.0.2.12"),
    ("md5_mismatch", "192.0.2.4"),
]


def test_show_logging_is_split_into_one_record_per_message():
    records = split_show_logging(IOS_HEADER + MIXED_BUFFER)
    assert "Syslog logging" not in "\n".join(records)
    assert len(records) == 12
    findings = [classify(record)[0] for record in records if classify(record)]
    assert [(f.kind, f.address) for f in findings if isinstance(f, Finding)] == MIXED_FINDINGS
    assert (
        "*Sep 14 06:00:45.693: %CRYPTO-4-PKT_REPLAY_ERR: decrypt: replay check failed "
        "connection id=29, sequence number=219" in records
    )
    # every record starts where its message starts: no header glued to another line's text
    assert all(record.count("%") <= 1 for record in records)


def test_each_message_line_is_its_own_record_whatever_its_neighbours():
    lines = [line for line in MIXED_BUFFER.splitlines() if line and not line.startswith(" ")]
    for before in lines:
        for line in lines:
            assert split_show_logging(IOS_HEADER + before + "\n" + line + "\n") == [before, line]


def test_show_logging_without_the_header_and_with_crlf():
    assert split_show_logging(
        "*Oct 22 17:37:43.987: %TCP-6-BADAUTH: x\r\n022701: Jun 19 03:02:31: %LINK-3-UPDOWN: y\r\n"
    ) == [
        "*Oct 22 17:37:43.987: %TCP-6-BADAUTH: x",
        "022701: Jun 19 03:02:31: %LINK-3-UPDOWN: y",
    ]


def test_show_logging_with_an_empty_buffer():
    assert split_show_logging(IOS_HEADER) == []


BRIEF = """\
Log :
Time      Filter    Action Interface     Protocol        Src Addr                         Dest Addr
10:28:22  pfe       D      ge-0/0/0.0    TCP             10.70.0.2                         10.70.0.1
13:10:11  pfe       D      rlsq0.902     ICMP      192.0.2.2   192.0.2.1
"""
DETAIL_GLUED = (
    "Time of Log: 2004-10-13 10:37:17 PDT, Filter: f, Filter action: accept, Name of interface: "
    "fxp0.0Name of protocol: TCP,Packet Length: 50824, Source address: 203.0.113.108:829, "
    "Destination address: 192.168.70.66:513"
)
DETAIL_TWO_LINES = """\
Time of Log: 2026-11-21 09:10:11 UTC, Filter: pfe, Filter action: discard, Name of interface: et-0/0/0.100
Name of protocol: TCP, Packet Length: 60, Source address: 2001:db8:ffff::5:41000, Destination address: 2001:db8:ffff::1:179
Time of Log: 2026-11-21 09:10:12 UTC, Filter: pfe, Filter action: discard, Name of interface: et-0/0/0.100
Name of protocol: TCP, Packet Length: 60, Source address: 198.51.100.5:179, Destination address: 198.51.100.1:40100
Time of Log: 2026-11-21 09:10:13 UTC, Filter: pfe, Filter action: discard, Name of interface: et-0/0/0.100
Name of protocol: TCP, Packet Length: 60, Source addr
"""


def test_firewall_log_brief_rows_have_no_ports_so_they_are_not_bgp():
    entries = list(parse_firewall_log(BRIEF, UTC, REF))
    assert [entry[0] for entry in entries] == [NOT_BGP, NOT_BGP]
    assert iso_utc(entries[0][1]) == "2026-11-22T10:28:22Z"


def test_firewall_log_detail():
    glued = list(parse_firewall_log(DETAIL_GLUED, UTC, REF))
    assert glued[0][0] == NOT_BGP  # accepted, and port 513
    assert iso_utc(glued[0][1]) == "2004-10-13T17:37:17Z"  # PDT is UTC-7
    entries = list(parse_firewall_log(DETAIL_TWO_LINES, UTC, REF))
    assert entries[0][0] == Finding(
        "firewall_drop_bgp", "2001:db8:ffff::5", 41000, "et-0/0/0.100", None, "2001:db8:ffff::1"
    )
    assert entries[1][0] == Finding("firewall_drop_bgp", "198.51.100.5", 179, "et-0/0/0.100", None, "198.51.100.1")
    assert entries[2][0] is None  # cut short: not understood
    assert iso_utc(entries[1][1]) == "2026-11-21T09:10:12Z"


@pytest.mark.parametrize(
    "network_os,platform",
    [
        ("junipernetworks.junos.junos", "junos"),
        ("junos", "junos"),
        ("cisco.ios.ios", "ios"),
        ("IOS", "ios"),
        ("frr.frr.frr", "frr"),
        ("bird", "bird"),
    ],
)
def test_driver_for(network_os, platform):
    assert driver_for(network_os).name == platform


def test_unknown_platform_says_which_are_known():
    with pytest.raises(ValueError, match=r"unknown platform 'arista.eos.eos'.*cisco.ios.ios"):
        driver_for("arista.eos.eos")
    with pytest.raises(ValueError, match="unknown platform None"):
        driver_for(None)
