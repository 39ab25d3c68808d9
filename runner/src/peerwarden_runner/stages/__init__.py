"""Stages of the pipeline; stages/base.py says what a stage declares, stages/registry.py which
configuration section makes which stage."""

from peerwarden_runner.stages.base import BuildContext, Kind, MessageStage, Scope, Stage, Watcher

__all__ = ["BuildContext", "Kind", "MessageStage", "Scope", "Stage", "Watcher"]
