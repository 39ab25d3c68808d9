"""exec `mode: stream` (stages/exec_stream.py) with real programs: jq as an identity and as a
filter, a Python script that answers late, twice or with bad lines (each refused with its output
line number), a program that dies; on_error drop and reset; the configuration default."""

import asyncio
import json
import logging
import shutil
import sys

import pytest

from peerwarden_runner import config
from peerwarden_runner.codec import KEEPALIVE_MESSAGE
from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER, Pipeline, SessionReset
from peerwarden_runner.stages.exec import ExecStage
from peerwarden_runner.stages.exec_stream import StreamExec
from polling import until
from stage_helpers import announce, announced, open_session, process_each

JQ = shutil.which("jq")
needs_jq = pytest.mark.skipif(JQ is None, reason="jq is not installed (Debian package jq)")

# answers each line after the next one (late), duplicates 10.2/16 to the peer, and writes bad lines
SCRIPT = r"""
import json, sys
held = None
for line in sys.stdin:
    record = json.loads(line)
    nlri = record["nlri"]
    if nlri == ["10.9.0.0/16"]:
        print("not JSON at all", flush=True)                                     # refused
        print(json.dumps(dict(record, direction=None)), flush=True)              # refused: no direction
        print(json.dumps(dict(record, nlri=[{"prefix": "10.9.0.0/16", "path_id": 1}])), flush=True)  # no ADD-PATH
        continue
    if nlri == ["10.99.0.0/16"]:
        sys.exit(3)
    if held is not None:
        print(json.dumps(held), flush=True)
    held = record
    if nlri == ["10.2.0.0/16"]:
        print(json.dumps(dict(record, direction="to-peer")), flush=True)
"""


def stream_stage(argv, on_error="drop"):
    return StreamExec(argv, mode="stream", on_error=on_error, timeout=5.0, backoff=(0.05, 0.2))


def _context():
    from peerwarden_runner.stages.base import BuildContext

    return BuildContext()


def run_stream(stage, updates, settle):
    """Send `updates` to_router through a pipeline with `stage`; (what process_async returned for each,
    the session's Sink) once settle(sink) holds."""

    async def story():
        pipeline = Pipeline({TO_ROUTER: [stage], TO_PEER: [stage]})
        assert pipeline.asynchronous
        state = open_session(pipeline)
        results = await process_each(pipeline, state, TO_ROUTER, updates)
        keepalive = await pipeline.process_async(state, TO_PEER, c.KEEPALIVE, KEEPALIVE_MESSAGE)
        assert keepalive == [KEEPALIVE_MESSAGE]  # not an UPDATE: passes the stage
        await until(lambda: settle(state.session), 10, "the program's output")
        await pipeline.aclose()
        return results, state.session

    return asyncio.run(story())


@needs_jq
def test_jq_identity_sends_the_same_octets_in_order():
    updates = [announce(["10.%d.0.0/16" % i], communities=[i]) for i in range(50)] + [announce(["2001:db8:7::/48"])]
    results, sink = run_stream(
        stream_stage([JQ, "--unbuffered", "-c", "."]), updates, lambda sink: len(sink.sent) == len(updates)
    )
    assert results == [[]] * len(updates)  # each UPDATE went to jq, not on
    assert sink.sent == [(TO_ROUTER, update) for update in updates]


@needs_jq
def test_jq_select_drops_what_it_does_not_print():
    updates = [announce(["10.1.0.0/16"]), announce(["10.66.0.0/16"]), announce(["10.3.0.0/16"])]
    program = [JQ, "--unbuffered", "-c", 'select(.nlri | index("10.66.0.0/16") | not)']
    results, sink = run_stream(stream_stage(program), updates, lambda sink: len(sink.sent) == 2)
    assert sink.sent == [(TO_ROUTER, updates[0]), (TO_ROUTER, updates[2])]


