"""The exec stage: an external program (an argv list, no shell) gets the JSON form of messages
(docs/json.md) on its stdin, one object per line, like bgpipe's exec. Also the checking of its
configuration section.

    exec:
      program: [/usr/local/bin/watcher, --verbose]
      mode: watch              # watch: a copy of every message; the program's stdout is logged
                               # filter: UPDATEs only; the program answers each with zero or more JSON
                               #         lines (the messages that replace it) and then an empty line
                               # stream: UPDATEs go to the program and its JSON lines are sent on, as
                               #         with bgpipe (jq -c ..., stages/exec_stream.py)
      queue: 10000             # watch: copies waiting for a slow program; beyond that they are dropped
      timeout: 5               # filter: seconds to wait for each answer
      on_error: pass           # filter: a bad answer, a dead or slow program: pass the UPDATE on
                               # unchanged, drop it, or reset the session (Cease 6/4); stream: drop
                               # (the default) or reset

A watch program never slows BGP: copies go through a bounded queue, and what overflows is counted
and logged. A filter program is waited for (the pipeline turns asynchronous). A program that dies,
or in filter mode misses the timeout, is stopped and started again after a back-off (0.5 s doubling
to 30 s); its stderr is logged.
"""

import asyncio
import logging
import shutil
import time
from typing import Any

from peerwarden_runner import schema as s
from peerwarden_runner.backoff import Backoff
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import to_json
from peerwarden_runner.json_lines import LINE_LIMIT, dump_line, message_from_record, parse_line
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.pipeline import SessionReset
from peerwarden_runner.stages.base import MessageStage, Scope

LOG = logging.getLogger("peerwarden_runner.exec")
MODES = ("watch", "filter", "stream")
ON_ERROR = ("pass", "drop", "reset")
REPORT_EVERY = 10.0  # seconds between two reports of dropped copies


_ON_ERROR_DEFAULT = {"watch": "pass", "filter": "pass", "stream": "drop"}


def check_exec(section, problem):
    """The exec section normalised, every problem reported (a program that cannot be found included)."""
    if section is None:
        return None
    if not isinstance(section, dict):
        problem("exec", "expected a mapping with 'program: [COMMAND, ARG, ...]' and 'mode: watch|filter'")
        return None
    for key in sorted(set(section) - {"program", "mode", "queue", "timeout", "on_error"}):
        problem("exec." + key, "unknown key (expected program, mode, queue, timeout, on_error)")
    program = section.get("program")
    if isinstance(program, str):
        program = [program]
    if not isinstance(program, list) or not program or not all(isinstance(arg, (str, int)) for arg in program):
        problem("exec.program", "expected the command as a list: [COMMAND, ARG, ...] (it runs without a shell)")
        program = None
    else:
        program = [str(arg) for arg in program]
        if shutil.which(program[0]) is None:
            problem("exec.program", "%r is not an executable file nor a command on PATH" % program[0])
    mode = section.get("mode", "watch")
    on_error = section.get("on_error", _ON_ERROR_DEFAULT.get(mode, "pass"))
    checked = {"program": program, "mode": mode, "on_error": on_error}
    if mode not in MODES:
        problem("exec.mode", "expected watch, filter or stream, got %r" % (mode,))
    if checked["on_error"] not in ON_ERROR:
        problem("exec.on_error", "expected pass, drop or reset, got %r" % (checked["on_error"],))
    elif mode == "stream" and checked["on_error"] == "pass":
        problem("exec.on_error", "expected drop or reset with mode: stream (the program's output is what goes on)")
    for field, default, kind in (("queue", 10000, int), ("timeout", 5.0, float)):
        value = section.get(field, default)
        if field == "timeout" and isinstance(value, str):
            value = s.duration(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problem("exec." + field, "expected a positive number, got %r" % (value,))
            value = default
        checked[field] = kind(value)
    return checked


class ProgramDied(Exception):
    """The program closed its output or its input."""


class Program:
    """The external process: started on demand, stopped and started again after a back-off when it fails."""

    def __init__(self, argv, label, backoff=(0.5, 30.0), log_stdout=False):
        self.argv, self.label, self.log_stdout = argv, label, log_stdout
        self.backoff = Backoff(backoff[0], backoff[1], jitter=0)
        self.process = None
        self.retry_at = 0.0
        self.readers = []
        self.stopped = None

    def retry_in(self):
        return max(0.0, self.retry_at - time.monotonic())

    async def running(self):
        """The process, started if needed; None while waiting to start it again."""
        if self.process is not None and self.process.returncode is not None:
            self.failed("exited with status %d" % self.process.returncode)
        if self.process is not None:
            return self.process
        if time.monotonic() < self.retry_at:
            return None
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
            )
        except OSError as error:
            self.failed("cannot start %s: %s" % (self.argv[0], error.strerror or error))
            return None
        LOG.info("exec %s: started %s (pid %d)", self.label, " ".join(self.argv), self.process.pid)
        self.readers = [asyncio.create_task(self._log_lines(self.process.stderr, "stderr", logging.WARNING))]
        if self.log_stdout:
            self.readers.append(asyncio.create_task(self._log_lines(self.process.stdout, "stdout", logging.INFO)))
        return self.process

    async def _log_lines(self, stream, name, level):
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line longer than LINE_LIMIT: asyncio has dropped it
                LOG.warning("exec %s: %s: a line longer than %d octets, not logged", self.label, name, LINE_LIMIT)
                continue
            if not line:
                return
            LOG.log(level, "exec %s: %s: %s", self.label, name, line.decode("utf-8", "replace").rstrip()[:2000])

    def succeeded(self):
        self.backoff.reset()

    def failed(self, why):
        """Stop the process; the next start waits for the back-off, which doubles."""
        self._kill()
        delay = self.backoff.next_delay()
        self.retry_at = time.monotonic() + delay
        LOG.warning("exec %s: the program %s; starting it again in %.1f s", self.label, why, delay)

    def _kill(self):
        process, self.process = self.process, None
        for reader in self.readers:
            reader.cancel()
        self.readers = []
        if process is not None:
            if process.returncode is None:
                try:
                    process.kill()
                except ProcessLookupError:
                    pass
            # asyncio's Process has no close(): its transport's closes the pipes now, not at garbage collection
            transport = getattr(process, "_transport", None)
            if transport is not None:
                transport.close()

    def stop(self):
        if self.process is not None:
            LOG.info("exec %s: stopping the program (pid %d)", self.label, self.process.pid)
            self.stopped = self.process
        self._kill()

    async def wait_stopped(self):
        if self.stopped is not None:
            await self.stopped.wait()


