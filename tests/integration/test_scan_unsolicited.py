"""The user's story end to end: strangers knock on the routers' port 179, and the scan over the
inventory (FRR over SSH/vtysh, BIRD's log file, a JunOS and an IOS router) reports exactly them.

Real FRR bgpd and BIRD run on loopback; JunOS and IOS are SSH test doubles that print real lines.
"""

import csv
import gzip
import json
import os
import socket

import pytest

from lab.daemons import knock, wait_for_log
from playbook_runner import run_playbook

pytestmark = pytest.mark.lab

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}

JUNOS_MESSAGES = """\
Nov 20 08:00:01  edge1 chassism[1165]: IFCM: no handler for command subtype 179
Nov 20 08:14:09  edge1 rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to 2001:db8:ffff::66+51528 (proto): \
code 6 (Cease) subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: 2001:db8:ffff::66+51528
Nov 20 08:14:09  edge1 last message repeated 2 times
Nov 20 11:30:00  edge1 kernel: tcp_auth_ok: Packet from 192.0.2.77:60042 unexpectedly has MD5 digest
Nov 20 11:30:30  edge1 kernel: tcp_auth_ok: Packet from 192.0.2.77:60043 unexpectedly has MD5 digest
Nov 21 03:00:00  edge1 rpd[1402]: bgp_listen_accept: accept(0.0.0.0+179): Too many open files in system
"""
JUNOS_FW_FILE = """\
Nov 21 07:00:00  edge1 fpc0 PFE_FW_SYSLOG_IP: FW: et-0/0/0.100  D  tcp 192.0.2.99 192.0.2.1  50200 179 (1 packets)
Nov 21 07:00:05  edge1 fpc0 PFE_FW_SYSLOG_IP: FW: et-0/0/0.100  A  tcp 192.0.2.1 192.0.2.2  179 50300 (1 packets)
"""


def junos_drop(time, src, sport, dport):
    """One entry of the Junos double's firewall log: a TCP packet the pfe filter dropped on et-0/0/0.100."""
    return dict(
        time=time,
        date="2026-11-21",
        filter="pfe",
        action="D",
        interface="et-0/0/0.100",
        protocol="TCP",
        src=src,
        dst="198.51.100.1",
        sport=sport,
        dport=dport,
        length=60,
    )


JUNOS_FIREWALL_LOG = [
    junos_drop("09:10:11", "198.51.100.5", 41000, 179),
    junos_drop("09:10:12", "198.51.100.5", 41001, 179),
    junos_drop("09:10:13", "198.51.100.6", 41002, 22),
]
IOS_BUFFER = """\
022701: Nov 19 03:02:31: %LINEPROTO-5-UPDOWN: Line protocol on Interface TenGigabitEthernet0/0/0, changed state to down
022702: Nov 20 10:05:00.200 UTC: %TCP-6-BADAUTH: Invalid MD5 digest from 203.0.113.5(40000) to 203.0.113.1(179) tableid - 0
022703: Nov 20 10:06:00.200 UTC: %TCP-6-BADAUTH: No MD5 digest from 10.5.0.1(646) to 10.8.0.1(16178) tableid - 0
022704: Nov 20 10:07:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.6(51000) -> 203.0.113.1(179), 1 packet
022705: Nov 20 10:12:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 2001:db8:eeee::6(51001) -> 2001:db8:eeee::1(179), 1 packet
022706: Nov 20 10:17:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.6(51002) -> 203.0.113.1(179), 1 packet
022707: Nov 20 10:18:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied udp 203.0.113.7(137) -> 203.0.113.1(137), 3 packets
*Nov 20 10:19:00.200: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.6(51003) (GigabitEthernet0/0/1 \
0011.2233.4455) -> 203.0.113.1(179), 1 packet
022708: Nov 20 10:20:00.200 CEST: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.8(51004) -> 203.0.113.1(179), 1 pa
"""
IOS_CUT_SHORT = IOS_BUFFER.splitlines()[-1]

