"""The filter stage: matching (prefix ranges, origin, AS-path regex, communities; IPv4 and IPv6),
first match wins, drop (held back, withdrawn if the receiver had it) and tag (communities added,
routes that shared attributes still go out in one UPDATE), metrics and logs; and its config checks."""

import ipaddress
import logging

import pytest

from config_problems import problems
from peerwarden_runner import config
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import make_attribute
from peerwarden_runner.codec.attributes import Aggregator, unknown_attribute
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.route_keys import key_prefix
from peerwarden_runner.stages.filter import FilterStage, check_filter
from peerwarden_runner.stages.metrics import Metrics
from stage_helpers import announce, announced, open_session, withdrawn

BLACKHOLE = 0xFFFF029A


def pipeline_with(rules, default="accept", metrics=None):
    problems = []
    section = check_filter({"rules": rules, "default": default}, lambda key, text: problems.append((key, text)))
    assert problems == []
    pipeline = Pipeline({TO_ROUTER: [FilterStage(section, metrics)]}, metrics=metrics)
    return pipeline, open_session(pipeline)


def send(pipeline, state, *args, **kwargs):
    return pipeline.process(state, TO_ROUTER, c.UPDATE, announce(*args, **kwargs))


@pytest.mark.parametrize(
    "entry, inside, outside",
    [
        ("10.0.0.0/8", ["10.0.0.0/8"], ["10.0.0.0/9", "10.0.0.0/7", "11.0.0.0/8"]),
        ("10.0.0.0/8 le 16", ["10.0.0.0/8", "10.1.0.0/16", "10.255.0.0/16"], ["10.1.1.0/24", "11.0.0.0/16"]),
        ("10.0.0.0/8 ge 16 le 24", ["10.1.0.0/16", "10.1.1.0/24"], ["10.0.0.0/8", "10.1.1.128/25"]),
        ("10.0.0.0/8 ge 24", ["10.1.1.0/24", "10.1.1.1/32"], ["10.1.0.0/16"]),
        ("10.0.0.0/8 or-longer", ["10.0.0.0/8", "10.9.9.9/32"], ["11.0.0.0/8", "0.0.0.0/0"]),
        ("2001:db8::/32 or-longer", ["2001:db8::/32", "2001:db8:ffff::/48"], ["2001:db9::/32", "2001::/16"]),
        ("2001:db8::/32 le 48", ["2001:db8:1::/48"], ["2001:db8:1:1::/64"]),
    ],
)
def test_prefix_ranges_drop_exactly_what_they_cover(entry, inside, outside):
    pipeline, state = pipeline_with([{"name": "bogon", "match": {"prefix": entry}, "action": "drop"}])
    out = send(pipeline, state, inside + outside)
    assert sorted(announced(out)) == sorted(outside)
    holds = state.memory[("rib", TO_ROUTER)].holds
    assert {str(key_prefix(key)) for key, held in holds.items() if held == "filter: rule bogon"} == set(inside)


def test_drop_withdraws_a_route_the_receiver_had():
    pipeline, state = pipeline_with([{"name": "no-blackhole", "match": {"community": "blackhole"}, "action": "drop"}])
    assert list(announced(send(pipeline, state, ["203.0.113.0/24"]))) == ["203.0.113.0/24"]
    # the same prefix again, now with the BLACKHOLE community: not announced, and taken back
    out = send(pipeline, state, ["203.0.113.0/24"], communities=[BLACKHOLE])
    assert announced(out) == {} and withdrawn(out) == ["203.0.113.0/24"]


def test_tag_adds_communities_and_keeps_one_update_for_routes_that_shared_attributes():
    pipeline, state = pipeline_with(
        [
            {
                "name": "customers",
                "match": {"origin": 64500},
                "action": "tag",
                "tag": {"community": ["65000:100", "65000:1"], "large_community": ["65000:0:100"]},
            }
        ]
    )
    prefixes = ["10.%d.0.0/16" % i for i in range(50)]
    out = send(pipeline, state, prefixes, communities=[(65000 << 16) | 1])
    assert len(out) == 1, "routes that shared attributes must still go out together"
    routes = announced(out)
    assert sorted(routes) == sorted(prefixes)
    # the community already present is not repeated; the new ones are appended
    assert set(routes.values()) == {(((65000 << 16) | 1, (65000 << 16) | 100), ((65000, 0, 100),))}


def test_tag_ipv6_and_untouched_routes_pass_as_the_original_octets():
    pipeline, state = pipeline_with(
        [
            {
                "name": "v6",
                "match": {"prefix": "2001:db8::/32 or-longer"},
                "action": "tag",
                "tag": {"community": ["65000:6"]},
            }
        ]
    )
    raw = announce(["203.0.113.0/24"])
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw) == [raw]
    out = send(pipeline, state, ["2001:db8:1::/48", "2001:db8:2::/48"])
    assert len(out) == 1 and announced(out) == {
        p: (((65000 << 16) | 6,), ()) for p in ("2001:db8:1::/48", "2001:db8:2::/48")
    }


