"""From a checked configuration to running proxies: one pipeline per session, shared VRPs."""
import gc
import logging

from peerwarden_runner.pipeline import Pipeline
from peerwarden_runner.proxy import TO_PEER, TO_ROUTER, Proxy
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.metrics import Metrics

LOG = logging.getLogger("peerwarden_runner.wiring")


async def build_sessions(settings):
    """(proxies, background tasks) for the configuration."""
    background = []
    metrics = Metrics()
    if settings.get("metrics"):
        metrics.serve(*settings["metrics"]["listen"])
    rpki_stage = None
    if settings.get("rpki"):
        rpki_stage, tasks = await _rpki(settings["rpki"], metrics)
        background.extend(tasks)
        # the VRP tables are a million and a half long-lived objects: a full collection would walk them
        # for a second, again and again while a full table of routes comes in
        gc.collect()
        gc.freeze()
    proxies = []
    for session in settings["sessions"]:
        stages = {}
        for direction, key in ((TO_ROUTER, "to_router"), (TO_PEER, "to_peer")):
            stages[direction] = [_stage(name, settings, rpki_stage) for name in session[key]]
        watchers = []
        if settings.get("archive"):
            archive = settings["archive"]
            watchers.append(ArchiveStage(archive["dir"], archive["rotate_bytes"], archive["rotate_seconds"],
                                         archive["compress"], session_name=session["name"]))
        proxy = Proxy(session["listen"], session["connect"], Pipeline(stages, watchers, metrics),
                      connect_from=session["connect_from"], md5=session["md5"], peer=session["peer"])
        proxies.append(proxy)
    return proxies, background


def _stage(name, settings, rpki_stage):
    if name == "rpki":
        return rpki_stage
    limit = settings["limit"]
    return LimitStage(limit["max_prefixes"], limit["max_per_origin"], limit["max_per_block"], limit["max_length"],
                      limit["min_length"], limit["cease"])


async def _rpki(section, metrics):
    from peerwarden_runner.rpki import VrpTable
    from peerwarden_runner.stages.rpki import RpkiStage
    table = VrpTable()
    stage = RpkiStage(table, metrics)
    tasks = []
    if section.get("file"):
        from peerwarden_runner.rpki import VrpDiff
        from peerwarden_runner.rpki.vrp_file_watcher import VrpFileWatcher
        watcher = VrpFileWatcher(section["file"], table, poll_interval=1.0,
                                 on_change=lambda added, removed: stage.vrps_changed(VrpDiff(added, removed)))
        await watcher.load()  # a missing or broken file at start is an error, not an empty table
        tasks.append(watcher.start())
    if section.get("caches"):
        from peerwarden_runner.rpki import VrpDiff
        from peerwarden_runner.rpki.rtr_client import RtrCache, RtrClient, RtrTimers
        client = RtrClient([RtrCache(c["host"], c["port"], c["preference"]) for c in section["caches"]], table,
                           on_change=lambda added, removed: stage.vrps_changed(VrpDiff(added, removed)),
                           timers=RtrTimers(expire=section["expire"]))
        tasks.append(client.start())
    return stage, tasks