# (router, address, kind) -> count: what the knocks and the doubles' lines above add up to.
EXPECTED = {
    ("frr1", "127.0.0.9", "unconfigured_neighbor"): 2,
    ("frr1", "127.0.0.10", "unconfigured_neighbor"): 3,
    ("bird1", "127.0.0.9", "unconfigured_neighbor"): 4,
    ("bird1", "127.0.0.10", "unconfigured_neighbor"): 1,
    ("junos1", "2001:db8:ffff::66", "unconfigured_neighbor"): 3,
    ("junos1", "192.0.2.77", "md5_unexpected"): 2,
    ("junos1", "192.0.2.99", "firewall_drop_bgp"): 1,
    ("junos1", "198.51.100.5", "firewall_drop_bgp"): 2,
    ("ios1", "203.0.113.5", "md5_mismatch"): 1,
    ("ios1", "203.0.113.6", "firewall_drop_bgp"): 3,
    ("ios1", "2001:db8:eeee::6", "firewall_drop_bgp"): 1,
}


def device(double, network_os, **more):
    host = {
        "ansible_host": double.host,
        "ansible_port": double.port,
        "ansible_user": double.username,
        "ansible_password": double.password,
        "ansible_network_os": network_os,
    }
    host.update(more)
    return host


@pytest.fixture
def lab(frr_router, vtysh_sshd, make_bird_router, junos_double, ios_double):
    bird = make_bird_router(address="127.0.0.3")
    for router, knocks in ((frr_router, {"127.0.0.9": 2, "127.0.0.10": 3}), (bird, {"127.0.0.9": 4, "127.0.0.10": 1})):
        for source, times in knocks.items():
            knock(source, router.address, router.port, times=times)
    wait_for_log(frr_router.log_path, r"connection rejected.* - not configured", count=5)
    wait_for_log(bird.log_path, r"Unexpected connect from unknown address", count=5)
    junos = junos_double(logs={"messages": JUNOS_MESSAGES, "fw-bgp": JUNOS_FW_FILE}, firewall_log=JUNOS_FIREWALL_LOG)
    ios = ios_double(show_logging=IOS_BUFFER)
    # a normal network inventory: network_cli and netconf connections, as AWX users write them
    return (
        {
            "frr1": device(vtysh_sshd, "frr.frr.frr"),  # network_cli would need the frr.frr collection
            "bird1": {"peerwarden_log_source": "file", "peerwarden_log_paths": [str(bird.log_path)]},
            "junos1": device(
                junos,
                "junipernetworks.junos.junos",
                peerwarden_log_files=["messages", "fw-bgp"],
                ansible_connection="ansible.netcommon.netconf",
            ),
            "ios1": device(ios, "cisco.ios.ios", ansible_connection="ansible.netcommon.network_cli"),
        },
        junos,
        ios,
    )


def inventory(hosts):
    return {"all": {"vars": dict(LOCAL), "hosts": {"localhost": {}}, "children": {"routers": {"hosts": hosts}}}}


