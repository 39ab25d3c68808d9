"""The filter stage: ordered rules, first match wins, that drop routes (held back with the rule's
name as the reason, withdrawn if the receiver had them) or tag them with communities; a route no
rule matches gets the default action (accept unless configured). Also the checking of its
configuration section, so that `check` rejects what the stage could not run.

    filter:
      default: accept               # or drop
      rules:
        - name: no-documentation    # in logs and metrics; "rule N" when absent
          match:                    # every key given must match; a list means any of its items
            prefix: [192.0.2.0/24 le 32, 2001:db8::/32 or-longer, 10.0.0.0/8 ge 16 le 24]
            origin: [64496, 64511]
            as_path: "_64666_"      # Python regex on the path as text ("64500 64501 {64502 64503}");
                                    # "_" is a boundary: start, end, space, brace or bracket
            community: 65535:666    # present on the route (also no-export, blackhole, ...)
            large_community: 64500:0:666
            next_hop: [192.0.2.1, 2001:db8::/32]   # an address or a prefix the next hop is inside
            as_path_length: "11.."  # MIN..MAX, either end open, or a number (stages/filter_match.py)
            attribute: {origin: incomplete, med: 0, otc: present, 99: "0x0102"}  # any attribute
          action: drop              # drop | tag | accept
        - name: customers
          match: {origin: 64500}
          action: tag
          tag: {community: [65000:100], large_community: [65000:0:100]}

Only the keys a rule gives are tested, so a key nobody configures costs nothing per UPDATE.
"""

import ipaddress
import logging
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from peerwarden_runner import schema as s
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import make_attribute
from peerwarden_runner.codec.communities import community_from_text, community_to_text, large_from_text
from peerwarden_runner.log_summary import DECISIONS, session_name
from peerwarden_runner.stages.base import Scope, Stage
from peerwarden_runner.stages.filter_match import (
    ATTRIBUTE_KEYS,
    as_path_length_test,
    attribute_test,
    check_attributes,
    next_hop_test,
    parse_length_range,
    parse_next_hop,
)

LOG = logging.getLogger("peerwarden_runner.filter")
ACTIONS = ("drop", "tag", "accept")
MATCH_KEYS = (
    "prefix",
    "origin",
    "as_path",
    "community",
    "large_community",
    "next_hop",
    "as_path_length",
    "attribute",
)
TAG_KEYS = ("community", "large_community")
_BOUNDARY = r"(?:^|$|[ {}()\[\]])"
_WIDTH = {c.AFI_IPV4: (32, 4), c.AFI_IPV6: (128, 16)}


def as_path_regex(text):
    """A compiled AS-path regex; "_" stands for a boundary as in router AS-path regexps."""
    return re.compile(str(text).replace("_", _BOUNDARY))


def parse_prefix_match(text):
    """ "10.0.0.0/8", "10.0.0.0/8 le 24", "... ge 16 le 24", "... or-longer" -> (network, low, high)."""
    words = str(text).replace("or longer", "or-longer").split()
    if not words:
        raise ValueError("empty prefix")
    try:
        network = ipaddress.ip_network(words[0])
    except ValueError as error:
        raise ValueError("%r: %s" % (words[0], error)) from None
    low, high = network.prefixlen, network.prefixlen
    rest = words[1:]
    if rest == ["or-longer"]:
        return network, low, network.max_prefixlen
    if (
        len(rest) not in (0, 2, 4)
        or any(word not in ("ge", "le") for word in rest[0::2])
        or len(set(rest[0::2])) != len(rest[0::2])
        or not all(word.isdigit() for word in rest[1::2])
    ):
        raise ValueError("%r: expected PREFIX, PREFIX ge N, PREFIX le N, PREFIX ge N le N or PREFIX or-longer" % text)
    bounds = dict(zip(rest[0::2], (int(word) for word in rest[1::2])))
    if "ge" in bounds:
        low, high = bounds["ge"], network.max_prefixlen
    if "le" in bounds:
        high = bounds["le"]
    if not network.prefixlen <= low <= high <= network.max_prefixlen:
        raise ValueError("%r: needs %d <= ge <= le <= %d" % (text, network.prefixlen, network.max_prefixlen))
    return network, low, high


def _listed(value):
    return value if isinstance(value, list) else [value]


