"""The exec stage with real programs (Python scripts): watch mode gets a copy of every message and a
slow program never holds BGP up (the overflow is counted and logged); filter mode replaces each
UPDATE by the program's answer: a dropped prefix, an added community, garbage, a dead or silent
program (on_error pass / drop / reset, restart after a back-off). Plus the config checks."""

import asyncio
import json
import logging
import sys

import pytest

from config_problems import problems
from peerwarden_runner import config
from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline, SessionReset
from peerwarden_runner.stages.exec import ExecStage
from peerwarden_runner.stages.filter import FilterStage, check_filter
from peerwarden_runner.stages.metrics import Metrics
from polling import until
from stage_helpers import announce, announced, open_session, process_each

FILTER_PROGRAM = r"""
import json, sys, time
for line in sys.stdin:
    message = json.loads(line)
    nlri = message.get("nlri", [])
    if "10.99.0.0/16" in nlri:
        sys.exit(3)                                   # dies
    if "10.13.0.0/16" in nlri:
        print("this is not JSON\n", flush=True)       # garbage
        continue
    if "10.77.0.0/16" in nlri:
        time.sleep(60)                                # never answers in time
    kept = [prefix for prefix in nlri if prefix != "10.66.0.0/16"]
    if kept or not nlri:                              # (an IPv6 UPDATE has its prefixes in mp_reach)
        message["nlri"] = kept
        message["attributes"].setdefault("communities", []).append("65000:42")
        print(json.dumps(message))
    print("", flush=True)                             # the end of the answer
"""

WATCH_PROGRAM = r"""
import sys
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
        print("seen", line[:20], flush=True)
"""

SLOW_PROGRAM = "import time; time.sleep(60)"  # never reads its stdin


def program(tmp_path, text, *args):
    path = tmp_path / "program.py"
    path.write_text(text)
    return [sys.executable, str(path), *args]


def exec_pipeline(argv, metrics=None, **options):
    stage = ExecStage(argv, metrics=metrics, backoff=(0.05, 0.2), **options)
    pipeline = Pipeline({TO_ROUTER: [stage], TO_PEER: [stage]}, metrics=metrics)
    return pipeline, stage


# ---- watch ----


def test_watch_copies_every_message_in_its_json_form(tmp_path):
    seen = tmp_path / "seen.jsonl"

    async def story():
        pipeline, stage = exec_pipeline(program(tmp_path, WATCH_PROGRAM, str(seen)), mode="watch")
        assert not pipeline.asynchronous
        state = open_session(pipeline)
        update = announce(["203.0.113.0/24"])
        assert pipeline.process(state, TO_ROUTER, c.UPDATE, update) == [update]
        assert pipeline.process(state, TO_PEER, c.KEEPALIVE, KEEPALIVE_MESSAGE) == [KEEPALIVE_MESSAGE]
        await until(lambda: seen.exists() and len(seen.read_text().splitlines()) == 4, 20, "4 copies", interval=0.05)
        await pipeline.aclose()

    asyncio.run(story())
    records = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [(r["type"], r["direction"]) for r in records] == [
        ("open", TO_ROUTER),
        ("open", TO_PEER),
        ("update", TO_ROUTER),
        ("keepalive", TO_PEER),
    ]
    assert records[2]["nlri"] == ["203.0.113.0/24"] and records[2]["peer"] == "session"


