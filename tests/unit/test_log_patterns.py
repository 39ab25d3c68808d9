"""Variants beyond the public samples: shapes derived from them (documentation addresses), odd
spacing, IPv6 forms, link-local zones, truncated and garbled lines."""

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import (
    NOT_BGP,
    Finding,
    classify,
    messages_for,
)


@pytest.mark.parametrize(
    "line,kind,address,port,interface",
    [
        # the RFC 5424 JunOS shape of the samples, with a real address where the sample has "XXX"
        (
            "<28>1 2020-05-22T14:59:09.250-03:00 OX-MX204 OX-CONTEUDO:rpd 6589 - - bgp_listen_accept: %DAEMON-4: "
            "Connection attempt from unconfigured neighbor: 2001:db8:219::166+57284",
            "unconfigured_neighbor",
            "2001:db8:219::166",
            57284,
            None,
        ),
        # upper-case, non-canonical IPv6 comes out canonical
        (
            "Nov 20 16:58:04  r1 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: "
            "2001:DB8:0:0::0055+179",
            "unconfigured_neighbor",
            "2001:db8::55",
            179,
            None,
        ),
        # BIRD link-local peer: "%I%J" puts the interface after the address
        (
            "2026-11-22 18:51:38.500 <WARN> BGP: Unexpected connect from unknown address fe80::1%ens3 (port 40000)",
            "unconfigured_neighbor",
            "fe80::1",
            40000,
            "ens3",
        ),
        # FRR on a dual-stack socket may print an IPv4-mapped address
        (
            "2026/11/22 18:51:38 BGP: [Event] ::ffff:192.0.2.9 connection rejected(VRF default:65000:default) - "
            "not configured and not valid for dynamic",
            "unconfigured_neighbor",
            "192.0.2.9",
            None,
            None,
        ),
        # IOS ACL with tabs and double spaces inside the syslog header
        (
            "Jul 10 16:07:14\tcisco2621  636: Jul 10 15:58:56.590 EDT: %SEC-6-IPACCESSLOGP: list 102 denied tcp "
            "198.51.100.7(51234) -> 192.0.2.254(179), 1 packet",
            "firewall_drop_bgp",
            "198.51.100.7",
            51234,
            None,
        ),
        # IOS ACL, we initiated: the remote answers from 179
        (
            "%SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 198.51.100.7(179) -> 192.0.2.254(40001), 1 packet",
            "firewall_drop_bgp",
            "198.51.100.7",
            179,
            None,
        ),
        # IOS-XR ACL line with the port 179
        (
            "RP/0/RP0/CPU0:Oct 7 07:19:43.630 UTC: ipv4_acl_mgr[310]: %ACL-IPV4_ACL-6-IPACCESSLOGP : access-list "
            "IXP-IN deny tcp 198.51.100.8(39527) -> 192.0.2.254(179), 1 packet",
            "firewall_drop_bgp",
            "198.51.100.8",
            39527,
            None,
        ),
        # IOS-XE log-input: MAC and interface
        (
            "%FMANFP-6-IPACCESSLOGP: F0/0: fman_fp_image: list IXP-IN denied tcp 00-00-5E-00-53-23 "
            "198.51.100.10(56279) TenGigabitEthernet0/1/1-> 192.0.2.20(179), 1 packet",
            "firewall_drop_bgp",
            "198.51.100.10",
            56279,
            "TenGigabitEthernet0/1/1",
        ),
        # JunOS IPv6 firewall syslog (no public sample exists; SA/DA keywords are skipped)
        (
            "fpc0 PFE_FW_SYSLOG_IP6_TCP_UDP: FW: et-0/0/0.100 D tcp SA 2001:db8:ffff::66 DA 2001:db8:ffff::1 "
            "51000 179 (1 packets)",
            "firewall_drop_bgp",
            "2001:db8:ffff::66",
            51000,
            "et-0/0/0.100",
        ),
        # JunOS "reject" action counts as a drop too
        (
            "fpc0 PFE_FW_SYSLOG_IP: FW: xe-0/0/1.0  R  tcp 198.51.100.9 192.0.2.254  62000 179 (3 packets)",
            "firewall_drop_bgp",
            "198.51.100.9",
            62000,
            "xe-0/0/1.0",
        ),
        # TCP-AO variant of the JunOS kernel message
        (
            "Mar  9 18:48:53  vrr2 kernel: tcp_auth_ok: Packet from 2001:db8::7:60042 unexpectedly has AUTH digest",
            "md5_unexpected",
            "2001:db8::7",
            60042,
            None,
        ),
        # IOS-XE IPv6 BADAUTH, ":port" style
        (
            "*Sep 21 00:08:26.959: %TCP-6-BADAUTH: Invalid MD5 digest from 2001:db8::1:23217 to 2001:db8::2:179",
            "md5_mismatch",
            "2001:db8::1",
            23217,
            None,
        ),
    ],
)
def test_variant(line, kind, address, port, interface):
    finding = classify(line)[0]
    assert finding._replace(local=None) == Finding(kind, address, port, interface, None, None)


