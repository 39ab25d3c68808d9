"""Micro-benchmark of the runner's pipeline in one process: microseconds per prefix for each stage.

Feeds Pipeline.process the UPDATEs BIRD sends in bench/proxy_fulltable.py (IPv4 /24s and IPv6 /48s
sharing one attribute set, packed into 4096-octet messages), or with --small the UPDATEs many real
peers send (one prefix each, an AS_PATH of 3 to 6 ASNs, communities, a MED; --per-set K consecutive
prefixes share one attribute set), with the stages wired as the proxy
wires them (rpki with VRPs for every prefix, limit, archive, metrics, alert watching 1000 prefixes of its own
and the paths of a session with role peer, aspa with ASPA records for every path of the table, from a
provider). Each configuration runs in a child process of its own, so its memory growth (what the RIB and the stages keep per prefix) is its own.
Prints, for each configuration, CPU us/prefix of the proxy's process (CPU time, as the machine may be
shared), the cost above its baseline measured in the same run (a pipeline without stages, which
forwards the original bytes), bytes kept per prefix, and the CPU of child processes (the archive's
writer) per prefix.

    python bench/pipeline_profile.py [--ipv4 200000] [--ipv6 50000] [--vrps 250000] [--only NAME] [--profile [NAME]]
    python bench/pipeline_profile.py --small [--per-set K] --ipv4 40000 --ipv6 10000 --vrps 50000

--per-set K: K prefixes per attribute set (1: each its own, the shape of a real table; 0: all share
one). Without --small the prefixes of a set are packed into 4096-octet UPDATEs, as BIRD sends them.
"total" columns add the archive writer's CPU (a child process) to the proxy's.

"rpki-refuse" is "rpki" with VRPs for the same prefixes that name another origin (AS64496): every route
is invalid and held back, the worst case for what the runner logs (a line per interval, log_summary).
Logging is set up as the runner's default (INFO, text) into /dev/null, so the lines written are in the cost.

"speaker" and "speaker-print" are the collector's path instead (`speaker --passive` without and with
--print, bench/speaker_feed.py): the same UPDATEs read by a Session in Established into the Adj-RIB-In.

--profile [NAME] runs one configuration ("all" by default; "speaker" and "speaker-print" too) under cProfile and
prints the functions that cost most.
"""

import argparse
import cProfile
import json
import logging
import os
import pstats
import random
import resource
import sys
import tempfile
import time

from bench_session import Sink
from bench_session import open_session as open_session_of
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update, encode_update, make_attribute, mp_reach_attribute
from peerwarden_runner.codec.prefix import Prefix
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.stages import Stage
from peerwarden_runner.stages.alert import AlertStage
from peerwarden_runner.stages.alert_config import check_alert
from peerwarden_runner.stages.archive import ArchiveStage
from peerwarden_runner.stages.aspa import AspaStage
from peerwarden_runner.stages.base import BuildContext
from peerwarden_runner.stages.filter import FilterStage, check_filter
from peerwarden_runner.stages.limit import LimitStage
from peerwarden_runner.stages.metrics import Metrics
from peerwarden_runner.stages.mrt_archive import MrtArchiveStage
from peerwarden_runner.stages.rpki import RpkiStage
from speaker_feed import feed

BIRD_AS, FRR_AS = 65001, 65000
MAX_MESSAGE = 4096


class DecodeOnly(Stage):
    """A route stage that looks at nothing: what decoding and the RIB cost on their own."""

    name = "decode"

    def update(self, state, direction, change):
        pass