def check_filter(section, problem):
    """The filter section normalised (rules as dicts of parsed values), every problem reported."""
    if section is None:
        return None
    if not isinstance(section, dict) or not isinstance(section.get("rules", []), list):
        problem("filter", "expected a mapping with 'rules: [...]' and optionally 'default: accept|drop'")
        return None
    default = section.get("default", "accept")
    if default not in ("accept", "drop"):
        problem("filter.default", "expected accept or drop, got %r" % (default,))
    for key in sorted(set(section) - {"rules", "default"}):
        problem("filter." + key, "unknown key (expected rules, default)")
    rules, names = [], set()
    for index, rule in enumerate(section.get("rules") or []):
        key = "filter.rules[%d]" % index
        if not isinstance(rule, dict):
            problem(key, "expected a mapping with match and action")
            continue
        checked = _check_rule(rule, index, key, problem)
        if checked["name"] in names:
            problem(key + ".name", "%r is used by an earlier rule (names must be unique)" % checked["name"])
        names.add(checked["name"])
        rules.append(checked)
    return {"default": default, "rules": rules}


def _check_rule(rule, index, key, problem):
    checked = {"name": str(rule.get("name") or "rule %d" % (index + 1)), "action": rule.get("action")}
    for extra in sorted(set(rule) - {"name", "match", "action", "tag"}):
        problem("%s.%s" % (key, extra), "unknown key (expected name, match, action, tag)")
    if checked["action"] not in ACTIONS:
        problem(key + ".action", "expected one of %s, got %r" % (", ".join(ACTIONS), checked["action"]))
    match = rule.get("match") or {}
    if not isinstance(match, dict):
        problem(key + ".match", "expected a mapping of %s" % ", ".join(MATCH_KEYS))
        match = {}
    for extra in sorted(set(match) - set(MATCH_KEYS)):
        problem("%s.match.%s" % (key, extra), "unknown key (expected one of %s)" % ", ".join(MATCH_KEYS))
    parsers: dict[str, Callable[[Any], Any]] = {
        "prefix": parse_prefix_match,
        "origin": _asn,
        "as_path": as_path_regex,
        "community": community_from_text,
        "large_community": large_from_text,
        "next_hop": parse_next_hop,
        "as_path_length": parse_length_range,
    }
    for field in MATCH_KEYS:
        if field == "attribute" and field in match:
            checked[field] = check_attributes(match[field], "%s.match.%s" % (key, field), problem)
        elif field in match:
            checked[field] = _parsed(match[field], parsers[field], "%s.match.%s" % (key, field), problem)
    tag = rule.get("tag") or {}
    if checked["action"] == "tag":
        if not isinstance(tag, dict) or not tag or set(tag) - set(TAG_KEYS):
            problem(key + ".tag", "action tag needs 'tag: {community: [...], large_community: [...]}'")
            tag = {}
        checked["tag"] = {
            field: _parsed(tag[field], parsers[field], "%s.tag.%s" % (key, field), problem)
            for field in TAG_KEYS
            if field in tag
        }
    elif rule.get("tag"):
        problem(key + ".tag", "only a rule with action tag adds communities")
    return checked


def _asn(value):
    text = str(value).upper()
    number = int(text[2:] if text.startswith("AS") else text)
    if not 0 <= number <= 0xFFFFFFFF:
        raise ValueError("%r is not an AS number" % value)
    return number


def _parsed(value, parser, key, problem):
    items = []
    for item in _listed(value):
        try:
            items.append(parser(item))
        except (ValueError, TypeError, re.error) as error:
            problem(key, "%r: %s" % (item, error))
    return items


class Rule:
    """One checked rule, ready to match: the route-level tests (prefix, next hop) and the attribute-level
    ones, made only for the keys the rule gives."""

    def __init__(self, checked):
        self.name, self.action = checked["name"], checked["action"]
        self.prefixes: list[tuple[int, int, int, int, int]] | None = [
            self._prefix(*entry) for entry in checked.get("prefix", ())
        ] or None
        self.next_hop = next_hop_test(checked["next_hop"]) if "next_hop" in checked else None
        self.tests = self._attribute_tests(checked)
        self.matches_attributes = _all_of(self.tests)
        tag = checked.get("tag", {})
        self.add_communities = tuple(tag.get("community", ()))
        self.add_large = tuple(tag.get("large_community", ()))

    @staticmethod
    def _attribute_tests(checked):
        """(attributes, facts) -> bool for each attribute-level key the rule gives."""
        tests = []
        if "origin" in checked:
            origins = frozenset(checked["origin"])
            tests.append(lambda attributes, facts: facts.origin in origins)
        if "as_path" in checked:
            regexes = checked["as_path"]
            tests.append(lambda attributes, facts: any(regex.search(facts.path_text()) for regex in regexes))
        for field, code in (("community", c.COMMUNITIES), ("large_community", c.LARGE_COMMUNITY)):
            if field in checked:
                wanted = frozenset(checked[field])
                tests.append(_community_test(wanted, code))
        if "as_path_length" in checked:
            tests.append(as_path_length_test(checked["as_path_length"]))
        for code, accepted in checked.get("attribute", {}).items():
            tests.append(attribute_test(code, accepted))
        return tests

    @staticmethod
    def _prefix(network, low, high):
        afi = c.AFI_IPV4 if network.version == 4 else c.AFI_IPV6
        bits = _WIDTH[afi][0]
        return afi, bits - network.prefixlen, int(network.network_address) >> (bits - network.prefixlen), low, high

    def matches_prefix(self, prefix, number):
        """`number`: the prefix's address as an integer (host bits as sent)."""
        for afi, shift, network, low, high in self.prefixes or ():
            if prefix.afi == afi and low <= prefix.length <= high and number >> shift == network:
                return True
        return False


