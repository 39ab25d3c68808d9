"""A log host's file names the router in its header, in many forms: every kind of finding, IPv4 and
IPv6, under every common header form, is filed under the router that logged it, at the right time.

The messages are real ones (tests/unit/fixtures/log_samples.txt says where each is from) with the
addresses set to documentation prefixes; the headers are the forms syslog daemons write.
"""

import io
from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection, syslog_host

REF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SEEN = "2026-11-20T08:14:09Z"

# (app, pid, message, kind, address, port, peer_as); app None: an IOS message, whose "tag" is a sequence number
MESSAGES = [
    (
        "rpd",
        3167,
        "bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.55+51528",
        "unconfigured_neighbor",
        "192.0.2.55",
        51528,
        None,
    ),
    (
        "rpd",
        3167,
        "bgp_listen_accept:4984: NOTIFICATION sent to 2001:db8:ffff::55+51528 (proto): code 6 (Cease) "
        "subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: 2001:db8:ffff::55+51528",
        "unconfigured_neighbor",
        "2001:db8:ffff::55",
        51528,
        None,
    ),
    (
        "kernel",
        None,
        "tcp_auth_ok: Packet from 192.0.2.77:60042 unexpectedly has MD5 digest",
        "md5_unexpected",
        "192.0.2.77",
        60042,
        None,
    ),
    (
        "kernel",
        None,
        "tcp_auth_ok: Packet from 2001:db8:1::a502:764:1:61664 wrong MD5 digest",
        "md5_mismatch",
        "2001:db8:1::a502:764:1",
        61664,
        None,
    ),
    (
        "rpd",
        4936,
        "bgp_pp_recv:4609: NOTIFICATION sent to 192.0.2.6+44759 (proto): code 2 (Open Message Error) "
        "subcode 2 (bad peer AS number), Reason: no group for 192.0.2.6+44759 (proto) from AS 4292019902 found "
        "(peer as mismatch) in master(ae1.0), dropping him",
        "peer_as_mismatch",
        "192.0.2.6",
        44759,
        4292019902,
    ),
    (
        "fpc0",
        None,
        "PFE_FW_SYSLOG_IP: FW: ge-1/0/10.0  D  tcp 192.0.2.153 192.0.2.59  43206 179 (1 packets)",
        "firewall_drop_bgp",
        "192.0.2.153",
        43206,
        None,
    ),
    (
        None,
        None,
        "%TCP-6-BADAUTH: Invalid MD5 digest from 192.0.2.1(43652) to 192.0.2.2(179) tableid - 0",
        "md5_mismatch",
        "192.0.2.1",
        43652,
        None,
    ),
    (
        None,
        None,
        "%TCP-6-BADAUTH: Invalid MD5 digest from 2406:6400:4::(37854) to 2406:6400:4::1(179) tableid - 0",
        "md5_mismatch",
        "2406:6400:4::",
        37854,
        None,
    ),
    (
        None,
        None,
        "%SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.1(51000) -> 192.0.2.2(179), 1 packet",
        "firewall_drop_bgp",
        "192.0.2.1",
        51000,
        None,
    ),
    (
        None,
        None,
        "%SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.1(51000) (GigabitEthernet0/0/1 0011.2233.4455)"
        " -> 192.0.2.2(179), 1 packet",
        "firewall_drop_bgp",
        "192.0.2.1",
        51000,
        None,
    ),
    (
        None,
        None,
        "%IPV6_ACL-6-ACCESSLOGP: list IXP6-IN/20 denied tcp 2001:DB8:FFFF::55(51528) (GigabitEthernet0/0/1 "
        "0011.2233.4455) -> 2001:db8:ffff::1(179), 1 packet",
        "firewall_drop_bgp",
        "2001:db8:ffff::55",
        51528,
        None,
    ),
    (
        None,
        None,
        "%BGP-3-NOTIFICATION: sent to neighbor 192.0.2.12 active 2/2 (peer in wrong AS) 2 bytes 0064",
        "peer_as_mismatch",
        "192.0.2.12",
        None,
        100,
    ),
    (
        None,
        None,
        "%BGP-3-NOTIFICATION: sent to neighbor 2001:db8::12 passive 2/2 (peer in wrong AS) 2 bytes FDE8",
        "peer_as_mismatch",
        "2001:db8::12",
        None,
        65000,
    ),
    (
        "bgpd",
        812,
        "[TBYZV-W9M3D] [Event] 192.0.2.9 connection rejected(VRF default:65000:default) - not configured "
        "and not valid for dynamic",
        "unconfigured_neighbor",
        "192.0.2.9",
        None,
        None,
    ),
    (
        "bgpd",
        812,
        "[Event] 2001:db8::9 connection rejected - not configured and not valid for dynamic",
        "unconfigured_neighbor",
        "2001:db8::9",
        None,
        None,
    ),
    (
        "bird",
        77,
        "BGP: Unexpected connect from unknown address 192.0.2.10 (port 40625)",
        "unconfigured_neighbor",
        "192.0.2.10",
        40625,
        None,
    ),
    (
        "bird",
        77,
        "BGP: Unexpected connect from unknown address 2001:db8::10",
        "unconfigured_neighbor",
        "2001:db8::10",
        None,
        None,
    ),
]


