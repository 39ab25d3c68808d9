"""Where alerts go besides the log and the metrics: a JSON-lines file, an external program (one JSON
object per line on its stdin) and a webhook (an HTTP POST of each alert as JSON).

None of them may slow BGP down: the file gets one buffered write per UPDATE; the program and the
webhook are fed from bounded queues by their own tasks, and what overflows is dropped, counted
(peerwarden_alerts_dropped) and logged. A failing sink is counted (peerwarden_alert_errors) and
logged, never raised.
"""

import asyncio
import json
import logging
import time
from typing import Any

from peerwarden_runner.stages.exec import Program

LOG = logging.getLogger("peerwarden_runner.alert")
REPORT_EVERY = 10.0  # seconds between two reports of the same sink's trouble
DRAIN_AT_CLOSE = 2.0  # seconds the queues get to empty when the runner stops


def json_line(record):
    return json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"


class Reporter:
    """Counts a sink's failures and drops; logs them at most every REPORT_EVERY seconds."""

    def __init__(self, sink, metrics):
        self.sink, self.metrics = sink, metrics
        self.last = -REPORT_EVERY
        self.unreported = 0

    def failed(self, why):
        if self.metrics is not None:
            self.metrics.alert_error(self.sink)
        self._log("%s" % why)

    def dropped(self, why, count=1):
        if self.metrics is not None:
            self.metrics.alert_dropped(self.sink, count)
        self.unreported += count
        self._log("%s: %d alert(s) not delivered" % (why, self.unreported))

    def _log(self, text):
        now = time.monotonic()
        if now - self.last >= REPORT_EVERY:
            LOG.warning("alert %s: %s", self.sink, text)
            self.last, self.unreported = now, 0


class FileSink:
    """Appends alerts to a file, one JSON object per line."""

    def __init__(self, path, metrics=None):
        self.path = path
        self.reporter = Reporter("file", metrics)
        self.handle = None

    def deliver(self, records):
        try:
            if self.handle is None:
                self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open, closed in close)
            self.handle.write("".join(json_line(record) for record in records))
            self.handle.flush()
        except OSError as error:
            self.reporter.failed("cannot write %s: %s" % (self.path, error.strerror or error))
            self.close()

    def close(self):
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                handle.close()
            except OSError:
                pass


class QueueSink:
    """A sink fed by its own task from a bounded queue: `deliver` never waits."""

    name = "queue"

    def __init__(self, size, metrics=None):
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self.reporter = Reporter(self.name, metrics)
        self.worker = None

    def deliver(self, records):
        for position, record in enumerate(records):
            try:
                self.queue.put_nowait(record)
            except asyncio.QueueFull:
                self.reporter.dropped(
                    "the queue of %d is full (the %s is slower than the alerts)" % (self.queue.maxsize, self.name),
                    len(records) - position,
                )
                break
        if self.worker is None or self.worker.done():
            try:
                self.worker = asyncio.get_running_loop().create_task(self._work())
            except RuntimeError:  # no loop (a synchronous test): the alerts wait in the queue
                pass

    async def _work(self):
        while True:
            record = await self.queue.get()
            try:
                await self.send(record)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  (a sink must never end its task)
                self.reporter.failed("%s: %s" % (type(error).__name__, error))
            finally:
                self.queue.task_done()

    async def send(self, record):
        raise NotImplementedError

    async def drain(self, timeout):
        """Wait (at most `timeout` seconds) for the queue to empty."""
        if self.worker is not None and not self.worker.done():
            try:
                await asyncio.wait_for(self.queue.join(), timeout)
            except TimeoutError:
                self.reporter.dropped("still busy when the runner stopped", self.queue.qsize())

    def stop(self):
        if self.worker is not None:
            self.worker.cancel()

    async def wait_stopped(self):
        pass


class ProgramSink(QueueSink):
    """An external program (argv, no shell) that reads one JSON alert per line on its stdin. It is
    started on demand and, when it dies, started again after a back-off (exec's Program); its
    stdout and stderr are logged."""

    name = "exec"

    def __init__(self, argv, size, metrics=None, backoff=(0.5, 30.0)):
        super().__init__(size, metrics)
        self.program = Program(list(argv), "alert", backoff, log_stdout=True)

    async def send(self, record):
        process = await self.program.running()
        while process is None:  # waiting out the back-off; new alerts queue up (bounded) meanwhile
            await asyncio.sleep(max(0.05, self.program.retry_in()))
            process = await self.program.running()
        try:
            process.stdin.write(json_line(record).encode("utf-8"))
            await process.stdin.drain()
        except (ConnectionError, RuntimeError) as error:
            self.program.failed("stopped reading (%s)" % (error or type(error).__name__))
            self.reporter.failed("the program stopped reading; an alert was lost")
        else:
            self.program.succeeded()

    async def wait_stopped(self):
        """Close the program's stdin and give it DRAIN_AT_CLOSE seconds to read what it was sent and exit."""
        process = self.program.process
        if process is not None and process.returncode is None:
            try:
                process.stdin.close()
                await asyncio.wait_for(process.wait(), DRAIN_AT_CLOSE)
            except (TimeoutError, ConnectionError, RuntimeError):
                pass
        self.program.stop()
        await self.program.wait_stopped()


class WebhookSink(QueueSink):
    """POSTs each alert as JSON to a URL; a timeout, an error or a status of 300 or more is counted
    and logged (no retries: the file and the metrics keep the record)."""

    name = "webhook"

    def __init__(self, url, timeout, size, metrics=None):
        super().__init__(size, metrics)
        self.url, self.timeout = url, timeout
        self.client = None

    async def send(self, record):
        import aiohttp  # only when a webhook is configured

        if self.client is None:
            self.client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self.client.post(self.url, json=record) as response:
                if response.status >= 300:
                    self.reporter.failed("%s answered HTTP %d" % (self.url, response.status))
        except TimeoutError:
            self.reporter.failed("%s did not answer within %g s" % (self.url, self.timeout))
        except aiohttp.ClientError as error:
            self.reporter.failed("%s: %s" % (self.url, error))

    async def wait_stopped(self):
        client, self.client = self.client, None
        if client is not None:
            await client.close()


class AlertSinks:
    """Every configured sink, shared by the sessions; closed when the last stage using it closes."""

    def __init__(self, section, metrics=None):
        self.file = FileSink(section["file"], metrics) if section.get("file") else None
        self.queued: list[QueueSink] = []
        if section.get("exec"):
            self.queued.append(ProgramSink(section["exec"], section.get("queue", 1000), metrics))
        if section.get("webhook"):
            self.queued.append(
                WebhookSink(section["webhook"], section.get("timeout", 5.0), section.get("queue", 1000), metrics)
            )
        self.users = 0
        self.closing = None

    def acquire(self):
        self.users += 1

    def deliver(self, records):
        if self.file is not None:
            self.file.deliver(records)
        for sink in self.queued:
            sink.deliver(records)

    def release(self):
        """One user less; the last one closes the file and lets the queues drain (DRAIN_AT_CLOSE)."""
        self.users -= 1
        if self.users > 0 or self.closing is not None:
            return
        if self.file is not None:
            self.file.close()
        try:
            self.closing = asyncio.get_running_loop().create_task(self._stop())
        except RuntimeError:
            for sink in self.queued:
                sink.stop()

    async def _stop(self):
        await asyncio.gather(*(sink.drain(DRAIN_AT_CLOSE) for sink in self.queued))
        for sink in self.queued:
            sink.stop()
        for sink in self.queued:
            await sink.wait_stopped()

    async def wait_closed(self):
        if self.closing is not None:
            await self.closing
