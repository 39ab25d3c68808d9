"""The JSON text of the fast path (codec.fast_json, what `speaker --print` writes) against the full
decoder's JSON form: for every UPDATE scan_update accepts (codec fixtures, the fuzzers' generated,
mutated and attribute-soup UPDATEs in each fuzz context, the shapes of real tables, hand-made odd flags
and orders), the same characters as json.dumps(to_json(...))."""

import dataclasses
import json
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))

from codec_contexts import FOUR, UPDATES  # noqa: E402
from fuzz_codec import CONTEXTS, attribute_soup, mutate, valid_update  # noqa: E402
from peerwarden_runner.codec import Attribute, Prefix, encode_update, make_attribute, mp_reach_attribute  # noqa: E402
from peerwarden_runner.codec import constants as c  # noqa: E402
from peerwarden_runner.codec.communities import extended_from_text  # noqa: E402
from peerwarden_runner.codec.fast_json import update_json  # noqa: E402
from peerwarden_runner.codec.fast_update import scan_update  # noqa: E402
from peerwarden_runner.codec.json_form import to_json  # noqa: E402
from test_fast_update import real_shapes  # noqa: E402

INTERNAL = dataclasses.replace(FOUR, ebgp=False)
EXTERNAL = dataclasses.replace(FOUR, ebgp=True)


def full_text(raw, ctx):
    """The full decoder's JSON, without the opening '{"type":"update",' and the closing brace."""
    text = json.dumps(to_json(raw, ctx), separators=(",", ":"))
    prefix = '{"type":"update",'
    assert text.startswith(prefix) and text.endswith("}")
    return text[len(prefix) : -1]


def compare(messages, ctx):
    """How many of `messages` the fast path took; each of them must give the full decoder's text."""
    taken = 0
    for raw in messages:
        scanned = scan_update(raw, ctx)
        if scanned is None:
            continue
        taken += 1
        assert update_json(raw, scanned) == full_text(raw, ctx), raw.hex()
    return taken


def test_codec_fixtures():
    taken = sum(compare([raw], ctx) for raw, ctx in UPDATES)
    assert taken >= 1  # the IPv4 End-of-RIB; the others carry attributes the fast path leaves to the decoder


@pytest.mark.parametrize("ctx", CONTEXTS + [INTERNAL, EXTERNAL], ids=lambda ctx: repr(ctx)[:60])
def test_fuzz_corpus(ctx):
    rng = random.Random(16)
    messages = []
    for dummy in range(3000):
        pick = rng.random()
        base = valid_update(rng, ctx)
        messages.append(base if pick < 0.5 else mutate(rng, base) if pick < 0.85 else attribute_soup(rng, ctx))
    taken = compare(messages, ctx)
    if ctx.four_octet_as and not ctx.add_path_receive:
        assert taken > 100  # the fast path is taken often enough to be tested
    else:
        assert taken == 0  # 2-octet AS numbers and ADD-PATH always take the full decoder


@pytest.mark.parametrize("ctx", [INTERNAL, EXTERNAL])
def test_real_table_shapes(ctx):
    messages = real_shapes(random.Random(7), 3000)
    assert compare(messages, ctx) > 2500


def odd(code, flags, value):
    """An attribute with flags other than its RFC's (partial bit, extended length on a short value)."""
    return Attribute(flags, code, make_attribute(code, value).data)


def test_odd_flags_order_and_next_hops():
    ipv4 = [Prefix.parse("192.0.2.0/24"), Prefix.parse("198.51.100.128/25")]
    ipv6 = [Prefix.parse("2001:db8:1::/48")]
    base = [
        make_attribute(c.ORIGIN, 2),
        make_attribute(c.AS_PATH, [["sequence", [65001, 4200000000]], ["set", [1, 2]]]),
    ]
    extra = [
        make_attribute(c.ATOMIC_AGGREGATE, True),
        make_attribute(c.AGGREGATOR, (4200000001, "192.0.2.9")),
        make_attribute(
            c.EXTENDED_COMMUNITIES, [extended_from_text("target:64500:1"), bytes.fromhex("0303000000000001")]
        ),
        make_attribute(c.LARGE_COMMUNITY, [(64500, 1, 2), (4200000000, 0, 4294967295)]),
        odd(c.COMMUNITIES, c.FLAG_OPTIONAL | c.FLAG_TRANSITIVE | c.FLAG_PARTIAL, [1, 0xFFFFFF01]),
        odd(c.MULTI_EXIT_DISC, c.FLAG_OPTIONAL | c.FLAG_EXTENDED_LENGTH, 7),
    ]
    hop = make_attribute(c.NEXT_HOP, "192.0.2.1")
    messages = [
        encode_update(attributes=base + [hop] + extra, nlri=ipv4),
        encode_update(attributes=list(reversed(base + [hop] + extra)), nlri=ipv4),  # not ascending
        encode_update(withdrawn=ipv4),
        encode_update(withdrawn=ipv4, attributes=base + [hop], nlri=ipv4[:1]),
        encode_update(),  # the IPv4 End-of-RIB
        encode_update(attributes=base + [mp_reach_attribute(2, 1, ["2001:db8::1", "fe80::1"], ipv6)]),
        encode_update(attributes=[mp_reach_attribute(2, 1, "::ffff:192.0.2.1", ipv6)] + base + extra),
        encode_update(
            attributes=base + [odd(c.LOCAL_PREF, c.FLAG_TRANSITIVE | c.FLAG_EXTENDED_LENGTH, 100), hop], nlri=ipv4
        ),
    ]
    for ctx in (INTERNAL, EXTERNAL):
        taken = compare(messages, ctx)
        assert taken == len(messages) - (ctx is EXTERNAL)  # LOCAL_PREF from an external peer: the full decoder


@pytest.mark.parametrize("ctx", [INTERNAL, EXTERNAL, None], ids=("internal", "external", "no-context"))
def test_the_archive_writers_lines_are_the_json_forms(ctx):
    """archive_process writes scanned UPDATEs as text: each line is json.dumps of the full JSON form."""
    from peerwarden_runner.archive_process import _line, _record
    from peerwarden_runner.codec import DEFAULT_CONTEXT

    rng = random.Random(23)
    messages = real_shapes(rng, 1500) + [valid_update(rng, FOUR) for dummy in range(500)] + [raw for raw, x in UPDATES]
    fast = 0
    for number, raw in enumerate(messages):
        time = 1700000000 + number / 7
        line = _line(raw, ctx, "received", "edge-%s-1", time)  # a "%" in a name is text
        full = json.dumps(_record(raw, ctx, "received", "edge-%s-1", time), separators=(",", ":"))
        assert line == full, raw.hex()
        fast += scan_update(raw, ctx or DEFAULT_CONTEXT) is not None
    assert fast > 1500  # most took the fast path
