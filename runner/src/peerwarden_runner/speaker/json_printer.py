"""--print: every message the router sends us (keepalives aside) as one JSON line on stdout, the
exabgp-logger case; a watcher like the archive, so it sees exactly what crossed."""

import json
import sys
import time

from peerwarden_runner.codec import KEEPALIVE
from peerwarden_runner.codec.json_form import to_json
from peerwarden_runner.directions import RECEIVED
from peerwarden_runner.stages.base import Watcher


class JsonPrinter(Watcher):
    name = "print"

    def __init__(self, session_name, stream=None):
        self.session_name = session_name
        self.stream = stream or sys.stdout

    def crossed(self, state, direction, raw):
        if direction != RECEIVED or raw[18] == KEEPALIVE:
            return
        record = to_json(
            raw, state.contexts.get(direction), direction=direction, peer=self.session_name, time=time.time()
        )
        self.stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.stream.flush()
