"""The alert stage's detectors (IPv4 and IPv6): hijacks of our space (exact, more-specific,
less-specific, max_length), leaks by session role with and without transit-free ASes, first-AS
mismatches and route-server transparency, our AS inside a path; de-duplication and re-alerting
after a withdrawal; watch only (the bytes pass unchanged); a failing detector; its config checks."""

import logging

import pytest

from config_problems import problems
from peerwarden_runner import config
from peerwarden_runner.codec import AsPath, Prefix, encode_update, make_attribute, mp_unreach_attribute
from peerwarden_runner.codec import constants as c
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline
from peerwarden_runner.stages import alert as alert_module
from peerwarden_runner.stages.alert import AlertStage
from peerwarden_runner.stages.alert_config import TRANSIT_FREE, check_alert
from peerwarden_runner.stages.filter import FilterStage, check_filter
from peerwarden_runner.stages.metrics import Metrics
from stage_helpers import announce, open_session

OURS = [
    {"prefix": "192.0.2.0/24", "origins": [64500], "max_length": 24},
    {"prefix": "2001:db8::/32", "origins": [64500, 64501], "max_length": 48},
]


class Collected:
    """Stands in for the sinks: keeps what the stage delivers."""

    def __init__(self):
        self.records = []

    def acquire(self):
        pass

    def deliver(self, records):
        self.records.extend(records)


def checked(section):
    problems = []
    result = check_alert(section, lambda key, text: problems.append("%s: %s" % (key, text)))
    assert problems == []
    return result


def watch(section=None, role=None, peer_as=65001, router_as=65000, metrics=None, before=()):
    """(pipeline, session state, collected alerts) with the alert stage towards both sides."""
    sinks = Collected()
    stage = AlertStage(checked({"prefixes": OURS} if section is None else section), sinks, "lab", role, metrics)
    pipeline = Pipeline({TO_ROUTER: list(before) + [stage], TO_PEER: [stage]}, metrics=metrics)
    return pipeline, open_session(pipeline, peer_as=peer_as, router_as=router_as), sinks.records


def send(pipeline, state, prefixes, path, direction=TO_ROUTER):
    raw = announce(prefixes, path=path)
    assert pipeline.process(state, direction, c.UPDATE, raw) == [raw]  # watch only: the bytes go on as they came
    return raw


def withdraw(pipeline, state, prefixes, direction=TO_ROUTER):
    parsed = [Prefix.parse(p) for p in prefixes]
    ipv6 = [p for p in parsed if p.afi == c.AFI_IPV6]
    attributes = [mp_unreach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, ipv6)] if ipv6 else []
    pipeline.process(
        state,
        direction,
        c.UPDATE,
        encode_update(withdrawn=[p for p in parsed if p.afi == c.AFI_IPV4], attributes=attributes),
    )


def kinds(records):
    return [(r["kind"], r["prefix"], r.get("relation")) for r in records]


@pytest.mark.parametrize(
    "prefix, path, expected",
    [
        # IPv4: ours is 192.0.2.0/24 from AS64500, max_length 24
        ("192.0.2.0/24", (65001, 64500), []),
        ("192.0.2.0/24", (65001, 64666), [("origin-hijack", "192.0.2.0/24", "exact")]),
        ("192.0.2.128/25", (65001, 64666), [("origin-hijack", "192.0.2.128/25", "more-specific")]),
        ("192.0.2.128/25", (65001, 64500), [("more-specific", "192.0.2.128/25", "more-specific")]),
        ("192.0.0.0/16", (65001, 64666), [("origin-hijack", "192.0.0.0/16", "less-specific")]),
        ("192.0.0.0/16", (65001, 64500), []),  # our own aggregate
        ("192.0.3.0/24", (65001, 64666), []),  # next door
        ("0.0.0.0/0", (65001, 64666), []),  # a default route covers nothing
        # IPv6: ours is 2001:db8::/32 from AS64500 or AS64501, max_length 48
        ("2001:db8::/32", (65001, 64501), []),
        ("2001:db8:ff::/48", (65001, 64500), []),
        ("2001:db8::/32", (65001, 64666), [("origin-hijack", "2001:db8::/32", "exact")]),
        ("2001:db8:ff::/48", (65001, 64666), [("origin-hijack", "2001:db8:ff::/48", "more-specific")]),
        ("2001:db8:ff:1::/64", (65001, 64501), [("more-specific", "2001:db8:ff:1::/64", "more-specific")]),
        ("2001:d00::/24", (65001, 64666), [("origin-hijack", "2001:d00::/24", "less-specific")]),
        ("2001:db9::/32", (65001, 64666), []),
    ],
)
def test_hijacks_of_our_space(prefix, path, expected):
    pipeline, state, records = watch()
    send(pipeline, state, [prefix], path)
    assert kinds(records) == expected
    for record in records:
        assert record["origin"] == 64666 or record["kind"] == "more-specific"
        assert record["owned"] in ("192.0.2.0/24", "2001:db8::/32") and record["session"] == "lab"
        assert record["path"] == " ".join(str(asn) for asn in path) and record["direction"] == TO_ROUTER


