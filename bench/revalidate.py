"""Benchmark of re-validation after a VRP change at a full table: how long the event loop stalls.

Fills one session's RIB with a million routes (IPv4 /24s and IPv6 /48s, as BIRD packs them), then
changes the VRPs twice (an RTR-sized delta touching 256 IPv4 and 256 IPv6 routes, and a wider one
withdrawing 65536) and re-validates each way, while a ticker task measures the longest gap between two
of its turns (the time no BGP message could move):

- blocking: `vrps_changed`, the whole RIB in one call (what the runner did): the baseline;
- sliced: `schedule`, what the runner does now: a slice of routes between two turns of the loop.

Each change is undone (not measured) before the next run, so each mode does the same work.

    python bench/revalidate.py [--ipv4 800000] [--ipv6 200000]
"""

import argparse
import asyncio
import sys
import time

from bench_session import Sink, open_session
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import encode_update, make_attribute, mp_reach_attribute
from peerwarden_runner.codec.prefix import Prefix
from peerwarden_runner.pipeline import TO_ROUTER, Pipeline
from peerwarden_runner.rpki import VrpTable, make_vrp
from peerwarden_runner.stages.rpki import RpkiStage

PEER_AS, ROUTER_AS, OTHER_AS = 65001, 65000, 64999
MAX_MESSAGE = 4096


def packed_updates(ipv4, ipv6):
    """UPDATEs as BIRD packs them: IPv4 /24s from 1.0.0.0 and IPv6 /48s from 2001:1000::, one attribute set."""
    common = [make_attribute(c.ORIGIN, 0), make_attribute(c.AS_PATH, [["sequence", [PEER_AS]]])]
    ipv4_prefixes = [Prefix.parse("%d.%d.%d.0/24" % (1 + i // 65536, i // 256 % 256, i % 256)) for i in range(ipv4)]
    ipv6_prefixes = [Prefix.parse("2001:%x:%x::/48" % (0x1000 + i // 65536, i % 65536)) for i in range(ipv6)]
    attributes = common + [make_attribute(c.NEXT_HOP, "192.0.2.1")]
    for start in range(0, ipv4, 1000):
        yield encode_update(attributes=attributes, nlri=ipv4_prefixes[start : start + 1000])
    for start in range(0, ipv6, 500):
        reach = mp_reach_attribute(c.AFI_IPV6, c.SAFI_UNICAST, "2001:db8::1", ipv6_prefixes[start : start + 500])
        yield encode_update(attributes=common + [reach])


def full_table(ipv4, ipv6):
    table = VrpTable([make_vrp("2.0.0.0/8", 24, PEER_AS), make_vrp("2001:1001::/32", 48, PEER_AS)])  # valid there
    stage = RpkiStage(table)
    pipeline = Pipeline({TO_ROUTER: [stage]})
    sink = Sink()
    state = open_session(pipeline, sink, (PEER_AS, "192.0.2.1"), (ROUTER_AS, "192.0.2.2"))
    for raw in packed_updates(ipv4, ipv6):
        pipeline.process(state, TO_ROUTER, c.UPDATE, raw)
    return table, stage, sink, len(state.memory[("rib", TO_ROUTER)].paths)


async def measured(revalidation):
    """(longest gap between two turns of a ticker in seconds, wall seconds, CPU seconds) of one re-validation."""
    gaps = [0.0]
    running = True

    async def ticker():
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps[0] = max(gaps[0], now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    wall, cpu = time.perf_counter(), time.process_time()
    await revalidation()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    running = False
    await task
    return gaps[0], wall, cpu


async def run(arguments):
    started = time.process_time()
    table, stage, sink, routes = full_table(arguments.ipv4, arguments.ipv6)
    print(
        "%d routes in the RIB (%d IPv4, %d IPv6), filled in %.1f s CPU"
        % (routes, arguments.ipv4, arguments.ipv6, time.process_time() - started)
    )
    changes = {
        "delta (512 routes)": [make_vrp("1.0.0.0/16", 24, OTHER_AS), make_vrp("2001:1000::/40", 48, OTHER_AS)],
        "wide (65536 routes)": [make_vrp("1.0.0.0/8", 24, OTHER_AS)],
    }
    print("%-20s %-9s %14s %10s %10s %10s" % ("change", "mode", "longest stall", "wall s", "CPU s", "messages"))
    for change, vrps in changes.items():
        for mode in ("blocking", "sliced"):
            diff = table.apply(added=vrps)
            sent = sink.sent

            async def revalidation(diff=diff, mode=mode):
                if mode == "blocking":
                    stage.vrps_changed(diff)
                else:
                    stage.schedule(diff)
                    await stage.wait_revalidated()

            stall, wall, cpu = await measured(revalidation)
            print("%-20s %-9s %11.1f ms %10.2f %10.2f %10d" % (change, mode, stall * 1000, wall, cpu, sink.sent - sent))
            stage.vrps_changed(table.apply(removed=vrps))  # undone, for the next run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ipv4", type=int, default=800000)
    parser.add_argument("--ipv6", type=int, default=200000)
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
