"""Our relay's refusals are ours, a recipient's refusal is that network's: against a real SMTP
server on loopback (aiosmtpd, STARTTLS, AUTH) with the SQLite and the PostgreSQL store.

- 550 at MAIL FROM (the relay does not relay for our sender): the run stops, fails, keeps the
  intent, marks no network; after the fix every network gets one message, the kept one with the
  Message-ID it was given the first time.
- every recipient of the run refused: the same (a relay problem, not three networks' at once).
- one recipient refused while the others were accepted: only that network is marked, and
  retry_refused / action forget bring it back.
- check mode: WOULD SEND, no SMTP connection, the store untouched.
- two runs at once: the store's lock makes them take turns, so no network gets two messages.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from integration.test_notify_rules import NOW
from integration.test_notify_smtp import PEERS, assert_once_each, delivered, notify_playbook, settings

from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify, run_store_action
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.store import open_store

pytestmark = pytest.mark.lab


@pytest.fixture
def mail(smtp_server):
    return smtp_server(tls="starttls", users={"peerwarden": "smtp-s3cret"})


def statuses(store):
    """{Message-ID: status} and the networks notified (seen but not notified ones left out)."""
    memory = open_store(store)
    try:
        notified = [n for n in memory.networks() if n["notifications"] or n["last_notified"]]
        return {m["message_id"]: m["status"] for m in memory.messages()}, notified
    finally:
        memory.close()


def test_a_relay_refusing_our_sender_stops_the_run_and_marks_no_network(mail, store):
    mail.reject_mail(code=550, times=10)
    first = run_notify(settings(mail, store), now=NOW)
    assert "refused our sender peering@small-isp.example at MAIL FROM (550 5.7.1" in first["fatal"]
    assert "no network was marked" in first["fatal"] and first["sent"] == []
    assert not any(e.get("permanent") for e in first["failed_messages"])
    kept, networks = statuses(store)
    assert list(kept.values()) == ["intent"] and networks == []  # nothing marked refused, nothing notified
    assert mail.messages == []
    mail.clear_faults()  # the relay is fixed
    second = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert second["fatal"] is None and second["failed_messages"] == []
    assert [(e["asn"], e["name"], e["retry"]) for e in second["sent"]] == [
        (64500, "Example Net", True),  # a retry still names the network
        (64501, "Other Net", False),
        (64502, "Third Net", False),
    ]
    assert second["sent"][0]["message_id"] == next(iter(kept))  # the very message kept from the first run
    assert_once_each(mail, store)
    assert run_notify(settings(mail, store), now=NOW + timedelta(hours=2))["sent"] == []


def test_the_playbook_fails_when_the_relay_refuses_our_sender(mail, tmp_path):
    mail.reject_mail(code=553, text="5.7.1 <peering@small-isp.example>: Sender address rejected", times=10)
    code, output = notify_playbook(mail, tmp_path)
    assert code != 0, output  # cron and AWX see a failed job, not a quiet success
    assert "delivery stopped: the SMTP server 127.0.0.1:%d refused our sender" % mail.port in output
    assert "fix the From address" in output and mail.messages == []


@pytest.mark.parametrize(
    "tls,users,words",
    [
        (None, None, "does not offer STARTTLS: use smtp.security tls"),
        ("starttls", None, "offers no AUTH (login) on this connection"),
    ],
    ids=["no STARTTLS", "no AUTH"],
)
def test_a_relay_without_starttls_or_auth_stops_the_run_and_marks_no_network(smtp_server, tmp_path, tls, users, words):
    relay = smtp_server(tls=tls, users=users)
    store = str(tmp_path / "store.sqlite")
    result = run_notify(settings(relay, store), now=NOW)
    assert words in result["fatal"] and result["sent"] == [] and relay.messages == []
    kept, networks = statuses(store)
    assert list(kept.values()) == ["intent"] and networks == []


def test_every_recipient_refused_is_the_relays_problem(mail, store):
    mail.reject_rcpt("*", code=550, text="5.7.1 Relay access denied")
    first = run_notify(settings(mail, store), now=NOW)
    assert first["fatal"].startswith("the SMTP relay refused every recipient of all 3 message(s) of this run")
    assert [(e["asn"], e["permanent"]) for e in first["failed_messages"]] == [
        (64500, False),
        (64501, False),
        (64502, False),
    ]
    kept, networks = statuses(store)
    assert Counter(kept.values()) == {"intent": 3} and networks == []
    mail.clear_faults()
    second = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert sorted(e["message_id"] for e in second["sent"]) == sorted(kept)  # the same three Message-IDs
    assert all(e["retry"] for e in second["sent"])
    assert_once_each(mail, store)


def test_one_refused_recipient_marks_only_that_network(mail, store):
    mail.reject_rcpt("peering@as64501.example", code=550)
    first = run_notify(settings(mail, store), now=NOW)
    assert first["fatal"] is None
    assert [(e["asn"], e["permanent"]) for e in first["failed_messages"]] == [(64501, True)]
    assert "550 5.1.1 <peering@as64501.example>" in first["failed_messages"][0]["reason"]
    assert sorted(e["asn"] for e in first["sent"]) == [64500, 64502]
    later = run_notify(settings(mail, store), now=NOW + timedelta(days=1))
    skipped = {e["asn"]: e["reason"] for e in later["skipped_peers"]}
    assert "refused for good" in skipped[64501] and "retry_refused: true to try now" in skipped[64501]
    mail.clear_faults()  # the mailbox exists after all
    retried = run_notify(settings(mail, store, retry_refused=True), now=NOW + timedelta(days=1, hours=1))
    assert [e["asn"] for e in retried["sent"]] == [64501]
    assert Counter(rcpt for rcpt, dummy in delivered(mail)) == {
        ("peering@as64500.example",): 1,
        ("peering@as64501.example",): 1,
        ("peering@as64502.example",): 1,
    }
    kept, dummy = statuses(store)
    assert Counter(kept.values()) == {"sent": 3, "failed": 1}  # the refusal stays on record


def test_forget_and_suppress_per_asn(mail, store):
    run_notify(settings(mail, store), now=NOW)
    assert len(mail.messages) == 3
    forgotten = run_store_action({"action": "forget", "asns": ["AS64500"], "store": store})
    assert forgotten == {"changed": True, "asns": {64500: "forgotten"}}
    assert run_store_action({"action": "suppress", "asns": [64501], "store": store}, now=NOW)["changed"]
    later = run_notify(settings(mail, store), now=NOW + timedelta(hours=1))
    assert [e["asn"] for e in later["sent"]] == [64500]  # forgotten: a new network again
    skipped = {e["asn"]: e["reason"] for e in later["skipped_peers"]}
    assert skipped[64501].startswith("suppressed in the store since 2026-11-22T03:00:00Z")
    assert run_store_action({"action": "unsuppress", "asns": [64501], "store": store})["asns"] == {
        64501: "unsuppressed"
    }
    assert run_store_action({"action": "forget", "asns": [64999], "store": store})["changed"] is False
    with pytest.raises(ValueError, match="asns: 'ASX' is not an AS number"):
        run_store_action({"action": "forget", "asns": ["ASX"], "store": store})


def test_check_mode_would_send_and_touches_nothing(mail, store, tmp_path):
    run_notify(settings(mail, store), now=NOW)  # a store with history: 3 networks notified
    before = statuses(store)
    sessions = len(mail.sessions)
    files = sorted(p.name for p in tmp_path.iterdir())
    stamp = (tmp_path / "store.sqlite").stat().st_mtime_ns if store.endswith(".sqlite") else None
    more = PEERS + [dict(PEERS[0], asn=64505, name="New Net", contacts=["peering@as64505.example"])]
    checked = run_notify(dict(settings(mail, store), peers=more), check_mode=True, now=NOW + timedelta(hours=1))
    assert [line.split()[:2] for line in checked["report"]["lines"] if "WOULD" in line] == [["WOULD", "SEND"]]
    assert [p["text"].splitlines()[0] for p in checked["previews"]] == ["To: peering@as64505.example"]
    assert "- From your address 192.0.2.66 on Example-IX LAN" in checked["previews"][0]["text"]
    assert len(mail.sessions) == sessions  # no SMTP connection
    assert statuses(store) == before and sorted(p.name for p in tmp_path.iterdir()) == files
    if stamp is not None:
        assert (tmp_path / "store.sqlite").stat().st_mtime_ns == stamp


def test_two_runs_at_once_take_turns(mail, store):
    holder = open_store(store)
    holder.lock(1)
    with pytest.raises(ValueError, match="another notify_peers run holds the lock of .*lock_timeout"):
        run_notify(settings(mail, store, lock_timeout=1), now=NOW)
    holder.close()  # releases the lock
    results, start = [], threading.Barrier(2)

    def one_run():
        start.wait()
        results.append(run_notify(settings(mail, store), now=NOW))

    runs = [threading.Thread(target=one_run) for dummy in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    assert sorted(len(r["sent"]) for r in results) == [0, 3]  # one wrote to all, the other found it done
    assert len(delivered(mail)) == 3
    assert_once_each(mail, store)