def test_less_specifics_can_be_left_out():
    pipeline, state, records = watch({"prefixes": OURS, "less_specifics": False})
    send(pipeline, state, ["192.0.0.0/16", "192.0.2.0/25"], (65001, 64666))
    assert kinds(records) == [("origin-hijack", "192.0.2.0/25", "more-specific")]


def test_nested_prefixes_of_ours_the_most_specific_decides():
    section = {
        "prefixes": [
            {"prefix": "10.0.0.0/8", "origins": [64500]},
            {"prefix": "10.1.0.0/16", "origins": [64501], "max_length": 24},
        ]
    }
    pipeline, state, records = watch(section)
    send(pipeline, state, ["10.1.2.0/24"], (65001, 64501))  # allowed by the /16
    send(pipeline, state, ["10.2.0.0/16"], (65001, 64500))  # the /8's origin, longer than its max_length
    send(pipeline, state, ["10.1.3.0/24"], (65001, 64666))  # nobody's: reported against the /16
    assert kinds(records) == [
        ("more-specific", "10.2.0.0/16", "more-specific"),
        ("origin-hijack", "10.1.3.0/24", "more-specific"),
    ]
    assert [r["owned"] for r in records] == ["10.0.0.0/8", "10.1.0.0/16"]
    assert records[1]["expected"] == [64501] and records[1]["max_length"] == 24


def test_prefixes_of_ours_of_different_lengths_far_apart():
    """The lookup first cuts a route to the shortest configured length: a longer prefix of ours
    elsewhere is still found."""
    section = {
        "prefixes": [
            {"prefix": "10.0.0.0/8", "origins": [1]},
            {"prefix": "192.0.2.0/24", "origins": [2]},
            {"prefix": "2001:db8::/32", "origins": [3]},
            {"prefix": "2a00:1:2::/48", "origins": [4]},
        ]
    }
    pipeline, state, records = watch(section)
    for prefix in ("192.0.2.128/25", "10.9.0.0/16", "192.0.0.0/16", "2a00:1:2:3::/64", "2a00::/16", "172.16.0.0/12"):
        send(pipeline, state, [prefix], (65001, 64666))
    assert [(r["prefix"], r["owned"], r["relation"]) for r in records] == [
        ("192.0.2.128/25", "192.0.2.0/24", "more-specific"),
        ("10.9.0.0/16", "10.0.0.0/8", "more-specific"),
        ("192.0.0.0/16", "192.0.2.0/24", "less-specific"),
        ("2a00:1:2:3::/64", "2a00:1:2::/48", "more-specific"),
        ("2a00::/16", "2a00:1:2::/48", "less-specific"),
    ]


