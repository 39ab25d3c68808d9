"""Throw generated and mutated UPDATEs at the proxy's pipeline (rpki, aspa, limit, filter, archive stages, as
a session configures them) and check that the only way out is the documented one: SessionReset,
which the proxy answers with a NOTIFICATION. Every other exception is a failure.

Usage: fuzz_pipeline.py [--count 1000000] [--seed 1]
"""

import argparse
import logging
import os
import random
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "src"), HERE]

from fuzz_codec import attribute_soup, mutate, random_octets, valid_update  # noqa: E402
from peerwarden_runner.codec import Capability, NegotiatedContext, encode_open  # noqa: E402
from peerwarden_runner.codec import constants as c  # noqa: E402
from peerwarden_runner.pipeline import Pipeline, SessionReset  # noqa: E402
from peerwarden_runner.proxy import TO_PEER, TO_ROUTER  # noqa: E402
from peerwarden_runner.rpki import VrpTable, make_vrp  # noqa: E402
from peerwarden_runner.stages.archive import ArchiveStage  # noqa: E402
from peerwarden_runner.stages.aspa import AspaStage  # noqa: E402
from peerwarden_runner.stages.base import BuildContext  # noqa: E402
from peerwarden_runner.stages.filter import FilterStage, check_filter  # noqa: E402
from peerwarden_runner.stages.limit import LimitStage  # noqa: E402
from peerwarden_runner.stages.rpki import RpkiStage  # noqa: E402


class Sink:
    """Stands in for the session: collects what stages send on their own."""

    def __init__(self):
        self.sent = 0

    def send(self, direction, raw):
        self.sent += 1


def build(archive_dir):
    table = VrpTable(
        [make_vrp("0.0.0.0/1", 24, 64500), make_vrp("128.0.0.0/1", 24, 64501), make_vrp("2000::/3", 48, 64500)]
    )
    rpki = RpkiStage(table)
    limit = LimitStage(
        max_prefixes=5000, max_per_origin=500, max_per_block=(64, 16), max_per_block_ipv6=(64, 32), max_length=(24, 48)
    )
    rules = check_filter(
        {
            "rules": [
                {
                    "name": "drop",
                    "match": {"prefix": ["10.0.0.0/8 ge 20", "2000::/3 ge 40"], "as_path": "_6450[0-9]$"},
                    "action": "drop",
                },
                {
                    "name": "expression",
                    "match": {
                        "next_hop": ["192.0.2.0/24", "2001:db8::/32", "10.0.0.1"],
                        "as_path_length": ["3..6", "12.."],
                        "attribute": {
                            "med": [0, "absent"],
                            "origin": ["egp", "incomplete"],
                            "otc": "present",
                            "aggregator": ["AS64500 192.0.2.1", "absent"],
                            "99": ["present", "0x0102"],
                        },
                    },
                    "action": "drop",
                },
                {
                    "name": "short",
                    "match": {"as_path_length": "..1", "attribute": {"local_pref": 100}},
                    "action": "drop",
                },
                {
                    "name": "tag",
                    "match": {"community": ["65535:666", "no-export"]},
                    "action": "tag",
                    "tag": {"community": ["65000:1"], "large_community": ["65000:0:1"]},
                },
            ]
        },
        print,
    )
    filters = FilterStage(rules)
    aspa = AspaStage({64500: frozenset({65001}), 64501: frozenset({0}), 65001: frozenset({64502})})
    route_stages = [rpki, aspa.bind(BuildContext(role="customer")), limit, filters]
    pipeline = Pipeline({TO_ROUTER: route_stages}, [ArchiveStage(archive_dir, rotate_bytes=8 * 1024 * 1024)])
    return pipeline, rpki, table, aspa


def new_session(pipeline):
    """A session as the proxy starts one: both OPENs crossed."""
    state = pipeline.new_session(Sink())
    capabilities = [Capability.multiprotocol(c.AFI_IPV4, c.SAFI_UNICAST), Capability.multiprotocol(c.AFI_IPV6, 1)]
    pipeline.process(state, TO_ROUTER, c.OPEN, encode_open(65001, 90, "192.0.2.1", capabilities))
    pipeline.process(state, TO_PEER, c.OPEN, encode_open(65000, 90, "192.0.2.2", capabilities))
    return state


def one_message(rng, ctx):
    pick = rng.random()
    if pick < 0.4:
        return valid_update(rng, ctx)
    if pick < 0.8:
        return mutate(rng, valid_update(rng, ctx))
    if pick < 0.95:
        return attribute_soup(rng, ctx)
    return random_octets(rng)


def run(count, seed):
    rng = random.Random(seed)
    ctx = NegotiatedContext()
    failures, resets, messages_out = [], 0, 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as archive_dir:
        pipeline, rpki, table, aspa = build(archive_dir)
        state = new_session(pipeline)
        for number in range(count):
            raw = one_message(rng, ctx)
            if len(raw) < 19 or raw[18] != c.UPDATE:
                continue  # framing is fuzzed by fuzz_codec.py; the pipeline gets framed UPDATEs
            try:
                messages_out += len(pipeline.process(state, TO_ROUTER, c.UPDATE, raw))
            except SessionReset:
                resets += 1  # the proxy sends the NOTIFICATION and ends the session; a new one starts
                pipeline.end_session(state)
                state = new_session(pipeline)
            except Exception:  # noqa: BLE001  (any other exception is what we are looking for)
                failures.append((number, raw.hex(), traceback.format_exc()))
            if number and number % 5000 == 0:
                diff = table.apply(added=[make_vrp("10.0.0.0/8", 24, rng.choice((64500, 64501)))])
                rpki.vrps_changed(diff)  # re-validation on a VRP change, mid-stream
                aspa.aspas_changed(aspa.aspas | {rng.choice((64500, 64501, 65001)): frozenset({rng.randrange(65536)})})
        pipeline.close()
    seconds = time.perf_counter() - started
    print(
        "messages: %d in %.1f s (%.0f/s); written on: %d; session resets: %d; failures: %d"
        % (count, seconds, count / seconds, messages_out, resets, len(failures))
    )
    for number, hexed, trace in failures[:5]:
        print("failure at %d: %s\n%s" % (number, hexed[:200], trace))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)  # a million RFC 7606 warnings are not what this run is about
    return run(arguments.count, arguments.seed)


if __name__ == "__main__":
    sys.exit(main())
