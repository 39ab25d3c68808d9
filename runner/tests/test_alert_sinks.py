"""The alert sinks with real programs and a real HTTP server (on 127.0.0.60): the JSON-lines file,
a program fed on its stdin (started again when it dies; one that never reads costs dropped alerts,
counted, never a stalled pipeline), a webhook (POSTs; errors and timeouts counted), and the
queues emptied when the runner stops."""

import asyncio
import json
import sys

from aiohttp import web

from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.stages.alert import AlertStage
from peerwarden_runner.stages.alert_config import check_alert
from peerwarden_runner.stages.alert_sinks import AlertSinks, ProgramSink
from peerwarden_runner.stages.metrics import Metrics
from polling import free_port, until
from stage_helpers import announce, open_session

HOST = "127.0.0.60"
RECORDER = r"""
import sys
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
"""
DIES_AFTER_ONE = r"""
import sys
line = sys.stdin.readline()
with open(sys.argv[1], "a") as out:
    out.write(line)
sys.exit(1)
"""
NEVER_READS = "import time; time.sleep(60)"
ALERTS = [{"kind": "leak", "prefix": "203.0.113.0/24"}, {"kind": "first-as", "prefix": "198.51.100.0/24"}]


def program(tmp_path, text, *args):
    path = tmp_path / ("program%d.py" % len(list(tmp_path.glob("program*.py"))))
    path.write_text(text)
    return [sys.executable, str(path), *map(str, args)]


def section(**sinks):
    problems = []
    checked = check_alert(
        dict({"prefixes": [{"prefix": "192.0.2.0/24", "origins": [64500]}]}, **sinks),
        lambda key, text: problems.append((key, text)),
    )
    assert problems == []
    return checked


def hijacks(count):
    """UPDATEs announcing `count` distinct more-specifics of 192.0.2.0/24 from AS64666 (one alert each)."""
    return [announce(["192.0.2.%d/32" % (i % 256)], path=(65001, 64666)) for i in range(count)]


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_file_sink_holds_one_json_object_per_alert(tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    sinks = AlertSinks(section(file=str(alerts)))
    stage = AlertStage(section(file=str(alerts)), sinks, "lab")
    pipeline = Pipeline({TO_ROUTER: [stage]})
    state = open_session(pipeline)
    for raw in hijacks(3):
        pipeline.process(state, TO_ROUTER, c.UPDATE, raw)
    assert [(r["kind"], r["prefix"], r["origin"]) for r in lines(alerts)] == [
        ("origin-hijack", "192.0.2.%d/32" % i, 64666) for i in range(3)
    ]  # written as they came, not at close
    pipeline.close()
    assert sinks.file.handle is None


def test_file_sink_that_cannot_write_is_counted(tmp_path):
    metrics = Metrics()
    sinks = AlertSinks({"file": str(tmp_path / "gone" / "alerts.jsonl")}, metrics)  # the directory went away
    sinks.deliver([{"kind": "leak"}])
    sinks.deliver([{"kind": "leak"}])
    assert metrics.registry.get_sample_value("peerwarden_alert_errors_total", {"where": "file"}) == 2


def test_program_gets_each_alert_on_its_stdin_and_the_queue_drains_at_close(tmp_path):
    received = tmp_path / "received.jsonl"

    async def story():
        sinks = AlertSinks(section(exec=program(tmp_path, RECORDER, received)))
        stage = AlertStage(section(), sinks, "lab")
        pipeline = Pipeline({TO_ROUTER: [stage]})
        state = open_session(pipeline)
        for raw in hijacks(20):
            pipeline.process(state, TO_ROUTER, c.UPDATE, raw)
        await pipeline.aclose()  # the program gets what is queued before it is stopped
        return sinks

    sinks = asyncio.run(story())
    assert [r["prefix"] for r in lines(received)] == ["192.0.2.%d/32" % i for i in range(20)]
    assert sinks.queued[0].program.process is None


def test_a_program_that_dies_is_started_again(tmp_path, caplog):
    received = tmp_path / "received.jsonl"

    async def story():
        sink = ProgramSink(program(tmp_path, DIES_AFTER_ONE, received), 100, backoff=(0.05, 0.1))
        for number in range(3):
            sink.deliver([{"alert": number}])
            await until(lambda number=number: len(lines(received)) == number + 1, 20, "alert %d" % number)
            # the program has exited before the next alert: one written while it is still exiting would go
            # into a pipe nobody reads (the sink cannot tell), which is not what this test is about
            await until(lambda: sink.program.process is None or sink.program.process.returncode is not None, 20)
        sink.stop()
        await sink.wait_stopped()

    asyncio.run(story())
    assert [r["alert"] for r in lines(received)] == [0, 1, 2]
    assert "exited with status 1" in caplog.text


def test_a_program_that_never_reads_costs_alerts_not_bgp(tmp_path):
    metrics = Metrics()

    async def story():
        sinks = AlertSinks(section(exec=program(tmp_path, NEVER_READS), queue=10), metrics)
        stage = AlertStage(section(), sinks, "lab", metrics=metrics)
        pipeline = Pipeline({TO_ROUTER: [stage]}, metrics=metrics)
        state = open_session(pipeline)
        updates = [announce(["192.0.2.0/25"], path=(65001, 70000 + i)) for i in range(3000)]  # a new origin each
        for number, raw in enumerate(updates):
            assert pipeline.process(state, TO_ROUTER, c.UPDATE, raw) == [raw]
            if number % 500 == 0:
                await asyncio.sleep(0.05)  # the worker fills the pipe to the program, then waits on it
        sink = sinks.queued[0]
        assert sink.queue.qsize() <= 10
        sink.stop()
        await sink.wait_stopped()

    asyncio.run(story())
    raised = metrics.registry.get_sample_value("peerwarden_alerts_total", {"kind": "origin-hijack", "session": "lab"})
    dropped = metrics.registry.get_sample_value("peerwarden_alerts_dropped_total", {"sink": "exec"})
    assert raised == 3000 and 0 < dropped < 3000


class Hook:
    """An aiohttp server on HOST: answers each POST with `status` after `delay` seconds, keeps the bodies."""

    def __init__(self, status=200, delay=0.0):
        self.status, self.delay, self.bodies = status, delay, []

    async def handle(self, request):
        self.bodies.append(await request.json())
        await asyncio.sleep(self.delay)
        return web.Response(status=self.status)

    async def start(self):
        app = web.Application()
        app.router.add_post("/alerts", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port(HOST)
        await web.TCPSite(self.runner, HOST, port).start()
        return "http://%s:%d/alerts" % (HOST, port)


def test_webhook_posts_each_alert_and_counts_failures():
    metrics = Metrics()

    async def story():
        good, failing, silent = Hook(), Hook(status=500), Hook(delay=2)
        hooks = (good, failing, silent)
        sinks = [AlertSinks(section(webhook=await hook.start(), timeout=0.5), metrics) for hook in hooks]
        for sink in sinks:
            sink.acquire()
            sink.deliver(ALERTS)
        await until(
            lambda: len(good.bodies) == 2 and len(failing.bodies) == 2 and len(silent.bodies) == 2, 20, "the POSTs"
        )
        for sink in sinks:
            sink.release()
            await sink.wait_closed()
        for hook in hooks:
            await hook.runner.cleanup()
        return good

    good = asyncio.run(story())
    assert good.bodies == ALERTS
    # two HTTP 500s and two timeouts (the queue drains at close, within DRAIN_AT_CLOSE)
    assert metrics.registry.get_sample_value("peerwarden_alert_errors_total", {"where": "webhook"}) == 4
