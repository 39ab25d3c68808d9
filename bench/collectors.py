"""Benchmark: BIRD sends one table to each route collector in turn, in one run on one machine: the
runner's `speaker --passive --stdout` (JSON lines to a file), the same speaker without --stdout, and
with its archive (`--archive DIR`, JSON lines written by a child process) with and without --stdout,
GoBGP (Debian gobgpd, no zebra, with `gobgp monitor global rib -j` writing JSON to a file) and
ExaBGP (Debian exabgp, a process API with `encoder json` writing every message to a file, as
exabgp-logger does).

For each: the wall time from BIRD's start until the collector holds every route, its CPU seconds (the
collector's process and its children from /proc, the archive's writer included, counted once it has
written everything; for GoBGP the monitor's too) and CPU per UPDATE,
peak RSS, and ratios against GoBGP and ExaBGP measured in the same run. Goals (issue 16): the speaker
with --stdout no slower than GoBGP at --per-set 1, >= 5x faster than ExaBGP, <= 20 us CPU per
one-prefix UPDATE.

    python bench/collectors.py [--size 200000 | --small | --ipv4 N --ipv6 N] [--per-set 1] [--only NAME ...]

--per-set K: K prefixes per attribute set (1: each prefix its own MED, prepended AS and community,
so BIRD sends one UPDATE per prefix; 0: all share one set and BIRD packs them). --size N: N routes,
five sixths IPv4 and one sixth IPv6 (the default 200,000: 166,667 + 33,333); --small: --size 20000.
The runner's printed lines and archive are checked afterwards: every prefix announced is in them.
BIRD, gobgpd and exabgp must be installed (apt packages bird2, gobgpd, exabgp; bench only).
Runs as root on loopback only (127.0.0.70-79); BIRD's IPv4 next hop is 192.0.2.1 (GoBGP drops 127.x
next hops), an attribute value only: no daemon installs routes (no kernel protocol, no zebra).
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from proxy_fulltable import (
    RUNNER,
    cpu_seconds,
    ipv4_prefixes,
    ipv6_prefixes,
    peak_rss_mib,
    start_bird,
    stop,
)

BIRD_ADDRESS = "127.0.0.71"
RUNNER_ADDRESS, GOBGP_ADDRESS, EXABGP_ADDRESS = "127.0.0.72", "127.0.0.73", "127.0.0.74"
RUNNER_API, GOBGP_API = RUNNER_ADDRESS + ":18179", GOBGP_ADDRESS + ":50073"
NEXT_HOP = "192.0.2.1"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runner", "src")
SINK = """import sys
expected, done, count = int(sys.argv[2]), sys.argv[3], 0
with open(sys.argv[1], "w") as out:
    for line in sys.stdin:
        out.write(line)
        count += line.count('"nlri"')
        if count >= expected:
            out.flush()
            open(done, "w").close()
            expected = float("inf")