def test_scan_reports_exactly_who_knocked(lab, tmp_path):
    hosts, junos, ios = lab
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", inventory(hosts), str(tmp_path))
    assert code == 0, output
    found = {(e["router"], e["address"], e["kind"]): e["count"] for e in report["events"]}
    assert found == EXPECTED
    assert report["routers_failed"] == {}
    # across routers: 127.0.0.9 knocked at FRR and BIRD
    knocks = {(k["address"], k["kind"]): k for k in report["knocks"]}
    assert knocks[("127.0.0.9", "unconfigured_neighbor")]["count"] == 6
    assert knocks[("127.0.0.9", "unconfigured_neighbor")]["routers"] == ["bird1", "frr1"]
    assert knocks[("198.51.100.5", "firewall_drop_bgp")]["interfaces"] == ["et-0/0/0.100"]
    assert knocks[("198.51.100.5", "firewall_drop_bgp")]["first_seen"] == "2026-11-21T09:10:11Z"
    # the readable table and the CSV
    assert "2001:db8:ffff::66" in output and "unconfigured_neighbor" in output
    with open(tmp_path / "report" / "knocks.csv", encoding="utf-8") as handle:
        rows = handle.read().splitlines()
    assert rows[0].startswith("address,kind,count") and len(rows) == 1 + len(knocks)
    # what could not be read is in the JSON, its own CSV and the printed summary, not hidden
    assert report["not_understood"] == [
        {"router": "ios1", "source": "show logging", "count": 1, "samples": [IOS_CUT_SHORT]}
    ]
    assert "NOT UNDERSTOOD: 1 line with a watched message could not be read" in output
    assert "ios1  show logging  1" in output
    with open(tmp_path / "report" / "not_understood.csv", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["router", "source", "count", "sample"],
            ["ios1", "show logging", "1", IOS_CUT_SHORT],
        ]
    # the doubles were driven with the commands the drivers are meant to use
    assert {"show log messages", "show log fw-bgp", "show firewall log detail"} <= set(junos.commands)
    assert "show logging" in ios.commands


def write_ixp_sources(directory):
    """An IX-F export for a loopback "exchange" where the knocking addresses were handed out before,
    and a PeeringDB dump for the documentation-range exchange of the doubles."""
    ixf = {
        "version": "1.0",
        "timestamp": "2026-11-22T00:00:00Z",
        "ixp_list": [
            {
                "ixp_id": 1,
                "ixf_id": 9100,
                "shortname": "Loopback-IX",
                "vlan": [{"id": 1, "name": "Loopback-IX LAN", "ipv4": {"prefix": "127.0.0.0", "mask_length": 24}}],
            }
        ],
        "member_list": [
            {
                "asnum": 64510,
                "name": "Stale Net",
                "connection_list": [{"ixp_id": 1, "vlan_list": [{"vlan_id": 1, "ipv4": {"address": "127.0.0.9"}}]}],
            },
            {
                # on the exchange's list only (not in PeeringDB): its contact, policy and AS-SET come from
                # the export, in the fields IXP Manager fills (fixtures/ixp/ixpmanager_ixf_1.0_auth.json)
                "asnum": 64511,
                "name": "Old Tenant",
                "peering_policy": "selective",
                "peering_policy_url": "https://old-tenant.example/peering",
                "contact_email": ["noc@old-tenant.example"],
                "connection_list": [
                    {
                        "ixp_id": 1,
                        "vlan_list": [
                            {
                                "vlan_id": 1,
                                "ipv4": {"address": "127.0.0.10", "as_macro": "AS-OLDTENANT", "max_prefix": 50},
                            }
                        ],
                    }
                ],
            },
        ],
    }
    peeringdb = {
        "ix": [{"id": 7, "name": "Example-IX", "status": "ok"}],
        "ixlan": [{"id": 70, "ix_id": 7, "name": "Example-IX LAN", "status": "ok"}],
        "ixpfx": [
            {"id": 1, "ixlan_id": 70, "protocol": "IPv4", "prefix": "192.0.2.0/24"},
            {"id": 2, "ixlan_id": 70, "protocol": "IPv6", "prefix": "2001:db8:ffff::/64"},
        ],
        "netixlan": [
            {
                "id": 1,
                "net_id": 1,
                "ix_id": 7,
                "ixlan_id": 70,
                "asn": 64500,
                "ipaddr4": None,
                "ipaddr6": "2001:db8:ffff::66",
                "status": "ok",
            },
            {
                "id": 2,
                "net_id": 2,
                "ix_id": 7,
                "ixlan_id": 70,
                "asn": 64501,
                "ipaddr4": "192.0.2.77",
                "ipaddr6": None,
                "status": "ok",
            },
            {
                "id": 3,
                "net_id": 3,
                "ix_id": 7,
                "ixlan_id": 70,
                "asn": 64510,
                "ipaddr4": None,
                "ipaddr6": None,
                "status": "ok",
            },
        ],
        "net": [
            {"id": 1, "asn": 64500, "name": "Example Net", "status": "ok"},
            {"id": 2, "asn": 64501, "name": "Password Net", "status": "ok"},
            {"id": 3, "asn": 64510, "name": "Stale Net", "policy_general": "Open", "status": "ok"},
        ],
        "poc": [
            {
                "id": 1,
                "net_id": 1,
                "role": "Policy",
                "name": "P",
                "email": "peering@example.net",
                "visible": "Public",
                "status": "ok",
            },
            {
                "id": 2,
                "net_id": 2,
                "role": "NOC",
                "name": "N",
                "email": "noc@password.example",
                "visible": "Public",
                "status": "ok",
            },
            {
                "id": 3,
                "net_id": 3,
                "role": "Policy",
                "name": "S",
                "email": "peering@stale.example",
                "visible": "Public",
                "status": "ok",
            },
        ],
    }
    dump = directory / "peeringdb"
    dump.mkdir()
    for object_type, records in peeringdb.items():
        (dump / (object_type + ".json")).write_text(json.dumps({"data": records}))
    (directory / "loopback-ix.json").write_text(json.dumps(ixf))
    return {"peerwarden_ixf": [str(directory / "loopback-ix.json")], "peerwarden_peeringdb": {"dump_dir": str(dump)}}


