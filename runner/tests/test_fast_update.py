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
from peerwarden_runner.stages.alert import AlertStage  # noqa: E402
from peerwarden_runner.stages.alert_config import check_alert  # noqa: E402
from peerwarden_runner.stages.aspa import AspaStage  # noqa: E402
from peerwarden_runner.stages.base import BuildContext  # noqa: E402
from peerwarden_runner.stages.filter import FilterStage, check_filter  # noqa: E402
from peerwarden_runner.stages.limit import LimitStage  # noqa: E402
from peerwarden_runner.stages.rpki import RpkiStage  # noqa: E402
from stage_helpers import open_session  # noqa: E402

FILTER_RULES = [
    {"name": "drop", "match": {"as_path": "_6450[0-9]$"}, "action": "drop"},
    {"name": "tag", "match": {"community": ["65535:666"]}, "action": "tag", "tag": {"community": ["65000:1"]}},
]
# every match key the filter has, each matching some of the real shapes (and the fuzz corpus) and not others
EXPRESSION_RULES = [
    {"name": "long", "match": {"as_path_length": "4.."}, "action": "drop"},
    {
        "name": "incomplete",
        "match": {"attribute": {"origin": "incomplete", "med": [1, 2, 3, "0x00000004"]}},
        "action": "drop",
    },
    {"name": "large", "match": {"large_community": "65001:1:3"}, "action": "tag", "tag": {"community": ["65000:2"]}},
    {"name": "v6", "match": {"next_hop": "2001:db8::/32", "as_path": "_64500_"}, "action": "drop"},
    {"name": "more-specific", "match": {"prefix": "2001:db8:100::/40 or-longer"}, "action": "drop"},
    {"name": "known", "match": {"origin": [64501, 64502]}, "action": "accept"},
    {
        "name": "blackhole",
        "match": {"community": "65535:666", "attribute": {"atomic_aggregate": "absent"}},
        "action": "drop",
    },
]
# ASPAs of the ASes the real shapes' paths use: some hops attested, some not (valid, invalid and unknown paths)
ASPAS = {asn: frozenset({asn + 1, 65001}) for asn in range(64490, 64510, 2)} | {
    64493: frozenset({0}),
    65001: frozenset({0}),
}
ALERT = {
    "prefixes": [
        {"prefix": "2001:db8::/36", "origins": [64500], "max_length": 44},
        {"prefix": "10.0.0.0/8", "origins": [64501]},
    ],
    "asns": [64505],
    "transit_free": [64490, 64491],
}


class RecordedAlerts(AlertStage):
    """The alert stage with its alerts kept (their time left out) instead of sent to sinks."""

    def __init__(self):
        super().__init__(check_alert(ALERT, print), None, "s1", "peer")
        self.alerts = []

    def _report(self, alerts):
        self.alerts.extend({field: value for field, value in record.items() if field != "time"} for record in alerts)


def build(fast, stages):
    """A pipeline with limit (and rpki before "" and "filter"), and `stages`: "", "filter", "filter-expr",
    "alert" or "aspa"."""
    table = VrpTable(
        [make_vrp("0.0.0.0/1", 24, 64500), make_vrp("128.0.0.0/1", 24, 64501), make_vrp("2000::/3", 48, 64500)]
    )
    chain = [LimitStage(max_prefixes=5000, max_per_origin=500, max_length=(24, 48))]
    if stages in ("", "filter"):  # rpki holds most real shapes back: the later stages see them only without it
        chain.insert(0, RpkiStage(table))
    if stages in ("filter", "filter-expr"):
        chain.append(
            FilterStage(check_filter({"rules": FILTER_RULES if stages == "filter" else EXPRESSION_RULES}, print))
        )
    elif stages == "alert":
        chain.append(RecordedAlerts())
    elif stages == "aspa":
        chain.append(AspaStage(ASPAS).bind(BuildContext(None, "s1", "customer")))
    pipeline = Pipeline({TO_ROUTER: chain})
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
    alerts = [stage.alerts for stage in pipeline.stages[TO_ROUTER] if isinstance(stage, RecordedAlerts)]
    rib = state.memory.get(("rib", TO_ROUTER))
    if rib is None:  # the last message reset the session
        return outcomes, {}, {}, state.session.sent, alerts, {}
    entries = {key: rib.entry(key) for key in rib.paths}  # a scanned route's next hop and origin read again
    paths = {key: (dict(rib.route(key).attributes), entry.next_hop, entry.origin) for key, entry in entries.items()}
    # what the alert and aspa stages remember per route (the alerts raised, the path verified)
    memory = {name: dict(state.memory.get((name, TO_ROUTER), {})) for name in ("alert", "aspa")}
    return outcomes, paths, dict(rib.holds), state.session.sent, alerts, memory


@pytest.mark.parametrize("stages", ["", "filter", "filter-expr", "alert", "aspa"])
@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_decides_as_the_full_decoder(seed, stages):
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
    assert run(build(True, stages), messages) == run(build(False, stages), messages)
    real = real_shapes(rng, 1500)  # alone, without a session reset: what the stage decided on them is all there
    full = run(build(False, stages), real)
    assert run(build(True, stages), real) == full
    if stages:  # the stage decided something, else the comparison would prove nothing
        held = [reason for reason in full[2].values() if reason.startswith(stages.split("-")[0] + ":")]
        assert len(held) >= 10 or stages == "alert" and len(full[4][0]) >= 10


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


def test_one_attribute_is_read_alone_as_the_full_decoder_decodes_it():
    """SectionAttributes.get reads one attribute from the octets (codec.section_read) without decoding the
    section: on the real shapes and the fuzz corpus, each type gives the full decoder's attribute and value."""
    rng, ctx = random.Random(5), FOUR
    messages = real_shapes(rng, 300) + [valid_update(rng, ctx) for dummy in range(1500)]
    messages += [mutate(rng, valid_update(rng, ctx)) for dummy in range(1500)]
    compared = 0
    for raw in messages:
        scanned = scan_update(raw, ctx)
        if scanned is None or scanned.attributes is None:
            continue
        effective = decode_update(raw, ctx).effective
        for code in (*range(1, 36), 255):
            section = SectionAttributes(scanned.attributes.raw, ctx)
            alone, expected = section.get(code), None if code in (14, 15) else effective.get(code)
            assert alone == expected and (alone is None or alone.value == expected.value), (raw.hex(), code)
            assert section._decoded is None  # nothing else was decoded
            assert (code in section) is (expected is not None)
        compared += 1
    assert compared >= 340, compared  # the 300 real shapes and the fuzz UPDATEs of a shape the fast path takes


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
