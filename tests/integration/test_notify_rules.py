"""notify_peers' rules with an outbox: once per network, the renotify window, new addresses,
escalation, suppression, max_per_run, resolution, check mode, unsafe data and templates; each
with the SQLite store and with a real PostgreSQL store."""

import email
import email.policy
import os
from datetime import datetime, timedelta

import pytest
from unit.notify_helpers import group, params

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.render import TemplateProblem
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.store import open_store

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
PEERS = [
    group(64500, "Example Net", ["192.0.2.66", "2001:db8:ffff::66"]),
    group(64501, "Password Net", ["192.0.2.77"], kinds=("md5_unexpected",), role="NOC"),
    group(64502, "Configured Net", ["192.0.2.10"], kinds=("md5_mismatch",)),
    group(64503, "Silent Net", ["192.0.2.88"], contacts=()),
    {"asn": None, "name": "unknown", "addresses": [{"address": "192.0.2.99"}], "exchanges": ["Example-IX"]},
]


@pytest.fixture
def run(store, tmp_path):
    def run_once(peers=None, now=NOW, check_mode=False, **more):
        settings = params(store, PEERS if peers is None else peers, outbox=str(tmp_path / "outbox"), **more)
        return run_notify(settings, check_mode=check_mode, now=now)

    return run_once