def test_watch_with_a_program_that_never_reads_drops_copies_not_bgp(tmp_path, caplog):
    metrics = Metrics()

    async def story():
        pipeline, stage = exec_pipeline(program(tmp_path, SLOW_PROGRAM), metrics, mode="watch", queue=5)
        state = open_session(pipeline)
        updates = [announce(["10.%d.%d.0/24" % (i // 256, i % 256)], path=(65001, 64500 + i % 7)) for i in range(3000)]
        # every UPDATE goes on at once, unchanged, however far behind the program is
        for update in updates:
            assert pipeline.process(state, TO_ROUTER, c.UPDATE, update) == [update]
        await asyncio.sleep(0.2)  # let the feeder fill the pipe to the program
        for update in updates[:200]:
            assert pipeline.process(state, TO_ROUTER, c.UPDATE, update) == [update]
        await pipeline.aclose()
        return stage

    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        stage = asyncio.run(story())
    dropped = metrics.registry.get_sample_value(
        "peerwarden_exec_messages_total", {"stage": "session[watch]", "outcome": "copy-dropped"}
    )
    assert dropped == stage.dropped_copies and dropped >= 3000 + 200 + 2 - 5 - 1000
    assert "copie(s) dropped from its copy of the stream" in caplog.text
    assert "BGP messages are not affected" in caplog.text
    assert "(%d in all)" % dropped in caplog.text  # the report at close gives the total


def test_watch_restarts_a_program_that_dies(tmp_path, caplog):
    seen = tmp_path / "seen.jsonl"
    dies_after_one = "import sys\nline = sys.stdin.readline()\nopen(sys.argv[1], 'a').write(line)\nsys.exit(1)\n"

    async def story():
        pipeline, stage = exec_pipeline(program(tmp_path, dies_after_one, str(seen)), mode="watch")
        state = open_session(pipeline)
        await until(lambda: seen.exists() and seen.read_text().count("\n") >= 1, 20, "the first copy", interval=0.05)
        for dummy in range(100):  # the program is started again after the back-off and takes one more
            pipeline.process(state, TO_ROUTER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
            await asyncio.sleep(0.05)
            if seen.read_text().count("\n") >= 2:
                break
        await pipeline.aclose()

    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        asyncio.run(story())
    assert seen.read_text().count("\n") >= 2
    assert "starting it again" in caplog.text


# ---- filter ----


def run_filter(tmp_path, updates, metrics=None, pause=0.0, **options):
    """[(messages out, or the SessionReset)] for each UPDATE sent through an exec filter."""

    async def story():
        pipeline, stage = exec_pipeline(program(tmp_path, FILTER_PROGRAM), metrics, mode="filter", **options)
        assert pipeline.asynchronous
        state = open_session(pipeline)
        results = await process_each(pipeline, state, TO_ROUTER, updates, pause)
        await pipeline.aclose()
        return results

    return asyncio.run(story())


COMMUNITY = (65000 << 16) | 42


def test_filter_answers_replace_the_update(tmp_path, caplog):
    metrics = Metrics()
    with caplog.at_level(logging.INFO, logger="peerwarden_runner.exec"):
        tagged, dropped, partly = run_filter(
            tmp_path,
            [announce(["203.0.113.0/24"]), announce(["10.66.0.0/16"]), announce(["10.66.0.0/16", "10.1.0.0/16"])],
            metrics,
        )
    assert announced(tagged) == {"203.0.113.0/24": ((COMMUNITY,), ())}
    assert dropped == []
    assert announced(partly) == {"10.1.0.0/16": ((COMMUNITY,), ())}
    # counted: the pipeline's close wrote the summary lines (log_summary)
    assert "1 UPDATE(s) dropped by the program (it answered nothing) in " in caplog.text
    assert "(e.g. announces 10.66.0.0/16)" in caplog.text
    assert "2 UPDATE(s) replaced by the program in " in caplog.text
    value = metrics.registry.get_sample_value
    assert value("peerwarden_exec_messages_total", {"stage": "session[filter]", "outcome": "changed"}) == 2
    assert value("peerwarden_exec_messages_total", {"stage": "session[filter]", "outcome": "dropped"}) == 1


def test_filter_ipv6_update(tmp_path):
    (out,) = run_filter(tmp_path, [announce(["2001:db8:1::/48"])])
    # the script only adds the community; the answer's MP_REACH_NLRI is encoded back as it came
    assert announced(out) == {"2001:db8:1::/48": ((COMMUNITY,), ())}


@pytest.mark.parametrize("on_error", ["pass", "drop", "reset"])
def test_filter_garbage_answer_follows_on_error(tmp_path, caplog, on_error):
    garbage = announce(["10.13.0.0/16"])
    after = announce(["203.0.113.0/24"])
    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        first, second = run_filter(tmp_path, [garbage, after], on_error=on_error)
    assert "bad answer: not JSON" in (str(first) if on_error == "reset" else caplog.text)
    if on_error == "pass":
        assert first == [garbage]
    elif on_error == "drop":
        assert first == [] and "1 UPDATE(s) dropped (on_error: drop) in " in caplog.text
        assert ": announces 10.13.0.0/16)" in caplog.text
    else:
        assert isinstance(first, SessionReset) and (first.code, first.subcode) == (6, 4)
    # a well-framed bad answer does not stop the program: the next UPDATE is answered
    assert announced(second) == {"203.0.113.0/24": ((COMMUNITY,), ())}


def test_filter_program_that_dies_is_started_again(tmp_path, caplog):
    updates = [announce(["10.99.0.0/16"])] + [announce(["203.0.113.0/24"])] * 1
    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        results = run_filter(tmp_path, updates + [announce(["198.51.100.0/24"])] * 40, on_error="drop", pause=0.05)
    assert results[0] == [] and "the program died" in caplog.text
    assert "the program died (closed its output); starting it again in 0.1 s" in caplog.text
    answered = [r for r in results[1:] if r and announced(r)]
    assert answered, "the program was started again and answered"
    assert all(r == [] or COMMUNITY in list(announced(r).values())[0][0] for r in results[1:])


def test_filter_program_that_does_not_answer_in_time(tmp_path, caplog):
    slow, after = announce(["10.77.0.0/16"]), announce(["203.0.113.0/24"])
    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        results = run_filter(tmp_path, [slow] + [after] * 40, timeout=0.5, on_error="pass", pause=0.05)
    assert results[0] == [slow]
    assert "1 UPDATE(s) passed unchanged (on_error: pass) in " in caplog.text
    assert "(e.g. no answer within 0.5 s: announces 10.77.0.0/16)" in caplog.text
    assert any(announced(r) == {"203.0.113.0/24": ((COMMUNITY,), ())} for r in results[1:])


def test_exec_filter_before_a_filter_stage_feeds_it(tmp_path):
    section = check_filter(
        {"rules": [{"name": "no-42", "match": {"community": "65000:42"}, "action": "drop"}]}, lambda key, text: None
    )

    async def story():
        stage = ExecStage(program(tmp_path, FILTER_PROGRAM), mode="filter")
        pipeline = Pipeline({TO_ROUTER: [stage, FilterStage(section)]})
        state = open_session(pipeline)
        out = await pipeline.process_async(state, TO_ROUTER, c.UPDATE, announce(["203.0.113.0/24"]))
        await pipeline.aclose()
        return out, state

    out, state = asyncio.run(story())
    assert out == []  # tagged by the program, then dropped by the rule on that tag
    assert state.memory[("rib", TO_ROUTER)].held() == 1


# ---- configuration ----


@pytest.mark.parametrize(
    "section, stages, expected",
    [
        ({"program": ["/nonexistent/filter"]}, ["exec"], "exec.program: '/nonexistent/filter' is not an executable"),
        ({"program": "no-such-command-here"}, ["exec"], "exec.program: 'no-such-command-here' is not an executable"),
        ({"mode": "watch"}, ["exec"], "exec.program: missing (expected the command as a list"),
        (
            {"program": [sys.executable], "mode": "tee"},
            ["exec"],
            "exec.mode: expected one of watch, filter, stream, got 'tee'",
        ),
        (
            {"program": [sys.executable], "on_error": "ignore"},
            ["exec"],
            "exec.on_error: expected one of pass, drop, reset",
        ),
        ({"program": [sys.executable], "timeout": 0}, ["exec"], "exec.timeout: expected a duration: seconds"),
        (
            {"program": [sys.executable], "mode": "stream", "on_error": "pass"},
            ["exec"],
            "exec.on_error: expected drop or reset with mode: stream",
        ),
        ({"program": [sys.executable], "shell": True}, ["exec"], "exec.shell: unknown key"),
        ({"program": [sys.executable]}, ["limit", "exec", "filter"], "exec must come before or after the route stages"),
    ],
)
def test_check_exec(section, stages, expected):
    document = {
        "sessions": [{"listen": "127.0.0.1:1179", "connect": "127.0.0.2", "to_router": stages}],
        "exec": section,
        "limit": {},
        "filter": {"rules": []},
    }
    text = problems(document)
    assert "runner.yml: " in text and expected in text


def test_check_exec_accepts_a_program_before_or_after_route_stages():
    document = {
        "sessions": [
            {
                "listen": "127.0.0.1:1179",
                "connect": "127.0.0.2",
                "to_router": ["exec", "filter"],
                "to_peer": ["filter", "exec"],
            }
        ],
        "exec": {"program": [sys.executable, "-c", "pass"], "mode": "filter", "timeout": 2, "on_error": "reset"},
        "filter": {"rules": []},
    }
    assert config.check(document)["exec"] == {
        "program": [sys.executable, "-c", "pass"],
        "mode": "filter",
        "on_error": "reset",
        "queue": 10000,
        "timeout": 2.0,
    }