def ipv4_prefixes(count):
    """The bench's prefixes: distinct /24s from 1.0.0.0 upwards."""
    return ["%d.%d.%d.0/24" % (1 + i // 65536, i // 256 % 256, i % 256) for i in range(count)]


def ipv6_prefixes(count):
    return ["2001:%x:%x::/48" % (0x1000 + i // 65536, i % 65536) for i in range(count)]


def bird_updates(ipv4, ipv6):
    """UPDATEs as BIRD packs them: one attribute set, as many prefixes as fit in 4096 octets."""
    return shaped_updates(ipv4, ipv6, 0, packed=True)


def origin_of(index, per_set=1):
    """The origin AS of the index-th prefix (the VRPs say it is valid): the same for the prefixes of
    one attribute set."""
    if per_set == 0:
        return BIRD_AS
    return 150000 + (index - index % per_set) % 5000


def attribute_set(rng, index, per_set):
    """One attribute set as many peers send them: an AS_PATH of 3 to 6 ASNs, 0 to 4 communities, a MED."""
    if per_set == 0:
        return [make_attribute(c.ORIGIN, 0), make_attribute(c.AS_PATH, [["sequence", [BIRD_AS]]])]
    path = (
        [BIRD_AS] + [rng.randrange(135000, 145000) for dummy in range(rng.randint(1, 4))] + [origin_of(index, per_set)]
    )
    attributes = [
        make_attribute(c.ORIGIN, rng.choice((0, 2))),
        make_attribute(c.AS_PATH, [["sequence", path]]),
        make_attribute(c.MULTI_EXIT_DISC, rng.randrange(0, 1000)),
    ]
    communities = [(BIRD_AS << 16) + rng.randrange(0, 65536) for dummy in range(rng.randint(0, 4))]
    if communities:
        attributes.append(make_attribute(c.COMMUNITIES, communities))
    return attributes


def shaped_updates(ipv4, ipv6, per_set, packed):
    """UPDATEs for `per_set` prefixes per attribute set (1: each prefix its own; 0: all share one).
    `packed`: the prefixes of one set go into as few UPDATEs as 4096 octets allow, as BIRD sends
    them; else one prefix per UPDATE (what many peers send)."""
    rng = random.Random(1)
    messages = []
    families = [(ipv4, 0), (ipv6, len(ipv4))]
    for prefixes, offset in families:
        groups = []
        if per_set == 0:
            groups = [(0, prefixes)]
        else:
            groups = [(start, prefixes[start : start + per_set]) for start in range(0, len(prefixes), per_set)]
        for start, group in groups:
            attributes = attribute_set(rng, offset + start, per_set)
            parsed = [Prefix.parse(p) for p in group]
            ipv4_family = parsed[0].afi == c.AFI_IPV4
            if ipv4_family:
                attributes = attributes[:2] + [make_attribute(c.NEXT_HOP, "127.0.0.51")] + attributes[2:]
                room = (MAX_MESSAGE - 23 - sum(len(a.encode()) for a in attributes)) // 4
            else:
                room = (MAX_MESSAGE - 23 - sum(len(a.encode()) for a in attributes) - 25) // 7
            step = room if packed else 1
            for first in range(0, len(parsed), step):
                chunk = parsed[first : first + step]
                if ipv4_family:
                    messages.append(encode_update(attributes=attributes, nlri=chunk))
                else:
                    reach = mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::3", chunk)
                    messages.append(encode_update(attributes=attributes + [reach]))
    return messages


def rss_kib():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alert_section():
    """1000 prefixes of "our" space (IPv4 /16 to /24, IPv6 /32 to /48) that the bench's routes do not touch."""
    owned = [
        {"prefix": "%d.%d.0.0/%d" % (20 + i // 256, i % 256, (16, 20, 22, 23, 24)[i % 5]), "origins": [64500]}
        for i in range(500)
    ]
    owned += [{"prefix": "2a0%x:%x::/%d" % (i % 16, i, (32, 40, 48)[i % 3]), "origins": [64500]} for i in range(500)]
    problems = []
    section = check_alert({"prefixes": owned}, lambda key, text: problems.append("%s: %s" % (key, text)))
    if problems:
        raise ValueError("\n".join(problems))
    return section


FILTER_RULES = [
    {"name": "bogons", "match": {"prefix": ["192.0.2.0/24 or-longer", "2001:db8::/32 or-longer"]}, "action": "drop"},
    {"name": "leak", "match": {"as_path": "_64666_", "origin": 64666}, "action": "drop"},
    {"name": "blackhole", "match": {"community": "65535:666"}, "action": "drop"},
]
# the expression keys: a next hop, a path length, attributes by name and by code (no bench route matches)
EXPRESSION_RULES = [
    {"name": "via-192.0.2.1", "match": {"next_hop": ["192.0.2.1", "2001:db9::/32"]}, "action": "drop"},
    {"name": "long", "match": {"as_path_length": "12.."}, "action": "drop"},
    {
        "name": "otc",
        "match": {"attribute": {"otc": "present", "med": [4242, "0x0000ffff"], "99": "present"}},
        "action": "drop",
    },
]


def filter_section(rules=None):
    """A filter with the keys most configurations use (prefix, origin, as_path, community), or `rules`."""
    rules = FILTER_RULES if rules is None else rules
    problems = []
    section = check_filter({"rules": rules}, lambda key, text: problems.append("%s: %s" % (key, text)))
    if problems:
        raise ValueError("\n".join(problems))
    return section


def table_aspas(messages):
    """ASPA records for the table's paths, as the route's provider BIRD sends them: each AS of a path
    lists the AS before it (its neighbour towards BIRD) as a provider, so every path is verified hop by
    hop and found valid downstream (nothing held back: the cost of verifying, not of withdrawing)."""
    providers = {}
    for raw in messages:
        path = decode_update(raw).full_as_path()
        asns = [asn for dummy, members in path.segments for asn in members]
        for provider, customer in zip(asns, asns[1:], strict=False):  # pairs of neighbours
            providers.setdefault(customer, set()).add(provider)
    return {customer: frozenset(listed) for customer, listed in providers.items()}


def build(name, table, archive_dir, aspas=None):
    """The pipeline of a configuration, wired as peerwarden_runner.wiring does."""
    metrics = Metrics()
    rpki = RpkiStage(table, metrics)
    limit = LimitStage(max_per_origin=10**7, max_length=(24, 48))
    archive = ArchiveStage(archive_dir, session_name="bench")
    stages, watchers, with_metrics = {
        "forward": ([], [], False),
        "decode": ([DecodeOnly()], [], False),
        "rpki": ([rpki], [], False),
        "rpki-refuse": ([rpki], [], False),  # `table` is the refusing one (main)
        "rpki+metrics": ([rpki], [], True),
        "limit": ([limit], [], False),
        "archive": ([], [archive], False),
        "metrics": ([], [], True),
        "all": ([rpki, limit], [archive], True),
        "all-mrt": ([rpki, limit], [MrtArchiveStage(archive_dir, session_name="bench")], True),
        "mrt": ([], [MrtArchiveStage(archive_dir, session_name="bench")], False),
        "filter": ([FilterStage(filter_section())] if name == "filter" else [], [], False),
        "filter-expr": ([FilterStage(filter_section(EXPRESSION_RULES))] if name == "filter-expr" else [], [], False),
        "alert": ([AlertStage(alert_section(), None, "bench", "peer")] if name == "alert" else [], [], False),
        "aspa": ([AspaStage(aspas).bind(BuildContext(None, "bench", "provider"))] if name == "aspa" else [], [], False),
    }[name]
    return Pipeline({TO_ROUTER: stages}, watchers, metrics if with_metrics else None)


def open_session(pipeline):
    return open_session_of(pipeline, Sink(), (BIRD_AS, "127.0.0.51"), (FRR_AS, "127.0.0.50"))


def measure(name, table, messages):
    """(CPU seconds of this process, KiB of memory growth, messages written on, CPU seconds of child
    processes: the archive's writer) for one configuration. CPU time, not wall time: the machine is shared.
    "speaker" and "speaker-print" are the speaker's received path (bench/speaker_feed.py), not the
    pipeline's; for them "written on" is the routes its Adj-RIB-In holds."""
    if name.startswith("speaker"):
        before = rss_kib()
        seconds, held = feed(messages, printing=name == "speaker-print")
        return seconds, rss_kib() - before, held, 0.0
    with tempfile.TemporaryDirectory() as archive_dir:
        pipeline = build(name, table, archive_dir, table_aspas(messages) if name == "aspa" else None)
        state = open_session(pipeline)
        before = rss_kib()
        process, written = pipeline.process, 0
        started = time.process_time()
        for raw in messages:
            written += len(process(state, TO_ROUTER, c.UPDATE, raw))
        seconds = time.process_time() - started
        grown = rss_kib() - before
        pipeline.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, grown, written, children.ru_utime + children.ru_stime


def in_child(function, *arguments):
    """function(*arguments) in a forked child: its memory growth stays its own."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reading)
        with os.fdopen(writing, "w") as pipe:
            json.dump(function(*arguments), pipe)
        os._exit(0)  # pylint: disable=protected-access
    os.close(writing)
    with os.fdopen(reading) as pipe:
        result = json.load(pipe)
    os.waitpid(pid, 0)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ipv4", type=int, default=200000)
    parser.add_argument("--ipv6", type=int, default=50000)
    parser.add_argument("--vrps", type=int, default=250000)
    parser.add_argument("--small", action="store_true", help="one prefix per UPDATE (else packed as BIRD does)")
    parser.add_argument(
        "--per-set",
        "--share",
        dest="per_set",
        type=int,
        help="K prefixes per attribute set: 1 each its own, 0 all share one (default: 1 with --small, else 0)",
    )
    parser.add_argument("--only", action="append", help="run only these configurations (forward always runs)")
    parser.add_argument("--profile", nargs="?", const="all", help="cProfile one configuration (default: all)")
    arguments = parser.parse_args()
    ipv4, ipv6 = ipv4_prefixes(arguments.ipv4), ipv6_prefixes(arguments.ipv6)
    per_set = arguments.per_set if arguments.per_set is not None else (1 if arguments.small else 0)
    table = VrpTable(
        [make_vrp(p, None, origin_of(index, per_set)) for index, p in enumerate((ipv4 + ipv6)[: arguments.vrps])]
    )
    messages = shaped_updates(ipv4, ipv6, per_set, packed=not arguments.small)
    # the runner's default: INFO lines as text (written to /dev/null, so their cost is counted)
    logging.basicConfig(
        level=logging.INFO, filename=os.devnull, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    prefixes = len(ipv4) + len(ipv6)
    print(
        "%d UPDATEs, %d prefixes (%d IPv4, %d IPv6), %s, %d VRPs; load average %s"
        % (
            len(messages),
            prefixes,
            len(ipv4),
            len(ipv6),
            "per set %d" % per_set if per_set else "one shared attribute set",
            len(table),
            " ".join(open("/proc/loadavg").read().split()[:3]),
        )
    )
    if arguments.profile and arguments.profile.startswith("speaker"):  # the collector's path, as measure() runs it
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(feed, messages, arguments.profile == "speaker-print")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    if arguments.profile:
        with tempfile.TemporaryDirectory() as archive_dir:
            aspas = table_aspas(messages) if arguments.profile == "aspa" else None
            pipeline = build(arguments.profile, table, archive_dir, aspas)
            state = open_session(pipeline)
            profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
            profiler.enable()
            for raw in messages:
                pipeline.process(state, TO_ROUTER, c.UPDATE, raw)
            profiler.disable()
            pipeline.close()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    names = [
        "forward",
        "decode",
        "rpki",
        "rpki-refuse",
        "rpki+metrics",
        "limit",
        "archive",
        "metrics",
        "all",
        "all-mrt",
        "alert",
        "filter",
        "filter-expr",
        "aspa",
    ]
    names += ["speaker", "speaker-print"]
    if arguments.only:
        names = ["forward"] + [name for name in names if name in arguments.only and name != "forward"]
    baselines = {
        "forward": None,
        "decode": "forward",
        "rpki": "decode",
        "rpki-refuse": "decode",
        "rpki+metrics": "decode",
        "limit": "decode",
        "archive": "forward",
        "metrics": "forward",
        "all": "forward",
        "all-mrt": "forward",
        "alert": "decode",
        "filter": "decode",
        "filter-expr": "decode",
        "aspa": "decode",
        "speaker": "forward",
        "speaker-print": "speaker",
    }
    results = {}
    print(
        "%-14s %8s %11s %10s %16s %13s %17s %16s %15s"
        % (
            "configuration",
            "CPU s",
            "us/message",
            "us/prefix",
            "above",
            "bytes/prefix",
            "writer us/prefix",
            "total us/UPDATE",
            "total us/prefix",
        )
    )
    for name in names:
        if name == "rpki-refuse":  # every route invalid: VRPs for the same prefixes with another origin
            refusing = VrpTable([make_vrp(p, None, 64496) for p in (ipv4 + ipv6)[: arguments.vrps]])
            seconds, grown, written, children = in_child(measure, name, refusing, messages)
        else:
            seconds, grown, written, children = in_child(measure, name, table, messages)
        results[name] = seconds
        base = baselines[name] if baselines[name] in results else None
        above = "%.2f (%s)" % ((seconds - results[base]) * 1e6 / prefixes, base) if base else "baseline"
        print(
            "%-14s %8.2f %11.2f %10.2f %16s %13.0f %17.2f %16.2f %15.2f   (%d messages written on / routes held)"
            % (
                name,
                seconds,
                seconds * 1e6 / len(messages),
                seconds * 1e6 / prefixes,
                above,
                grown * 1024 / prefixes,
                children * 1e6 / prefixes,
                (seconds + children) * 1e6 / len(messages),
                (seconds + children) * 1e6 / prefixes,
                written,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