@pytest.mark.parametrize(
    "role, direction, path, leaked",
    [
        ("peer", TO_ROUTER, (65001, 3356, 64777), True),  # a peer passes on its provider's route
        ("peer", TO_ROUTER, (65001, 64777), False),  # no transit-free AS in the path
        ("peer", TO_ROUTER, (3356, 3356, 64777), False),  # the peer is a tier-1 itself (prepending)
        ("rs", TO_ROUTER, (65002, 1299, 64777), True),  # via a route server: the member's route
        ("customer", TO_ROUTER, (65001, 2914, 64777), True),  # a customer leaking its provider's route
        ("provider", TO_ROUTER, (65001, 2914, 64777), False),  # from a provider: that is what we buy
        ("peer", TO_PEER, (65000, 3356, 64777), True),  # we would leak to a peer
        ("provider", TO_PEER, (65000, 174, 64777), True),  # or to another provider
        ("customer", TO_PEER, (65000, 174, 64777), False),  # customers get everything
        (None, TO_ROUTER, (65001, 3356, 64777), False),  # no role: no leak checks
    ],
)
def test_leaks_by_role(role, direction, path, leaked):
    pipeline, state, records = watch(
        {"transit_free": list(TRANSIT_FREE)} if role else {"asns": [64999]},
        role=role,
        peer_as=path[0] if direction == TO_ROUTER and role != "rs" else 65001,
    )
    for prefix in ("203.0.113.0/24", "2001:db8:77::/48"):
        send(pipeline, state, [prefix], path, direction)
    assert [(r["kind"], r["prefix"]) for r in records] == (
        [("leak", "203.0.113.0/24"), ("leak", "2001:db8:77::/48")] if leaked else []
    )
    for record in records:
        assert record["via"] == path[1] and record["role"] == role and record["direction"] == direction


def test_the_transit_free_list_can_be_replaced():
    pipeline, state, records = watch({"transit_free": [64888]}, role="peer")
    send(pipeline, state, ["203.0.113.0/24"], (65001, 3356, 64777))
    send(pipeline, state, ["198.51.100.0/24"], (65001, 64888, 64777))
    assert [(r["kind"], r["prefix"], r["via"]) for r in records] == [("leak", "198.51.100.0/24", 64888)]


@pytest.mark.parametrize(
    "role, path, expected",
    [
        ("peer", (65001, 64777), []),
        ("peer", (65009, 64777), [("first-as", 65009)]),
        ("customer", (64777,), [("first-as", 64777)]),
        ("rs", (65009, 64777), []),  # a route server is transparent
        (None, (65009, 64777), []),
    ],
)
def test_first_as_must_be_the_senders(role, path, expected):
    pipeline, state, records = watch({"transit_free": []} if role else {"asns": [64999]}, role=role)
    send(pipeline, state, ["2001:db8:99::/48"], path)
    assert [(r["kind"], r["first_as"]) for r in records] == expected
    assert all(r["expected"] == [65001] for r in records)


def test_first_as_is_not_checked_on_ibgp():
    pipeline, state, records = watch({"transit_free": []}, role="peer", peer_as=65000, router_as=65000)
    send(pipeline, state, ["203.0.113.0/24"], (64777,))
    assert records == []


@pytest.mark.parametrize("prefix", ["203.0.113.0/24", "2001:db8:5::/48"])
def test_our_as_inside_a_path(prefix):
    pipeline, state, records = watch({"asns": [64500]}, router_as=64500)
    send(pipeline, state, [prefix], (65001, 64500, 64777))  # someone routes "through us"
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64500, 64500))  # ours, prepended: fine
    send(pipeline, state, [prefix], (64500, 64777), TO_PEER)  # our router's own announcement: fine
    assert [(r["kind"], r["prefix"], r["our_as"]) for r in records] == [("path-manipulation", prefix, 64500)]


def test_one_alert_until_withdrawn_or_changed():
    metrics = Metrics()
    pipeline, state, records = watch(metrics=metrics)
    for dummy in range(3):  # a flapping (re-announced) hijack alerts once
        send(pipeline, state, ["192.0.2.0/24"], (65001, 64666))
        send(pipeline, state, ["2001:db8::/32"], (65001, 64666))
    assert kinds(records) == [("origin-hijack", "192.0.2.0/24", "exact"), ("origin-hijack", "2001:db8::/32", "exact")]
    withdraw(pipeline, state, ["192.0.2.0/24"])
    withdraw(pipeline, state, ["2001:db8::/32"])
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64666))  # back after a withdrawal
    send(pipeline, state, ["2001:db8::/32"], (65001, 64666))
    assert len(records) == 4
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64500))  # the right origin again ...
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64666))  # ... then the hijack once more
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64667))  # another origin
    assert [(r["prefix"], r["origin"]) for r in records[4:]] == [("192.0.2.0/24", 64666), ("192.0.2.0/24", 64667)]
    # each direction remembers on its own
    send(pipeline, state, ["192.0.2.0/24"], (65000, 64667), TO_PEER)
    assert records[-1]["direction"] == TO_PEER and len(records) == 7
    labels = {"kind": "origin-hijack", "session": "lab"}
    assert metrics.registry.get_sample_value("peerwarden_alerts_total", labels) == 7