def test_scan_then_resolve_names_every_network(lab, tmp_path):
    """scan -> ixp_data (offline files) -> resolve_peers: the right ASN, name and contact per address."""
    hosts, junos, ios = lab
    code, output, report = run_playbook(
        "peerwarden.bgp.scan_unsolicited", inventory(hosts), str(tmp_path), extra_vars=write_ixp_sources(tmp_path)
    )
    assert code == 0, output
    peers = {group["asn"]: group for group in report["peers"]}
    resolved = {
        (group["asn"], group["name"], tuple(group["contacts"])): sorted(a["address"] for a in group["addresses"])
        for group in report["peers"]
    }
    assert resolved == {
        (64510, "Stale Net", ("peering@stale.example",)): ["127.0.0.9"],
        (64511, "Old Tenant", ("noc@old-tenant.example",)): ["127.0.0.10"],
        (64500, "Example Net", ("peering@example.net",)): ["2001:db8:ffff::66"],
        (64501, "Password Net", ("noc@password.example",)): ["192.0.2.77"],
        (None, "unknown", ()): sorted(["192.0.2.99", "198.51.100.5", "203.0.113.5", "203.0.113.6", "2001:db8:eeee::6"]),
    }
    assert peers[64510]["count"] == 6 and peers[64510]["routers"] == ["bird1", "frr1"]
    assert peers[64510]["exchanges"] == ["Loopback-IX"] and peers[64510]["contact_role"] == "Policy"
    assert report["peers"][-1]["asn"] is None  # the unknown group comes last
    assert "AS64510 Stale Net (Policy: peering@stale.example)" in output
    # the network only the exchange knows is reached through the export's contact_email (role IX-F, last in order)
    tenant = peers[64511]
    assert (tenant["contact_role"], tenant["policy_general"], tenant["irr_as_set"]) == (
        "IX-F",
        "selective",
        "AS-OLDTENANT",
    )
    assert tenant["policy_url"] == "https://old-tenant.example/peering"
    assert "AS64511 Old Tenant (IX-F: noc@old-tenant.example)" in output


