"""From a checked configuration to running proxies: one pipeline per session, shared VRPs.

Which section makes which stage is stages/registry.py's; how many of a stage the runner makes is
the stage's `scope`: one for the runner (rpki), one per session for both directions (filter, exec,
alert), or one per place it is listed (limit)."""

import logging
from typing import Any

from peerwarden_runner.directions import TO_PEER, TO_ROUTER
from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import MAX_PENDING, OPEN_TIMEOUT, Pending, Proxy
from peerwarden_runner.scrape_metrics import RoutesCollector
from peerwarden_runner.stages.base import BuildContext, Scope
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.registry import PIPELINE_STAGES, SECTIONS, SESSION_WATCHERS, section_of, stage_of

LOG = logging.getLogger("peerwarden_runner.wiring")


class Stages:
    """Makes the stages of the sessions and speakers of one configuration, sharing what their scope says."""

    def __init__(self, settings, metrics):
        self.settings, self.metrics = settings, metrics
        self.shared = {}  # what the runner's stages share (the alert sinks)
        self.runner = {}  # name -> the runner's one stage of that name

    async def start(self):
        """The runner's own stages (rpki), started; the background tasks that keep them current."""
        background = []
        for name in PIPELINE_STAGES:
            stage = SECTIONS[name]
            if stage.scope is Scope.RUNNER and self.settings.get(name):
                self.runner[name] = stage.build(self.settings[name], self._context(None))
                background.extend(await self.runner[name].start())
        return background

    def _context(self, entry, instance=""):
        if entry is None:
            return BuildContext(self.metrics, shared=self.shared, instance=instance)
        return BuildContext(self.metrics, entry["name"], entry.get("role"), shared=self.shared, instance=instance)

    def session(self, entry):
        """A function from a listed stage name ("filter", "filter:NAME") to the stage object for one
        session (or speaker)."""
        per_session = {}

        def stage(name):
            kind, context = stage_of(name), self._context(entry, name)
            if kind.scope is Scope.RUNNER:
                return self.runner[name].bind(context)
            if kind.scope is Scope.SESSION:
                if name not in per_session:
                    per_session[name] = kind.build(section_of(self.settings, name), context)
                return per_session[name]
            return kind.build(section_of(self.settings, name), context)

        return stage

    def watchers(self, entry):
        """The watchers a configured section adds to a session (the archive's)."""
        watchers = []
        for name in SESSION_WATCHERS:
            if self.settings.get(name):
                watchers.extend(SECTIONS[name].build_all(self.settings[name], self._context(entry)))
        return watchers


def tunnel_legs(session):
    """(listener, connector) of a session's websocket tunnel (tunnel/), None for each TCP leg."""
    tunnel = session.get("tunnel")
    if tunnel is None:
        return None, None
    from peerwarden_runner.tunnel.client import TunnelConnector  # aiohttp only when a tunnel runs
    from peerwarden_runner.tunnel.server import TunnelListener

    if tunnel["side"] == "listen":
        host, port = tunnel["listen"]
        listener = TunnelListener(
            host, port, tunnel["ssl"], token=tunnel["token"], peer=session["peer"], name=session["name"]
        )
        return listener, None
    connector = TunnelConnector(
        tunnel["connect"],
        tunnel["ssl"],
        token=tunnel["token"],
        name=session["name"],
        allow_plain=tunnel["ssl"] is None,
        backoff_max=tunnel["backoff_max"],
    )
    return None, connector


async def build_sessions(settings, metrics=None):
    """(proxies, background tasks) for the configuration; `metrics` a worker's own (workers/child.py),
    else the configured section's, served on its address."""
    if metrics is None:
        metrics = Metrics.build(settings.get("metrics"), BuildContext())
    routes = RoutesCollector()
    metrics.registry.register(routes)
    stages = Stages(settings, metrics)
    background = await stages.start()
    pending = Pending(settings.get("max_pending") or MAX_PENDING)  # shared by every listener
    proxies: list[Any] = []  # the proxies, and the speakers' service: what the runner starts and stops
    for session in settings["sessions"]:
        stage = stages.session(session)  # one of each filter, exec program and alert stage per session
        directions = {
            direction: [stage(name) for name in session[key]]
            for direction, key in ((TO_ROUTER, "to_router"), (TO_PEER, "to_peer"))
        }
        pipeline = Pipeline(directions, stages.watchers(session), metrics)
        routes.watch(session["name"], pipeline)
        listener, connector = tunnel_legs(session)
        proxy = Proxy(
            session["listen"],
            connector.address if connector else session["connect"],
            pipeline,
            connect_from=session["connect_from"],
            md5=session["md5"],
            peer=session["peer"],
            gtsm=session["gtsm"],
            name=session["name"],
            open_timeout=session.get("open_timeout") or OPEN_TIMEOUT,
            pending=pending,
            metrics=metrics,
            listener=listener,
            connector=connector,
        )
        proxies.append(proxy)
    if settings.get("speakers"):
        from peerwarden_runner.speaker.service import SpeakerService  # aiohttp only when speakers run

        def make_stages(entry):  # a speaker's watch-only stages: one alert stage each, the rpki stage shared
            stage = stages.session(entry)
            return [stage(name) for name in entry["stages"]]

        proxies.append(SpeakerService(settings["speakers"], settings.get("archive"), metrics, make_stages))
    return proxies, background
