"""Per-route decisions are counted (log_summary): a full table that a stage refuses makes a line per
interval, not a line per route; the counts add up; the last partial interval is written when the
session ends; DEBUG has every route; JSON lines carry the count, reason and examples as fields."""

import asyncio
import json
import logging
import re

from peerwarden_runner.codec import constants as c
from peerwarden_runner.log_format import JsonFormatter
from peerwarden_runner.log_summary import DECISIONS, INTERVAL, OTHER_REASONS, DecisionLog
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.stages.rpki import RpkiStage
from stage_helpers import announce, open_session

PER_UPDATE = 500  # /24s in one UPDATE: 2,000 octets of NLRI
SUMMARY = re.compile(r"^session: rpki: (\d+) route\(s\) held back: invalid origin in [\d.]+ s \(e\.g\. (.+)\)$")


class Clock:
    """The summariser's clock, moved by the test: the intervals do not depend on how fast the machine is."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def refusing_pipeline():
    """An rpki stage whose only VRP (10.0.0.0/8-24, AS64496) makes every route from AS64500 in 10/8 invalid."""
    stage = RpkiStage(VrpTable([make_vrp("10.0.0.0/8", 24, 64496)]))
    pipeline = Pipeline({TO_ROUTER: [stage]})
    return pipeline, open_session(pipeline)


def prefixes(count):
    return ["10.%d.%d.0/24" % (index // 256 % 256, index % 256) for index in range(count)]


def refuse(routes, seconds_per_update, monkeypatch, caplog, level=logging.INFO):
    """Feed `routes` /24s, PER_UPDATE to an UPDATE, the clock moving `seconds_per_update` per UPDATE; end
    the session. (the rpki log records, the routes refused, the seconds the clock moved)"""
    clock = Clock()
    monkeypatch.setattr(DECISIONS, "clock", clock)
    pipeline, state = refusing_pipeline()
    everything = prefixes(routes)
    refused = 0
    with caplog.at_level(level, logger="peerwarden_runner.rpki"):
        for start in range(0, routes, PER_UPDATE):
            out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(everything[start : start + PER_UPDATE]))
            assert out == []  # nothing of it is announced
            refused += min(PER_UPDATE, routes - start)
            clock.now += seconds_per_update
        pipeline.end_session(state)
    records = [record for record in caplog.records if record.name == "peerwarden_runner.rpki"]
    return records, refused, clock.now - 1000.0


def test_200000_refused_routes_make_a_line_per_interval_and_the_counts_add_up(monkeypatch, caplog):
    records, refused, seconds = refuse(200_000, 0.1, monkeypatch, caplog)  # 400 UPDATEs over 40 s
    assert refused == 200_000
    lines = [record.getMessage() for record in records if record.levelno == logging.INFO]
    intervals = int(seconds // INTERVAL) + 1
    assert 1 < len(lines) <= intervals, lines  # a line per route would be 200,000
    counts = [int(SUMMARY.match(line).group(1)) for line in lines]
    assert sum(counts) == refused
    first = SUMMARY.match(lines[0]).group(2).split("; ")
    assert first == ["10.0.0.0/24 from AS64500", "10.0.1.0/24 from AS64500", "10.0.2.0/24 from AS64500"]


def test_the_last_partial_interval_is_written_when_the_session_ends(monkeypatch, caplog):
    records, refused, dummy = refuse(1200, 0.0, monkeypatch, caplog)  # all in one interval, far from its end
    lines = [record.getMessage() for record in records]
    assert len(lines) == 1 and SUMMARY.match(lines[0]).group(1) == "1200"
    assert DECISIONS.counts == {}


def test_debug_has_every_route(monkeypatch, caplog):
    records, refused, dummy = refuse(1000, 0.0, monkeypatch, caplog, level=logging.DEBUG)
    debug = [record.getMessage() for record in records if record.levelno == logging.DEBUG]
    assert debug == ["session: rpki: held back: invalid origin: %s from AS64500" % p for p in prefixes(1000)]
    assert len([record for record in records if record.levelno == logging.INFO]) == 1


def test_json_lines_carry_count_reason_and_examples_as_fields(monkeypatch, caplog):
    records, refused, dummy = refuse(700, 2.0, monkeypatch, caplog)
    (line,) = [json.loads(JsonFormatter().format(record)) for record in records]
    assert line["level"] == "info" and line["logger"] == "peerwarden_runner.rpki"
    assert (line["session"], line["stage"], line["reason"]) == ("session", "rpki", "held back: invalid origin")
    assert (line["count"], line["unit"], line["seconds"]) == (700, "route(s)", 4.0)
    assert line["examples"] == ["10.0.0.0/24 from AS64500", "10.0.1.0/24 from AS64500", "10.0.2.0/24 from AS64500"]
    assert line["message"].startswith("session: rpki: 700 route(s) held back: invalid origin in 4.0 s (e.g. ")


def test_an_interval_without_later_routes_is_written_by_the_timer(caplog):
    log = DecisionLog(interval=0.05)
    logger = logging.getLogger("peerwarden_runner.test")

    async def scenario():
        log.record(logger, "s1", "limit", "held back: too long", "%s", "192.0.2.0/25")
        log.record(logger, "s1", "limit", "held back: too long", "%s", "192.0.2.128/25")
        await asyncio.sleep(0.3)

    with caplog.at_level(logging.INFO, logger="peerwarden_runner.test"):
        asyncio.run(scenario())
    (line,) = [record.getMessage() for record in caplog.records]
    assert line.startswith("s1: limit: 2 route(s) held back: too long in ")
    assert line.endswith("(e.g. 192.0.2.0/25; 192.0.2.128/25)")
    assert log.counts == {}


def test_reasons_beyond_the_bound_share_one_count_and_a_percent_is_only_text(caplog):
    clock = Clock()
    log = DecisionLog(max_keys=2, clock=clock)
    logger = logging.getLogger("peerwarden_runner.test")
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.test"):
        for index in range(10):
            log.record(logger, "s1", "exec x", "reason %d" % index, "100%s done", unit="UPDATE(s)")
        log.flush("s1")
    lines = sorted(record.getMessage() for record in caplog.records)
    assert len(lines) == 3
    assert lines[-1] == "s1: exec x: 8 UPDATE(s) %s in 0.0 s (e.g. %s)" % (
        OTHER_REASONS,
        "; ".join("reason %d: 100%%s done" % index for index in (2, 3, 4)),
    )


def test_a_long_example_is_cut_and_says_how_long_it_was(caplog):
    log = DecisionLog(clock=Clock())
    logger = logging.getLogger("peerwarden_runner.test")
    path = " ".join(str(64500 + index) for index in range(1000))
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.test"):
        log.record(logger, "s1", "aspa", "held back: invalid path", "%s path %s", "192.0.2.0/24", path)
        log.flush()
    (record,) = caplog.records
    (example,) = record.fields["examples"]
    whole = "192.0.2.0/24 path " + path
    assert len(whole) > 300
    assert example == "%s... (%d characters)" % (whole[:300], len(whole))