def test_bad_hosts_fail_alone_with_clear_messages(lab, tmp_path, ios_double):
    hosts, junos, ios = lab
    closed_port = _closed_port()
    crashing = ios_double(fail_after_login=True)
    wrong_password = dict(hosts["junos1"], ansible_password="not-the-password")
    (tmp_path / "logs").mkdir()
    hosts.update(
        {
            "unreachable": dict(hosts["ios1"], ansible_port=closed_port),
            "badpass": wrong_password,
            "eos": dict(hosts["ios1"], ansible_network_os="arista.eos.eos"),
            "crash": device(crashing, "cisco.ios.ios"),
            "nofile": {"peerwarden_log_source": "file", "peerwarden_log_paths": [str(tmp_path / "missing.log")]},
            "dir": {"peerwarden_log_source": "file", "peerwarden_log_paths": [str(tmp_path / "logs")]},
        }
    )
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", inventory(hosts), str(tmp_path))
    assert code == 2, output  # some hosts failed
    failed = report["routers_failed"]
    assert set(failed) == {"unreachable", "badpass", "eos", "crash", "nofile", "dir"}
    assert "crash: SSH session to netops@127.0.0.1:%d failed" % crashing.port in failed["crash"]
    assert "cannot reach netops@127.0.0.1:%d" % closed_port in failed["unreachable"]
    assert "authentication failed for netops@127.0.0.1" in failed["badpass"]
    assert "unknown platform 'arista.eos.eos'" in failed["eos"]
    assert "does not exist" in failed["nofile"]
    assert "is a directory" in failed["dir"]
    # the good routers were still read, completely
    found = {(e["router"], e["address"], e["kind"]): e["count"] for e in report["events"]}
    assert found == EXPECTED
    assert "not-the-password" not in output


def test_gzip_and_truncated_files_on_a_log_host(tmp_path):
    """A log host's rotated files: plain, gzip, and a gzip cut short while being written."""
    line = "2026-11-21 0{h}:00:00.000 <WARN> BGP: Unexpected connect from unknown address 192.0.2.{a} (port 4{h}000)\n"
    (tmp_path / "bird.log").write_text(line.format(h=1, a=1))
    with gzip.open(tmp_path / "bird.log.1.gz", "wt") as handle:
        handle.write(line.format(h=2, a=1) + line.format(h=3, a=2))
    whole = gzip.compress((line.format(h=4, a=3) * 2000).encode())
    (tmp_path / "bird.log.2.gz").write_bytes(whole[: len(whole) // 2])
    hosts = {"rs1": {"peerwarden_log_source": "file", "peerwarden_log_paths": [str(tmp_path / "bird.log*")]}}
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", inventory(hosts), str(tmp_path))
    assert code == 0, output
    found = {(e["address"], e["count"]) for e in report["events"]}
    assert ("192.0.2.1", 2) in found and ("192.0.2.2", 1) in found
    partial = [count for address, count in found if address == "192.0.2.3"]
    assert partial and 0 < partial[0] < 2000  # what came before the cut was read
    assert "bird.log.2.gz: compressed data (gzip) is damaged or cut short" in output


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bird_platform_reads_its_log_over_sftp(frr_router, vtysh_sshd, make_bird_router, tmp_path):
    """ansible_network_os: bird reads the BIRD log file over SFTP (here a copy the SSH user may read)."""
    bird = make_bird_router(address="127.0.0.3")
    knock("127.0.0.11", bird.address, bird.port, times=3)
    wait_for_log(bird.log_path, r"Unexpected connect from unknown address 127\.0\.0\.11", count=3)
    readable = frr_router.vty_dir / "bird-copy.log"
    readable.write_bytes(bird.log_path.read_bytes())
    os.chown(readable, os.stat(frr_router.vty_dir).st_uid, os.stat(frr_router.vty_dir).st_gid)
    readable.chmod(0o640)
    host = device(vtysh_sshd, "bird", peerwarden_log_files=[str(readable)])
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", inventory({"rs1": host}), str(tmp_path))
    assert code == 0, output
    assert [(e["router"], e["address"], e["count"]) for e in report["events"]] == [("rs1", "127.0.0.11", 3)]
    missing = dict(host, peerwarden_log_files=[str(frr_router.vty_dir / "nope.log")])
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", inventory({"rs1": missing}), str(tmp_path))
    assert code == 2
    assert (
        "cannot read %s on 127.0.0.1 over SFTP" % (frr_router.vty_dir / "nope.log") in report["routers_failed"]["rs1"]
    )
