"""log_events over the SSH CLI test doubles: an IOS buffer that mixes every timestamp form, and JunOS
log files whose lines carry every header form, give the same findings as the same lines in a file."""

from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.run import run_log_events

pytestmark = pytest.mark.lab

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# Service-timestamp "*" lines, a zone (CEST), sequence numbers or none, the "." unsynced marker, a
# year, an uptime stamp, a continuation line: IPv4 and IPv6 for each finding class IOS logs.
IOS_BUFFER = """\
rtual-PPP2, changed state to down
7:04: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet2/0/3, changed state to up
*Oct 22 17:37:43.987: %TCP-6-BADAUTH: Invalid MD5 digest from 172.16.12.2(39656) to 172.16.12.1(179) tableid - 0
*Nov 14 06:00:45.693: %CRYPTO-4-PKT_REPLAY_ERR: decrypt: replay check failed
        connection id=29, sequence number=219
022701: Nov 20 10:05:00.200 CEST: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.1(51000) \
(GigabitEthernet0/0/1 0011.2233.4455) -> 192.0.2.2(179), 1 packet
.Nov 20 10:06:00.590 EDT: %SEC-6-IPACCESSLOGP: list 102 denied tcp 10.0.6.56(3067) -> 172.36.4.7(179), 1 packet
*May 12 2026 13:35:15.181 UTC: %TCP-6-BADAUTH: Invalid MD5 digest from 2406:6400:4::(37854) to \
2406:6400:4::1(179) tableid - 0
022702: Nov 20 10:07:00.200 UTC: %IPV6_ACL-6-ACCESSLOGP: list IXP6-IN/20 denied tcp 2001:DB8:EEEE::6(51001) \
(GigabitEthernet0/0/1 0011.2233.4455) -> 2001:db8:eeee::1(179), 1 packet
Nov 20 10:08:00: %BGP-3-NOTIFICATION: sent to neighbor 192.0.2.12 active 2/2 (peer in wrong AS) 2 bytes 0064
022703: *Nov 20 10:09:00.100: %BGP-3-NOTIFICATION: sent to neighbor 2001:db8:eeee::12 passive 2/2 \
(peer in wrong AS) 2 bytes FDE8
Nov 20 10:10:00.100: %BGP-3-NOTIFICATION: received from neighbor 192.0.2.13 2/2 (peer in wrong AS) 2 bytes 0065
2y10w: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (192.0.2.200)
"""
IOS_EXPECTED = {
    ("md5_mismatch", "172.16.12.2", "2026-10-22T17:37:43Z", None),
    ("firewall_drop_bgp", "192.0.2.1", "2026-11-20T08:05:00Z", None),
    ("firewall_drop_bgp", "10.0.6.56", "2026-11-20T14:06:00Z", None),
    ("md5_mismatch", "2406:6400:4::", "2026-05-12T13:35:15Z", None),
    ("firewall_drop_bgp", "2001:db8:eeee::6", "2026-11-20T10:07:00Z", None),
    ("peer_as_mismatch", "192.0.2.12", "2026-11-20T10:08:00Z", 100),
    ("peer_as_mismatch", "2001:db8:eeee::12", "2026-11-20T10:09:00Z", 65000),
}

# JunOS files as `show log` prints them; a log file fed by remote syslog carries other hosts' headers
JUNOS_MESSAGES = """\
Nov 20 08:00:01  edge1 chassism[1165]: IFCM: no handler for command subtype 179
Nov 20 08:14:09  edge1 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.55+51528
Nov 20 08:14:09  edge1 last message repeated 2 times
Nov 20 08:20:00  edge1 rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to 2001:db8:ffff::66+51529 (proto): \
code 6 (Cease) subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: 2001:db8:ffff::66+51529
Nov 20 08:30:00  edge1 last message repeated 4 times
"""
JUNOS_REMOTE = """\
<4>2026-11-20T09:00:00.123456+01:00 edge2 kernel: tcp_auth_ok: Packet from 192.0.2.77:60042 unexpectedly has MD5 digest
Nov 20 2026 08:01:00 edge2 kernel: tcp_auth_ok: Packet from 2001:db8:1::77:60043 wrong MD5 digest
\tNov 20 08:02:00\tedge2\tfpc0 PFE_FW_SYSLOG_IP: FW: et-0/0/0.100  D  tcp 192.0.2.99 192.0.2.1  50200 179 (1 packets)
<28>1 2026-11-20T08:03:00Z edge2 rpd 4936 - - bgp_pp_recv:4609: NOTIFICATION sent to 192.0.2.6+44759 (proto): \
code 2 (Open Message Error) subcode 2 (bad peer AS number), Reason: no group for 192.0.2.6+44759 (proto) from AS 65123 \
found (peer as mismatch) in master(ae1.0), dropping him
Nov 20 08:04:00 198.51.100.2 rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 2001:db8::10+40010
"""


