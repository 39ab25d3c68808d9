"""`make demo`'s job: the scan of the bundled demo logs gives the report the README promises,
check mode reads but writes nothing, and AWX-style credentials from the environment work."""

import email
import email.policy
import json
import os

from playbook_runner import ROOT, run_playbook

DEMO_INVENTORY = os.path.join(ROOT, "demo", "inventory.yml")


def test_demo_report(tmp_path):
    code, output, report = run_playbook("peerwarden.bgp.scan_unsolicited", DEMO_INVENTORY, str(tmp_path))
    assert code == 0, output
    knocks = {(k["address"], k["kind"]): (k["count"], k["routers"]) for k in report["knocks"]}
    assert knocks == {
        ("192.0.2.66", "unconfigured_neighbor"): (9, ["edge1", "rs1"]),  # 1 + "repeated 5 times" + 1, and 2 at rs1
        ("2001:db8:ffff::66", "unconfigured_neighbor"): (1, ["edge1"]),
        ("192.0.2.77", "md5_unexpected"): (2, ["edge1"]),
        ("192.0.2.10", "md5_mismatch"): (1, ["edge1"]),
        ("192.0.2.88", "peer_as_mismatch"): (1, ["edge1"]),
        ("192.0.2.99", "firewall_drop_bgp"): (1, ["edge1"]),
        ("198.51.100.66", "firewall_drop_bgp"): (3, ["edge2"]),
        ("2001:db8:eeee::66", "firewall_drop_bgp"): (1, ["edge2"]),
    }
    assert "192.0.2.66         unconfigured_neighbor  9" in output
    # the bundled IX-F export and PeeringDB dump name every network but one
    peers = [(g["asn"], g["name"], g["contacts"], len(g["addresses"])) for g in report["peers"]]
    assert peers == [
        (64500, "Example Net", ["peering@example.net"], 2),
        (64504, "Firewall Net", ["peering@firewall.example"], 2),
        (64501, "Password Net", ["noc@password.example"], 1),
        (64502, "Configured Net", ["peering@configured.example"], 1),
        (64503, "Renumbered Net", ["tech@renumbered.example"], 1),
        (None, "unknown", [], 1),
    ]
    assert "AS64500 Example Net (Policy: peering@example.net)" in output


def test_check_mode_reads_and_writes_nothing(tmp_path):
    code, output, report = run_playbook(
        "peerwarden.bgp.scan_unsolicited", DEMO_INVENTORY, str(tmp_path), options=["--check"]
    )
    assert code == 0, output
    assert report is None  # copy does not write in check mode
    assert "198.51.100.66" in output  # but the scan ran and the table was shown


def test_the_main_job_in_check_mode_says_would_send_and_diffs_the_text(tmp_path):
    extra = {"peerwarden_outbox": str(tmp_path / "outbox"), "peerwarden_store": str(tmp_path / "notify.sqlite")}
    code, output, dummy = run_playbook(
        "peerwarden.bgp.notify_unsolicited",
        DEMO_INVENTORY,
        str(tmp_path),
        extra_vars=extra,
        options=["--check", "--diff"],
    )
    assert code == 0, output
    assert output.count("WOULD SEND AS") == 4 and "SENT " not in output
    assert output.count("WOULD SEND <pw.") == 4  # one diff per message, headed by its Message-ID
    assert "- From your address 192.0.2.88 on Example-IX LAN" in output  # the decoded text, not MIME
    assert "Content-Transfer-Encoding" not in output and "<html>" not in output
    assert "Reports (not written in check mode)" in output
    assert not (tmp_path / "outbox").exists() and not (tmp_path / "notify.sqlite").exists()
    assert not (tmp_path / "report").exists()