def tag_3164(app, pid):
    if app is None:
        return "636: "  # IOS: its sequence number stands where a tag would
    return "%s[%s]: " % (app, pid) if pid else "%s: " % app


def tag_5424(app, pid):
    return "%s %s - - " % (app or "-", pid or "-")


# name -> (line builder, router it names)
FORMS = {
    "rfc3164": (lambda a, p, m: "Nov 20 08:14:09 edge7 " + tag_3164(a, p) + m, "edge7"),
    "rfc3164 PRI": (lambda a, p, m: "<28>Nov 20 08:14:09 edge7 " + tag_3164(a, p) + m, "edge7"),
    "rfc3164 junos two spaces, day padded": (lambda a, p, m: "Nov 20 08:14:09  edge7 " + tag_3164(a, p) + m, "edge7"),
    "rfc5424 PRI": (lambda a, p, m: "<28>1 2026-11-20T08:14:09.250Z edge7 " + tag_5424(a, p) + m, "edge7"),
    "rfc5424": (lambda a, p, m: "1 2026-11-20T05:14:09.250-03:00 edge7 " + tag_5424(a, p) + m, "edge7"),
    "rfc3339 rsyslog high precision": (
        lambda a, p, m: "2026-11-20T09:14:09.123456+01:00 edge7 " + tag_3164(a, p) + m,
        "edge7",
    ),
    "rfc3339 PRI": (lambda a, p, m: "<172>2026-11-20T08:14:09+00:00 edge7 " + tag_3164(a, p) + m, "edge7"),
    "year in date": (lambda a, p, m: "Nov 20 2026 08:14:09 edge7 " + tag_3164(a, p) + m, "edge7"),
    "IPv4 host": (lambda a, p, m: "Nov 20 08:14:09 198.51.100.2 " + tag_3164(a, p) + m, "198.51.100.2"),
    "IPv6 host": (lambda a, p, m: "<190>Nov 20 08:14:09 2001:DB8:64::2 " + tag_3164(a, p) + m, "2001:db8:64::2"),
    "IOS-XR node": (
        lambda a, p, m: "<187>883282: edge7 RP/0/RP0/CPU0:2026 Nov 20 08:14:09.652 UTC: " + tag_3164(a, p) + m,
        "edge7",
    ),
    "IOS origin-id": (
        lambda a, p, m: "<174>15162564: edge7: 29391555: Nov 20 08:14:09.802 UTC: " + tag_3164(a, p) + m,
        "edge7",
    ),
    "tabs": (lambda a, p, m: "Nov 20 08:14:09\tedge7\t" + tag_3164(a, p) + m, "edge7"),
    "indented": (lambda a, p, m: "   Nov 20 08:14:09 edge7 " + tag_3164(a, p) + m, "edge7"),
    "UTF-8 BOM": (lambda a, p, m: "\ufeffNov 20 08:14:09 edge7 " + tag_3164(a, p) + m, "edge7"),
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: "%s-%s" % (m[3], m[4]))
def test_every_kind_under_every_header_form(form, message):
    app, pid, text, kind, address, port, peer_as = message
    build, router = FORMS[form]
    line = build(app, pid, text)
    scanner = LogScanner(Selection(), UTC)
    # the BOM comes first in a file, and chunks of one line make every line start a buffer
    scanner.scan_stream(io.BytesIO(line.encode("utf-8") + b"\n"), REF, fallback_router="loghost")
    events = scanner.events(REF)
    assert scanner.stats["not_understood"] == 0, scanner.stats["not_understood_samples"]
    assert len(events) == 1, line
    event = events[0]
    assert (event["router"], event["kind"], event["address"]) == (router, kind, address), line
    assert event["ports"] == ([port] if port else [])
    assert event.get("peer_as") == peer_as
    assert event["first_seen"] == event["last_seen"] == SEEN, line


