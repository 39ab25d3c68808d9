"""--stdout (alias --print): every message of the session, sent and received (keepalives too),
as one JSON line on stdout with its "direction" (docs/json.md), the exabgp-logger and bgpipe
--stdout case; a watcher like the archive, so it sees exactly what crossed. --stdin reads these
lines back (speaker/stdin_feed.py)."""

import json
import sys
import time

from peerwarden_runner.codec.json_form import to_json
from peerwarden_runner.stages.base import Watcher


class JsonPrinter(Watcher):
    name = "stdout"

    def __init__(self, session_name, stream=None):
        self.session_name = session_name
        self.stream = stream or sys.stdout

    def crossed(self, state, direction, raw):
        record = to_json(
            raw, state.contexts.get(direction), direction=direction, peer=self.session_name, time=time.time()
        )
        self.stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.stream.flush()