def test_a_first_alert_followed_by_clean_routes_in_the_same_update():
    # the session's first alert makes its memory; the clean routes after it in the UPDATE must still be
    # looked up in it (it used to fail there and lose the UPDATE's alerts)
    metrics = Metrics()
    pipeline, state, records = watch(metrics=metrics)
    send(pipeline, state, ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"], (65001, 64666))
    assert kinds(records) == [("origin-hijack", "192.0.2.0/24", "exact")]
    assert metrics.registry.get_sample_value("peerwarden_alert_errors_total", {"where": "detector"}) is None


def test_the_alert_says_what_an_earlier_stage_held_back():
    section = check_filter(
        {"rules": [{"name": "no-hijack", "match": {"prefix": "192.0.2.0/24 or-longer"}, "action": "drop"}]},
        lambda *problem: None,
    )
    sinks = Collected()
    stage = AlertStage(checked({"prefixes": OURS}), sinks, "lab")
    pipeline = Pipeline({TO_ROUTER: [FilterStage(section), stage]})
    state = open_session(pipeline)
    out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["192.0.2.0/25"], path=(65001, 64666)))
    assert out == []  # the filter dropped it; the alert still reports it
    assert sinks.records[0]["held"] == "filter: rule no-hijack"


def test_a_failing_detector_is_counted_and_the_update_passes(monkeypatch, caplog):
    metrics = Metrics()
    pipeline, state, records = watch(metrics=metrics)

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(alert_module, "space_findings", broken)
    send(pipeline, state, ["192.0.2.0/24"], (65001, 64666))  # send() checks the bytes passed unchanged
    assert records == [] and "a detector failed" in caplog.text
    assert metrics.registry.get_sample_value("peerwarden_alert_errors_total", {"where": "detector"}) == 1


def test_an_update_without_a_path_or_routes_is_fine():
    pipeline, state, records = watch({"prefixes": OURS, "asns": [64500]}, role="peer")
    withdraw(pipeline, state, ["192.0.2.0/24"])
    raw = encode_update(
        attributes=[
            make_attribute(c.ORIGIN, "igp"),
            make_attribute(c.AS_PATH, AsPath(())),
            make_attribute(c.NEXT_HOP, "192.0.2.1"),
        ],
        nlri=[Prefix.parse("192.0.2.0/24")],
    )
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw) == [raw]
    # an empty path from an eBGP peer: no first AS; the origin is unknown, so ours is "hijacked"
    assert [r["kind"] for r in records] == ["first-as", "origin-hijack"]


def test_the_log_line_holds_the_alert(caplog):
    pipeline, state, records = watch()
    with caplog.at_level(logging.DEBUG, logger="peerwarden_runner.alert"):
        send(pipeline, state, ["192.0.2.0/25"], (65001, 64666))
        DECISIONS.flush()  # alerts are counted per kind, a WARNING line per interval (log_summary)
    alert = (
        'kind=origin-hijack prefix=192.0.2.0/25 origin=64666 path="65001 64666" session=lab '
        "direction=to-router owned=192.0.2.0/24 relation=more-specific"
    )
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "peerwarden_runner.alert"]
    assert lines[0] == ("DEBUG", "lab: alert: origin-hijack: " + alert)
    assert lines[-1][0] == "WARNING"
    assert lines[-1][1].startswith("lab: alert: 1 alert(s) origin-hijack in ")
    assert lines[-1][1].endswith("(e.g. %s)" % alert)


