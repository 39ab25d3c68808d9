"""The archive watcher: every message as it was written on, in the JSON form, to rotating files
(written by a child process, archive_process, so that the JSON work stays off the proxy's loop)."""

import time

from peerwarden_runner.archive_process import ArchiveProcess
from peerwarden_runner.schema import boolean, duration, duration_value, enum, obj, size, size_value, string
from peerwarden_runner.stages.base import Watcher

FORMATS = ("jsonl", "mrt", "both")


class ArchiveStage(Watcher):
    """The `archive:` section's stage: a watcher of every session (JSON lines, MRT or both)."""

    name = "archive"

    @classmethod
    def schema(cls):
        return obj(
            {
                "dir": string(expected="a directory"),
                "format": enum(*FORMATS),
                "rotate_bytes": size_value(),
                "rotate_seconds": duration_value(),
                "compress": boolean(),
            },
            required=["dir"],
        )

    @classmethod
    def check(cls, section, problem):
        if section is None:
            return None
        if not isinstance(section, dict) or not section.get("dir"):
            problem("archive", "expected 'dir: PATH'")
            return None
        archive_format = section.get("format", "jsonl")
        if archive_format not in FORMATS:
            problem("archive.format", "expected one of %s, got %r" % (", ".join(FORMATS), archive_format))
        return {
            "dir": section["dir"],
            "format": archive_format,
            "rotate_bytes": size(section.get("rotate_bytes", 256 * 1024 * 1024)),
            "rotate_seconds": int(duration(section.get("rotate_seconds", 3600))),
            "compress": bool(section.get("compress", True)),
        }

    @classmethod
    def build_all(cls, section, context):
        """The archive watchers of the configured format: JSON lines, MRT, or both."""
        settings = (section["dir"], section["rotate_bytes"], section["rotate_seconds"], section["compress"])
        watchers: list[Watcher] = []
        if section.get("format", "jsonl") in ("jsonl", "both"):
            watchers.append(cls(*settings, session_name=context.session_name))
        if section.get("format") in ("mrt", "both"):
            from peerwarden_runner.stages.mrt_archive import MrtArchiveStage

            watchers.append(MrtArchiveStage(*settings, session_name=context.session_name))
        return watchers

    def __init__(
        self, directory, rotate_bytes=256 * 1024 * 1024, rotate_seconds=3600, compress=True, session_name="session"
    ):
        self.archive = ArchiveProcess(directory, session_name, rotate_bytes, rotate_seconds, compress, session_name)
        self.session_name = session_name

    def crossed(self, state, direction, raw):
        self.archive.send(raw, state.contexts.get(direction), direction, time.time())

    def session_ended(self, state):
        self.archive.flush()

    def close(self):
        self.archive.close()