def test_tag_and_drop_in_one_update_split_the_routes():
    pipeline, state = pipeline_with(
        [
            {"name": "drop-doc", "match": {"prefix": "192.0.2.0/24 or-longer"}, "action": "drop"},
            {"name": "tag-rest", "action": "tag", "tag": {"community": ["65000:7"]}},
        ]
    )
    out = send(pipeline, state, ["192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/24"])
    assert len(out) == 1 and sorted(announced(out)) == ["198.51.100.0/24", "203.0.113.0/24"]


def test_as_path_regex_first_match_wins_and_default_drop():
    pipeline, state = pipeline_with(
        [
            {"name": "trusted", "match": {"as_path": "^65001_"}, "action": "accept"},
            {"name": "via-64666", "match": {"as_path": "_64666_"}, "action": "drop"},
        ],
        default="drop",
    )
    assert list(announced(send(pipeline, state, ["10.0.0.0/8"], path=(65001, 64666)))) == ["10.0.0.0/8"]
    # "_64666_" matches 64666 as a whole AS, not inside 646661
    assert announced(send(pipeline, state, ["10.1.0.0/16"], path=(65002, 64666, 64500))) == {}
    assert announced(send(pipeline, state, ["10.2.0.0/16"], path=(65002, 646661))) == {}  # default drop
    rib = state.memory[("rib", TO_ROUTER)]
    held = {str(key_prefix(key)): rib.holds.get(key) for key in rib.paths}
    assert held == {"10.0.0.0/8": None, "10.1.0.0/16": "filter: rule via-64666", "10.2.0.0/16": "filter: default drop"}


def test_large_community_and_origin_lists():
    pipeline, state = pipeline_with(
        [{"name": "l", "match": {"large_community": ["64500:0:666"], "origin": [64500, 64501]}, "action": "drop"}]
    )
    assert announced(send(pipeline, state, ["10.0.0.0/8"], large=[(64500, 0, 666)])) == {}
    # every key must match: another origin with the same large community passes
    assert list(announced(send(pipeline, state, ["10.1.0.0/16"], path=(65001, 64502), large=[(64500, 0, 666)])))


def test_matches_are_counted_per_rule_and_logged_with_the_reason(caplog):
    metrics = Metrics()
    pipeline, state = pipeline_with(
        [
            {"name": "doc", "match": {"prefix": "192.0.2.0/24 le 32"}, "action": "drop"},
            {"name": "ok", "match": {"origin": 64500}, "action": "accept"},
        ],
        metrics=metrics,
    )
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.filter"):
        send(pipeline, state, ["192.0.2.0/24", "192.0.2.128/25", "10.0.0.0/8"])
        DECISIONS.flush()  # matches are counted, a line per rule and interval (log_summary)
    value = metrics.registry.get_sample_value
    assert value("peerwarden_filter_matches_total", {"filter": "filter", "rule": "doc", "action": "drop"}) == 2
    assert value("peerwarden_filter_matches_total", {"filter": "filter", "rule": "ok", "action": "accept"}) == 1
    assert value("peerwarden_routes_held_total", {"stage": "filter"}) == 2
    assert "filter: 2 route(s) dropped by rule doc in " in caplog.text
    assert "(e.g. 192.0.2.0/24 from AS64500; 192.0.2.128/25 from AS64500)" in caplog.text


def test_empty_rules_accept_everything():
    pipeline, state = pipeline_with([])
    raw = announce(["10.0.0.0/8"])
    assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw) == [raw]


