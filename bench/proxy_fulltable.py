"""Benchmark: a full table from BIRD to FRR, directly and through peerwarden-runner, in one run.

BIRD originates N IPv4 and M IPv6 prefixes (default 1,000,000 and 200,000); the time is measured
from BIRD's start until FRR holds them all (show bgp summary json, pfxRcd). The runner runs as a
proxy with the rpki stage (a generated set of 800,000 VRPs in a file), the limit stage and the
archive. Prints both times, their ratio, the runner's CPU (its process and its children, the
archive writer, from /proc) per UPDATE and per prefix, and its peak RSS. Goals (issue 5): ratio
<= 1.5, RSS <= 1 GiB; (issue 16) at --per-set 1, <= 30 us CPU per UPDATE.

    python bench/proxy_fulltable.py [--ipv4 N] [--ipv6 M] [--vrps K] [--per-set K] [--archive-format F]

--per-set K: K prefixes per attribute set (1: every prefix its own MED, prepended origin AS and
community, so BIRD sends one prefix per UPDATE, the shape of a real table; 0, the default: all
share one set and BIRD packs them into full UPDATEs).

Runs as root on loopback only (FRR with -Z: no kernel routes; BIRD without a kernel protocol).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BGPD, BIRD, VTYSH = "/usr/lib/frr/bgpd", "bird", "vtysh"
RUNNER = os.path.join(os.path.dirname(sys.executable), "peerwarden-runner")
# loopback addresses of their own (127.0.0.50-59), so that the bench never meets a lab test on the same address
FRR_ADDRESS, BIRD_ADDRESS, LISTEN, FROM = "127.0.0.50", "127.0.0.51", "127.0.0.52", "127.0.0.53"
METRICS = "127.0.0.54:19179"


def ipv4_prefixes(count):
    """Distinct /24s (and some /22s) from 1.0.0.0 upwards, skipping nothing: only loopback daemons see them."""
    return ["%d.%d.%d.0/24" % (1 + i // 65536, i // 256 % 256, i % 256) for i in range(count)]


def ipv6_prefixes(count):
    return ["2001:%x:%x::/48" % (0x1000 + i // 65536, i % 65536) for i in range(count)]


def origin_of(index, per_set):
    """The origin AS of the index-th prefix (ipv4 + ipv6): BIRD's own with one shared set, else one
    prepended AS per attribute set."""
    if per_set == 0:
        return 65001
    return 150000 + (index // per_set) % 5000


def route_attributes(index, per_set):
    """BIRD filter commands giving the index-th prefix the attribute set of its group ("" for one shared set)."""
    if per_set == 0:
        return ""
    group = index // per_set
    return " { bgp_med = %d; bgp_path.prepend(%d); bgp_community.add((65001, %d)); }" % (
        group % 100000,
        origin_of(index, per_set),
        group % 65536,
    )


def write_vrps(path, ipv4, ipv6, count, per_set=0):
    """VRPs for the announced prefixes, each with its route's origin AS: every route is valid, so FRR
    must end up with all of them (the rpki stage still validates each one)."""
    roas = [
        {"prefix": prefix, "maxLength": int(prefix.rsplit("/", 1)[1]), "asn": "AS%d" % origin_of(index, per_set)}
        for index, prefix in enumerate((ipv4 + ipv6)[:count])
    ]
    with open(path, "w") as handle:
        json.dump({"roas": roas}, handle)


def start_frr(directory, neighbor, address=FRR_ADDRESS):
    """bgpd -Z on `address` with one neighbour in AS 65001, or several (a list: bench/sessions.py)."""
    neighbors = [neighbor] if isinstance(neighbor, str) else list(neighbor)
    os.makedirs(directory)
    shutil.chown(directory, "frr", "frr")
    config = os.path.join(directory, "bgpd.conf")
    with open(config, "w") as handle:
        handle.write(
            "hostname bench\nrouter bgp 65000\n bgp router-id %s\n bgp allow-martian-nexthop\n"
            " no bgp ebgp-requires-policy\n no bgp network import-check\n%s"
            " address-family ipv6 unicast\n%s exit-address-family\nexit\n"
            % (
                address,
                "".join(
                    " neighbor %s remote-as 65001\n neighbor %s update-source %s\n" % (n, n, address) for n in neighbors
                ),
                "".join("  neighbor %s activate\n" % n for n in neighbors),
            )
        )
    with open(os.path.join(directory, "vtysh.conf"), "w") as handle:
        handle.write("no service integrated-vtysh-config\n")
    for name in ("bgpd.conf", "vtysh.conf"):
        shutil.chown(os.path.join(directory, name), "frr", "frr")
    argv = [
        BGPD, "-Z", "-f", config,
        "-i", os.path.join(directory, "bgpd.pid"), "-z", os.path.join(directory, "zserv.api"),
        "--vty_socket", directory, "-l", address, "-p", "179", "-u", "frr", "-g", "frr",
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process


def frr_counts(directory, neighbor):
    output = subprocess.run(
        [VTYSH, "--vty_socket", directory, "-c", "show bgp summary json"], capture_output=True, text=True, check=False
    ).stdout
    try:
        summary = json.loads(output)
    except ValueError:
        return 0, 0
    counts = []
    for family in ("ipv4Unicast", "ipv6Unicast"):
        peer = summary.get(family, {}).get("peers", {}).get(neighbor, {})
        counts.append(peer.get("pfxRcd", 0))
    return tuple(counts)


def start_bird(directory, neighbor, ipv4, ipv6, per_set=0, local=BIRD_ADDRESS, ipv4_next_hop="self"):
    """BIRD announcing the table to `neighbor` (AS 65000) from `local`; `ipv4_next_hop`: "self" or
    "address A" (a receiver that refuses 127.x next hops, GoBGP, needs one of TEST-NET)."""
    os.makedirs(directory)
    config = os.path.join(directory, "bird.conf")
    with open(config, "w") as handle:
        handle.write("router id %s;\nprotocol device {}\n" % local)
        handle.write(
            "protocol static v4 { ipv4;\n%s}\n"
            % "".join("route %s blackhole%s;\n" % (p, route_attributes(i, per_set)) for i, p in enumerate(ipv4))
        )
        handle.write(
            "protocol static v6 { ipv6;\n%s}\n"
            % "".join(
                "route %s blackhole%s;\n" % (p, route_attributes(len(ipv4) + i, per_set)) for i, p in enumerate(ipv6)
            )
        )
        handle.write(
            "protocol bgp frr {\n local %s as 65001;\n neighbor %s as 65000;\n strict bind yes;\n"
            " multihop 2;\n ipv4 { import none; export all; next hop %s; };\n"
            " ipv6 { import none; export all; next hop address 2001:db8::3; };\n}\n" % (local, neighbor, ipv4_next_hop)
        )
    argv = [
        BIRD,
        "-f",
        "-c",
        config,
        "-s",
        os.path.join(directory, "bird.ctl"),
        "-P",
        os.path.join(directory, "bird.pid"),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def cpu_seconds(pid):
    """CPU seconds (the process itself, its children live (the archive writer) or ended), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    own = total = 0.0
    pending = [(pid, True)]
    while pending:
        current, with_ended = pending.pop()
        try:
            with open("/proc/%d/stat" % current) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open("/proc/%d/task/%d/children" % (current, current)) as children:
                pending.extend((int(child), True) for child in children.read().split())
        except OSError:
            continue
        # fields[0] is the state (field 3): utime, stime, cutime, cstime are fields 14-17
        total += sum(int(value) for value in fields[11:13]) / tick
        if with_ended:
            total += sum(int(value) for value in fields[13:15]) / tick
        if current == pid:
            own = total
    return own, total - own


