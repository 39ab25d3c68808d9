"""Named filter and exec instances: `filters: {NAME: ...}` / `execs: {NAME: ...}` next to `filter:` and
`exec:`, listed by sessions and speakers as filter:NAME / exec:NAME; each its own stage, checked
under its own key path with the file's line, its name in held reasons, logs and metrics; unknown
names refused with "did you mean"."""

import asyncio
import logging
import sys

import pytest

from config_problems import problems
from peerwarden_runner import config, schema
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline
from peerwarden_runner.route_keys import key_prefix
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.wiring import Stages
from stage_helpers import announce, announced, open_session

SESSION = {"name": "edge", "listen": "127.0.0.1:1179", "connect": "127.0.0.2"}
FILTERS = {
    "filter": {"rules": [{"name": "doc", "match": {"prefix": "192.0.2.0/24 or-longer"}, "action": "drop"}]},
    "filters": {
        "long-paths": {"rules": [{"name": "long", "match": {"as_path_length": "4.."}, "action": "drop"}]},
        "ours-only": {"default": "drop", "rules": [{"name": "ours", "match": {"origin": 64500}, "action": "accept"}]},
    },
}


def document(to_router, to_peer=(), **sections):
    return {"sessions": [dict(SESSION, to_router=list(to_router), to_peer=list(to_peer))], **FILTERS, **sections}


def test_each_named_filter_is_its_own_stage_with_its_name_in_reasons_logs_and_metrics(caplog):
    settings = config.check(document(["filter", "filter:long-paths"], ["filter:ours-only", "filter:long-paths"]))
    assert settings["filters"]["ours-only"]["default"] == "drop"
    metrics = Metrics()
    stage = Stages(settings, metrics).session(settings["sessions"][0])
    to_router = [stage(name) for name in settings["sessions"][0]["to_router"]]
    to_peer = [stage(name) for name in settings["sessions"][0]["to_peer"]]
    assert [s.name for s in to_router + to_peer] == [
        "filter",
        "filter:long-paths",
        "filter:ours-only",
        "filter:long-paths",
    ]
    assert to_router[1] is to_peer[1]  # one per session, shared by its directions, as the unnamed one
    pipeline = Pipeline({TO_ROUTER: to_router, TO_PEER: to_peer}, metrics=metrics)
    state = open_session(pipeline)
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.filter"):
        out = pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["192.0.2.0/24", "10.0.0.0/8"]))
        assert list(announced(out)) == ["10.0.0.0/8"]
        pipeline.process(state, TO_ROUTER, c.UPDATE, announce(["10.1.0.0/16"], path=(65001, 1, 2, 64500)))
        pipeline.process(state, TO_PEER, c.UPDATE, announce(["10.2.0.0/16"], path=(65000, 64501)))
        pipeline.end_session(state)  # the counted lines are written (log_summary)
    rib = state.memory[("rib", TO_ROUTER)]
    assert {str(key_prefix(k)): v for k, v in rib.holds.items()} == {
        "192.0.2.0/24": "filter: rule doc",
        "10.1.0.0/16": "filter:long-paths: rule long",
    }
    back = state.memory[("rib", TO_PEER)]
    assert list(back.holds.values()) == ["filter:ours-only: default drop"]
    value = metrics.registry.get_sample_value
    assert value("peerwarden_filter_matches_total", {"filter": "filter:long-paths", "rule": "long", "action": "drop"})
    assert value("peerwarden_filter_matches_total", {"filter": "filter", "rule": "doc", "action": "drop"}) == 1
    assert value("peerwarden_routes_held_total", {"stage": "filter:long-paths"}) == 1
    assert value("peerwarden_routes_held_total", {"stage": "filter:ours-only"}) == 1
    assert "session: filter:long-paths: 1 route(s) dropped by rule long in " in caplog.text
    assert " s (e.g. 10.1.0.0/16 from AS64500)" in caplog.text


