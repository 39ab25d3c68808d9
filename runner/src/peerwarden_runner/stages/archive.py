"""The archive watcher: every message as it was written on, in the JSON form, to rotating files."""
import time

from peerwarden_runner.archive import JsonLinesArchive
from peerwarden_runner.codec.json_form import to_json
from peerwarden_runner.stages import Stage


class ArchiveStage(Stage):
    name = "archive"

    def __init__(self, directory, rotate_bytes=256 * 1024 * 1024, rotate_seconds=3600, compress=True,
                 session_name="session"):
        self.archive = JsonLinesArchive(directory, prefix=session_name, max_bytes=rotate_bytes,
                                        max_seconds=rotate_seconds, compress=compress)
        self.session_name = session_name

    def crossed(self, state, direction, raw):
        record = to_json(raw, state.contexts.get(direction), direction=direction, peer=self.session_name,
                         time=time.time())
        self.archive.write(record)

    def session_ended(self, state):
        self.archive.flush()

    def close(self):
        self.archive.close()
