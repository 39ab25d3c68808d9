"""Health checks with ExaBGP's healthcheck semantics: a command (an argv list, no shell) runs every
`interval` seconds; after `rise` successes in a row its routes are announced, after `fall`
failures in a row they are withdrawn. Exit status 0 is success; anything else, a command that
cannot start, or one still running after `timeout` seconds (it is killed) is a failure."""

import asyncio
import logging
from dataclasses import dataclass

LOG = logging.getLogger("peerwarden_runner.healthcheck")
UP, DOWN = "up", "down"


@dataclass(frozen=True)
class HealthCheckSettings:
    name: str
    command: tuple
    routes: tuple  # RouteSpecs
    interval: float = 5.0
    timeout: float = 2.0
    rise: int = 3
    fall: int = 3


class HealthCheck:
    """`on_change(check, state)` is called with "up" or "down" when the state changes."""

    def __init__(self, settings, on_change):
        self.settings, self.on_change = settings, on_change
        self.state = None  # not known until rise or fall results in a row
        self.successes = self.failures = 0
        self.last_result = None

    async def run(self):
        while True:
            self.observe(await self.probe())
            await asyncio.sleep(self.settings.interval)

    async def probe(self):
        """One run of the command: True for exit status 0 within the timeout."""
        settings = self.settings
        try:
            process = await asyncio.create_subprocess_exec(
                *settings.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as error:
            self.last_result = "cannot run %s: %s" % (settings.command[0], error.strerror or error)
            return False
        try:
            status = await asyncio.wait_for(process.wait(), settings.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            self.last_result = "timed out after %g s" % settings.timeout
            return False
        self.last_result = "exit status %d" % status
        return status == 0

    def observe(self, success):
        settings = self.settings
        if success:
            self.successes, self.failures = self.successes + 1, 0
            if self.state != UP and self.successes >= settings.rise:
                self._change(UP)
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.state != DOWN and self.failures >= settings.fall:
                self._change(DOWN)

    def _change(self, state):
        LOG.info(
            "healthcheck %s: %s -> %s (%s); %s %s",
            self.settings.name,
            self.state or "unknown",
            state,
            self.last_result,
            "announcing" if state == UP else "withdrawing",
            ", ".join(spec.prefix for spec in self.settings.routes),
        )
        self.state = state
        self.on_change(self, state)

    def status(self):
        return {
            "name": self.settings.name,
            "state": self.state or "unknown",
            "last_result": self.last_result,
            "successes": self.successes,
            "failures": self.failures,
            "routes": [spec.prefix for spec in self.settings.routes],
        }
