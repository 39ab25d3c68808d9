"""The archive watcher: every message as it was written on, in the JSON form, to rotating files
(written by a child process, archive_process, so that the JSON work stays off the proxy's loop)."""

import time

from peerwarden_runner.archive_process import ArchiveProcess
from peerwarden_runner.stages import Stage


class ArchiveStage(Stage):
    name = "archive"

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
