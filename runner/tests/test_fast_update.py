"""The fast path (codec.fast_update) against the full decoder: the same UPDATEs through two pipelines,
one with `fast` and one without, must make the same decisions, the same RIB and byte-identical
output, for the fuzzers' generated and mutated UPDATEs and for the shapes of real tables."""

import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))

from codec_contexts import FOUR, TWO  # noqa: E402
from fuzz_codec import attribute_soup, mutate, valid_update  # noqa: E402
from peerwarden_runner.codec import (  # noqa: E402
    Prefix,
    decode_update,
    encode_update,
    make_attribute,
    mp_reach_attribute,
)
from peerwarden_runner.codec import constants as c  # noqa: E402
from peerwarden_runner.codec.fast_update import SectionAttributes, scan_update, section_hop_and_origin  # noqa: E402
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline, SessionReset  # noqa: E402
from peerwarden_runner.rpki import VrpTable, make_vrp  # noqa: E402
from peerwarden_runner.stages.filter import FilterStage, check_filter  # noqa: E402
from peerwarden_runner.stages.limit import LimitStage  # noqa: E402
from peerwarden_runner.stages.rpki import RpkiStage  # noqa: E402
from stage_helpers import open_session  # noqa: E402


def build(fast, with_filter):
    table = VrpTable(
        [make_vrp("0.0.0.0/1", 24, 64500), make_vrp("128.0.0.0/1", 24, 64501), make_vrp("2000::/3", 48, 64500)]
    )
    stages = [RpkiStage(table), LimitStage(max_prefixes=5000, max_per_origin=500, max_length=(24, 48))]
    if with_filter:
        rules = check_filter(
            {
                "rules": [
                    {"name": "drop", "match": {"as_path": "_6450[0-9]$"}, "action": "drop"},
                    {
                        "name": "tag",
                        "match": {"community": ["65535:666"]},
                        "action": "tag",
                        "tag": {"community": ["65000:1"]},
                    },
                ]
            },
            print,
        )
        stages.append(FilterStage(rules))
    pipeline = Pipeline({TO_ROUTER: stages})
    pipeline.fast = fast
    return pipeline


def real_shapes(rng, count):
    """One prefix per UPDATE, each with its own AS path, MED and communities; IPv4 and IPv6; withdrawals."""
    messages = []
    for index in range(count):
        path = [65001] + [rng.randrange(64490, 64510) for dummy in range(rng.randint(0, 3))]
        attributes = [
            make_attribute(c.ORIGIN, rng.choice((0, 1, 2))),
            make_attribute(c.AS_PATH, [["sequence", path]] + ([["set", [64999]]] if rng.random() < 0.05 else [])),
            make_attribute(c.MULTI_EXIT_DISC, rng.randrange(1000)),
        ]
        if rng.random() < 0.5:
            attributes.append(make_attribute(c.COMMUNITIES, [rng.choice((0xFFFF029A, 65001 << 16 | 7))]))
        if rng.random() < 0.2:
            attributes.append(make_attribute(c.LARGE_COMMUNITY, [(65001, 1, rng.randrange(9))]))
        if rng.random() < 0.7:
            prefix = Prefix.parse("%d.%d.%d.0/%d" % (rng.randrange(1, 224), rng.randrange(256), index % 256, 24))
            if rng.random() < 0.1:
                messages.append(encode_update(withdrawn=[prefix]))
                continue
            attributes.insert(2, make_attribute(c.NEXT_HOP, "192.0.2.1"))
            messages.append(encode_update(attributes=attributes, nlri=[prefix]))
        else:
            prefix = Prefix.parse("2001:db8:%x::/48" % rng.randrange(4096))
            reach = mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::3", [prefix])
            messages.append(encode_update(attributes=attributes + [reach]))
    return messages


def run(pipeline, messages):
    """(each message's outcome, the RIB afterwards, what stages sent on their own)."""
    state = open_session(pipeline)
    outcomes = []
    for raw in messages:
        if len(raw) < 19 or raw[18] != c.UPDATE:
            continue
        try:
            outcomes.append(pipeline.process(state, TO_ROUTER, c.UPDATE, raw))
        except SessionReset as reset:
            outcomes.append(("reset", reset.code, reset.subcode, reset.data, str(reset)))
            pipeline.end_session(state)
            state = open_session(pipeline)
    rib = state.memory.get(("rib", TO_ROUTER))
    if rib is None:  # the last message reset the session
        return outcomes, {}, {}, state.session.sent
    entries = {key: rib.entry(key) for key in rib.paths}  # a scanned route's next hop and origin read again
    paths = {key: (dict(rib.route(key).attributes), entry.next_hop, entry.origin) for key, entry in entries.items()}
    return outcomes, paths, dict(rib.holds), state.session.sent


@pytest.mark.parametrize("with_filter", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_decides_as_the_full_decoder(seed, with_filter):
    rng = random.Random(seed)
    ctx = FOUR
    messages = real_shapes(rng, 1500)
    for dummy in range(1500):
        pick = rng.random()
        messages.append(
            valid_update(rng, ctx)
            if pick < 0.4
            else mutate(rng, valid_update(rng, ctx))
            if pick < 0.8
            else attribute_soup(rng, ctx)
        )
    rng.shuffle(messages)
    scanned = sum(1 for raw in messages if len(raw) >= 19 and scan_update(raw, ctx) is not None)
    assert scanned > 1000  # the fast path is taken for most real shapes
    assert run(build(True, with_filter), messages) == run(build(False, with_filter), messages)


def test_section_attributes_decode_lazily_as_the_full_decoder():
    ctx = FOUR
    raw = real_shapes(random.Random(3), 1)[0]
    scanned = scan_update(raw, ctx)
    assert scanned is not None and isinstance(scanned.attributes, SectionAttributes)
    assert scanned.attributes._decoded is None
    update = decode_update(raw, ctx)
    assert dict(scanned.attributes) == {code: a for code, a in update.effective.items() if code not in (14, 15)}
    assert scanned.origin == update.origin_as()


def test_unusual_shapes_go_to_the_full_decoder():
    ctx = FOUR
    two_octet = TWO
    raw = real_shapes(random.Random(4), 1)[0]
    assert scan_update(raw, two_octet) is None  # 2-octet AS numbers: AS4_PATH rules
    assert scan_update(raw[:-1], ctx) is None  # the length field does not count the octets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rib_reads_next_hop_and_origin_again_from_the_kept_section(seed):
    """The RIB keeps a scanned route's section octets alone: what it reads from them again is what the
    scan found (IPv4 NEXT_HOP, IPv6 MP_REACH_NLRI with one or two addresses, paths ending in a set)."""
    rng = random.Random(seed)
    messages = real_shapes(rng, 800) + [valid_update(rng, FOUR) for dummy in range(800)]
    link_local = mp_reach_attribute(
        c.AFI_IPV6, c.SAFI_UNICAST, ["2001:db8::3", "fe80::3"], [Prefix.parse("2001:db8:77::/48")]
    )
    messages.append(
        encode_update(attributes=[make_attribute(c.ORIGIN, 0), make_attribute(c.AS_PATH, [])] + [link_local])
    )
    checked = set()
    for raw in messages:
        scanned = scan_update(raw, FOUR)
        if scanned is None or scanned.attributes is None:
            continue
        found = section_hop_and_origin(scanned.attributes.raw)
        assert found == (scanned.next_hop, scanned.origin)
        checked.add((found[0].version, found[1] is None))
    assert checked == {(4, False), (4, True), (6, False), (6, True)}
