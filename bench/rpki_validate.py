"""Benchmark of RPKI route origin validation (peerwarden_runner.rpki.VrpTable).

Builds a table with a realistic-looking synthetic VRP set (default 700,000 IPv4 + 100,000 IPv6,
prefix lengths weighted like today's global RPKI, nested more-specifics included), then validates
2,000,000 (prefix, origin) pairs mixing valid, invalid and notfound routes. Prints the build time
and memory, validations per second, the counts per state, and a baseline measured in the same run
(the same loop doing one plain dict lookup per pair) so numbers from different machines compare.

The goal is >= 1,000,000 validations/s on a 2-core machine. Only the stdlib and the runner package
are used; `runner/src` is put on sys.path when the package is not installed.

    python bench/rpki_validate.py [--ipv4 700000] [--ipv6 100000] [--queries 2000000] [--seed 1]
"""

import argparse
import gc
import os
import pickle
import random
import sys
import time

try:
    from peerwarden_runner.rpki import Prefix, RouteValidity, Vrp, VrpTable
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runner", "src"))
    from peerwarden_runner.rpki import Prefix, RouteValidity, Vrp, VrpTable

# Share of VRPs per prefix length (per 10,000), roughly as in rpki-client output in 2024.
IPV4_LENGTH_WEIGHTS = {
    8: 0.15,
    9: 0.25,
    10: 0.7,
    11: 1.5,
    12: 4,
    13: 6,
    14: 10,
    15: 14,
    16: 150,
    17: 90,
    18: 160,
    19: 280,
    20: 440,
    21: 440,
    22: 1100,
    23: 900,
    24: 5600,
}
IPV6_LENGTH_WEIGHTS = {
    19: 1,
    20: 2,
    22: 1,
    23: 1,
    24: 4,
    26: 1,
    27: 2,
    28: 8,
    29: 80,
    30: 6,
    31: 4,
    32: 220,
    33: 4,
    34: 4,
    35: 3,
    36: 50,
    37: 3,
    38: 5,
    39: 3,
    40: 70,
    41: 2,
    42: 8,
    43: 3,
    44: 60,
    45: 4,
    46: 20,
    47: 20,
    48: 400,
}
IPV6_REGIONS = 2000  # distinct /16../20 blocks (RIR allocations) IPv6 VRPs fall into
ASN_POOL = 75_000  # distinct origin ASNs
MORE_SPECIFIC_SHARE = 0.35  # VRPs generated inside an earlier, shorter VRP (nesting)
DIFFERENT_ORIGIN_SHARE = 0.30  # of those, originated by another AS (customer inside provider space)