def _all_of(tests):
    """(attributes, facts) -> whether every test holds, in order (the first that fails ends it): compiled
    once per rule, so that a rule of one key costs one call per attribute set."""
    if not tests:
        return lambda attributes, facts: True
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda attributes, facts: first(attributes, facts) and second(attributes, facts)

    def every(attributes, facts):
        for test in tests:  # noqa: SIM110 - a loop, not all(generator): per rule and attribute set
            if not test(attributes, facts):
                return False
        return True

    return every


class Facts:
    """What the attribute tests read of one UPDATE: its origin AS, and its AS path (and as text),
    made once and only if a rule asks."""

    __slots__ = ("change", "origin", "_path", "_text")

    def __init__(self, change):
        self.change, self.origin, self._path, self._text = change, change.origin, None, None

    def path(self):
        if self._path is None:
            self._path = self.change.full_as_path() or ()
        return self._path or None

    def path_text(self):
        if self._text is None:
            path = self.path()
            self._text = str(path) if path is not None else ""
        return self._text


def _community_test(wanted, code):
    return lambda attributes, facts: bool(wanted.intersection(_values(attributes, code)))


def _values(attributes, code):
    attribute = attributes.get(code)
    return attribute.value if attribute is not None and attribute.value is not None else ()


def _number(prefix):
    bits, width = _WIDTH.get(prefix.afi, (0, 0))
    return int.from_bytes(prefix.packed.ljust(width, b"\0"), "big")