@pytest.mark.parametrize(
    "line,host",
    [
        ("<28>Nov 20 16:58:04 re0-gw2.fin1 rpd[3167]: x", "re0-gw2.fin1"),
        ("Mar  9 18:48:53  vrr2 kernel: tcp_auth_ok: x", "vrr2"),
        ("Aug 12 03:45:20   /kernel: tcp_auth_ok: x", None),
        ("Nov  3 21:02:34.678687 bgp_listen_accept:5610: x", None),
        ("<28>1 2020-05-22T14:59:09.250-03:00 OX-MX204 OX-CONTEUDO:rpd 6589 - - x", "OX-MX204"),
        ("Jul 10 16:07:14 cisco2621 636: .Jul 10 15:58:56.590 EDT: %SEC", "cisco2621"),
        ("*Oct 19 15:12:54.764: %TCP-6-BADAUTH: x", None),
        (".Jul 10 15:58:56.590 EDT: %SEC-6-IPACCESSLOGP: x", None),
        ("123: May  3 05:15:25.217 UTC: %SEC-6-IPACCESSLOGP: x", None),
        ("2026-11-22 18:51:38.500 <WARN> BGP: x", None),
        ("2022/03/23 10:15:19 BGP: [Event] x", None),
        ("bird: BGP: Unexpected connect from unknown address 10.250.12.180 (port 60008)", None),
        ("Sep 18 21:03:44 ustimenko bird[113308]: BGP: x", "ustimenko"),
        ("Feb  8 04:00:48 192.168.100.2 585917: Feb  8 04:00:47.272: %SEC-6-IPACCESSLOGRP: x", "192.168.100.2"),
        ("<190>: Jan  6 2022 20:55:50.671: %SEC-6-IPACCESSLOGDP: x", None),
        ("<182>: host-1: 115649616: Jan 23 14:54:28.511 CET: %FMANFP-6-IPV6ACCESSLOGP: x", "host-1"),
        ("30: foo: 6340004: *Mar  4 11:45:20: %SEC-6-IPACCESSLOGP: x", "foo"),
        ("<190>3132783: 2a02:cf40::: 3132779: Jul 14 2023 08:23:43.398 UTC: %FOO-6-BAR: x", "2a02:cf40::"),
        ("<190>3132517: Jul 13 08:23:43 192.168.100.2 sw01: 3132779: Jul 14 2023 08:23:43.398 UTC: x", "192.168.100.2"),
        ("<187>883282: MAJDA702 RP/0/RP0/CPU0:2021 Feb 13 10:25:44.652 UTC: tcp[141]: x", "MAJDA702"),
        ("RP/0/RP0/CPU0:2021 Feb 13 10:25:44.652 UTC: tcp[141]: x", None),
        ("<190>Oct 7 07:19:44 internet-primary-mgmt RP/0/RP0/CPU0:Oct 7 07:19:43.630 UTC: x", "internet-primary-mgmt"),
        ("Jul 14 08:00:02  juniper-vc0 last message repeated 3 times", "juniper-vc0"),
        ("Jul 14 08:00:02 last message repeated 3 times", None),
    ],
)
def test_syslog_host(line, host):
    assert syslog_host(line) == host
