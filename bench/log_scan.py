"""Benchmark: log_events' parser against `grep -E -c` on the same generated syslog file.

Generates a mixed syslog file (default 1,000,000 lines, about 0.1 % findings from every platform),
then prints lines/s for the parser, the time of grep with equivalent patterns, their ratio, and
the parser's peak memory on the file and on a file 4x larger (memory must not grow with size).

    python bench/log_scan.py [--lines N]
The parser is timed twice: with the keyword search it uses (one pass with ahocorasick-rs when
installed) and with the per-keyword bytes.find fallback; both must find every generated finding.
Goals (issue 2): >= 1,000,000 lines/s, within 10x of grep, flat memory; issue 12: within 3x of grep
with every message class and header form in the file.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "collections"))
if not os.path.exists(os.path.join(ROOT, "collections", "ansible_collections", "peerwarden", "bgp")):
    sys.exit("run `make collections` (or `make test`) first: the collection link is missing")

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC  # noqa: E402
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.scan import LogScanner, Selection  # noqa: E402

NOISE = [
    "{ts}  edge{r} mib2d[1260]: SNMP_TRAP_LINK_DOWN: ifIndex {n}, ifAdminStatus up(1), ifOperStatus down(2), ifName xe-0/0/{r}",
    "{ts}  edge{r} sshd[87374]: Received disconnect from 10.1.0.{r} port {n}:11: disconnected by user",
    "{ts}  edge{r} chassism[1165]: IFCM: no handler for command subtype 179",
    "{ts} core{r} {n}: {ts}.272: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet2/0/{r}, changed state to up",
    "{ts} core{r} {n}: {ts}.272: %SEC-6-IPACCESSLOGP: list 177 denied udp 192.168.100.195({n}) -> 192.168.100.255(15600), 1 packet",
    "{ts}  edge{r} rpd[1402]: BGP_PREFIX_THRESH_EXCEEDED: 192.168.140.254 (External AS 4230): threshold exceeded for inet4-unicast nlri: {n}",
    "{iso} edge{r} sshd[87374]: Received disconnect from 10.1.0.{r} port {n}:11: disconnected by user",
    "{ts} core{r} {n}: {ts}.106: %BGP-5-ADJCHANGE: neighbor 192.168.100.{r} Up",
]
FINDINGS = [
    "{ts}  edge{r} rpd[3167]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.{a}+{n}",
    "{ts}  edge{r} rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to 2001:db8::{a}+{n} (proto): code 6 (Cease) "
    "subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: 2001:db8::{a}+{n}",
    "{ts}  edge{r} kernel: tcp_auth_ok: Packet from 192.0.2.{a}:{n} unexpectedly has MD5 digest",
    "{ts} core{r} {n}: {ts}.590: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.{a}({n}) -> 192.0.2.254(179), 1 packet",
    "{ts} core{r} {n}: {ts}.181: %TCP-6-BADAUTH: Invalid MD5 digest from 192.0.2.{a}({n}) to 192.0.2.254(179) tableid - 0",
    "{ts} rs{r} bird[77]: BGP: Unexpected connect from unknown address 192.0.2.{a} (port {n})",
    # the classes and header forms of issue 12: log-input ACLs, IPv6, peer AS, BIRD without port, RFC 3339, PRI
    "{ts} core{r} {n}: {ts}.590: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 192.0.2.{a}({n}) "
    "(GigabitEthernet0/0/{r} 0011.2233.4455) -> 192.0.2.254(179), 1 packet",
    "<190>{ts} core{r} {n}: {ts}.590: %IPV6_ACL-6-ACCESSLOGP: list IXP6-IN/20 denied tcp 2001:db8::{a}({n}) "
    "(GigabitEthernet0/0/{r} 0011.2233.4455) -> 2001:db8::fe(179), 1 packet",
    "{ts} core{r} {n}: {ts}.106: %BGP-3-NOTIFICATION: sent to neighbor 192.0.2.{a} active 2/2 (peer in wrong AS) "
    "2 bytes FDE8",
    "{iso} rs{r} bird[77]: BGP: Unexpected connect from unknown address 2001:db8::{a}",
    "<28>1 {iso} edge{r} rpd 3167 - - bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.{a}+{n}",
    # the TCP/179 guard on FRR hosts (nftables log prefix): the kernel's line in syslog, ulogd2's LOGEMU line
    "{ts} frr{r} kernel: [{n}.181] peerwarden-bgp-guard: IN=eth1 OUT= MAC=52:54:00:aa:bb:cc:52:54:00:11:22:33:08:00 "
    "SRC=192.0.2.{a} DST=192.0.2.254 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID={n} DF PROTO=TCP SPT={n} DPT=179 "
    "WINDOW=64240 RES=0x00 SYN URGP=0",
    "{ts} frr{r} peerwarden-bgp-guard:  IN=eth1 OUT= MAC=52:54:00:aa:bb:cc:52:54:00:11:22:33:86:dd SRC=2001:db8::{a} "
    "DST=2001:db8::fe LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT={n} DPT=179 SEQ={n} ACK=0 WINDOW=64800 SYN "
    "URGP=0 MARK=0x0 ",
]
GREP_PATTERN = (
    "unconfigured neighbor|tcp_auth_ok|bad peer AS number|PFE_FW_SYSLOG_|BADAUTH|ACCESSLOGP|"
    "not configured and not valid for dynamic|Unexpected connect from unknown address|peer in wrong AS|"
    "peerwarden-bgp-guard: "
)


def generate(path, lines, seed=179):
    rnd = random.Random(seed)
    findings = 0
    with open(path, "w") as out:
        for i in range(lines):
            day, hms = 1 + i * 20 // lines, (i // 3600 % 24, i // 60 % 60, i % 60)
            ts = "Nov %2d %02d:%02d:%02d" % ((day,) + hms)
            iso = "2026-11-%02dT%02d:%02d:%02d.%06d+00:00" % ((day,) + hms + (i % 1000000,))
            if rnd.random() < 0.001:
                template = rnd.choice(FINDINGS)
                findings += 1
            else:
                template = rnd.choice(NOISE)
            out.write(
                template.format(ts=ts, iso=iso, r=rnd.randint(1, 4), n=rnd.randint(1024, 65535), a=rnd.randint(1, 250))
                + "\n"
            )
    return findings


def parse(path, one_pass=True):
    scanner = LogScanner(Selection(), UTC, one_pass=one_pass)
    started = time.perf_counter()
    with open(path, "rb") as stream:
        scanner.scan_stream(stream, datetime(2026, 11, 30, tzinfo=UTC))
    return time.perf_counter() - started, scanner


def peak_rss_of_parse(path):
    """Peak RSS (MiB) of a fresh process that parses the file: comparable across file sizes."""
    out = subprocess.check_output([sys.executable, __file__, "--rss-of", path])
    return float(out.decode().strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1000000)
    parser.add_argument("--rss-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_of:
        parse(args.rss_of)
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forked parent across exec.
        with open("/proc/self/status") as status:
            print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mixed.log")
        findings = generate(path, args.lines)
        size = os.path.getsize(path)
        parse(path)  # warm the page cache for both contenders
        grep_started = time.perf_counter()
        grep_count = int(
            subprocess.run(
                ["grep", "-E", "-c", GREP_PATTERN, path], capture_output=True, text=True, check=False
            ).stdout.strip()
            or 0
        )
        grep_seconds = time.perf_counter() - grep_started
        fallback_seconds, fallback = parse(path, one_pass=False)
        seconds, scanner = parse(path)
        matched = sum(scanner.stats["matched"].values())
        print("file: %d lines, %.1f MB, %d findings generated" % (args.lines, size / 1e6, findings))
        print("grep -E -c: %.3f s (%d lines matched)" % (grep_seconds, grep_count))
        print(
            "parser:     %.3f s (%d findings, %d not BGP, %d not understood; keyword search: %s)"
            % (seconds, matched, scanner.stats["not_bgp"], scanner.stats["not_understood"], scanner.search.name)
        )
        print("parser lines/s: %.0f" % (args.lines / seconds))
        print("ratio parser/grep: %.2f" % (seconds / grep_seconds))
        print(
            "fallback (%s): %.3f s, ratio to grep %.2f"
            % (fallback.search.name, fallback_seconds, fallback_seconds / grep_seconds)
        )
        if fallback.stats != scanner.stats:
            sys.exit("MISMATCH: the fallback search's stats differ from the one-pass search's")
        small_rss = peak_rss_of_parse(path)
        big = os.path.join(tmp, "mixed4x.log")
        with open(big, "wb") as out:
            for _dummy in range(4):
                with open(path, "rb") as part:
                    shutil.copyfileobj(part, out)
        big_rss = peak_rss_of_parse(big)
        print(
            "peak RSS: %.1f MiB on %.0f MB, %.1f MiB on %.0f MB (ratio %.2f)"
            % (small_rss, size / 1e6, big_rss, 4 * size / 1e6, big_rss / small_rss)
        )
        if matched != findings:
            sys.exit("MISMATCH: generated %d findings, parser found %d" % (findings, matched))


if __name__ == "__main__":
    main()