def read(path):
    with open(path, "rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)


def header(message, name):
    """A header's text; long ones come back folded right after the colon, hence the strip."""
    return str(message[name]).strip() if message[name] is not None else None


def reasons(result):
    return {(e["asn"] if e["asn"] is not None else e.get("address")): e["reason"] for e in result["skipped_peers"]}


def test_first_run_writes_one_message_per_network(run, store, tmp_path):
    result = run()
    assert [(e["asn"], e["to"]) for e in result["sent"]] == [
        (64500, ["peering@as64500.example"]),
        (64501, ["peering@as64501.example"]),
    ]
    skipped = reasons(result)
    assert skipped[64502].startswith("only md5_mismatch")
    assert skipped[64503].startswith("no contact")
    assert skipped["192.0.2.99"].startswith("no source knows this address")
    assert len(result["messages"]) == 2
    message = read(result["messages"][0])
    assert message["To"] == "peering@as64500.example"
    assert message["From"] == "Small ISP <peering@small-isp.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == result["sent"][0]["message_id"]
    assert header(message, "Subject") == "BGP connection attempts from AS64500 (Example Net) at Example-IX"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "192.0.2.66 on Example-IX LAN" in text and "2001:db8:ffff::66" in text
    assert "no session configured for its address" in " ".join(text.split())
    assert "https://small-isp.example/peering" in text
    assert "<code>192.0.2.66</code>" in html
    assert "TCP-MD5 password" in read(result["messages"][1]).get_body(("plain",)).get_content()


def test_second_run_sends_nothing_and_says_why(run, store, tmp_path):
    run()
    again = run(now=NOW + timedelta(days=1))
    assert again["sent"] == [] and again["failed_messages"] == []
    assert reasons(again)[64500].startswith(
        "inside the renotify window: written 2026-11-22T03:00:00Z, next possible 2026-12-22T03:00:00Z"
    )


def test_new_addresses_and_the_window_bring_reminders_then_escalation_then_silence(run, store, tmp_path):
    run()
    moved = [
        group(
            64500,
            "Example Net",
            ["192.0.2.66", "192.0.2.67"],
            by_role={"Policy": ["peering@as64500.example"], "NOC": ["noc@as64500.example"]},
        )
    ]
    second = run(peers=moved, now=NOW + timedelta(days=2))
    assert [e["asn"] for e in second["sent"]] == [64500]
    assert header(read(second["messages"][0]), "Subject").startswith("Reminder: ")
    third = run(peers=moved, now=NOW + timedelta(days=40), escalate_to="NOC")
    assert third["sent"][0]["escalation"] is False
    fourth = run(peers=moved, now=NOW + timedelta(days=80), escalate_to="NOC")
    assert fourth["sent"][0]["escalation"] is True and fourth["sent"][0]["to"] == ["noc@as64500.example"]
    assert "writing to your NOC contact" in read(fourth["messages"][0]).get_body(("plain",)).get_content()
    fifth = run(peers=moved, now=NOW + timedelta(days=120), escalate_to="NOC")
    assert fifth["sent"] == []
    assert reasons(fifth)[64500] == "stopped: 4 notifications sent (max_notifications 3), escalation done"


def test_suppress_and_max_per_run(run, store, tmp_path):
    result = run(suppress=["AS64500"], max_per_run=0)
    assert reasons(result)[64500] == "suppressed (option suppress)"
    assert reasons(result)[64501].startswith("over max_per_run (0)")
    by_address = run(suppress=["192.0.2.77"])
    assert reasons(by_address)[64501] == "suppressed (option suppress)"


def test_quiet_networks_are_resolved(run, store, tmp_path):
    run()
    later = run(peers=[PEERS[1]], now=NOW + timedelta(days=20))
    assert [(e["asn"], e["exchange"]) for e in later["resolved"]] == [(64500, "Example-IX")]
    memory = open_store(store)
    states = {r["asn"]: r["state"] for r in memory.networks()}
    assert states == {64500: "resolved", 64501: "active", 64502: "active", 64503: "active"}
    memory.close()
    assert run(peers=[PEERS[1]], now=NOW + timedelta(days=21))["resolved"] == []  # once


def test_check_mode_changes_nothing(run, store, tmp_path):
    result = run(check_mode=True)
    assert [e["reason"] for e in result["sent"]] == ["would send (check mode)"] * 2
    assert (
        len(result["previews"]) == 2
        and "Subject: BGP connection attempts from AS64500" in result["previews"][0]["text"]
    )
    assert not (tmp_path / "outbox").exists()
    if store.endswith(".sqlite"):
        assert not os.path.exists(store)
    else:
        memory = open_store(store)
        assert memory.networks() == [] and memory.messages() == []
        memory.close()
    run()
    before = sorted(os.listdir(tmp_path / "outbox"))
    checked = run(check_mode=True, now=NOW + timedelta(days=40))
    assert len(checked["sent"]) == 2 and sorted(os.listdir(tmp_path / "outbox")) == before
    memory = open_store(store)
    assert [r["notifications"] for r in memory.networks() if r["asn"] == 64500] == [1]
    memory.close()


def test_redirect_to_shows_the_real_recipients(run, store, tmp_path):
    result = run(redirect_to="noc@small-isp.example", cc=["peering-team@small-isp.example"])
    message = read(result["messages"][0])
    assert message["To"] == "noc@small-isp.example" and message["Cc"] is None
    assert header(message, "X-Peerwarden-Original-To") == "peering@as64500.example, peering-team@small-isp.example"
    assert (
        message.get_body(("plain",))
        .get_content()
        .startswith("[peerwarden test mode: this message was meant for peering@as64500.example")
    )


def test_header_injection_is_refused(run, store, tmp_path):
    evil = [
        group(64500, "Evil\r\nBcc: victim@example.org", ["192.0.2.66"]),
        group(64501, "Fine Net", ["192.0.2.77"], contacts=("peering@as%(asn)d.example\r\nBcc: x@example.org",)),
    ]
    result = run(peers=evil)
    assert result["sent"] == []
    assert [(e["asn"], e["permanent"]) for e in result["failed_messages"]] == [(64500, True), (64501, True)]
    assert all("contains a line break" in e["reason"] for e in result["failed_messages"])
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(
    "template,message",
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "tried to reach Python internals"),
        ("{{ peer.nonexistent }}", "uses an undefined variable"),
        ("{% for x in %}", "syntax error at line 1"),
    ],
)
def test_bad_templates_are_clear_errors(run, store, tmp_path, template, message):
    with pytest.raises(TemplateProblem, match=message):
        run(template=template)


def test_a_custom_template_is_plain_text_only(run, store, tmp_path):
    result = run(
        template="AS{{ peer.asn }}: {{ peer.addresses | map(attribute='address') | join(' ') }}\n",
        subject="Hello AS{{ peer.asn }}",
    )
    message = read(result["messages"][0])
    assert message["Subject"] == "Hello AS64500" and not message.is_multipart()
    assert message.get_content() == "AS64500: 192.0.2.66 2001:db8:ffff::66\n"
