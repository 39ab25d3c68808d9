"""Which top-level configuration section makes which stage. A new stage is one file (its class
declares what it is, checks its section and builds itself, stages/base.py) and one line here.

The order is the order sections are checked in (and problems reported), and stage names listed in."""

import difflib

from peerwarden_runner.stages.alert import AlertStage
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.aspa import AspaStage
from peerwarden_runner.stages.base import Kind, Scope, Stage
from peerwarden_runner.stages.exec import ExecStage
from peerwarden_runner.stages.filter import FilterStage
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.rpki import RpkiStage

SECTIONS: dict[str, type[Stage]] = {
    "rpki": RpkiStage,
    "aspa": AspaStage,
    "limit": LimitStage,
    "filter": FilterStage,
    "alert": AlertStage,
    "exec": ExecStage,
    "archive": ArchiveStage,
    "metrics": Metrics,
}

# the stages a session lists by name in to_router / to_peer (a speaker in `stages:`)
PIPELINE_STAGES = tuple(name for name, stage in SECTIONS.items() if stage.kind is not Kind.WATCHER)
ROUTE_STAGES = tuple(name for name in PIPELINE_STAGES if SECTIONS[name].kind is Kind.ROUTE)
WATCH_STAGES = tuple(name for name in PIPELINE_STAGES if SECTIONS[name].watch_ok)
# the watchers a configured section adds to each session (the runner's own, metrics, is made first: see wiring)
SESSION_WATCHERS = tuple(
    name for name, stage in SECTIONS.items() if stage.kind is Kind.WATCHER and stage.scope is not Scope.RUNNER
)
# the top-level mappings of named instances ("filters") -> the stage's section name ("filter")
NAMED = {stage.instances: name for name, stage in SECTIONS.items() if stage.instances}
INSTANCE_NAME = r"[A-Za-z0-9_-]+"


def stage_of(listed):
    """The stage class of a name a session lists ("filter", "filter:NAME"), None for an unknown one."""
    name, named, instance = str(listed).partition(":")
    stage = SECTIONS.get(name)
    if stage is None or name not in PIPELINE_STAGES or named and not (stage.instances and instance):
        return None
    return stage


def section_of(config, listed):
    """The section a listed name uses: config["filter"], or config["filters"][NAME] for "filter:NAME"."""
    name, named, instance = listed.partition(":")
    if named:
        return (config.get(SECTIONS[name].instances) or {}).get(instance)
    return config.get(name)


def declared(config):
    """{listed name: section} of every pipeline stage the configuration (or checked settings) declares."""
    found = {name: config[name] for name in PIPELINE_STAGES if name in config}
    for plural, name in NAMED.items():
        instances = config.get(plural)
        if isinstance(instances, dict):
            found.update(("%s:%s" % (name, instance), section) for instance, section in instances.items())
    return found


def undeclared(listed, available):
    """Why a listed stage cannot be used: its section is missing (with "did you mean")."""
    name, named, instance = listed.partition(":")
    where = "'%s: {%s: ...}'" % (SECTIONS[name].instances, instance) if named else "'%s:'" % name
    close = difflib.get_close_matches(listed, list(available), n=1, cutoff=0.6)
    return "uses the stage %r, which has no top-level %s section%s" % (
        listed,
        where,
        " (did you mean %r?)" % close[0] if close else "",
    )
