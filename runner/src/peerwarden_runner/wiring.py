"""From a checked configuration to running proxies: one pipeline per session, shared VRPs."""

import gc
import logging

from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import TO_PEER, TO_ROUTER, Proxy
from peerwarden_runner.scrape_metrics import RoutesCollector, RtrStateCollector
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.exec import ExecStage
from peerwarden_runner.stages.filter import FilterStage
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.metrics import Metrics

LOG = logging.getLogger("peerwarden_runner.wiring")
FIRST_SYNC_WAIT = 30


async def build_sessions(settings):
    """(proxies, background tasks) for the configuration."""
    background = []
    metrics = Metrics()
    if settings.get("metrics"):
        metrics.serve(*settings["metrics"]["listen"])
    routes = RoutesCollector()
    metrics.registry.register(routes)
    rpki_stage = None
    if settings.get("rpki"):
        rpki_stage, tasks = await _rpki(settings["rpki"], metrics)
        background.extend(tasks)
        # the VRP tables are a million and a half long-lived objects: a full collection would walk them
        # for a second, again and again while a full table of routes comes in
        gc.collect()
        gc.freeze()
    proxies = []
    uses_alert = any("alert" in s["to_router"] + s["to_peer"] for s in settings["sessions"]) or any(
        "alert" in s["stages"] for s in settings.get("speakers") or ()
    )
    alert_sinks = _alert_sinks(settings["alert"], metrics) if uses_alert else None
    for session in settings["sessions"]:
        # shared: one filter, one exec program and one alert stage per session, for both directions
        stages, shared = {}, {"alert_sinks": alert_sinks}
        for direction, key in ((TO_ROUTER, "to_router"), (TO_PEER, "to_peer")):
            stages[direction] = [_stage(name, settings, rpki_stage, session, metrics, shared) for name in session[key]]
        watchers = []
        if settings.get("archive"):
            watchers.extend(_archives(settings["archive"], session["name"]))
        pipeline = Pipeline(stages, watchers, metrics)
        routes.watch(session["name"], pipeline)
        proxy = Proxy(
            session["listen"],
            session["connect"],
            pipeline,
            connect_from=session["connect_from"],
            md5=session["md5"],
            peer=session["peer"],
            gtsm=session["gtsm"],
        )
        proxies.append(proxy)
    if settings.get("speakers"):
        from peerwarden_runner.speaker.service import SpeakerService  # aiohttp only when speakers run

        def make_stages(entry):  # a speaker's watch-only stages: one alert stage each, the rpki stage shared
            shared = {"alert_sinks": alert_sinks}
            return [_stage(name, settings, rpki_stage, entry, metrics, shared) for name in entry["stages"]]

        proxies.append(SpeakerService(settings["speakers"], settings.get("archive"), metrics, make_stages))
    return proxies, background


def _archives(archive, session_name):
    """The archive watchers of the configured format: JSON lines, MRT, or both."""
    watchers = []
    if archive.get("format", "jsonl") in ("jsonl", "both"):
        watchers.append(
            ArchiveStage(
                archive["dir"],
                archive["rotate_bytes"],
                archive["rotate_seconds"],
                archive["compress"],
                session_name=session_name,
            )
        )
    if archive.get("format") in ("mrt", "both"):
        from peerwarden_runner.stages.mrt_archive import MrtArchiveStage

        watchers.append(
            MrtArchiveStage(
                archive["dir"],
                archive["rotate_bytes"],
                archive["rotate_seconds"],
                archive["compress"],
                session_name=session_name,
            )
        )
    return watchers


def _alert_sinks(section, metrics):
    from peerwarden_runner.stages.alert_sinks import AlertSinks

    return AlertSinks(section, metrics)


def _stage(name, settings, rpki_stage, session=None, metrics=None, shared=None):
    if name == "rpki":
        return rpki_stage
    if name == "alert":
        if "alert" not in shared:
            from peerwarden_runner.stages.alert import AlertStage

            shared["alert"] = AlertStage(
                settings["alert"], shared["alert_sinks"], session["name"], session.get("role"), metrics
            )
        return shared["alert"]
    if name in ("filter", "exec"):
        shared = {} if shared is None else shared
        if name not in shared:
            shared[name] = (
                FilterStage(settings["filter"], metrics)
                if name == "filter"
                else ExecStage(session_name=session["name"], metrics=metrics, **settings["exec"])
            )
        return shared[name]
    limit = settings["limit"]
    return LimitStage(
        limit["max_prefixes"],
        limit["max_per_origin"],
        limit["max_per_block"],
        limit["max_length"],
        limit["min_length"],
        limit["cease"],
    )


async def _rpki(section, metrics):
    """The rpki stage and the tasks that keep its VRPs current: a file, RTR caches, or both (their union)."""
    from peerwarden_runner.rpki import VrpDiff, VrpTable
    from peerwarden_runner.stages.rpki import RpkiStage

    table = VrpTable()
    stage = RpkiStage(table, metrics)
    tasks = []
    if section.get("file") and section.get("caches"):
        from peerwarden_runner.rpki.vrp_union import VrpUnion

        union = VrpUnion(table, on_change=stage.schedule)
        file_table, rtr_table, on_change = union.source("file"), union.source("rtr"), None
    else:
        file_table = rtr_table = table
        # re-validation runs in the background, in slices: a full table takes a second to look through
        on_change = lambda added, removed: stage.schedule(VrpDiff(added, removed))  # noqa: E731
    if section.get("file"):
        from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher

        watcher = VrpFileWatcher(section["file"], file_table, poll_interval=1.0, on_change=on_change)
        await watcher.load()  # a missing or broken file at start is an error, not an empty table
        tasks.append(watcher.start())
    if section.get("caches"):
        from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers

        client = RtrClient(
            [RtrCache(c["host"], c["port"], c["preference"]) for c in section["caches"]],
            rtr_table,
            on_change=on_change,
            timers=RtrTimers(expire=section["expire"]),
        )
        metrics.registry.register(RtrStateCollector(client))
        tasks.append(client.start())
        try:  # sessions start with VRPs, or invalid routes would pass as not-found until the first sync
            await client.wait_synced(FIRST_SYNC_WAIT)
        except TimeoutError:
            LOG.warning(
                "no RTR cache synced within %d s; relaying anyway: routes are not-found until one does, "
                "then validated again",
                FIRST_SYNC_WAIT,
            )
    return stage, tasks
