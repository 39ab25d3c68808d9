"""Benchmark: one playbook over a fleet of simulated routers, at several fork counts.

The routers are the SSH CLI test doubles of tests/lab/cli_doubles.py (JunOS and Cisco IOS, mixed
half and half), each listening on its own loopback address 127.0.x.y, each with a log of realistic
size (a JunOS `show log messages` of --junos-lines lines, an IOS logging buffer of --ios-lines lines,
about 1 % of them BGP findings). The playbook (default peerwarden.bgp.scan_unsolicited) runs over
all of them with ansible-playbook at each --forks value. Printed per run: total time, time per router,
speed-up against the first fork count, the controller's peak memory (PSS of ansible-playbook and its
workers, summed, sampled every 0.5 s, and the largest single process's peak RSS), the controller's CPU
seconds and those of the processes serving the doubles (to tell whether the doubles are the limit).

    python bench/fleet_scan.py [--routers 200] [--forks 1,10,50,100] [--double-processes 2]
                               [--playbook peerwarden.bgp.scan_unsolicited] [--check] [-e VAR=VALUE]

--double-processes spreads the doubles over that many processes (each double is a thread with its own
asyncio loop; in one process they share one GIL). --playbook runs another playbook over the same fleet,
e.g. peerwarden.bgp.push_limits (with --check, or for real: then every fork count gets a fresh fleet, so
each run makes the change on every router). A push_* playbook gets a fleet it can push to: JunOS
routers as the NETCONF double of tests/lab/netconf_double.py (ansible.netcommon.netconf) with protocols bgp
groups and neighbours, IOS routers as the IOS SSH double with an archive and a router bgp (the configs of
tests/lab/push_configs.py, as in the push tests); both have neighbour 192.0.2.1. -e values are
JSON when they parse as JSON (lists, numbers), else strings:

    python bench/fleet_scan.py --routers 100 --forks 1,10,50 --playbook peerwarden.bgp.push_limits --check \
        -e 'peerwarden_limits_neighbors=[{"address": "192.0.2.1", "max_prefixes": {"ipv4": 150}}]' \
        -e peerwarden_confirm_timeout=2 -e peerwarden_serial=100%

Network: loopback only. Results: docs/fleet.md.
"""

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BIN = os.path.dirname(sys.executable)
if not os.path.exists(os.path.join(ROOT, "collections", "ansible_collections", "peerwarden", "bgp")):
    sys.exit("run `make collection` first: the collection link is missing")

from playbook_runner import playbook_env  # noqa: E402  (tests/integration, put on the path above)

JUNOS_NOISE = [
    "{ts}  {host} mib2d[1431]: SNMP_TRAP_LINK_DOWN: ifIndex {n}, ifAdminStatus up(1), ifOperStatus down(2), "
    "ifName ge-0/0/{p}",
    "{ts}  {host} sshd[{n}]: Accepted publickey for netops from 192.0.2.10 port {n} ssh2",
    "{ts}  {host} mgd[{n}]: UI_CMDLINE_READ_LINE: User 'netops', command 'show bgp summary '",
    "{ts}  {host} chassism[1165]: IFCM: no handler for command subtype 179",
    "{ts}  {host} rpd[1402]: BGP_PREFIX_THRESH_EXCEEDED: 192.0.2.{p} (External AS 64{p:03d}): threshold exceeded "
    "for inet4-unicast nlri: {n}",
    "{ts}  {host} last message repeated 3 times",
]
JUNOS_FINDINGS = [
    "{ts}  {host} rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.{p}+{n}",
    "{ts}  {host} rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to 2001:db8:ffff::{p}+{n} (proto): code 6 "
    "(Cease) subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: "
    "2001:db8:ffff::{p}+{n}",
    "{ts}  {host} /kernel: tcp_auth_ok: Packet from 192.0.2.{p}:{n} wrong MD5 digest",
]
IOS_NOISE = [
    "{seq:06d}: {ts}.{ms:03d}: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0/{p}, "
    "changed state to up",
    "{seq:06d}: {ts}.{ms:03d}: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: netops] [Source: 192.0.2.10] "
    "[localport: 22] at 10:00:00 UTC Thu Nov 20 2025",
    "{seq:06d}: {ts}.{ms:03d}: %SYS-5-CONFIG_I: Configured from console by netops on vty0 (192.0.2.10)",
    "{seq:06d}: {ts}.{ms:03d}: %SEC-6-IPACCESSLOGP: list 177 denied udp 198.51.100.{p}({n}) -> "
    "198.51.100.255(15600), 1 packet",
]
IOS_FINDINGS = [
    "{seq:06d}: {ts}.{ms:03d}: %TCP-6-BADAUTH: Invalid MD5 digest from 198.51.100.{p}({n}) to 198.51.100.1(179) "
    "tableid - 0",
    "{seq:06d}: {ts}.{ms:03d}: %TCP-6-BADAUTH: No MD5 digest from 198.51.100.{p}({n}) to 198.51.100.1(179) tableid - 0",
]