@pytest.mark.parametrize(
    "section, expected",
    [
        ("yes", "alert: expected a mapping"),
        (
            {"prefixes": [{"prefix": "192.0.2.1/24", "origins": [1]}]},
            "alert.prefixes[0].prefix: '192.0.2.1/24' has host bits",
        ),
        (
            {"prefixes": [{"prefix": "192.0.2.0/33", "origins": [1]}]},
            "alert.prefixes[0].prefix: '192.0.2.0/33' is not a prefix",
        ),
        (
            {"prefixes": [{"prefix": "2001:db8::/32", "origins": [1], "max_length": 24}]},
            "alert.prefixes[0].max_length: max_length 24 must be between the prefix length 32 and 128",
        ),
        ({"prefixes": [{"prefix": "192.0.2.0/24"}]}, "alert.prefixes[0].origins: expected a non-empty list"),
        (
            {"prefixes": [{"prefix": "192.0.2.0/24", "origins": ["ASX"]}]},
            "alert.prefixes[0].origins[0]: expected an AS number (64500 or AS64500), got 'ASX'",
        ),
        (
            {"prefixes": [{"prefix": "192.0.2.0/24", "origins": [1], "maxlen": 24}]},
            "alert.prefixes[0].maxlen: unknown key",
        ),
        ({"prefixes": "192.0.2.0/24"}, "alert.prefixes: expected a list"),
        ({"transit_free": 3356}, "alert.transit_free: expected a list of AS numbers"),
        ({"asns": [4294967296]}, "alert.asns[0]: expected an AS number (64500 or AS64500), got 4294967296"),
        ({"less_specifics": "no"}, "alert.less_specifics: expected true or false"),
        ({"file": "/nonexistent/dir/alerts.jsonl"}, "alert.file: the directory /nonexistent/dir does not exist"),
        ({"exec": ["/nonexistent/notify"]}, "alert.exec: '/nonexistent/notify' is not an executable"),
        ({"exec": "echo hi"}, "alert.exec: 'echo hi' is not an executable"),
        ({"webhook": "ftp://127.0.0.1/x"}, "alert.webhook: expected an http:// or https:// URL"),
        ({"webhook": "http://127.0.0.1:port/x"}, "alert.webhook: expected an http:// or https:// URL"),
        ({"queue": 0}, "alert.queue: expected a whole number >= 1, got 0"),
        ({"sinks": {}}, "alert.sinks: unknown key"),
    ],
)
def test_check_alert(section, expected):
    document = {
        "sessions": [{"listen": "127.0.0.1:1", "connect": "127.0.0.1:2", "to_router": ["alert"], "role": "peer"}],
        "alert": section,
    }
    assert "alerts.yml: " + expected in problems(document, "alerts.yml")


def test_check_session_roles_and_something_to_watch():
    base = {"listen": "127.0.0.1:1", "connect": "127.0.0.1:2", "to_router": ["alert"]}
    text = problems({"sessions": [dict(base, role="friend")], "alert": {"asns": [1]}}, "c.yml")
    assert (
        "c.yml: sessions[0].role: expected one of peer, customer, provider, rs (what the peer is to us), "
        "got 'friend'" in text
    )
    text = problems({"sessions": [base], "alert": {}}, "c.yml")
    assert "c.yml: sessions[0]: uses the alert stage but it has nothing to watch for here" in text
    text = problems(
        {
            "sessions": [dict(base, to_router=["alert", "exec", "filter"])],
            "alert": {"asns": [1]},
            "exec": {"program": ["true"]},
            "filter": {"rules": []},
        },
        "c.yml",
    )
    assert "exec must come before or after the route stages (rpki, aspa, limit, filter, alert)" in text
    settings = config.check(
        {
            "sessions": [dict(base, role="rs", to_peer=["alert"])],
            "alert": {"prefixes": OURS, "transit_free": ["AS3356"]},
        },
        "c.yml",
    )
    assert settings["sessions"][0]["role"] == "rs" and settings["alert"]["transit_free"] == {3356}
    assert settings["alert"]["less_specifics"] is True and settings["alert"]["queue"] == 1000