"""


class Collector:
    """One collector: started before BIRD, asked how many routes it holds, stopped after."""

    name = ""

    def __init__(self, workdir, expected):
        self.workdir, self.expected = workdir, expected
        self.processes = []
        os.makedirs(workdir)

    def start(self):
        raise NotImplementedError

    def held(self):
        raise NotImplementedError

    def updates(self):
        """UPDATEs received, when the collector says (else None)."""
        return None

    def settle(self):
        """Wait for work the collector still does after it holds every route (else nothing)."""

    def cpu(self):
        return sum(sum(cpu_seconds(process.pid)) for process in self.processes)  # each: its own, its children

    def rss(self):
        return sum(peak_rss_mib(process.pid) for process in self.processes)

    def stop(self):
        for process in reversed(self.processes):
            stop(process)

    def write(self, name, text):
        """A file of the collector's work directory; its path."""
        path = os.path.join(self.workdir, name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def spawn(self, argv, output=None, **options):
        log = open(os.path.join(self.workdir, "%s-%d.log" % (self.name, len(self.processes))), "w")
        process = subprocess.Popen(argv, stdout=output or log, stderr=log, **options)
        self.processes.append(process)
        return process

    def wait_for(self, ready, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not ready():
            if any(process.poll() is not None for process in self.processes) or time.monotonic() > deadline:
                raise SystemExit("%s: %s did not happen; logs in %s" % (self.name, what, self.workdir))
            time.sleep(0.2)


class Runner(Collector):
    """peerwarden-runner speaker --passive (--stdout: JSON lines on stdout, to a file; --archive DIR: the
    session archive, written by a child process)."""

    def __init__(self, workdir, expected, printing, archive=False, source=SOURCE):
        self.name = "runner" + (" --archive" if archive else "") + (" --stdout" if printing else "")
        self.printing, self.archive, self.source = printing, archive, source
        super().__init__(workdir, expected)

    def start(self):
        argv = [RUNNER, "speaker", "--passive", "--local", RUNNER_ADDRESS, "--peer", BIRD_ADDRESS]
        argv += ["--asn", "65000", "--peer-asn", "65001", "--api", RUNNER_API, "--name", "bird"]
        if self.printing:
            argv.append("--stdout")
        if self.archive:
            argv += ["--archive", os.path.join(self.workdir, "archive")]
        self.output = os.path.join(self.workdir, "print.jsonl")
        environment = dict(os.environ, PYTHONPATH=os.path.abspath(self.source))
        self.spawn(argv, output=open(self.output, "w"), env=environment)
        self.wait_for(lambda: self.status() is not None, "the API answering")

    def status(self):
        try:
            with urllib.request.urlopen("http://%s/status" % RUNNER_API, timeout=5) as answer:
                return json.load(answer)
        except OSError:
            return None

    def held(self):
        status = self.status()
        return status["routes"]["received"] if status else 0

    def updates(self):
        status = self.status()
        return status["counters"].get("updates_received", 0) if status else None

    def settle(self):
        """With the archive: wait until its writer has written its backlog (the CPU of the process tree
        stops growing), so that the CPU counted is all of the table's."""
        if not self.archive:
            return
        before = self.cpu()
        while True:
            time.sleep(0.5)
            now = self.cpu()
            if now - before < 0.02:
                return
            before = now

    def check_output(self):
        """Every route announced is in the printed JSON and in the archive (parsed after the clock stopped)."""
        if self.printing:
            self.check_lines("--stdout", [self.output])
        if self.archive:
            directory = os.path.join(self.workdir, "archive")
            self.check_lines("--archive", [os.path.join(directory, name) for name in sorted(os.listdir(directory))])

    def check_lines(self, what, paths):
        seen = 0
        for path in paths:
            with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as lines:
                for line in lines:
                    record = json.loads(line)
                    if record["type"] == "update" and record["direction"] == "received":
                        seen += len(record["nlri"]) + len(record["attributes"].get("mp_reach", {}).get("nlri", ()))
        if seen != self.expected:
            raise SystemExit("runner %s: %d prefixes written, %d announced" % (what, seen, self.expected))


class GoBgp(Collector):
    """gobgpd, passive, with `gobgp monitor global rib -j` writing every change as JSON to a file."""

    name = "GoBGP"

    def start(self):
        config = self.write(
            "gobgpd.toml",
            (
                '[global.config]\n as = 65000\n router-id = "%s"\n port = 179\n local-address-list = ["%s"]\n'
                '[[neighbors]]\n [neighbors.config]\n  neighbor-address = "%s"\n  peer-as = 65001\n'
                ' [neighbors.transport.config]\n  passive-mode = true\n  local-address = "%s"\n'
                " [neighbors.ebgp-multihop.config]\n  enabled = true\n  multihop-ttl = 2\n"
                ' [[neighbors.afi-safis]]\n  [neighbors.afi-safis.config]\n   afi-safi-name = "ipv4-unicast"\n'
                ' [[neighbors.afi-safis]]\n  [neighbors.afi-safis.config]\n   afi-safi-name = "ipv6-unicast"\n'
                % (GOBGP_ADDRESS, GOBGP_ADDRESS, BIRD_ADDRESS, GOBGP_ADDRESS)
            ),
        )
        self.spawn(["gobgpd", "-f", config, "-t", "toml", "--api-hosts", GOBGP_API, "--pprof-disable", "-l", "warn"])
        self.wait_for(lambda: self.cli("global") is not None, "the gRPC API answering")
        monitor = os.path.join(self.workdir, "monitor.jsonl")
        self.spawn(self.argv("monitor", "global", "rib", "-j"), output=open(monitor, "w"))

    def argv(self, *command):
        host, port = GOBGP_API.rsplit(":", 1)
        return ["gobgp", "-u", host, "-p", port] + list(command)

    def cli(self, *command):
        done = subprocess.run(self.argv(*command), capture_output=True, text=True, check=False)
        return done.stdout if done.returncode == 0 else None

    def held(self):
        total = 0
        for family in ("ipv4", "ipv6"):
            for line in (self.cli("global", "rib", "summary", "-a", family) or "").splitlines():
                if line.startswith("Destination:"):
                    total += int(line.split()[1].rstrip(","))
        return total


class ExaBgp(Collector):
    """exabgp, passive, a process API (encoder json, parsed updates) writing each line to a file."""

    name = "ExaBGP"

    def start(self):
        sink = self.write("sink.py", SINK)
        self.done = os.path.join(self.workdir, "all-received")
        config = self.write(
            "exabgp.conf",
            (
                "process logger {\n run %s %s %s %d %s;\n encoder json;\n}\n"
                "neighbor %s {\n router-id %s;\n local-address %s;\n local-as 65000;\n peer-as 65001;\n"
                " passive true;\n family { ipv4 unicast; ipv6 unicast; }\n"
                " api { processes [ logger ]; receive { parsed; update; } }\n}\n"
                % (
                    sys.executable,
                    sink,
                    os.path.join(self.workdir, "exabgp.jsonl"),
                    self.expected,
                    self.done,
                    BIRD_ADDRESS,
                    EXABGP_ADDRESS,
                    EXABGP_ADDRESS,
                )
            ),
        )
        environment = dict(
            os.environ,
            **{
                "exabgp.daemon.user": "root",
                "exabgp.tcp.bind": EXABGP_ADDRESS,
                "exabgp.tcp.port": "179",
                "exabgp.api.ack": "false",
                "exabgp.log.level": "WARNING",
            },
        )
        self.spawn(["exabgp", config], env=environment)
        time.sleep(2)  # no readiness signal: it listens within a second

    def held(self):
        return self.expected if os.path.exists(self.done) else 0


PLAN = {
    "runner-stdout": (Runner, {"printing": True}),
    "runner": (Runner, {"printing": False}),
    "runner-archive": (Runner, {"printing": False, "archive": True}),
    "runner-archive-stdout": (Runner, {"printing": True, "archive": True}),
    "gobgp": (GoBgp, {}),
    "exabgp": (ExaBgp, {}),
}


def run_one(base, collector_class, ipv4, ipv6, per_set, timeout, **options):
    """(collector, seconds from BIRD's start until it holds every route, CPU seconds meanwhile, peak RSS, UPDATEs)."""
    expected = len(ipv4) + len(ipv6)
    workdir = os.path.join(base, "%s-%d" % (collector_class.__name__, len(os.listdir(base))))
    collector = collector_class(workdir, expected, **options)
    bird = None
    try:
        collector.start()
        cpu_at_start = collector.cpu()
        started = time.perf_counter()
        neighbor = {Runner: RUNNER_ADDRESS, GoBgp: GOBGP_ADDRESS, ExaBgp: EXABGP_ADDRESS}[collector_class]
        bird = start_bird(
            os.path.join(collector.workdir, "bird"),
            neighbor,
            ipv4,
            ipv6,
            per_set,
            local=BIRD_ADDRESS,
            ipv4_next_hop="address " + NEXT_HOP,
        )
        while True:
            held = collector.held()
            if held >= expected:
                break
            if time.perf_counter() - started > timeout:
                raise SystemExit("%s holds %d of %d routes after %d s" % (collector.name, held, expected, timeout))
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        collector.settle()
        cpu = collector.cpu() - cpu_at_start
        result = (collector.name, seconds, cpu, collector.rss(), collector.updates())
        if isinstance(collector, Runner):
            collector.check_output()
        return result
    finally:
        if bird is not None:
            stop(bird)
        collector.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, help="routes in the table: five sixths IPv4, one sixth IPv6")
    parser.add_argument("--ipv4", type=int, default=166667)
    parser.add_argument("--ipv6", type=int, default=33333)
    parser.add_argument("--small", action="store_true", help="--size 20000")
    parser.add_argument("--per-set", type=int, default=1, help="prefixes per attribute set (1: each its own; 0: one)")
    parser.add_argument("--only", action="append", choices=list(PLAN))
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument(
        "--runner-src", default=SOURCE, help="the runner's source to measure (default: this checkout's runner/src)"
    )
    arguments = parser.parse_args()
    size = 20000 if arguments.small else arguments.size
    if size is not None:
        arguments.ipv6 = size // 6
        arguments.ipv4 = size - arguments.ipv6
    ipv4, ipv6 = ipv4_prefixes(arguments.ipv4), ipv6_prefixes(arguments.ipv6)
    plan = {name: (collector_class, dict(options)) for name, (collector_class, options) in PLAN.items()}
    for collector_class, options in plan.values():
        if collector_class is Runner:
            options["source"] = arguments.runner_src
    names = arguments.only or list(plan)
    base = tempfile.mkdtemp(prefix="peerwarden-collector-")
    os.chmod(base, 0o755)
    print(
        "%d IPv4 + %d IPv6 routes, per set %d; load average %s"
        % (len(ipv4), len(ipv6), arguments.per_set, " ".join(open("/proc/loadavg").read().split()[:3]))
    )
    results = []
    try:
        for name in names:
            collector_class, options = plan[name]
            results.append(run_one(base, collector_class, ipv4, ipv6, arguments.per_set, arguments.timeout, **options))
            print("  %s: %.1f s" % (results[-1][0], results[-1][1]), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print_table(results, len(ipv4) + len(ipv6))
    return 0


def print_table(results, prefixes):
    """One line per collector; UPDATE counts are the runner's (the same BIRD table to each)."""
    updates = next((result[4] for result in results if result[4]), None)
    by_name = {result[0]: result for result in results}
    print(
        "%-26s %8s %7s %13s %13s %9s %9s %10s %10s %11s"
        % (
            "collector",
            "seconds",
            "CPU s",
            "CPU us/UPDATE",
            "CPU us/prefix",
            "peak MiB",
            "vs GoBGP",
            "vs ExaBGP",
            "CPU vs Go",
            "CPU vs Exa",
        )
    )
    for name, seconds, cpu, rss, dummy in results:
        ratios = []
        for index in (1, 2):  # wall time, then CPU
            for other in ("GoBGP", "ExaBGP"):
                known = other in by_name and other != name
                ratios.append("%.2fx" % (by_name[other][index] / (seconds, cpu)[index - 1]) if known else "-")
        per_update = "%.1f" % (cpu * 1e6 / updates) if updates else "?"
        line = "%-26s %8.1f %7.1f %13s %13.1f %9.0f" % (name, seconds, cpu, per_update, cpu * 1e6 / prefixes, rss)
        print(line + "".join(" %*s" % (width, ratio) for width, ratio in zip((9, 10, 10, 11), ratios, strict=True)))
    print(
        "vs X: X's seconds / this collector's (above 1: this one is faster); CPU vs X: the same for CPU seconds; "
        "%s UPDATEs" % updates
    )


if __name__ == "__main__":
    sys.exit(main())