def params(double, network_os, **more):
    base = {
        "source": "device",
        "platform": network_os,
        "host": double.host,
        "port": double.port,
        "username": double.username,
        "password": double.password,
        "host_key_checking": False,
        "inventory_hostname": "inv-" + double.platform,
    }
    base.update(more)
    return base


def test_ios_buffer_with_mixed_timestamp_forms_over_ssh(ios_double, tmp_path):
    double = ios_double(show_logging=IOS_BUFFER)
    result = run_log_events(params(double, "cisco.ios.ios"), now=NOW)
    found = {(e["kind"], e["address"], e["first_seen"], e.get("peer_as")) for e in result["events"]}
    assert found == IOS_EXPECTED
    assert {e["router"] for e in result["events"]} == {"inv-ios"}
    assert result["stats"]["not_understood"] == 0, result["stats"]["not_understood_samples"]
    assert result["stats"]["not_bgp"] == 1  # the "received from": our OPEN refused, nobody knocking
    interfaces = {e["address"]: e["interface"] for e in result["events"]}
    assert interfaces["192.0.2.1"] == interfaces["2001:db8:eeee::6"] == "GigabitEthernet0/0/1"

    # the same lines in a file give the same findings
    path = tmp_path / "ios.log"
    path.write_text(IOS_BUFFER)
    from_file = run_log_events({"source": "file", "path": [str(path)], "router": "inv-ios"}, now=NOW)
    assert {(e["kind"], e["address"], e["first_seen"], e.get("peer_as")) for e in from_file["events"]} == IOS_EXPECTED


def test_junos_files_with_every_header_form_over_ssh(junos_double):
    double = junos_double(logs={"messages": JUNOS_MESSAGES, "remote": JUNOS_REMOTE})
    result = run_log_events(
        params(double, "junipernetworks.junos.junos", log_files=["messages", "remote"], firewall_log=False), now=NOW
    )
    found = {(e["kind"], e["address"], e["count"], e["first_seen"], e["last_seen"]) for e in result["events"]}
    assert found == {
        ("unconfigured_neighbor", "192.0.2.55", 3, "2026-11-20T08:14:09Z", "2026-11-20T08:14:09Z"),
        ("unconfigured_neighbor", "2001:db8:ffff::66", 5, "2026-11-20T08:20:00Z", "2026-11-20T08:30:00Z"),
        ("md5_unexpected", "192.0.2.77", 1, "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z"),
        ("md5_mismatch", "2001:db8:1::77", 1, "2026-11-20T08:01:00Z", "2026-11-20T08:01:00Z"),
        ("firewall_drop_bgp", "192.0.2.99", 1, "2026-11-20T08:02:00Z", "2026-11-20T08:02:00Z"),
        ("peer_as_mismatch", "192.0.2.6", 1, "2026-11-20T08:03:00Z", "2026-11-20T08:03:00Z"),
        ("unconfigured_neighbor", "2001:db8::10", 1, "2026-11-20T08:04:00Z", "2026-11-20T08:04:00Z"),
    }
    # read from the router itself: every finding is that router's, whatever host its header names
    assert {e["router"] for e in result["events"]} == {"inv-junos"}
    assert result["stats"]["not_understood"] == 0
