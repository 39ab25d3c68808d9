"""Which top-level configuration section makes which stage. A new stage is one file (its class
declares what it is, checks its section and builds itself, stages/base.py) and one line here.

The order is the order sections are checked in (and problems reported), and stage names listed in."""

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
