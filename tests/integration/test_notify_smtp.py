"""notify_peers against a real SMTP server on loopback (STARTTLS with a test CA, AUTH), with the
failures mail servers really produce and a notifier killed at the worst moments. Afterwards,
across further runs, every network got its email (or a recorded permanent failure), none got two
messages with different Message-IDs, and only a kill after the server's acceptance made a copy."""

import json
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from integration.test_notify_rules import NOW
from unit.notify_helpers import group, params

from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.store import open_store
from lab.smtp_server import closed_port
from playbook_runner import ROOT, run_playbook

pytestmark = pytest.mark.lab

PEERS = [
    group(64500, "Example Net", ["192.0.2.66"]),
    group(64501, "Other Net", ["192.0.2.77"]),
    group(64502, "Third Net", ["2001:db8:ffff::5"]),
]
USERS = {"peerwarden": "smtp-s3cret"}


@pytest.fixture
def mail(smtp_server):
    return smtp_server(tls="starttls", users=USERS)


def settings(server, store, port=None, **more):
    smtp = {
        "host": "127.0.0.1",
        "port": port or server.port,
        "security": "starttls",
        "validate_certs": True,
        "ca_file": server.ca_file,
        "username": "peerwarden",
        "password": USERS["peerwarden"],
        "timeout": 5,
    }
    return params(store, PEERS, smtp=smtp, **more)


def delivered(server):
    """(recipient, Message-ID) of every message the server accepted."""
    return [(tuple(m.rcpt_tos), m.message["Message-ID"]) for m in server.messages]


def assert_once_each(server, store, copies_allowed=()):
    """Every network has its mail; two copies only with one Message-ID, and only where allowed."""
    per_network = Counter(rcpt for rcpt, dummy in delivered(server))
    ids = {}
    for rcpt, message_id in delivered(server):
        ids.setdefault(rcpt, set()).add(message_id)
    assert sorted(per_network) == [
        ("peering@as64500.example",),
        ("peering@as64501.example",),
        ("peering@as64502.example",),
    ]
    assert all(len(found) == 1 for found in ids.values()), ids  # never two different Message-IDs
    assert {rcpt for rcpt, count in per_network.items() if count > 1} == set(copies_allowed)
    memory = open_store(store)
    assert {m["status"] for m in memory.messages()} == {"sent"}
    memory.close()


def test_messages_arrive_well_formed_over_starttls_with_auth(mail, tmp_path):
    result = run_notify(settings(mail, str(tmp_path / "s.sqlite")), now=NOW)
    assert len(result["sent"]) == 3 and result["failed_messages"] == []
    session = mail.sessions[0]
    assert session.tls and session.user == "peerwarden"
    message = mail.messages[0].message
    assert mail.messages[0].rcpt_tos == ["peering@as64500.example"]
    assert message["From"] == "Small ISP <peering@small-isp.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().startswith("Hello Example Net (AS64500),")
    assert "<code>192.0.2.66</code>" in message.get_body(("html",)).get_content()
    assert len(mail.sessions) == 1  # one connection for the whole run
    assert_once_each(mail, str(tmp_path / "s.sqlite"))


def test_server_down_then_up(mail, tmp_path):
    store = str(tmp_path / "s.sqlite")
    down = run_notify(settings(mail, store, port=closed_port()), now=NOW)
    assert [e["permanent"] for e in down["failed_messages"]] == [False] * 3
    assert "cannot reach the SMTP server" in down["failed_messages"][0]["reason"]
    up = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert [e["retry"] for e in up["sent"]] == [True] * 3
    assert_once_each(mail, store)
    assert run_notify(settings(mail, store), now=NOW + timedelta(hours=2))["sent"] == []


def test_4xx_on_rcpt_is_retried(mail, tmp_path):
    store = str(tmp_path / "s.sqlite")
    mail.reject_rcpt("peering@as64501.example", code=450, times=1)
    first = run_notify(settings(mail, store), now=NOW)
    assert [(e["asn"], e["permanent"]) for e in first["failed_messages"]] == [(64501, False)]
    assert "450" in first["failed_messages"][0]["reason"]
    second = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert [(e["asn"], e["retry"]) for e in second["sent"]] == [(64501, True)]
    assert_once_each(mail, store)