@pytest.mark.parametrize(
    "section, expected",
    [
        (
            {"rules": [{"match": {"as_path": "_(64500_"}, "action": "drop"}]},
            "filter.rules[0].match.as_path: '_(64500_'",
        ),
        ({"rules": [{"match": {}, "action": "reject"}]}, "filter.rules[0].action: expected one of drop, tag, accept"),
        ({"rules": [{"match": {"prefix": "10.0.0.1/8"}, "action": "drop"}]}, "has host bits set"),
        (
            {"rules": [{"match": {"prefix": "10.0.0.0/33"}, "action": "drop"}]},
            "filter.rules[0].match.prefix: '10.0.0.0/33'",
        ),
        ({"rules": [{"match": {"prefix": "10.0.0.0/16 le 8"}, "action": "drop"}]}, "needs 16 <= ge <= le <= 32"),
        ({"rules": [{"match": {"prefix": "10.0.0.0/16 upto 24"}, "action": "drop"}]}, "expected PREFIX, PREFIX ge N"),
        ({"rules": [{"match": {"origin": "AS-FOO"}, "action": "drop"}]}, "filter.rules[0].match.origin: 'AS-FOO'"),
        ({"rules": [{"match": {"community": "65536:1"}, "action": "drop"}]}, "community '65536:1' out of range"),
        ({"rules": [{"match": {"large_community": "1:2"}, "action": "drop"}]}, "is not global:local1:local2"),
        ({"rules": [{"match": {"peer": "x"}, "action": "drop"}]}, "filter.rules[0].match.peer: unknown key"),
        ({"rules": [{"action": "tag"}]}, "filter.rules[0].tag: action tag needs"),
        ({"rules": [{"action": "drop", "tag": {"community": ["1:1"]}}]}, "only a rule with action tag"),
        ({"rules": [{"name": "a", "action": "drop"}, {"name": "a", "action": "accept"}]}, "rules[1].name: 'a' is used"),
        ({"rules": [], "default": "reject"}, "filter.default: expected one of accept, drop"),
        ({"rules": "drop all"}, "filter.rules: expected a list, got 'drop all'"),
        ({"rules": [{"match": {"next_hop": "192.0.2.1/33"}, "action": "drop"}]}, "match.next_hop: '192.0.2.1/33'"),
        ({"rules": [{"match": {"as_path_length": "5..2"}, "action": "drop"}]}, "as_path_length: '5..2': expected MIN"),
        ({"rules": [{"match": {"as_path_length": "> 10"}, "action": "drop"}]}, "as_path_length: '> 10': expected MIN"),
        ({"rules": [{"match": {"attribute": {"medd": 0}}, "action": "drop"}]}, "(did you mean 'med'?)"),
        ({"rules": [{"match": {"attribute": {"med": "low"}}, "action": "drop"}]}, "attribute.med: 'low': expected a"),
        ({"rules": [{"match": {"attribute": {"origin": 0}}, "action": "drop"}]}, "expected igp, egp, incomplete"),
        ({"rules": [{"match": {"attribute": {14: "present"}}, "action": "drop"}]}, "14, 15 are the route's prefixes"),
        ({"rules": [{"match": {"attribute": {"99": "0x1"}}, "action": "drop"}]}, "attribute.99: '0x1': expected"),
        ({"rules": [{"match": {"attribute": {"aggregator": "x 1.2.3.4"}}, "action": "drop"}]}, '"ASN ADDRESS"'),
        ({"rules": [{"match": {"attribute": {"otc": "present", 35: "absent"}}, "action": "drop"}]}, "already given"),
        ({"rules": [{"match": {"attribute": {}}, "action": "drop"}]}, "match.attribute: expected a mapping"),
    ],
)
def test_check_names_the_key_and_what_is_wrong(section, expected):
    document = {
        "sessions": [{"listen": "127.0.0.1:1179", "connect": "127.0.0.2", "to_router": ["filter"]}],
        "filter": section,
    }
    text = problems(document)
    assert "runner.yml: " in text and expected in text


def test_check_accepts_a_full_filter_section_usable_in_both_directions():
    document = {
        "sessions": [
            {"listen": "127.0.0.1:1179", "connect": "127.0.0.2", "to_router": ["filter"], "to_peer": ["filter"]}
        ],
        "filter": {
            "default": "accept",
            "rules": [
                {
                    "name": "doc",
                    "match": {
                        "prefix": ["192.0.2.0/24 or-longer", "2001:db8::/32 ge 48 le 64"],
                        "as_path": ["_64511$", "^64496 "],
                        "origin": "AS64496",
                        "community": ["no-export", "65535:666"],
                    },
                    "action": "drop",
                },
                {"match": {"origin": 64500}, "action": "tag", "tag": {"large_community": "65000:0:1"}},
            ],
        },
    }
    checked = config.check(document)
    assert checked["sessions"][0]["to_peer"] == ["filter"]
    assert [rule["name"] for rule in checked["filter"]["rules"]] == ["doc", "rule 2"]


def held_reasons(state):
    rib = state.memory[("rib", TO_ROUTER)]
    return {str(key_prefix(key)): rib.holds.get(key) for key in rib.paths}


def test_next_hop_addresses_and_prefixes_in_both_families():
    pipeline, state = pipeline_with(
        [{"name": "via-ix", "match": {"next_hop": ["192.0.2.7", "2001:db8:7::/48"]}, "action": "drop"}]
    )
    assert announced(send(pipeline, state, ["10.0.0.0/8"], next_hop="192.0.2.7")) == {}
    assert list(announced(send(pipeline, state, ["10.1.0.0/16"], next_hop="192.0.2.8")))
    assert announced(send(pipeline, state, ["2001:db8:1::/48"], next_hop="2001:db8:7::1")) == {}
    assert list(announced(send(pipeline, state, ["2001:db8:2::/48"], next_hop="2001:db8:8::1")))
    assert held_reasons(state) == {
        "10.0.0.0/8": "filter: rule via-ix",
        "10.1.0.0/16": None,
        "2001:db8:1::/48": "filter: rule via-ix",
        "2001:db8:2::/48": None,
    }