def updates_relayed(metrics):
    """UPDATEs the runner wrote on towards the router (its metrics)."""
    try:
        text = urllib.request.urlopen("http://%s/metrics" % metrics, timeout=5).read().decode()
    except OSError:
        return 0
    found = re.search(r'peerwarden_messages_total\{direction="to-router",type="update"\} ([0-9.e+]+)', text)
    return int(float(found.group(1))) if found else 0


def run_once(base, label, ipv4, ipv6, runner_options=None, timeout=900, per_set=0):
    """(seconds from BIRD's start until FRR holds every prefix, the runner's peak RSS, its CPU seconds
    from BIRD's start (with its children), UPDATEs it relayed towards FRR)."""
    workdir = os.path.join(base, label)
    neighbor_of_frr = FROM if runner_options is not None else BIRD_ADDRESS
    neighbor_of_bird = LISTEN if runner_options is not None else FRR_ADDRESS
    frr = start_frr(os.path.join(workdir, "frr"), neighbor_of_frr)
    runner = None
    processes = [frr]
    try:
        time.sleep(1)
        if runner_options is not None:
            log = open(os.path.join(workdir, "runner.log"), "w")
            argv = [RUNNER, "proxy", "--listen", LISTEN + ":179", "--connect", FRR_ADDRESS + ":179"]
            argv += ["--connect-from", FROM] + runner_options
            runner = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            processes.append(runner)
            deadline = time.monotonic() + 300
            while b"listening on" not in open(log.name, "rb").read():
                if runner.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the runner did not start: %s" % open(log.name).read()[-2000:])
                time.sleep(0.5)
        cpu_at_start = cpu_seconds(runner.pid) if runner is not None else (0.0, 0.0)  # loading the VRPs is not relaying
        started = time.perf_counter()
        bird = start_bird(os.path.join(workdir, "bird"), neighbor_of_bird, ipv4, ipv6, per_set)
        processes.append(bird)
        expected = (len(ipv4), len(ipv6))
        while True:
            counts = frr_counts(os.path.join(workdir, "frr"), neighbor_of_frr)
            if counts == expected:
                break
            if time.perf_counter() - started > timeout:
                raise SystemExit("%s: FRR holds %s of %s after %d s" % (label, counts, expected, timeout))
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        rss = peak_rss_mib(runner.pid) if runner is not None else 0.0
        cpu_now = cpu_seconds(runner.pid) if runner is not None else (0.0, 0.0)
        cpu = (cpu_now[0] - cpu_at_start[0], cpu_now[1] - cpu_at_start[1])
        updates = updates_relayed(METRICS) if runner is not None else 0
        return seconds, rss, cpu, updates
    finally:
        for process in reversed(processes):
            stop(process)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ipv4", type=int, default=1000000)
    parser.add_argument("--ipv6", type=int, default=200000)
    parser.add_argument("--vrps", type=int, default=800000)
    parser.add_argument("--per-set", type=int, default=0, help="prefixes per attribute set (1: each its own; 0: one)")
    parser.add_argument(
        "--archive-format", default="jsonl", choices=("jsonl", "mrt", "both"), help="the runner's archive"
    )
    arguments = parser.parse_args()
    ipv4, ipv6 = ipv4_prefixes(arguments.ipv4), ipv6_prefixes(arguments.ipv6)
    base = tempfile.mkdtemp(prefix="peerwarden-bench-")
    os.chmod(base, 0o755)
    try:
        vrps = os.path.join(base, "vrps.json")
        write_vrps(vrps, ipv4, ipv6, arguments.vrps, arguments.per_set)
        print("load average %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        direct = run_once(base, "direct", ipv4, ipv6, per_set=arguments.per_set)[0]
        print("direct BIRD -> FRR: %d IPv4 + %d IPv6 in %.1f s" % (len(ipv4), len(ipv6), direct))
        options = [
            "--rpki-file",
            vrps,
            "--max-per-origin",
            str(len(ipv4) + len(ipv6)),
            "--max-length",
            "24/48",
            "--archive",
            os.path.join(base, "archive"),
            "--archive-format",
            arguments.archive_format,
            "--metrics",
            METRICS,
        ]
        through, rss, (own, children), updates = run_once(
            base, "runner", ipv4, ipv6, options, per_set=arguments.per_set
        )
        cpu = own + children
        prefixes = len(ipv4) + len(ipv6)
        print("through the runner (rpki %d VRPs, limit, archive): %.1f s" % (arguments.vrps, through))
        print("ratio runner/direct: %.2f (goal <= 1.5), per set %d" % (through / direct, arguments.per_set))
        print(
            "runner CPU (process and archive writer): %.1f s, %.1f us per UPDATE (%d UPDATEs), %.1f us per prefix"
            % (cpu, cpu * 1e6 / max(updates, 1), updates, cpu * 1e6 / prefixes)
        )
        print(
            "  of which the runner's process %.1f us per UPDATE, the archive writer (%s) %.1f us per UPDATE"
            % (own * 1e6 / max(updates, 1), arguments.archive_format, children * 1e6 / max(updates, 1))
        )
        print("runner peak RSS: %.0f MiB (goal <= 1024), %.0f bytes per prefix" % (rss, rss * 1048576 / prefixes))
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