class ExecStage(MessageStage):
    """Message stage, one per session for both directions; a filter `awaits` the program's answers."""

    name = "exec"
    scope = Scope.SESSION
    instances = "execs"
    needs_wait_closed = True
    watch_refusal = (
        "exec rewrites messages on their way; a monitor passes nothing on (for a program on the received "
        "stream use a speaker with stdout: true, or the archive)"
    )
    check = staticmethod(check_exec)

    @classmethod
    def schema(cls):
        return s.obj(
            {
                "program": s.program(),
                "mode": s.enum(*MODES),
                "on_error": s.enum(*ON_ERROR),
                "queue": s.integer(1),
                "timeout": s.duration_value(),
            },
            required=["program"],
        )

    @classmethod
    def build(cls, section, context):
        named = {"session_name": context.session_name, "metrics": context.metrics, "instance": context.instance}
        if section["mode"] == "stream":
            from peerwarden_runner.stages.exec_stream import StreamExec  # a subclass: imported when used

            return StreamExec(**named, **section)
        return cls(**named, **section)

    def __init__(
        self,
        program,
        mode="watch",
        queue=10000,
        timeout=5.0,
        on_error="pass",
        session_name="session",
        metrics=None,
        backoff=(0.5, 30.0),
        instance="",
    ):
        """`instance`: how sessions list it: "exec", or "exec:NAME" for `execs: {NAME: ...}` (in the label
        of its logs and metrics: "SESSION[MODE]", "SESSION[exec:NAME MODE]")."""
        self.mode, self.timeout, self.on_error, self.session_name = mode, timeout, on_error, session_name
        self.metrics = metrics
        named = instance and instance != "exec"
        self.label = "%s[%s]" % (session_name, "%s %s" % (instance, mode) if named else mode)
        self.program = Program(list(program), self.label, backoff, log_stdout=mode == "watch")
        self.awaits = mode == "filter"
        self.queue: asyncio.Queue[tuple[bytes, Any, str, float]] = asyncio.Queue(queue)
        self.feeder = None
        self.lock = asyncio.Lock()
        self.dropped_copies, self.reported_copies, self.last_report = 0, 0, 0.0

    def _count(self, outcome, count=1):
        if self.metrics is not None:
            self.metrics.exec_outcome(self.label, outcome, count)

    # ---- watch: a copy of every message, never waited for ----

    def message(self, state, direction, raw):
        if self.awaits:  # a filter: the pipeline awaits message_async; only what it passes anyway comes here
            if raw[18] == c.UPDATE and direction in state.contexts:
                raise RuntimeError("an exec filter needs Pipeline.process_async")
            return [raw]
        try:
            self.queue.put_nowait((raw, state.contexts.get(direction), direction, time.time()))
        except asyncio.QueueFull:
            self._copy_dropped("is slower than BGP: the queue of %d copies is full" % self.queue.maxsize)
        if self.feeder is None or self.feeder.done():
            try:
                self.feeder = asyncio.get_running_loop().create_task(self._feed())
            except RuntimeError:  # no loop (a synchronous test): the copies wait in the queue
                pass
        return [raw]

    def _copy_dropped(self, why):
        self.dropped_copies += 1
        self._count("copy-dropped")
        now = time.monotonic()
        if now - self.last_report >= REPORT_EVERY:
            self._report(why)
            self.last_report = now

    def _report(self, why):
        LOG.warning(
            "exec %s: the program %s; %d copie(s) dropped from its copy of the stream (%d in all); "
            "BGP messages are not affected",
            self.label,
            why,
            self.dropped_copies - self.reported_copies,
            self.dropped_copies,
        )
        self.reported_copies = self.dropped_copies

    async def _feed(self):
        while True:
            raw, ctx, direction, when = await self.queue.get()
            process = await self.program.running()
            if process is None:
                self._copy_dropped("is not running (next start in %.1f s)" % self.program.retry_in())
                continue
            record = to_json(raw, ctx, direction=direction, peer=self.session_name, time=when)
            try:
                process.stdin.write(dump_line(record))
                await process.stdin.drain()
            except (ConnectionError, RuntimeError) as error:
                self.program.failed("stopped reading (%s)" % (error or type(error).__name__))
                self._copy_dropped("died")
            else:
                self._count("copied")

    # ---- filter: the program's answer replaces each UPDATE ----

    async def message_async(self, state, direction, raw):
        ctx = state.contexts.get(direction)
        if raw[18] != c.UPDATE or ctx is None:
            return [raw]
        record = to_json(raw, ctx, direction=direction, peer=self.session_name, time=time.time())
        line = dump_line(record)
        async with self.lock:
            process = await self.program.running()
            if process is None:
                return self._failed(
                    raw, record, "the program is not running (next start in %.1f s)" % self.program.retry_in()
                )
            try:
                answer = await asyncio.wait_for(self._exchange(process, line), self.timeout)
            except TimeoutError:
                self.program.failed("did not answer within %g s" % self.timeout)
                return self._failed(raw, record, "no answer within %g s" % self.timeout)
            except (ProgramDied, ConnectionError, RuntimeError) as error:
                self.program.failed("died (%s)" % (error or type(error).__name__))
                return self._failed(raw, record, "the program died")
            except ValueError:  # an answer line longer than LINE_LIMIT: the answers are out of step now
                self.program.failed("wrote a line longer than %d octets" % LINE_LIMIT)
                return self._failed(raw, record, "bad answer: a line longer than %d octets" % LINE_LIMIT)
            except asyncio.CancelledError:  # the session ended while the program was answering
                self.program.failed("was answering when the session ended")
                raise
        try:
            messages = [self._message(text, ctx) for text in answer]
        except ValueError as error:
            return self._failed(raw, record, "bad answer: %s" % error)
        self.program.succeeded()
        return self._answered(raw, record, messages)

    @staticmethod
    async def _exchange(process, line):
        """Write one JSON line; read the answer: lines up to an empty one."""
        process.stdin.write(line)
        await process.stdin.drain()
        answer: list[bytes] = []
        while True:
            text = await process.stdout.readline()
            if not text:
                raise ProgramDied("closed its output")
            if not text.strip():
                return answer
            answer.append(text)

    @staticmethod
    def _message(text, ctx):
        """One answer line as message octets; LineError (a ValueError) saying what is wrong with it."""
        return message_from_record(parse_line(text), ctx)

    def _answered(self, raw, record, messages):
        if messages == [raw]:
            self._count("passed")
        elif not messages:
            self._count("dropped")
            self._decided("dropped by the program (it answered nothing)", "%s", _summary(record))
        else:
            self._count("changed")
            self._decided("replaced by the program", "%s with %d message(s)", _summary(record), len(messages))
        return messages

    def _decided(self, reason, example, *args, level=logging.INFO):
        """Counted, one line per reason and interval (log_summary); each UPDATE at DEBUG."""
        DECISIONS.record(
            LOG, self.session_name, "exec " + self.label, reason, example, *args, level=level, unit="UPDATE(s)"
        )

    def _failed(self, raw, record, why):
        self._count("error")
        if self.on_error == "reset":
            raise SessionReset(c.ERR_CEASE, c.CEASE_ADMINISTRATIVE_RESET, b"", "exec %s: %s" % (self.label, why))
        if self.on_error == "drop":
            self._decided("dropped (on_error: drop)", "%s: %s", why, _summary(record), level=logging.WARNING)
            return []
        self._decided("passed unchanged (on_error: pass)", "%s: %s", why, _summary(record), level=logging.WARNING)
        return [raw]

    def close(self):
        if self.feeder is not None:
            self.feeder.cancel()
        if self.dropped_copies > self.reported_copies:
            self._report("was too slow or not running")
        self.program.stop()

    async def wait_closed(self):
        """After close(): until the program has exited."""
        await self.program.wait_stopped()


def _summary(record, shown=5):
    """What an UPDATE record announces and withdraws, for a log line."""
    attributes = record.get("attributes", {})
    announced = record.get("nlri", []) + attributes.get("mp_reach", {}).get("nlri", [])
    withdrawn = record.get("withdrawn", []) + attributes.get("mp_unreach", {}).get("withdrawn", [])
    parts = []
    for verb, prefixes in (("announces", announced), ("withdraws", withdrawn)):
        if prefixes:
            parts.append(
                "%s %s%s" % (verb, " ".join(str(p) for p in prefixes[:shown]), " ..." if len(prefixes) > shown else "")
            )
    return ", ".join(parts) or "no prefixes"