class FilterStage(Stage):
    """Route stage, one per session for both directions; on a speaker's monitor only without tag rules."""

    name = "filter"
    scope = Scope.SESSION
    instances = "filters"
    watch_ok = True
    check = staticmethod(check_filter)

    @classmethod
    def schema(cls):
        one_or_more: dict[str, Any] = {
            "anyOf": [{"type": ["string", "integer"]}, s.list_of({"type": ["string", "integer"]})]
        }
        one_or_more[s.EXPECTED] = "a value or a list of values"
        attribute = s.keyed(
            one_or_more,
            {
                "anyOf": [s.enum(*ATTRIBUTE_KEYS), s.integer(1, 255), s.string(r"^[0-9]{1,3}$")],
                s.EXPECTED: "an attribute's name (%s) or type code 1-255" % ", ".join(ATTRIBUTE_KEYS),
            },
            "a mapping of attribute (name or type code) to present, absent or a value",
        )
        match = s.obj({key: attribute if key == "attribute" else one_or_more for key in MATCH_KEYS})
        tag = s.obj({"community": one_or_more, "large_community": one_or_more})
        rule = s.obj(
            {"name": {"type": ["string", "integer"]}, "match": match, "action": s.enum(*ACTIONS), "tag": tag},
            required=["action"],
        )
        return s.obj({"default": s.enum("accept", "drop"), "rules": s.list_of(rule)})

    @classmethod
    def check_watch(cls, section, field, problem):
        tagging = [rule["name"] for rule in section["rules"] if rule["action"] == "tag"] if section else []
        if tagging:
            problem(
                field,
                "the filter has tag rules (%s): a speaker's stages only watch, nothing is passed on "
                "to tag (expected a filter whose rules drop or accept; a drop is shown as held)" % ", ".join(tagging),
            )

    @classmethod
    def build(cls, section, context):
        return cls(section, context.metrics, context.instance)

    def __init__(self, section, metrics=None, instance=""):
        """`section`: the checked filter section (check_filter); `instance`: how sessions list it (the
        name in its logs, metrics and held reasons): "filter", or "filter:NAME" for `filters: {NAME: ...}`."""
        self.name = instance or "filter"
        self.rules = [Rule(checked) for checked in section["rules"]]
        self.default = section.get("default", "accept")
        self.metrics = metrics
        self.needs_number = any(rule.prefixes for rule in self.rules)

    def update(self, state, direction, change):
        routes = change.routes
        if not routes:
            return
        facts = Facts(change)
        # per attribute mapping (routes of a run share one): each rule's verdict, made when a route needs it
        attribute_verdicts: dict[int, list[Any]] = {}
        tagged: dict[Any, Any] = {}
        dropped: dict[Any, Any] = {}
        accepted: dict[Any, Any] = {}
        refused, rules, needs_number = change.refused, self.rules, self.needs_number
        for position, route in enumerate(routes):
            prefix, next_hop, attributes = route
            if refused and prefix in refused or prefix[0] not in _WIDTH:
                continue
            number = _number(prefix) if needs_number else 0
            verdicts = attribute_verdicts.get(id(attributes))
            if verdicts is None:
                verdicts = attribute_verdicts[id(attributes)] = [None] * len(rules)
            chosen = None
            for index, rule in enumerate(rules):
                if rule.prefixes is not None and not rule.matches_prefix(prefix, number):
                    continue
                if rule.next_hop is not None and not rule.next_hop(route):
                    continue
                verdict = verdicts[index]
                if verdict is None:
                    verdict = verdicts[index] = rule.matches_attributes(attributes, facts)
                if verdict:
                    chosen = rule
                    break
            action = chosen.action if chosen is not None else self.default
            if action == "drop":
                rule_name = chosen.name if chosen is not None else "default"
                change.hold(route, self.name, "rule %s" % rule_name if chosen is not None else "default drop")
                dropped.setdefault(rule_name, []).append(prefix)
            elif action == "tag":
                routes[position] = self._tagged(route, chosen, change, tagged)
            elif chosen is not None:
                accepted[chosen.name] = accepted.get(chosen.name, 0) + 1
        self._count_and_log(session_name(state), change, dropped, tagged, accepted)

    def _tagged(self, route, rule, change, tagged):
        """The route with the rule's communities added; routes that shared attributes share the new ones
        (one new mapping per original mapping and rule), so they still go out in one UPDATE."""
        key = (id(route.attributes), rule.name)
        entry = tagged.get(key)
        if entry is None:
            attributes = dict(route.attributes)
            if rule.add_communities:
                present = _values(route.attributes, c.COMMUNITIES)
                added = [value for value in rule.add_communities if value not in present]
                if added:
                    attributes[c.COMMUNITIES] = make_attribute(c.COMMUNITIES, list(present) + added, change.ctx)
            if rule.add_large:
                present = _values(route.attributes, c.LARGE_COMMUNITY)
                added = [value for value in rule.add_large if value not in present]
                if added:
                    attributes[c.LARGE_COMMUNITY] = make_attribute(c.LARGE_COMMUNITY, list(present) + added, change.ctx)
            # the original mapping is kept in the entry so that its id() stays unique during this UPDATE
            entry = tagged[key] = [route.attributes, MappingProxyType(attributes), rule, []]
            change.changed = True
        entry[3].append(route.prefix)
        return route._replace(attributes=entry[1])

    def _count_and_log(self, session, change, dropped, tagged, accepted):
        """Metrics, and each route counted in log_summary (one INFO line per rule and interval; each at DEBUG)."""
        record, origin = DECISIONS.record, change.origin
        for rule_name, prefixes in dropped.items():
            if self.metrics is not None:
                self.metrics.rule_matched(self.name, rule_name, "drop", len(prefixes))
            reason = "dropped by rule %s" % rule_name
            for prefix in prefixes:
                record(LOG, session, self.name, reason, "%s from AS%s", prefix, origin)
        for dummy, dummy_attributes, rule, prefixes in tagged.values():
            if self.metrics is not None:
                self.metrics.rule_matched(self.name, rule.name, "tag", len(prefixes))
            added = [community_to_text(value) for value in rule.add_communities] + [
                "%d:%d:%d" % value for value in rule.add_large
            ]
            reason = "tagged by rule %s with %s" % (rule.name, " ".join(added))
            for prefix in prefixes:
                record(LOG, session, self.name, reason, "%s from AS%s", prefix, origin)
        if self.metrics is not None:
            for rule_name, count in accepted.items():
                self.metrics.rule_matched(self.name, rule_name, "accept", count)