@pytest.mark.parametrize(
    "ranges, long_path_held, short_path_held",
    [("11..", True, False), ("..2", False, True), (["3..5", 1], False, False), (12, True, False)],
)
def test_as_path_length_ranges(ranges, long_path_held, short_path_held):
    pipeline, state = pipeline_with([{"name": "len", "match": {"as_path_length": ranges}, "action": "drop"}])
    send(pipeline, state, ["10.0.0.0/8"], path=tuple(range(64500, 64512)))  # 12 ASNs
    send(pipeline, state, ["10.1.0.0/16"], path=(65001, 64500))  # 2 ASNs
    held = held_reasons(state)
    assert (held["10.0.0.0/8"] is not None, held["10.1.0.0/16"] is not None) == (long_path_held, short_path_held)


AGGREGATOR = make_attribute(c.AGGREGATOR, Aggregator(64500, ipaddress.IPv4Address("192.0.2.9")))


@pytest.mark.parametrize(
    "condition, matching, other",
    [
        ({"med": 0}, [make_attribute(c.MULTI_EXIT_DISC, 0)], [make_attribute(c.MULTI_EXIT_DISC, 5)]),
        ({"med": "absent"}, [], [make_attribute(c.MULTI_EXIT_DISC, 0)]),
        ({"local_pref": [100, 200]}, [make_attribute(c.LOCAL_PREF, 200)], [make_attribute(c.LOCAL_PREF, 150)]),
        ({"origin": "incomplete"}, [make_attribute(c.ORIGIN, "incomplete")], []),
        ({"origin": ["egp", "incomplete"]}, [make_attribute(c.ORIGIN, "egp")], [make_attribute(c.ORIGIN, "igp")]),
        ({"atomic_aggregate": "present"}, [make_attribute(c.ATOMIC_AGGREGATE, True)], []),
        ({"aggregator": "AS64500 192.0.2.9"}, [AGGREGATOR], []),
        (
            {"aggregator": "64501 192.0.2.9"},
            [make_attribute(c.AGGREGATOR, Aggregator(64501, ipaddress.IPv4Address("192.0.2.9")))],
            [AGGREGATOR],
        ),
        ({"otc": 64500}, [make_attribute(c.ONLY_TO_CUSTOMER, 64500)], [make_attribute(c.ONLY_TO_CUSTOMER, 64501)]),
        ({"otc": "present"}, [make_attribute(c.ONLY_TO_CUSTOMER, 1)], []),
        ({35: "present"}, [make_attribute(c.ONLY_TO_CUSTOMER, 1)], []),
        ({"99": "present"}, [unknown_attribute(0xC0, 99, b"\x01\x02")], []),
        ({99: "0x0102"}, [unknown_attribute(0xC0, 99, b"\x01\x02")], [unknown_attribute(0xC0, 99, b"\x01\x03")]),
        ({"med": "0x00000005"}, [make_attribute(c.MULTI_EXIT_DISC, 5)], [make_attribute(c.MULTI_EXIT_DISC, 6)]),
        (
            {"med": 0, "local_pref": 100},
            [make_attribute(c.MULTI_EXIT_DISC, 0), make_attribute(c.LOCAL_PREF, 100)],
            [make_attribute(c.MULTI_EXIT_DISC, 0)],
        ),
    ],
)
def test_any_attribute_present_absent_or_equal(condition, matching, other):
    """Each condition drops the route carrying `matching` and passes the one carrying `other` (every
    entry of `attribute:` must hold)."""
    pipeline, state = pipeline_with([{"name": "attr", "match": {"attribute": condition}, "action": "drop"}])
    send(pipeline, state, ["10.0.0.0/8"], extra=matching)
    send(pipeline, state, ["10.1.0.0/16"], extra=other)
    send(pipeline, state, ["2001:db8:1::/48"], extra=matching)
    assert held_reasons(state) == {
        "10.0.0.0/8": "filter: rule attr",
        "10.1.0.0/16": None,
        "2001:db8:1::/48": "filter: rule attr",
    }


def test_keys_not_configured_make_no_test():
    """A rule is the tests of the keys it gives, nothing else (a key nobody configures costs nothing)."""
    problems = []
    section = check_filter(
        {"rules": [{"match": {"origin": 64500}, "action": "drop"}, {"action": "accept"}]},
        lambda key, text: problems.append(text),
    )
    stage = FilterStage(section)
    assert problems == [] and [len(rule.tests) for rule in stage.rules] == [1, 0]
    assert [rule.next_hop for rule in stage.rules] == [None, None] and not stage.needs_number
