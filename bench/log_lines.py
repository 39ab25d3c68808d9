"""How many log lines a table that a stage refuses makes, and its CPU per UPDATE (issue 16, item 6).

Feeds the one-prefix UPDATEs of bench/pipeline_profile.py (--small --per-set 1) through one stage that
refuses every route: rpki with VRPs naming another origin, limit with max_length /23 and /47, a filter
with a drop rule for everything; ends the session; counts the records at INFO and above that reach the
root logger (a handler that counts and writes nothing) and the CPU time of the process.

    python bench/log_lines.py [--ipv4 40000] [--ipv6 10000]
"""

import argparse
import logging
import time

from peerwarden_runner.codec import constants as c
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.stages.filter import FilterStage
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.rpki import RpkiStage
from pipeline_profile import filter_section, ipv4_prefixes, ipv6_prefixes, open_session, shaped_updates

DROP_ALL = [
    {"name": "all", "match": {"prefix": "0.0.0.0/0 le 32"}, "action": "drop"},
    {"name": "all6", "match": {"prefix": "::/0 le 128"}, "action": "drop"},
]


class Count(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = 0

    def emit(self, record):
        self.lines += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ipv4", type=int, default=40000)
    parser.add_argument("--ipv6", type=int, default=10000)
    arguments = parser.parse_args()
    ipv4, ipv6 = ipv4_prefixes(arguments.ipv4), ipv6_prefixes(arguments.ipv6)
    messages = shaped_updates(ipv4, ipv6, 1, packed=False)
    counter = Count()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.INFO)
    stages = {
        "rpki refusing": lambda: RpkiStage(VrpTable([make_vrp(p, None, 64496) for p in ipv4 + ipv6])),
        "limit max_length": lambda: LimitStage(max_length=(23, 47)),
        "filter drop": lambda: FilterStage(filter_section(DROP_ALL)),
    }
    for name, make in stages.items():
        pipeline = Pipeline({TO_ROUTER: [make()]})
        state = open_session(pipeline)
        counter.lines = 0
        started = time.process_time()
        written = sum(len(pipeline.process(state, TO_ROUTER, c.UPDATE, raw)) for raw in messages)
        pipeline.end_session(state)
        seconds = time.process_time() - started
        print(
            "%-17s %d UPDATEs, %d written on, %d log line(s), %.1f us CPU per UPDATE"
            % (name, len(messages), written, counter.lines, seconds * 1e6 / len(messages))
        )


if __name__ == "__main__":
    main()