def rss_mib():
    """Resident set size now, from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def weighted_lengths(weights, count, rng):
    lengths = sorted(weights)
    return rng.choices(lengths, weights=[weights[length] for length in lengths], k=count)


def random_ipv4_network(length, rng):
    """A random unicast network (1.0.0.0 - 223.255.255.255) of `length` bits."""
    address = rng.randrange(1 << 24, 224 << 24)
    return address >> (32 - length) << (32 - length)


def ipv6_region_bases(rng):
    """Random /20 blocks of 2000::/3: IPv6 VRPs cluster inside RIR allocations, as in the real table."""
    return [1 << 125 | rng.getrandbits(17) << 108 for dummy in range(IPV6_REGIONS)]


def random_ipv6_network(length, regions, rng):
    base = rng.choice(regions)
    address = base | rng.getrandbits(108)
    return address >> (128 - length) << (128 - length)


def more_specific_inside(parent, length, max_bits, rng):
    """A random /`length` network inside `parent` (length >= parent.length)."""
    free_bits = length - parent.length
    inside = rng.getrandbits(free_bits) if free_bits else 0
    return parent.network | inside << (max_bits - length)


def generate_vrps(version, count, rng):
    """`count` distinct VRPs of one family with realistic lengths, maxLengths, nesting and origins.

    Shortest first, like address allocation: a VRP is either a more-specific of an earlier one
    (MORE_SPECIFIC_SHARE; mostly the same origin, sometimes a customer's) or placed in space no
    earlier VRP covers (a few tries), so that nesting comes from the first case, not by accident.
    """
    max_bits, weights = (32, IPV4_LENGTH_WEIGHTS) if version == 4 else (128, IPV6_LENGTH_WEIGHTS)
    regions = ipv6_region_bases(rng) if version == 6 else None
    longest_route = 24 if version == 4 else 48
    keys_by_length = {}  # length -> {network >> host bits}: "is this space taken already"

    def is_covered(network, length):
        return any(network >> (max_bits - taken) in keys for taken, keys in keys_by_length.items() if taken <= length)

    vrps = {}
    shorter = []  # VRPs that can host more-specifics
    for length in sorted(weighted_lengths(weights, count + count // 10, rng)):
        if len(vrps) >= count:
            break
        asn = rng.randrange(1, ASN_POOL) * 7 + 1000
        parent = rng.choice(shorter) if shorter and rng.random() < MORE_SPECIFIC_SHARE else None
        if parent is not None and parent.length < length:
            network = more_specific_inside(parent, length, max_bits, rng)
            if rng.random() >= DIFFERENT_ORIGIN_SHARE:
                asn = parent.asn
        else:
            for _dummy in range(8):
                if version == 4:
                    network = random_ipv4_network(length, rng)
                else:
                    network = random_ipv6_network(length, regions, rng)
                if not is_covered(network, length):
                    break
        max_length = length
        if rng.random() < 0.3:
            max_length = min(longest_route, length + rng.choice((1, 2, 4, 8))) if length < longest_route else length
        vrp = Vrp(version, network, length, max_length, asn)
        vrps[vrp] = None
        keys_by_length.setdefault(length, set()).add(network >> (max_bits - length))
        if length < longest_route - 2:
            shorter.append(vrp)
    return list(vrps)


def generate_queries(vrps_by_version, count, rng):
    """(version, network, length, origin) routes: ~40% built to be valid, ~25% to be invalid (too
    specific or another origin), ~35% random (mostly notfound). The table decides the real state."""
    queries = []
    for _dummy in range(count):
        version = 4 if rng.random() < 0.88 else 6
        max_bits, longest_route = (32, 24) if version == 4 else (128, 48)
        pick = rng.random()
        if pick < 0.65:
            vrp = rng.choice(vrps_by_version[version])
            if pick < 0.40:
                length = rng.randint(vrp.length, vrp.max_length)
                origin = vrp.asn
            elif pick < 0.52 and vrp.max_length < longest_route:
                length = rng.randint(vrp.max_length + 1, longest_route)
                origin = vrp.asn
            else:
                length = rng.randint(vrp.length, vrp.max_length)
                origin = vrp.asn + 3
            network = more_specific_inside(vrp, length, max_bits, rng)
        else:
            length = rng.choice((24, 24, 24, 23, 22, 20, 16)) if version == 4 else rng.choice((48, 48, 44, 40, 32))
            if version == 4:
                network = random_ipv4_network(length, rng)
            else:
                network = rng.getrandbits(128) >> (128 - length) << (128 - length)
            origin = rng.randrange(1, 400_000)
        queries.append((version, network, length, origin))
    return queries


def routes_by_family(queries):
    """Per address family, a list of (network, length, origin) routes.

    Serialised and read back, so that the route objects lie in memory in order, as a decoder
    produces them from one UPDATE after another: in the generator's order they are scattered
    among its temporaries, and fetching each route would cost more than validating it.
    """
    by_family = {4: [], 6: []}
    for version, network, length, origin in queries:
        by_family[version].append((network, length, origin))
    return pickle.loads(pickle.dumps(by_family, protocol=pickle.HIGHEST_PROTOCOL))


def time_per_family(table, routes):
    """Validate every route with the int fast paths; (seconds per family, results)."""
    validate_ipv4 = table.validate_ipv4
    validate_ipv6 = table.validate_ipv6
    started = time.perf_counter()
    results = [validate_ipv4(network, length, origin) for network, length, origin in routes[4]]
    middle = time.perf_counter()
    results += [validate_ipv6(network, length, origin) for network, length, origin in routes[6]]
    return (middle - started, time.perf_counter() - middle), results


def time_dict_baseline_per_family(routes):
    """The same loops with one plain dict lookup (a third of the networks are keys) per route."""
    lookup = {network: origin for family in (4, 6) for network, length, origin in routes[family][::3]}
    get = lookup.get
    started = time.perf_counter()
    results = [get(network) for network, length, origin in routes[4]]
    results += [get(network) for network, length, origin in routes[6]]
    return time.perf_counter() - started


def time_mixed_loop(table, queries):
    """One loop over the generator's (version, network, length, origin) tuples, dispatching on the
    version: the worst memory layout; (validation seconds, dict lookup baseline seconds)."""
    validate_ipv4 = table.validate_ipv4
    validate_ipv6 = table.validate_ipv6
    started = time.perf_counter()
    [
        validate_ipv4(network, length, origin) if version == 4 else validate_ipv6(network, length, origin)
        for version, network, length, origin in queries
    ]
    validation_seconds = time.perf_counter() - started
    lookup = {network: origin for version, network, length, origin in queries[::3]}
    get = lookup.get
    started = time.perf_counter()
    [get(network) if version == 4 else get(network) for version, network, length, origin in queries]
    return validation_seconds, time.perf_counter() - started


def time_generic_validate(table, queries):
    """`VrpTable.validate(Prefix, origin)`, the convenient entry point, on the same queries."""
    prefixes = [(Prefix(version, network, length), origin) for version, network, length, origin in queries]
    validate = table.validate
    started = time.perf_counter()
    for prefix, origin in prefixes:
        validate(prefix, origin)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ipv4", type=int, default=700_000, help="IPv4 VRPs (default 700000)")
    parser.add_argument("--ipv6", type=int, default=100_000, help="IPv6 VRPs (default 100000)")
    parser.add_argument("--queries", type=int, default=2_000_000, help="validations (default 2000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the best is reported")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    print(
        "python %s, %d CPUs, load average %s (other work on the machine slows every number below)"
        % (
            sys.version.split()[0],
            os.cpu_count() or 0,
            " ".join("%.2f" % load for load in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown",
        )
    )
    started = time.perf_counter()
    vrps_by_version = {4: generate_vrps(4, args.ipv4, rng), 6: generate_vrps(6, args.ipv6, rng)}
    all_vrps = vrps_by_version[4] + vrps_by_version[6]
    queries = generate_queries(vrps_by_version, args.queries, rng)
    print(
        "generated %d VRPs (%d IPv4, %d IPv6) and %d queries in %.1f s"
        % (len(all_vrps), len(vrps_by_version[4]), len(vrps_by_version[6]), len(queries), time.perf_counter() - started)
    )

    gc.collect()
    rss_before = rss_mib()
    started = time.perf_counter()
    table = VrpTable()
    diff = table.replace_all(all_vrps)
    build_seconds = time.perf_counter() - started
    gc.collect()
    rss_after = rss_mib()
    print(
        "build: %d VRPs in %.2f s (%.0f VRPs/s), %d reported added; %s"
        % (
            len(table),
            build_seconds,
            len(table) / build_seconds,
            len(diff.added),
            ", ".join("%s %d" % item for item in table.stats().items()),
        )
    )
    if rss_before is not None:
        print(
            "RSS: %.0f MiB before build, %.0f MiB after (+%.0f MiB for the table)"
            % (rss_before, rss_after, rss_after - rss_before)
        )

    routes = routes_by_family(queries)
    gc.disable()  # time the lookups, not the collector walking the VRP objects
    try:
        family_timings = [time_per_family(table, routes) for dummy in range(args.rounds)]
        best_ipv4 = min(seconds[0] for seconds, dummy_results in family_timings)
        best_ipv6 = min(seconds[1] for seconds, dummy_results in family_timings)
        results = family_timings[0][1]
        best_validation = min(sum(seconds) for seconds, dummy_results in family_timings)
        best_baseline = min(time_dict_baseline_per_family(routes) for dummy in range(args.rounds))
        mixed_validation, mixed_baseline = min(time_mixed_loop(table, queries) for dummy in range(args.rounds))
        generic_seconds = time_generic_validate(table, queries)
    finally:
        gc.enable()
    counts = {state: results.count(state) for state in RouteValidity}

    rate = len(queries) / best_validation
    baseline_rate = len(queries) / best_baseline
    print(
        "validation: %d in %.3f s = %.0f validations/s (best of %d; validate_ipv4/validate_ipv6 over"
        " per-family route lists)" % (len(queries), best_validation, rate, args.rounds)
    )
    print(
        "  IPv4 %d at %.0f/s, IPv6 %d at %.0f/s"
        % (len(routes[4]), len(routes[4]) / best_ipv4, len(routes[6]), len(routes[6]) / best_ipv6)
    )
    shares = [
        "%s %d (%.1f%%)" % (state.value, counts[state], 100.0 * counts[state] / len(queries)) for state in RouteValidity
    ]
    print("  states: " + ", ".join(shares))
    print(
        "baseline: the same loops with one dict lookup per route: %.3f s = %.0f lookups/s"
        % (best_baseline, baseline_rate)
    )
    print(
        "ratio: a validation costs %.2fx a dict lookup (validation speed %.0f%% of the baseline's)"
        % (best_validation / best_baseline, 100.0 * rate / baseline_rate)
    )
    mixed = (len(queries) / mixed_validation, len(queries) / mixed_baseline, mixed_validation / mixed_baseline)
    print(
        "mixed loop over the generator's scattered 4-tuples: %.0f validations/s (dict lookup baseline %.0f/s,"
        " ratio %.2fx)" % mixed
    )
    print("generic validate(Prefix, origin): %.0f validations/s" % (len(queries) / generic_seconds))
    goal = 1_000_000
    print("goal >= %d validations/s: %s" % (goal, "met" if rate >= goal else "NOT met"))
    return 0 if rate >= goal else 1


if __name__ == "__main__":
    sys.exit(main())
