"""Benchmark: how the runner's cost grows with the number of sessions it relays, and what worker
processes (`workers:`) change. For N = 1, 2, 4 (--sessions): N BIRD instances each send a table of
their own (--size IPv4 prefixes, --per-set K: 1 = every prefix its own attribute set, one prefix per
UPDATE) through N sessions of ONE runner (rpki from a VRP file matching every route, limit, JSON
archive: the stages of bench/proxy_fulltable.py) to one FRR bgpd with N neighbours. For each N and
each --workers value it prints the wall time from the BIRDs' start until FRR holds every table, the
runner's CPU seconds (its process and every child: workers, archive writers; from /proc), CPU per
UPDATE and the cores it kept busy (CPU / wall), the peak RSS of the runner's processes summed, the
wall time's ratio to N = 1, and FRR's and the BIRDs' CPU seconds (on a small machine they share the
cores with the runner).

    python bench/sessions.py [--size 20000] [--per-set 1] [--sessions 1,2,4] [--workers 0,1,2]

--workers 0 is the baseline: the same N BIRDs straight to FRR, no runner.

Loopback only, addresses of its own (127.0.0.170-183, no other bench or test uses them): FRR
127.0.0.170, BIRD i 127.0.0.171+i, the runner's listener i 127.0.0.175+i, its source towards FRR
127.0.0.179+i, metrics 127.0.0.183:19183. Runs as root (FRR with -Z: no kernel routes; BIRD without
a kernel protocol).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from peerwarden_runner.workers.procfs import descendants
from proxy_fulltable import (
    RUNNER,
    cpu_seconds,
    frr_counts,
    ipv4_prefixes,
    peak_rss_mib,
    start_bird,
    start_frr,
    stop,
    updates_relayed,
    write_vrps,
)

FRR = "127.0.0.170"
BIRDS = ["127.0.0.%d" % (171 + i) for i in range(4)]
LISTENERS = ["127.0.0.%d" % (175 + i) for i in range(4)]
SOURCES = ["127.0.0.%d" % (179 + i) for i in range(4)]
METRICS = "127.0.0.183:19183"


def tables(size, count):
    """The IPv4 table of each session: distinct prefixes, `size` each."""
    prefixes = ipv4_prefixes(size * count)
    return [prefixes[index * size : (index + 1) * size] for index in range(count)]


def write_all_vrps(path, tables_, per_set):
    """One VRP file valid for every session's routes (each BIRD numbers its own routes from 0, so each
    table's VRPs are made as bench/proxy_fulltable.py makes one table's, then joined)."""
    roas = []
    for index, table in enumerate(tables_):
        part = "%s.%d" % (path, index)
        write_vrps(part, table, [], len(table), per_set)
        with open(part) as handle:
            roas += json.load(handle)["roas"]
        os.unlink(part)
    with open(path, "w") as handle:
        json.dump({"roas": roas}, handle)


def write_config(path, count, workers, vrps, archive, size):
    """The runner's configuration: `count` sessions, `workers` processes."""
    lines = [
        "workers: %d" % workers,
        "metrics: {listen: '%s'}" % METRICS,
        "rpki: {file: %s}" % vrps,
        "limit: {max_per_origin: %d, max_length: 24/48}" % (size * count),
        "archive: {dir: %s, format: jsonl}" % archive,
        "sessions:",
    ]
    lines += [
        "  - {name: s%d, listen: '%s:179', connect: '%s:179', connect_from: %s, to_router: [rpki, limit]}"
        % (index, LISTENERS[index], FRR, SOURCES[index])
        for index in range(count)
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def start_runner(workdir, config, count, workers):
    """The runner's Popen, once all its `count` sessions listen."""
    log_path = os.path.join(workdir, "runner.log")
    with open(log_path, "w") as log:
        runner = subprocess.Popen([RUNNER, "run", "-c", config], stdout=log, stderr=subprocess.STDOUT)
    ready = "workers ready" if workers > 1 and count > 1 else "listening on"
    deadline = time.monotonic() + 300
    while ready not in open(log_path).read() or open(log_path).read().count("listening on") < count:
        if runner.poll() is not None or time.monotonic() > deadline:
            stop(runner)
            raise SystemExit("the runner did not start: %s" % open(log_path).read()[-2000:])
        time.sleep(0.2)
    return runner


def run_once(base, tables_, workers, per_set, timeout):
    """(seconds until FRR holds every table, runner CPU seconds, UPDATEs relayed, peak RSS MiB summed,
    (FRR's CPU seconds, the BIRDs')): where the machine's cores went. workers 0: no runner, each BIRD
    straight to FRR (the baseline)."""
    count = len(tables_)
    workdir = os.path.join(base, "n%d-w%d" % (count, workers))
    os.makedirs(workdir)
    vrps, config = os.path.join(base, "vrps-%d.json" % count), os.path.join(workdir, "runner.yml")
    if workers and not os.path.exists(vrps):
        write_all_vrps(vrps, tables_, per_set)
    write_config(config, count, workers, vrps, os.path.join(workdir, "archive"), len(tables_[0]))
    neighbors = SOURCES[:count] if workers else BIRDS[:count]  # what FRR sees: the runner's sources, or the BIRDs
    frr = start_frr(os.path.join(workdir, "frr"), neighbors, address=FRR)
    processes = [frr]
    try:
        runner = None
        if workers:
            runner = start_runner(workdir, config, count, workers)
            processes.append(runner)
        else:
            time.sleep(1)  # FRR up before the BIRDs, as bench/proxy_fulltable.py waits
        cpu_at_start = sum(cpu_seconds(runner.pid)) if runner else 0.0  # loading the VRPs is not relaying
        frr_at_start = sum(cpu_seconds(frr.pid))
        started = time.perf_counter()
        birds = [
            start_bird(
                os.path.join(workdir, "bird%d" % index),
                LISTENERS[index] if workers else FRR,
                table,
                [],
                per_set,
                local=BIRDS[index],
            )
            for index, table in enumerate(tables_)
        ]
        processes += birds
        expected = (len(tables_[0]), 0)
        while not all(frr_counts(os.path.join(workdir, "frr"), source) == expected for source in neighbors):
            if time.perf_counter() - started > timeout:
                held = [frr_counts(os.path.join(workdir, "frr"), source) for source in neighbors]
                raise SystemExit("N=%d workers %d: FRR holds %s after %d s" % (count, workers, held, timeout))
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        if runner is None:
            rss = cpu = updates = 0
        else:
            rss = sum(peak_rss_mib(pid) for pid in descendants(runner.pid))
            cpu, updates = sum(cpu_seconds(runner.pid)) - cpu_at_start, updates_relayed(METRICS)
        others = sum(cpu_seconds(frr.pid)) - frr_at_start, sum(sum(cpu_seconds(bird.pid)) for bird in birds)
        return seconds, cpu, updates, rss, others
    finally:
        for process in reversed(processes):
            stop(process)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000, help="IPv4 prefixes per session (default 20,000)")
    parser.add_argument("--per-set", type=int, default=1, help="prefixes per attribute set (1: each its own)")
    parser.add_argument("--sessions", default="1,2,4", help="numbers of sessions, at most 4 (default 1,2,4)")
    parser.add_argument(
        "--workers", default="0,1,2", help="the runner's workers to compare; 0: BIRD -> FRR directly (default 0,1,2)"
    )
    parser.add_argument("--timeout", type=int, default=900)
    arguments = parser.parse_args()
    counts = [int(value) for value in arguments.sessions.split(",")]
    if not all(1 <= count <= len(BIRDS) for count in counts):
        parser.error("--sessions: each from 1 to %d" % len(BIRDS))
    base = tempfile.mkdtemp(prefix="peerwarden-bench-")
    os.chmod(base, 0o755)
    try:
        print("load average %s; %d cores" % (" ".join(open("/proc/loadavg").read().split()[:3]), os.cpu_count()))
        print("%d IPv4 prefixes per session, per set %d" % (arguments.size, arguments.per_set))
        print(
            "workers  N  wall s  ratio to N=1  runner CPU s  cores  CPU us/UPDATE  UPDATEs  peak RSS MiB"
            "  FRR CPU s  BIRD CPU s"
        )
        for workers in [int(value) for value in arguments.workers.split(",")]:
            first = None
            for count in counts:
                seconds, cpu, updates, rss, (frr, birds) = run_once(
                    base, tables(arguments.size, count), workers, arguments.per_set, arguments.timeout
                )
                first = first or seconds
                print(
                    "%7d  %d  %6.1f  %12.2f  %12.1f  %5.2f  %13.1f  %7d  %12.0f  %9.1f  %10.1f"
                    % (
                        workers,
                        count,
                        seconds,
                        seconds / first,
                        cpu,
                        cpu / seconds,
                        cpu * 1e6 / max(updates, 1),
                        updates,
                        rss,
                        frr,
                        birds,
                    ),
                    flush=True,
                )
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
