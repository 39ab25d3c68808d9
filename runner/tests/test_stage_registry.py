"""Stages say what they are: the registry's classes declare their kind and capabilities, the pipeline
plans and waits by those declarations, and the wiring makes as many of each stage as its scope says."""

import asyncio
import gc
import json

import pytest

from peerwarden_runner import config
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline, plan
from peerwarden_runner.stages import Kind, MessageStage, Scope, Stage, Watcher
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.registry import PIPELINE_STAGES, ROUTE_STAGES, SECTIONS, SESSION_WATCHERS, WATCH_STAGES
from peerwarden_runner.wiring import Stages


def test_the_registry_names_the_configuration_sections_and_the_stage_lists():
    assert list(SECTIONS) == ["rpki", "aspa", "limit", "filter", "alert", "exec", "archive", "metrics"]
    assert PIPELINE_STAGES == ("rpki", "aspa", "limit", "filter", "alert", "exec")
    assert ROUTE_STAGES == ("rpki", "aspa", "limit", "filter", "alert")
    assert WATCH_STAGES == ("rpki", "filter", "alert")
    assert SESSION_WATCHERS == ("archive",)


@pytest.mark.parametrize("name", list(SECTIONS))
def test_each_stage_declares_what_it_is_and_has_the_hooks_of_its_kind(name):
    stage = SECTIONS[name]
    assert issubclass(stage, Stage) and isinstance(stage.kind, Kind) and isinstance(stage.scope, Scope)
    hook = {Kind.ROUTE: "update", Kind.MESSAGE: "message", Kind.WATCHER: "crossed"}[stage.kind]
    assert callable(getattr(stage, hook))
    if stage.watch_ok:
        assert stage.kind is Kind.ROUTE  # a monitor runs route stages only, and writes nothing
    elif name in PIPELINE_STAGES:
        assert stage.watch_refusal  # the speaker's config check says why not
    if stage.needs_wait_closed:
        assert stage.wait_closed is not Stage.wait_closed
    assert stage.check is not Stage.check  # each section is checked by its own stage


class Route(Stage):
    name = "route"

    def update(self, state, direction, change):
        pass


class Answer(MessageStage):
    name = "answer"


class Waits(MessageStage):
    name, awaits, needs_wait_closed = "waits", True, True

    def __init__(self):
        self.waited = False

    async def wait_closed(self):
        self.waited = True


def test_the_plan_and_the_waiting_follow_the_declarations():
    first, second, before, after = Route(), Route(), Answer(), Answer()
    assert plan([before, first, second, after]) == ((before,), (first, second), (after,))
    assert plan([before, after]) == ((before, after), (), ())
    assert not Pipeline({TO_ROUTER: [first, after]}).asynchronous
    waits = Waits()
    pipeline = Pipeline({TO_ROUTER: [first], TO_PEER: [waits]}, [Watcher()])
    assert pipeline.asynchronous
    asyncio.run(pipeline.aclose())
    assert waits.waited


def test_the_wiring_makes_as_many_of_a_stage_as_its_scope_says(tmp_path, monkeypatch):
    monkeypatch.setattr(gc, "freeze", lambda: None)  # the rpki stage's start freezes its VRPs; not in a test process
    vrps = tmp_path / "vrps.json"
    vrps.write_text(json.dumps({"roas": [{"prefix": "192.0.2.0/24", "maxLength": 24, "asn": "AS64500"}]}))
    settings = config.check(
        {
            "sessions": [
                {
                    "name": "one",
                    "listen": "127.0.0.91:1179",
                    "connect": "127.0.0.92:179",
                    "role": "peer",
                    "to_router": ["exec", "rpki", "limit", "filter", "alert"],
                    "to_peer": ["limit", "filter"],
                },
                {
                    "name": "two",
                    "listen": "127.0.0.93:1179",
                    "connect": "127.0.0.94:179",
                    "to_router": ["rpki", "alert"],
                },
            ],
            "rpki": {"file": str(vrps)},
            "limit": {"max_prefixes": 10},
            "filter": {"rules": [{"name": "x", "match": {"origin": 1}, "action": "drop"}]},
            "alert": {"prefixes": [{"prefix": "192.0.2.0/24", "origins": [64500]}], "file": str(tmp_path / "a.jsonl")},
            "exec": {"program": ["cat"], "mode": "filter"},
            "archive": {"dir": str(tmp_path / "archive"), "format": "both"},
        }
    )
    stages = Stages(settings, Metrics())

    async def build():
        tasks = await stages.start()
        one, two = (stages.session(entry) for entry in settings["sessions"])
        made = (
            [one(name) for name in settings["sessions"][0]["to_router"]],
            [one(name) for name in settings["sessions"][0]["to_peer"]],
            [two(name) for name in settings["sessions"][1]["to_router"]],
            stages.watchers(settings["sessions"][0]),
        )
        for task in tasks:
            task.cancel()
        return made

    (exec_, rpki, limit, filter_, alert), (limit_back, filter_back), (rpki_two, alert_two), watchers = asyncio.run(
        build()
    )
    assert len(rpki.table) == 1 and rpki is rpki_two  # RUNNER: one for every session
    assert filter_ is filter_back and alert is not alert_two  # SESSION: shared by a session's directions
    assert alert.sinks is alert_two.sinks  # the runner's one set of alert sinks
    assert limit is not limit_back  # USE: one per place it is listed
    assert exec_.awaits and exec_.kind is Kind.MESSAGE
    assert [watcher.name for watcher in watchers] == ["archive", "archive-mrt"]
    for stage in (exec_, alert, alert_two, *watchers):
        stage.close()
