"""The filter's match keys on the next hop, the AS path length and any path attribute: each parsed
from its configuration text into a small declarative test (no eval), and the test itself.

    match:
      next_hop: [192.0.2.1, 2001:db8::/32]   # the route's next hop is one of, or inside one of, these
      as_path_length: "11.."                 # MIN..MAX, either end open ("..2", "3..5"), or N exactly;
                                             # RFC 4271 length: an AS_SET counts 1, confederations 0
      attribute:                             # every entry must hold; a list means any of its items
        origin: incomplete                   # igp | egp | incomplete
        med: 0                               # med, local_pref, otc (RFC 9234): a number
        local_pref: [100, 200]
        aggregator: "64500 192.0.2.1"        # aggregator / as4_aggregator: "ASN ADDRESS"
        atomic_aggregate: present            # present | absent, for any attribute
        otc: present
        99: "0x0102ff"                       # any type by code or name: its value octets, in hex
"""

import ipaddress
import re

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import ATTRIBUTE_CODES, ATTRIBUTE_NAMES

PRESENT, ABSENT = "present", "absent"
# what `attribute:` may name: every type a route carries (MP_REACH/MP_UNREACH are its prefixes and next hop)
ATTRIBUTE_KEYS = tuple(name for code, name in ATTRIBUTE_NAMES.items() if code not in (14, 15))
ORIGINS = {"igp": c.ORIGIN_IGP, "egp": c.ORIGIN_EGP, "incomplete": c.ORIGIN_INCOMPLETE}
_NUMBERS = (c.MULTI_EXIT_DISC, c.LOCAL_PREF, c.ONLY_TO_CUSTOMER)
_AGGREGATORS = (c.AGGREGATOR, 18)  # AGGREGATOR, AS4_AGGREGATOR
_ADDRESSES = (c.NEXT_HOP, c.ORIGINATOR_ID)
_HEX = re.compile(r"^0x((?:[0-9a-fA-F]{2})*)$")
_RANGE = re.compile(r"^\s*([0-9]*)\s*\.\.\s*([0-9]*)\s*$")


def parse_next_hop(text):
    """ "192.0.2.1" or "2001:db8::/32" -> an ip_network (an address is its /32 or /128)."""
    try:
        return ipaddress.ip_network(str(text).strip())
    except ValueError as error:
        raise ValueError("expected an address or a prefix (%s)" % error) from None


def parse_length_range(value):
    """ "3..5", "11..", "..2" or 4 -> (low, high); high None: no upper bound."""
    high: int | None
    if isinstance(value, int) and not isinstance(value, bool):
        low = high = value
    else:
        match = _RANGE.match(str(value))
        if not match or match.groups() == ("", ""):
            raise ValueError("expected MIN..MAX (an end may be left open: 11.. or ..2) or a number")
        low, high = int(match.group(1) or 0), int(match.group(2)) if match.group(2) else None
    if low < 0 or high is not None and high < low:
        raise ValueError("expected MIN <= MAX")
    return low, high


def attribute_code(key):
    """A type code from a name ("med", "otc") or a number 1-255."""
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        if 1 <= key <= 255 and key not in (14, 15):
            return key
        raise ValueError("a type code is 1-255 (14, 15 are the route's prefixes: use prefix, next_hop)")
    code = ATTRIBUTE_CODES.get(str(key))
    if code is None or code in (14, 15):
        raise ValueError("expected a type code 1-255 or one of %s" % ", ".join(ATTRIBUTE_KEYS))
    return code


def parse_attribute_value(code, value):
    """One accepted value of an attribute -> (what, operand): (PRESENT/ABSENT, None), ("data", octets)
    or ("value", the decoded value to compare)."""
    text = str(value).strip()
    if text in (PRESENT, ABSENT):
        return text, None
    hexed = _HEX.match(text) if isinstance(value, str) else None
    if hexed:
        return "data", bytes.fromhex(hexed.group(1))
    if code == c.ORIGIN and text.lower() in ORIGINS:
        return "value", ORIGINS[text.lower()]
    if code in _NUMBERS and isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF:
        return "value", value
    if code in _AGGREGATORS:
        words = text.upper().removeprefix("AS").split()
        if len(words) == 2 and words[0].isdigit():
            try:
                return "value", (int(words[0]), ipaddress.IPv4Address(words[1]))
            except ValueError:
                pass
    if code in _ADDRESSES:
        try:
            return "value", ipaddress.IPv4Address(text)
        except ValueError:
            pass
    return None, _expected(code)


def _expected(code):
    forms = ["present", "absent", "0xHEX (the value octets)"]
    if code == c.ORIGIN:
        forms.insert(0, "igp, egp, incomplete")
    elif code in _NUMBERS:
        forms.insert(0, "a number 0-4294967295")
    elif code in _AGGREGATORS:
        forms.insert(0, '"ASN ADDRESS"')
    elif code in _ADDRESSES:
        forms.insert(0, "an IPv4 address")
    return "expected %s" % ", ".join(forms)


def check_attributes(section, key, problem):
    """{code: [(what, operand), ...]} of a match's `attribute:` mapping, every problem reported."""
    if not isinstance(section, dict) or not section:
        problem(key, "expected a mapping of attribute (name or type code) to present, absent or a value")
        return {}
    checked = {}
    for name, values in section.items():
        field = "%s.%s" % (key, name)
        try:
            code = attribute_code(name)
        except ValueError as error:
            problem(field, "%r: %s" % (name, error))
            continue
        if code in checked:
            problem(field, "type %d is already given (as %s)" % (code, ATTRIBUTE_NAMES.get(code, code)))
            continue
        tests = []
        for value in values if isinstance(values, list) else [values]:
            what, operand = parse_attribute_value(code, value)
            if what is None:
                problem(field, "%r: %s" % (value, operand))
            else:
                tests.append((what, operand))
        checked[code] = tests
    return checked


# ---- the tests: each made once per rule, each run only where a rule configures its key ----


NEXT_HOPS_KEPT = 4096  # verdicts per next hop address: a session has few next hops, a table shares them


def next_hop_test(networks):
    """route -> whether its next hop is inside one of `networks`; each address answered once (`hop in
    network` is Python-level ipaddress work, and the routes of a session share a few next hops)."""
    by_version: dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {4: [], 6: []}
    for network in networks:
        by_version[network.version].append(network)
    known: dict[object, bool] = {}

    def test(route):
        hop = route.next_hop
        if hop is None:
            return False
        verdict = known.get(hop)
        if verdict is None:
            if len(known) >= NEXT_HOPS_KEPT:
                known.clear()
            verdict = known[hop] = any(hop in network for network in by_version[hop.version])
        return verdict

    return test


def as_path_length_test(ranges):
    """(attributes, facts) -> whether the UPDATE's AS path length is in one of `ranges`."""

    def test(attributes, facts):
        path = facts.path()
        length = path.length if path is not None else 0
        return any(low <= length and (high is None or length <= high) for low, high in ranges)

    return test


def attribute_test(code, accepted):
    """(attributes, facts) -> whether attribute `code` is as one of `accepted` says."""

    def test(attributes, facts):
        attribute = attributes.get(code)
        for what, operand in accepted:
            if what == PRESENT and attribute is not None or what == ABSENT and attribute is None:
                return True
            if attribute is None or what in (PRESENT, ABSENT):
                continue
            if what == "data" and bytes(attribute.data) == operand:
                return True
            if what == "value" and attribute.value == operand:  # an Aggregator equals its (asn, address)
                return True
        return False

    return test
