"""What a notification says and what notify_peers refuses before sending anything: our own
addresses checked like the recipients', raw log_events events refused, the text a NOC acts on
(our router and address per knock, the AS facts of a mismatch, no contradiction, 72 columns) and an
HTML part that says the same. Written to an outbox, so no server is needed."""

import email
import email.policy
import re
from datetime import datetime

import pytest
from unit.notify_helpers import group, params

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.render import wrap
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.run import run_notify
from ansible_collections.peerwarden.bgp.plugins.module_utils.notify.store import open_store

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ROUTERS = {"edge1": ["192.0.2.1/24", "2001:db8:ffff::1/64"], "edge2": ["198.51.100.1/24"]}


def knocks():
    """A stranger with our address in its drop lines (edge2) and none in others (edge1), and a
    configured neighbour that presents another AS."""
    stranger = group(64500, "Example Net", ["192.0.2.66", "2001:db8:ffff::66"])
    stranger["addresses"][0]["routers"] = ["edge1", "edge2"]
    stranger["addresses"][0]["local_addresses"] = ["198.51.100.1"]
    renumbered = group(64503, "Renumbered Net", ["192.0.2.88"], kinds=("peer_as_mismatch",))
    renumbered["addresses"][0]["peer_as"] = 64512
    return [stranger, renumbered]


def send(tmp_path, peers, **more):
    settings = params(tmp_path / "store.sqlite", peers, outbox=str(tmp_path / "outbox"), **more)
    settings["our"]["routers"] = ROUTERS
    result = run_notify(settings, now=NOW)
    messages = {}
    for entry, path in zip(result["sent"], result["messages"], strict=True):
        with open(path, "rb") as handle:
            messages[entry["asn"]] = email.message_from_binary_file(handle, policy=email.policy.default)
    return result, messages


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    inline = re.sub(r"</?(?:a|code|em)\b[^>]*>", "", html)  # inside a sentence
    return text, " ".join(re.sub(r"<[^>]+>", " ", inline).replace("&#39;", "'").split())


@pytest.mark.parametrize(
    "option,value",
    [
        ("from", "peering at small-isp.example"),
        ("reply_to", "noc@"),
        ("redirect_to", "me@localhost"),
        ("cc", ["ok@small-isp.example", "two@@small-isp.example"]),
        ("our.contact", "Small ISP peering"),
    ],
)
def test_our_own_addresses_are_checked_before_anything_is_sent(tmp_path, option, value):
    settings = params(tmp_path / "store.sqlite", knocks(), outbox=str(tmp_path / "outbox"))
    if option == "our.contact":
        settings["our"]["contact"] = value
    else:
        settings[option] = value
    with pytest.raises(ValueError, match=r"^%s: .* is not an email address" % re.escape(option)):
        run_notify(settings, now=NOW)
    assert not (tmp_path / "outbox").exists() and not (tmp_path / "store.sqlite").exists()


def test_raw_events_are_refused_with_the_way_out(tmp_path):
    event = {"router": "edge1", "address": "192.0.2.66", "kind": "unconfigured_neighbor", "count": 1}
    settings = params(tmp_path / "store.sqlite", [event], outbox=str(tmp_path / "outbox"))
    with pytest.raises(
        ValueError, match=r"peers\[0\] is not a resolve_peers group .* through peerwarden.bgp.resolve_peers"
    ):
        run_notify(settings, now=NOW)


def test_each_knock_names_our_router_and_address(tmp_path):
    dummy, messages = send(tmp_path, knocks())
    text, html = parts(messages[64500])
    # the log named our address on edge2; edge1's address on that LAN comes from our.routers
    assert (
        "- From your address 192.0.2.66 on Example-IX LAN\n  to our routers edge1, edge2, our address 198.51.100.1\n"
        in text
    )
    assert (
        "- From your address 2001:db8:ffff::66 on Example-IX LAN\n  to our router edge1, our address 2001:db8:ffff::1\n"
        in text
    )
    assert "3 x BGP connection attempts to a session we do not have configured" in text
    assert "first seen 2026-11-20T08:00:00Z, last seen 2026-11-21T06:00:00Z" in text
    assert (
        "please remove the BGP neighbour configuration for our addresses from your router(s) at 192.0.2.66, 2001:db8:ffff::66"
        in " ".join(text.split())
    )
    for fact in (
        "192.0.2.66",
        "edge1, edge2",
        "198.51.100.1",
        "2001:db8:ffff::1",
        "Example-IX LAN",
        "2026-11-21T06:00:00Z",
    ):
        assert fact in html


def test_a_peer_as_mismatch_gives_both_ases_and_no_contradiction(tmp_path):
    dummy, messages = send(tmp_path, knocks())
    text, html = parts(messages[64503])
    flat = " ".join(text.split())
    assert "AS in your router's OPEN: AS64512, AS we expect: AS64503" in flat
    assert "AS in your router's OPEN: AS64512, AS we expect: AS64503" in html
    assert "We do have a session configured for this address" in flat
    assert "remove" not in flat.replace(
        "we will not ask you to remove anything", ""
    )  # nothing to remove: it is configured
    assert "If not, please" not in flat and "If not, please" not in html


def test_text_is_wrapped_at_72_and_html_says_the_same(tmp_path):
    long_name = "A Network With A Rather Long Name Indeed, Incorporated And Limited"
    peers = knocks() + [group(64504, long_name, ["192.0.2.99"], kinds=("md5_unexpected", "firewall_drop_bgp"))]
    dummy, messages = send(tmp_path, peers)
    assert len(messages) == 3
    for message in messages.values():
        text, html = parts(message)
        assert max(len(line) for line in text.splitlines()) <= 72, text
        prose = [p for p in text.split("\n\n") if not p.startswith(("- From", "Thank you", "--"))]
        assert len(prose) >= 3
        for sentence in re.split(r"(?<=[.:])\s+", " ".join(" ".join(prose).split())):
            assert sentence in html, sentence  # every sentence of the text is in the HTML part
        for knock in re.findall(r"^- From your address (\S+)", text, re.M):
            assert knock in html
        assert "We will not write about this again within 30 days unless new addresses appear." in html


def test_wrap_keeps_indents_and_long_words():
    line = "  " + " ".join(["word"] * 30)
    wrapped = wrap(line).split("\n")
    assert all(len(row) <= 72 for row in wrapped) and wrapped[1].startswith("    word")
    url = "https://example.net/" + "x" * 80
    assert wrap("see " + url) == "see\n" + url  # a URL is never cut


def test_an_outbox_that_cannot_be_written_stops_the_run_naming_it(tmp_path):
    (tmp_path / "outbox").write_text("a file, not a directory")
    settings = params(tmp_path / "store.sqlite", knocks(), outbox=str(tmp_path / "outbox"))
    result = run_notify(settings, now=NOW)
    assert (
        result["fatal"].startswith("cannot write ") and "into the outbox %s" % (tmp_path / "outbox") in result["fatal"]
    )
    assert result["sent"] == [] and result["failed_messages"] == []
    memory = open_store(str(tmp_path / "store.sqlite"))
    assert [m["status"] for m in memory.messages()] == ["intent"]  # kept for the next run
    memory.close()
