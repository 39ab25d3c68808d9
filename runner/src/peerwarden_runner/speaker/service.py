"""Everything the `speakers:` of one configuration run: each speaker with its watchers (archive,
--stdout, metrics), its --stdin feed, its monitor (watch-only stages), its API and its health checks; one SIGTERM
ends them all with a Cease."""

import asyncio
import logging

from peerwarden_runner.backoff import Backoff
from peerwarden_runner.speaker.healthcheck import UP, HealthCheck
from peerwarden_runner.speaker.json_printer import JsonPrinter
from peerwarden_runner.speaker.metrics import SpeakerCollector
from peerwarden_runner.speaker.monitor import Monitor
from peerwarden_runner.speaker.speaker import Speaker, SpeakerSettings
from peerwarden_runner.speaker.stdin_feed import StdinFeed
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.base import Stage

LOG = logging.getLogger("peerwarden_runner.speaker")


def build_speaker(entry, archive=None, metrics=None, make_stages=None):
    """A Speaker for one checked `speakers:` entry; `make_stages(entry)` gives the stage objects of
    its `stages:` list (wiring builds them, sharing the rpki stage and the alert sinks)."""
    watchers: list[Stage] = []
    if archive:
        watchers.append(
            ArchiveStage(
                archive["dir"],
                archive["rotate_bytes"],
                archive["rotate_seconds"],
                archive["compress"],
                session_name=entry["name"],
            )
        )
    if entry["stdout"]:
        watchers.append(JsonPrinter(entry["name"]))
    if metrics is not None:
        watchers.append(metrics)
    settings = SpeakerSettings(
        entry["name"],
        entry["local"],
        entry["peer"],
        entry["port"],
        entry["asn"],
        entry["peer_asn"],
        entry["router_id"],
        entry["hold_time"],
        entry["md5"],
        entry["gtsm"],
        entry["shutdown_message"],
        entry.get("passive", False),
        entry.get("local_port", 179),
    )
    monitor = None
    if entry.get("stages"):
        monitor = Monitor(make_stages(entry), metrics)
    speaker = Speaker(settings, watchers, Backoff(*entry["reconnect"]), monitor=monitor)
    speaker.announce(entry["announce"], "config")
    return speaker


class SpeakerService:
    """Has the proxies' interface (serve_until_stopped), so the runner serves both alike."""

    def __init__(self, entries, archive=None, metrics=None, make_stages=None):
        self.entries = entries
        self.speakers = [build_speaker(entry, archive, metrics, make_stages) for entry in entries]
        if metrics is not None:
            metrics.registry.register(SpeakerCollector(self.speakers))
        self.checks = {}
        self.api_runners = []
        self.speaker_tasks, self.check_tasks = [], []
        self.stopping = asyncio.Event()
        self.exit_status = 0  # 1 after a fatal --stdin line

    async def start(self):
        from peerwarden_runner.speaker.api import make_app, start_api  # aiohttp only when speakers run

        for entry, speaker in zip(self.entries, self.speakers):
            checks = [HealthCheck(settings, self._on_health(speaker)) for settings in entry["healthchecks"]]
            self.checks[speaker.settings.name] = checks
            if entry["api"]:
                if not entry["api"]["token"]:
                    LOG.warning(
                        "%s: no API token (api.token_file or PEERWARDEN_API_TOKEN): the API is read-only", entry["name"]
                    )
                app = make_app(speaker, entry["api"]["token"], checks)
                self.api_runners.append(await start_api(app, *entry["api"]["listen"]))
            self.speaker_tasks.append(asyncio.create_task(speaker.run()))
            if entry["stdin"]:
                feed = StdinFeed(speaker, on_error=entry["stdin_errors"], on_fatal=self._stdin_fatal)
                self.check_tasks.append(asyncio.create_task(feed.run()))
            self.check_tasks.extend(asyncio.create_task(check.run()) for check in checks)

    def _stdin_fatal(self):
        self.exit_status = 1
        self.stopping.set()

    @staticmethod
    def _on_health(speaker):
        def changed(check, state):
            source = "healthcheck:" + check.settings.name
            if state == UP:
                speaker.announce(check.settings.routes, source)
            else:
                speaker.withdraw([spec.prefix for spec in check.settings.routes], source)

        return changed

    async def serve_until_stopped(self):
        """Serve until `stopping` is set (the runner sets it on SIGTERM for every server at once)."""
        await self.start()
        await self.stopping.wait()
        await self.stop()

    async def stop(self):
        """Checks first (no announcement after the Cease), then each session's Cease, then the APIs."""
        for task in self.check_tasks:
            task.cancel()
        await asyncio.gather(*(speaker.stop() for speaker in self.speakers))
        for runner in self.api_runners:
            await runner.cleanup()
        await asyncio.gather(*self.speaker_tasks, *self.check_tasks, return_exceptions=True)