def is_push(playbook):
    """A push_* playbook (peerwarden.bgp.push_limits, playbooks/push_rpki.yml): it gets the push fleet."""
    name = os.path.basename(playbook)
    if name.endswith((".yml", ".yaml")):
        name = name.rsplit(".", 1)[0]
    return name.rsplit(".", 1)[-1].startswith("push_")


def junos_log(host, lines, rng):
    out = []
    for i in range(lines):
        minute, second = divmod(i, 60)
        ts = "Nov 20 %02d:%02d:%02d" % (8 + minute // 60 % 12, minute % 60, second)
        template = rng.choice(JUNOS_FINDINGS if rng.random() < 0.01 else JUNOS_NOISE)
        out.append(template.format(ts=ts, host=host, n=rng.randint(1024, 65535), p=rng.randint(1, 250)))
    return "\n".join(out) + "\n"


def ios_buffer(lines, rng):
    out = []
    for i in range(lines):
        minute, second = divmod(i, 60)
        ts = "Nov 20 %02d:%02d:%02d" % (8 + minute // 60 % 12, minute % 60, second)
        template = rng.choice(IOS_FINDINGS if rng.random() < 0.01 else IOS_NOISE)
        out.append(
            template.format(seq=i + 1, ts=ts, ms=rng.randint(0, 999), n=rng.randint(1024, 65535), p=rng.randint(2, 250))
        )
    return "\n".join(out) + "\n"


def address(index):
    """The index-th router's loopback address: 127.0.1.1, 127.0.1.2, ... 127.0.1.250, 127.0.2.1, ..."""
    return "127.0.%d.%d" % (1 + index // 250, 1 + index % 250)


def serve_doubles(indexes, options, ready, stop):
    """Start the doubles of these indexes in this process; put their (name, platform, host, port) on ready."""
    from lab.cli_doubles import CliDouble

    push = is_push(options.playbook)
    if push:
        from lab.netconf_double import JunosNetconfDouble
        from lab.push_configs import ios_base, junos_base

    doubles, served = [], []
    try:
        for index in indexes:
            rng = random.Random(index)
            platform = "junos" if index % 2 == 0 else "ios"
            name = "%s%03d" % ("mx" if platform == "junos" else "asr", index)
            if push and platform == "junos":
                double = JunosNetconfDouble(junos_base(name))
            elif push:
                double = CliDouble("ios", hostname=name, running_config=ios_base(name))
            elif platform == "junos":
                double = CliDouble("junos", hostname=name, logs={"messages": junos_log(name, options.junos_lines, rng)})
            else:
                double = CliDouble("ios", hostname=name, show_logging=ios_buffer(options.ios_lines, rng))
            double.host = address(index)
            double.start()
            doubles.append(double)
            served.append((name, platform, double.host, double.port, double.username, double.password))
        ready.put(("ok", served))
        stop.wait()
        ready.put(("cpu", time.process_time()))
    except BaseException as error:  # told to the parent, which stops
        ready.put(("error", repr(error)))
    finally:
        for double in doubles:
            double.stop()


class Fleet:
    """The doubles, spread over some processes; .routers is the inventory's host list."""

    def __init__(self, options):
        context = multiprocessing.get_context("fork")
        self.stop = context.Event()
        self.queues, self.processes, self.routers = [], [], []
        shares = [list(range(options.routers))[i :: options.double_processes] for i in range(options.double_processes)]
        for share in shares:
            queue = context.Queue()
            process = context.Process(target=serve_doubles, args=(share, options, queue, self.stop), daemon=True)
            process.start()
            self.queues.append(queue)
            self.processes.append(process)
        for queue in self.queues:
            kind, payload = queue.get(timeout=600)
            if kind != "ok":
                self.close()
                sys.exit("the doubles did not start: %s" % payload)
            self.routers.extend(payload)
        self.routers.sort()

    def cpu_seconds(self):
        """CPU seconds of the processes serving the doubles so far (user + system, from /proc)."""
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for process in self.processes:
            with open("/proc/%d/stat" % process.pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def close(self):
        self.stop.set()
        for process in self.processes:
            process.join(timeout=30)


def inventory(routers):
    hosts = {}
    for name, platform, host, port, user, password in routers:
        hosts[name] = {
            "ansible_host": host,
            "ansible_port": port,
            "ansible_user": user,
            "ansible_password": password,
            "ansible_network_os": "junipernetworks.junos.junos" if platform == "junos" else "cisco.ios.ios",
            "ansible_connection": "ansible.netcommon.netconf"
            if platform == "junos"
            else "ansible.netcommon.network_cli",
        }
    return {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
            "children": {"routers": {"hosts": hosts}},
        }
    }


def tree_memory(root_pid):
    """(sum of PSS over the process and its descendants, largest RSS among them), in KiB."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    pending, pss, rss = [root_pid], 0, 0
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss = max(rss, int(line.split()[1]))
        except OSError:
            continue
    return pss, rss


def run(options, fleet, forks, workdir):
    report_dir = os.path.join(workdir, "report-%d" % forks)
    variables = {"peerwarden_report_dir": report_dir}
    for item in options.extra_vars:
        name, value = item.split("=", 1)
        try:
            variables[name] = json.loads(value)
        except ValueError:
            variables[name] = value
    command = [
        os.path.join(BIN, "ansible-playbook"),
        "-i",
        os.path.join(workdir, "inventory.json"),
        options.playbook,
        "--forks",
        str(forks),
        "-e",
        json.dumps(variables),
    ] + (["--check"] if options.check else [])
    env = playbook_env(workdir)
    peak = {"pss": 0, "rss": 0}
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    doubles_before = fleet.cpu_seconds()
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    with open(os.path.join(workdir, "output-%d.txt" % forks), "w") as output:
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample():
            while not done.wait(0.5):
                pss, rss = tree_memory(process.pid)
                peak["pss"], peak["rss"] = max(peak["pss"], pss), max(peak["rss"], rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        done.set()
        sampler.join()
    elapsed = time.monotonic() - start
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    controller_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    result = {
        "forks": forks,
        "rc": code,
        "seconds": elapsed,
        "per_router": elapsed / len(fleet.routers),
        "peak_pss_mib": peak["pss"] / 1024,
        "peak_rss_one_mib": max(peak["rss"], after_children.ru_maxrss) / 1024,
        "controller_cpu": controller_cpu,
        "doubles_cpu": fleet.cpu_seconds() - doubles_before,
        "load_before": load_before,
    }
    with open(os.path.join(workdir, "output-%d.txt" % forks)) as handle:
        recap = [line.split() for line in handle if " : ok=" in line and not line.startswith("localhost ")]
    # routers whose recap counts a change (push --check: "would change"), of the routers in the recap
    result["changed"] = "%d/%d" % (sum(1 for line in recap if line[3] != "changed=0"), len(recap))
    knocks = os.path.join(report_dir, "knocks.json")
    if os.path.exists(knocks):
        with open(knocks) as handle:
            report = json.load(handle)
        result["events"] = len(report.get("events", []))
        result["failed_hosts"] = len(report.get("failed_hosts", {}) or {})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--routers", type=int, default=200)
    parser.add_argument("--forks", default="1,10,50,100", help="comma-separated fork counts (default 1,10,50,100)")
    parser.add_argument("--playbook", default="peerwarden.bgp.scan_unsolicited")
    parser.add_argument("--check", action="store_true", help="run the playbook in check mode (for push_* playbooks)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VAR=VALUE")
    parser.add_argument("--junos-lines", type=int, default=5000, help="lines of each JunOS `show log messages`")
    parser.add_argument("--ios-lines", type=int, default=1000, help="lines of each IOS logging buffer")
    parser.add_argument("--double-processes", type=int, default=1, help="processes that serve the doubles")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep-output", action="store_true", help="print the end of every run's output")
    options = parser.parse_args()
    if options.routers > 250 * 254:
        sys.exit("at most %d routers (127.0.1.1 - 127.0.254.250)" % (250 * 254))
    fork_counts = [int(value) for value in options.forks.split(",")]
    started = time.monotonic()
    fleet = Fleet(options)
    if is_push(options.playbook):  # the push fleet's doubles have no logs
        options.junos_lines = options.ios_lines = 0
    print(
        "%d routers (%d JunOS with %d log lines, %d IOS with %d), served by %d process(es) in %.1f s; "
        "%d cores, load average %.2f; playbook %s%s"
        % (
            len(fleet.routers),
            sum(1 for router in fleet.routers if router[1] == "junos"),
            options.junos_lines,
            sum(1 for router in fleet.routers if router[1] == "ios"),
            options.ios_lines,
            options.double_processes,
            time.monotonic() - started,
            os.cpu_count(),
            os.getloadavg()[0],
            options.playbook
            + (" (push fleet: JunOS over NETCONF, IOS with archive)" if is_push(options.playbook) else ""),
            " --check" if options.check else "",
        ),
        flush=True,
    )
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="fleet-scan-") as workdir:
            print(
                "%6s %4s %9s %11s %9s %12s %13s %15s %12s %8s %8s %7s"
                % (
                    "forks",
                    "rc",
                    "total s",
                    "s / router",
                    "speed-up",
                    "peak PSS MiB",
                    "max RSS 1 MiB",
                    "controller CPU s",
                    "doubles CPU s",
                    "events",
                    "changed",
                    "load",
                ),
                flush=True,
            )
            for number, forks in enumerate(fork_counts):
                if number and is_push(options.playbook) and not options.check:
                    fleet.close()  # a real push changed the routers: each fork count gets fresh ones to change
                    fleet = Fleet(options)
                with open(os.path.join(workdir, "inventory.json"), "w") as handle:
                    json.dump(inventory(fleet.routers), handle)  # the doubles' ports change with a new fleet
                result = run(options, fleet, forks, workdir)
                result["speedup"] = results[0]["seconds"] / result["seconds"] if results else 1.0
                results.append(result)
                print(
                    "%6d %4d %9.1f %11.3f %9.2f %12.0f %13.0f %15.1f %12.1f %8s %8s %7.2f"
                    % (
                        forks,
                        result["rc"],
                        result["seconds"],
                        result["per_router"],
                        result["speedup"],
                        result["peak_pss_mib"],
                        result["peak_rss_one_mib"],
                        result["controller_cpu"],
                        result["doubles_cpu"],
                        result.get("events", "-"),
                        result["changed"],
                        result["load_before"],
                    ),
                    flush=True,
                )
                if result["rc"] != 0 or options.keep_output:
                    with open(os.path.join(workdir, "output-%d.txt" % forks)) as handle:
                        print(handle.read()[-3000:])
    finally:
        fleet.close()
    if options.json:
        with open(options.json, "w") as handle:
            json.dump({"routers": options.routers, "options": vars(options), "results": results}, handle, indent=1)
    return 0 if all(result["rc"] == 0 for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