def test_awx_network_credentials_from_the_environment(tmp_path, ios_double):
    ios = ios_double(
        show_logging="022702: Nov 20 10:05:00.200 UTC: %TCP-6-BADAUTH: Invalid MD5 digest from "
        "203.0.113.5(40000) to 203.0.113.1(179) tableid - 0\n"
    )
    inventory = {
        "all": {
            "children": {
                "routers": {
                    "hosts": {
                        "ios1": {
                            "ansible_host": ios.host,
                            "ansible_port": ios.port,
                            "ansible_network_os": "cisco.ios.ios",
                            "ansible_connection": "ansible.netcommon.network_cli",
                        }
                    }
                }
            }
        }
    }
    code, output, report = run_playbook(
        "peerwarden.bgp.scan_unsolicited",
        inventory,
        str(tmp_path),
        extra_env={"ANSIBLE_NET_USERNAME": ios.username, "ANSIBLE_NET_PASSWORD": ios.password},
    )
    assert code == 0, output
    assert [(e["address"], e["kind"]) for e in report["events"]] == [("203.0.113.5", "md5_mismatch")]
    assert ios.password not in output


def test_the_main_job_writes_each_network_once_and_says_why_the_second_time(tmp_path):
    """make demo: scan, name, one email per network into the outbox; run again: nothing new."""
    extra = {"peerwarden_outbox": str(tmp_path / "outbox"), "peerwarden_store": str(tmp_path / "notify.sqlite")}
    code, output, dummy = run_playbook(
        "peerwarden.bgp.notify_unsolicited", DEMO_INVENTORY, str(tmp_path), extra_vars=extra
    )
    assert code == 0, output
    with open(tmp_path / "report" / "notifications.json", encoding="utf-8") as handle:
        first = json.load(handle)
    assert sorted((e["asn"], tuple(e["to"])) for e in first["sent"]) == [
        (64500, ("peering@example.net",)),
        (64501, ("noc@password.example",)),
        (64503, ("tech@renumbered.example",)),
        (64504, ("peering@firewall.example",)),
    ]
    assert len(os.listdir(tmp_path / "outbox")) == 4
    texts = {}
    for path in first["messages"]:
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"]
        texts[message["To"]] = message.get_body(("plain",)).get_content()
        assert max(len(line) for line in texts[message["To"]].splitlines()) <= 72
    # per knock our router(s) and address(es): from the drop lines (edge2) or the inventory's our.routers
    for to, knock in [
        (
            "peering@example.net",
            "192.0.2.66 on Example-IX LAN\n  to our routers edge1, rs1, our addresses 192.0.2.1, 192.0.2.2",
        ),
        (
            "peering@example.net",
            "2001:db8:ffff::66 on Example-IX LAN\n  to our router edge1, our address 2001:db8:ffff::1",
        ),
        ("noc@password.example", "192.0.2.77 on Example-IX LAN\n  to our router edge1, our address 192.0.2.1"),
        (
            "peering@firewall.example",
            "198.51.100.66 on Sample-IX LAN\n  to our router edge2, our address 198.51.100.1",
        ),
        ("tech@renumbered.example", "192.0.2.88 on Example-IX LAN\n  to our router edge1, our address 192.0.2.1"),
    ]:
        assert "- From your address " + knock + "\n" in texts[to], texts[to]
    renumbered = " ".join(texts["tech@renumbered.example"].split())
    assert "AS in your router's OPEN: AS64512, AS we expect: AS64503" in renumbered
    assert "If not, please remove" not in renumbered  # it is configured: nothing to remove
    skipped = {e["asn"]: e["reason"] for e in first["skipped_peers"]}
    assert skipped[64502].startswith("only md5_mismatch")  # a configured neighbour: never a "please stop"
    code, output, dummy = run_playbook(
        "peerwarden.bgp.notify_unsolicited", DEMO_INVENTORY, str(tmp_path), extra_vars=extra
    )
    assert code == 0, output
    with open(tmp_path / "report" / "notifications.json", encoding="utf-8") as handle:
        second = json.load(handle)
    assert second["sent"] == [] and len(os.listdir(tmp_path / "outbox")) == 4
    assert all(
        e["reason"].startswith("inside the renotify window")
        for e in second["skipped_peers"]
        if e["asn"] in (64500, 64501, 64503, 64504)
    )
    assert "inside the renotify window" in output