def test_two_named_execs_run_their_own_programs_labelled_by_name():
    program = [sys.executable, "-c", "import sys\nfor line in sys.stdin: pass"]
    settings = config.check(
        document(
            ["exec:audit", "exec:copy", "filter"],
            execs={"audit": {"program": program}, "copy": {"program": program, "queue": 5}},
        )
    )
    stage = Stages(settings, Metrics()).session(settings["sessions"][0])
    audit, copy, dummy = (stage(name) for name in settings["sessions"][0]["to_router"])
    assert audit is not copy and (audit.label, copy.label) == ("edge[exec:audit watch]", "edge[exec:copy watch]")
    assert copy.queue.maxsize == 5 and audit.queue.maxsize == 10000

    async def close():
        for each in (audit, copy):
            each.close()
            await each.wait_closed()

    asyncio.run(close())


@pytest.mark.parametrize(
    "listed, expected",
    [
        (["filter:long-path"], "uses the stage 'filter:long-path', which has no top-level 'filters: {long-path: ...}'"),
        (["filter:long-path"], "(did you mean 'filter:long-paths'?)"),
        (["exec:audit"], "uses the stage 'exec:audit', which has no top-level 'execs: {audit: ...}' section"),
        (["limit:strict"], "sessions[0].to_router[0]: expected a stage name"),
        (["filter:"], "sessions[0].to_router[0]: expected a stage name"),
        (["filter:a.b"], "sessions[0].to_router[0]: expected a stage name"),
    ],
)
def test_unknown_or_malformed_instance_names_are_refused(listed, expected):
    text = problems(document(listed))
    assert "runner.yml: " in text and expected in text


def test_a_named_instance_is_checked_under_its_own_key_with_its_line(tmp_path):
    path = tmp_path / "runner.yml"
    path.write_text(
        "sessions: [{listen: 127.0.0.1:1179, connect: 127.0.0.2, to_router: [filter:strict]}]\n"
        "filters:\n"
        "  strict:\n"
        "    rules:\n"
        "      - {match: {prefix: 10.0.0.0/33}, action: drop}\n"
        "  loose:\n"
        "    rulez: []\n"
        "  bad.name: {rules: []}\n"
        "execs:\n"
        "  audit: {program: [/nonexistent/audit]}\n"
    )
    with pytest.raises(config.ConfigError) as error:
        config.load(str(path))
    text = str(error.value)
    assert "runner.yml:7: filters.loose.rulez: unknown key (did you mean 'rules'?" in text
    assert "runner.yml:8: filters.bad.name: expected a name (letters, digits, _ -), got 'bad.name'" in text
    # the schema refused `filters` (its structure): the meaning of its sections is checked once it is right
    path.write_text(
        path.read_text().replace("    rulez: []\n", "    rules: []\n").replace("  bad.name: {rules: []}\n", "")
    )
    with pytest.raises(config.ConfigError) as error:
        config.load(str(path))
    text = str(error.value)
    assert "runner.yml:5: filters.strict.rules[0].match.prefix: '10.0.0.0/33'" in text
    assert "runner.yml:9: execs.audit.program: '/nonexistent/audit' is not an executable" in text


def test_exec_instances_keep_the_rule_before_or_after_the_route_stages():
    text = problems(
        document(["filter", "exec:audit", "filter:long-paths"], execs={"audit": {"program": [sys.executable]}})
    )
    assert "exec:audit must come before or after the route stages" in text


def test_a_speaker_watches_with_a_named_filter():
    speaker = {"local": "127.0.0.87", "peer": "127.0.0.86", "asn": 65000, "peer_asn": 65001, "api": False}
    settings = config.check({**FILTERS, "speakers": [dict(speaker, stages=["filter:ours-only"])]})
    assert settings["speakers"][0]["stages"] == ["filter:ours-only"]
    text = problems({**FILTERS, "speakers": [dict(speaker, stages=["filter:our-only"])]})
    assert "speakers[0].stages: uses the stage 'filter:our-only'" in text and "did you mean 'filter:ours-only'" in text


def test_the_schema_has_the_instances_and_refuses_an_unknown_top_level_key():
    published = config.schema()
    assert published["properties"]["filters"]["additionalProperties"] == published["properties"]["filter"]
    assert published["properties"]["execs"]["additionalProperties"] == published["properties"]["exec"]
    found = schema.problems({"sessions": [], "filterz": {}}, published)
    assert found == [(0, "filterz", found[0][2])] and "did you mean 'filter" in found[0][2]
