"""exec `mode: stream`: a program sits in the session, as with bgpipe's exec (and its --stdin /
--stdout): `jq -c .`, a Python or shell filter reading and writing JSON lines (docs/json.md).

    exec:
      program: [jq, --unbuffered, -c, 'select(.attributes.as_path | length < 10)']
      mode: stream
      on_error: drop          # drop (the default) or reset (end the session with a Cease)
      timeout: 5              # seconds the program may take to read an UPDATE

* Each UPDATE of the directions the stage is listed in goes to the program's stdin as one JSON line
  and is *not* passed on by the stage: the program's output is. The program need not answer line
  for line (unlike `mode: filter`): whatever JSON lines it writes, whenever it writes them, are
  sent in the order written, each in the direction its "direction" key names (to_router or
  to_peer, as the input line said), encoded for that direction (json_lines: strictly).
* The program must write each line as it is done (jq --unbuffered, python3 -u or print(...,
  flush=True)): output sitting in its buffer is not sent until it flushes.
* OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH pass the stage unchanged: the session stays the
  runner's, only routes go through the program.
* A slow program slows the session (the write to its stdin is awaited): nothing is queued without
  bound. One that does not read an UPDATE within `timeout`, dies or closes its output is stopped
  and started again after a back-off, and logged; UPDATEs it had read but not answered are lost
  with it (a stream has no answer to wait for).
* Never silent: an output line that is not an UPDATE to send (not JSON, no "direction", a "lossy"
  record, fields the session cannot encode exactly, a malformed UPDATE) is logged with its line
  number and why; an UPDATE that cannot reach the program is logged. Then `on_error: drop` goes on
  without it and `reset` ends the session: an UPDATE that cannot reach the program as the exec
  filter's reset does (Cease 6/4 to its sender, a Cease with the reason to its receiver), a refused
  output line with a Cease / Administrative Shutdown naming the line both ways.
"""

import asyncio
import logging
import time
from logging import WARNING

from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import to_json
from peerwarden_runner.json_lines import LINE_LIMIT, LineError, dump_line, message_from_record, parse_line
from peerwarden_runner.log_summary import DECISIONS
from peerwarden_runner.stages.exec import ExecStage

LOG = logging.getLogger("peerwarden_runner.exec")


class StreamExec(ExecStage):
    """ExecStage in stream mode (ExecStage.build makes one for `mode: stream`)."""

    def __init__(self, program, **options):
        super().__init__(program, **options)
        self.awaits = True
        self.state = None  # the session now served (the stage outlives reconnects)
        self.output = None  # the task reading the running program's stdout
        self.following = None  # the process that task reads

    def session_started(self, state):
        self.state = state

    def session_ended(self, state):
        if self.state is state:
            self.state = None

    def message(self, state, direction, raw):
        if raw[18] == c.UPDATE and direction in state.contexts:
            raise RuntimeError("an exec stream needs Pipeline.process_async")
        return [raw]

    async def message_async(self, state, direction, raw):
        ctx = state.contexts.get(direction)
        if raw[18] != c.UPDATE or ctx is None:
            return [raw]
        record = to_json(raw, ctx, direction=direction, peer=self.session_name, time=time.time())
        process = await self.program.running()
        if process is None:
            why = "the program is not running (next start in %.1f s)" % self.program.retry_in()
            return self._failed(raw, record, why)
        self._follow(process)
        try:
            process.stdin.write(dump_line(record))
            await asyncio.wait_for(process.stdin.drain(), self.timeout)
        except TimeoutError:
            self.program.failed("did not read its input within %g s" % self.timeout)
            return self._failed(raw, record, "the program did not read the UPDATE within %g s" % self.timeout)
        except (ConnectionError, RuntimeError) as error:
            self.program.failed("stopped reading (%s)" % (error or type(error).__name__))
            return self._failed(raw, record, "the program died")
        self.program.succeeded()
        self._count("streamed")
        return []

    def _follow(self, process):
        if self.following is not process:
            if self.output is not None:
                self.output.cancel()
            self.following = process
            self.output = asyncio.get_running_loop().create_task(self._read_output(process))

    async def _read_output(self, process):
        number = 0
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # longer than LINE_LIMIT: asyncio has dropped it
                number += 1
                await self._refused(number, "longer than %d octets" % LINE_LIMIT)
                continue
            if not line:
                if process is self.program.process:
                    self.program.failed("closed its output")
                return
            number += 1
            if line.strip():
                await self._send(number, line)

    async def _send(self, number, line):
        state = self.state
        try:
            record = parse_line(line)
            direction = record.get("direction")
            if state is None:
                raise LineError("no session is up to send it on")
            if direction not in state.contexts:
                raise LineError(
                    'its "direction" must say where to send it (%s), got %r'
                    % (" or ".join(sorted(state.contexts)), direction)
                )
            raw = message_from_record(record, state.contexts[direction])
        except LineError as error:
            await self._refused(number, str(error))
            return
        state.session.send(direction, raw)
        self._count("sent")

    async def _refused(self, number, why):
        self._count("error")
        if self.on_error == "reset" and self.state is not None:
            LOG.warning("exec %s: output line %d refused, resetting the session: %s", self.label, number, why)
            text = "peerwarden-runner: exec %s: output line %d refused" % (self.label, number)
            await self.state.session.shutdown(text)
            return
        # counted, one line per interval (log_summary); each line at DEBUG: a program may write a million
        reason = "output line refused, not sent (on_error: drop)"
        name = self.session_name
        DECISIONS.record(
            LOG, name, "exec " + self.label, reason, "line %d: %s", number, why, level=WARNING, unit="line(s)"
        )

    def close(self):
        if self.output is not None:
            self.output.cancel()
        super().close()