@pytest.mark.parametrize(
    "line,local",
    [
        (
            "%SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 198.51.100.7(179) -> 192.0.2.254(40001), 1 packet",
            "192.0.2.254",
        ),
        (
            "%FMANFP-6-IPACCESSLOGP: F0/0: fman_fp_image: list IXP-IN denied tcp 00-00-5E-00-53-23 "
            "198.51.100.10(56279) TenGigabitEthernet0/1/1-> 192.0.2.20(179), 1 packet",
            "192.0.2.20",
        ),
        (
            "fpc0 PFE_FW_SYSLOG_IP6_TCP_UDP: FW: et-0/0/0.100 D tcp SA 2001:db8:ffff::66 DA 2001:DB8:ffff::1 "
            "51000 179 (1 packets)",
            "2001:db8:ffff::1",
        ),
        (
            "*Sep 21 00:08:26.959: %TCP-6-BADAUTH: Invalid MD5 digest from 2001:db8::1:23217 to 2001:db8::2:179",
            "2001:db8::2",
        ),
        (
            "Nov 20 08:14:09  edge1 rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to 192.0.2.66+51528 (proto): "
            "code 6 (Cease) subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: "
            "192.0.2.66+51528",
            None,
        ),
    ],
)
def test_our_address_is_the_destination_when_the_line_names_it(line, local):
    assert classify(line)[0].local == local


@pytest.mark.parametrize(
    "line",
    [
        # truncated in the middle of the address/port
        "Nov 20 16:58:04  r1 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2",
        "Mar  9 18:48:53  vrr2 kernel: tcp_auth_ok: Packet from 212.23.38.1:600",
        "%SEC-6-IPACCESSLOGP: list 102 denied tcp 198.51.100.7(179) -> 192.0.2.",
        "2026-11-22 18:51:38.500 <WARN> BGP: Unexpected connect from unknown address 127.0.0.9 (po",
        # an address that is not one
        "bgp_listen_accept: Connection attempt from unconfigured neighbor: 2001:XXX::219:166+57284",
        "BGP: Unexpected connect from unknown address 300.1.2.3 (port 1)",
        # binary garbage around a keyword
        "\x00\x01\ufffdBADAUTH\ufffd\x7f(179)",
    ],
)
def test_not_understood(line):
    finding = classify(line)[0]
    assert finding is None


@pytest.mark.parametrize(
    "line",
    [
        "fpc0 PFE_FW_SYSLOG_IP: FW: xe-0/0/1.0  A  tcp 198.51.100.9 192.0.2.254  62000 179 (3 packets)",  # accepted
        "fpc0 PFE_FW_SYSLOG_IP: FW: xe-0/0/1.0  D  udp 198.51.100.9 192.0.2.254  62000 179 (3 packets)",  # udp
        "%SEC-6-IPACCESSLOGP: list 1 denied tcp 198.51.100.7(51234) -> 192.0.2.254(1790), 1 packet",  # 1790
        "%SEC-6-IPACCESSLOGP: list 1 denied tcp 198.51.100.7(17900) -> 192.0.2.254(22), 1 packet",
        "%TCP-6-BADAUTH: Invalid MD5 digest from 10.5.0.1(646) to 10.8.0.1(23386) (RST) tableid - 0",  # LDP
    ],
)
def test_not_bgp(line):
    finding = classify(line)[0]
    assert finding == NOT_BGP


def test_platform_restricts_the_catalogue():
    line = "2026-11-22 18:51:38.500 <WARN> BGP: Unexpected connect from unknown address 127.0.0.9 (port 1)"
    assert classify(line, "junos") is None
    assert classify(line, "bird")[0].address == "127.0.0.9"
    assert {m.platform for m in messages_for("ios", ["md5_mismatch"])} == {"ios"}
    assert [m.keyword for m in messages_for("auto", ["peer_as_mismatch"])] == [
        b"(Open Message Error) subcode 2 (bad peer AS number)",
        b"2/2 (peer in wrong AS)",
    ]