def test_5xx_on_data_is_recorded_not_retried_forever(mail, tmp_path):
    store = str(tmp_path / "s.sqlite")
    mail.reject_data(code=554, text="5.7.1 Message rejected as spam", times=1)
    first = run_notify(settings(mail, store), now=NOW)
    assert [(e["asn"], e["permanent"]) for e in first["failed_messages"]] == [(64500, True)]
    assert "554" in first["failed_messages"][0]["reason"]
    second = run_notify(settings(mail, store), now=NOW + timedelta(days=1))
    skipped = {e["asn"]: e["reason"] for e in second["skipped_peers"]}
    assert "refused for good" in skipped[64500] and second["sent"] == []
    memory = open_store(store)
    assert Counter(m["status"] for m in memory.messages()) == {"sent": 2, "failed": 1}
    memory.close()
    assert len(mail.messages) == 2


def test_connection_dropped_mid_data(mail, tmp_path):
    store = str(tmp_path / "s.sqlite")
    mail.drop_during_data(times=1)
    first = run_notify(settings(mail, store), now=NOW)
    assert [(e["asn"], e["permanent"]) for e in first["failed_messages"]] == [(64500, False)]
    assert len(first["sent"]) == 2  # the connection was opened again for the others
    run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert_once_each(mail, store)


KILLER = """
import json, os, sys
sys.path[:0] = %(paths)r
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify import mail as notify_mail
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify
from datetime import datetime, timezone
send = notify_mail.Smtp.send

def killed(self, raw, sender, recipients, label):
    if %(after)s:
        send(self, raw, sender, recipients, label)  # the server accepts ...
    os.kill(os.getpid(), 9)  # ... and the notifier dies before it can record anything more

notify_mail.Smtp.send = killed
run_notify(json.loads(%(settings)r), now=datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc))
"""


@pytest.mark.parametrize("after_acceptance", [False, True], ids=["killed before sending", "killed after acceptance"])
def test_killed_notifier(mail, tmp_path, after_acceptance):
    store = str(tmp_path / "s.sqlite")
    code = KILLER % {
        "paths": [ROOT + "/collections", ROOT + "/tests"],
        "after": after_acceptance,
        "settings": json.dumps(settings(mail, store)),
    }
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert process.returncode == -9, process.stderr
    memory = open_store(store)
    assert [m["status"] for m in memory.messages()] == ["intent"]  # recorded before the server was asked
    memory.close()
    assert len(mail.messages) == (1 if after_acceptance else 0)
    later = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    retried = [e for e in later["sent"] if e["retry"]]
    assert [e["asn"] for e in retried] == [64500]
    assert "retry of the message of 2026-11-22T03:00:00Z" in retried[0]["reason"]
    run_notify(settings(mail, store), now=NOW + timedelta(hours=2))
    assert_once_each(mail, store, copies_allowed={("peering@as64500.example",)} if after_acceptance else ())


def test_login_and_tls_problems_stop_the_run_and_keep_the_intent(mail, tmp_path):
    store = str(tmp_path / "s.sqlite")
    wrong = settings(mail, store)
    wrong["smtp"]["password"] = "wrong"
    result = run_notify(wrong, now=NOW)
    assert result["fatal"].startswith("SMTP login as peerwarden at 127.0.0.1:%d refused (535)" % mail.port)
    assert result["sent"] == []
    untrusted = settings(mail, store)
    untrusted["smtp"]["ca_file"] = None
    result = run_notify(untrusted, now=NOW)
    assert "TLS certificate of 127.0.0.1:%d not trusted" % mail.port in result["fatal"]
    fixed = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert [e["asn"] for e in fixed["sent"]] == [64500, 64501, 64502]
    assert_once_each(mail, store)


def notify_playbook(mail, tmp_path, options=()):
    """notify_peers for PEERS[0] through ansible-playbook, as a user runs it: (exit code, output)."""
    playbook = tmp_path / "notify.yml"
    playbook.write_text(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - peerwarden.bgp.notify_peers:
        peers: %(peers)s
        our: {asn: 64511, name: Small ISP, contact: peering@small-isp.example}
        smtp: {host: 127.0.0.1, port: %(port)d, ca_file: "%(ca)s", username: peerwarden, password: smtp-s3cret}
        store: "%(store)s"
      register: notified
    - ansible.builtin.debug: var=notified
"""
        % {"peers": json.dumps(PEERS[:1]), "port": mail.port, "ca": mail.ca_file, "store": tmp_path / "s.sqlite"}
    )
    inventory = {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                }
            }
        }
    }
    code, output, dummy = run_playbook(str(playbook), inventory, str(tmp_path), options=list(options))
    return code, output


def test_the_playbook_never_shows_the_smtp_password(mail, tmp_path):
    code, output = notify_playbook(mail, tmp_path, options=["-vvv", "--diff"])
    assert code == 0, output
    assert len(mail.messages) == 1
    assert "smtp-s3cret" not in output