def test_late_and_double_answers_and_refused_lines(tmp_path, caplog):
    script = tmp_path / "stream.py"
    script.write_text(SCRIPT)
    updates = [
        announce(["10.1.0.0/16"]),
        announce(["10.2.0.0/16"]),
        announce(["10.9.0.0/16"]),
        announce(["10.4.0.0/16"]),
    ]
    with caplog.at_level(logging.DEBUG, logger="peerwarden_runner.exec"):  # each refused line at DEBUG
        results, sink = run_stream(
            stream_stage([sys.executable, str(script)]), updates, lambda sink: len(sink.sent) == 3
        )
    # 10.1 is answered when 10.2 arrives, 10.2 (to the router) when 10.4 does; 10.2's copy goes to the peer at once
    assert sink.sent == [(TO_ROUTER, updates[0]), (TO_PEER, updates[1]), (TO_ROUTER, updates[1])]
    assert "output line refused, not sent (on_error: drop): line 3: not JSON" in caplog.text
    assert '(on_error: drop): line 4: its "direction" must say where to send it' in caplog.text
    assert "output line refused, not sent (on_error: drop): line 5: cannot encode it: nlri: " in caplog.text
    assert "has a path_id, but ADD-PATH is off" in caplog.text


def test_a_bad_output_line_resets_the_session_with_on_error_reset(tmp_path):
    script = tmp_path / "stream.py"
    script.write_text(SCRIPT)
    results, sink = run_stream(
        stream_stage([sys.executable, str(script)], on_error="reset"),
        [announce(["10.9.0.0/16"])],
        lambda sink: sink.shutdowns,
    )
    assert sink.shutdowns[0] == "peerwarden-runner: exec session[stream]: output line 1 refused"


@pytest.mark.parametrize("on_error", ["drop", "reset"])
def test_a_program_that_dies_is_restarted_and_what_it_missed_follows_on_error(tmp_path, caplog, on_error):
    script = tmp_path / "stream.py"
    script.write_text(SCRIPT)
    stage = stream_stage([sys.executable, str(script)], on_error=on_error)
    first_pid = []

    async def story():
        pipeline = Pipeline({TO_ROUTER: [stage]})
        state = open_session(pipeline)
        await pipeline.process_async(state, TO_ROUTER, c.UPDATE, announce(["10.99.0.0/16"]))  # it exits on this
        first_pid.append(stage.program.process.pid)
        await until(lambda: stage.program.process is None or stage.program.process.returncode is not None, 10)
        outcomes = []
        for prefix in ("10.5.0.0/16", "10.6.0.0/16", "10.7.0.0/16"):
            await asyncio.sleep(0.1)  # past the back-off: the program is started again
            try:
                outcomes.append(await pipeline.process_async(state, TO_ROUTER, c.UPDATE, announce([prefix])))
            except SessionReset as reset:
                outcomes.append(reset)
        await until(lambda: len(state.session.sent) == 2, 10, "the restarted program's answers")
        pid = stage.program.process.pid
        await pipeline.aclose()
        return outcomes, state.session, pid

    with caplog.at_level(logging.WARNING, logger="peerwarden_runner.exec"):
        outcomes, sink, pid = asyncio.run(story())
    assert (
        pid != first_pid[0] and "the program exited with status 3" in caplog.text or "closed its output" in caplog.text
    )
    assert announced(raw for direction, raw in sink.sent) == {"10.5.0.0/16": ((), ()), "10.6.0.0/16": ((), ())}


def test_configuration_default_and_build():
    document = {
        "sessions": [{"listen": "127.0.0.1:1179", "connect": "127.0.0.2", "to_router": ["exec"]}],
        "exec": {"program": [sys.executable, "-c", "pass"], "mode": "stream"},
    }
    section = config.check(document)["exec"]
    assert section["on_error"] == "drop" and section["mode"] == "stream"
    stage = ExecStage.build(section, _context())
    assert isinstance(stage, StreamExec) and stage.awaits
    assert json.dumps(section)  # plain data
