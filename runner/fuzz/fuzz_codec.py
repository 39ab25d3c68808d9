#!/usr/bin/env python3
"""Throw generated and mutated BGP messages at the codec and check that it only fails as documented.

Usage: fuzz_codec.py [--count 1000000] [--seed 1] [--workers N] [--save-failures FILE]

Each message goes through what the proxy does with octets from the network:

* `parse_header` on the first 19 octets: may raise FramingError only;
* `decode_message` on a framed message: may raise CodecError (FramingError, MessageError) only,
  and never for an UPDATE body;
* `decode_update` on any octets at all: never raises; with an AttributeBlocks cache (one per
  context, kept over the run, each message decoded twice) it tells exactly what it tells without;
* `to_json` on any octets: never raises; when the record is not "lossy", `from_json` of it (with
  and without "raw") gives the octets back, and a clean UPDATE re-encodes to the same octets.

Messages come from five sources: valid messages of every type built with the encoders; the same
mutated (bit flips, byte changes, truncation, insertion, deletion, length fields that lie, repeated
chunks); "attribute soup" UPDATEs made of random attribute TLVs; random NLRI runs; and random
octets behind a valid marker.  The run is deterministic for a given seed and worker count.
"""

import argparse
import ipaddress
import multiprocessing
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from codec_fixtures import decoded_facts  # noqa: E402
from peerwarden_runner.codec import (  # noqa: E402  (path set up above for a checkout without install)
    AsPath,
    AsPathSegment,
    Capability,
    CodecError,
    ErrorAction,
    FramingError,
    NegotiatedContext,
    Prefix,
    decode_message,
    decode_update,
    encode_keepalive,
    encode_notification,
    encode_open,
    encode_route_refresh,
    encode_update,
    from_json,
    make_attribute,
    mp_reach_attribute,
    mp_unreach_attribute,
    parse_header,
    shutdown_notification,
    to_json,
    unknown_attribute,
)
from peerwarden_runner.codec import constants as c  # noqa: E402
from peerwarden_runner.codec.attribute_blocks import AttributeBlocks  # noqa: E402

CONTEXTS = [
    NegotiatedContext(),
    NegotiatedContext(four_octet_as=False),
    NegotiatedContext(add_path_receive=frozenset({(1, 1), (2, 1)})),
    NegotiatedContext(four_octet_as=False, add_path_receive=frozenset({(1, 1)}), extended_message=True),
    NegotiatedContext(extended_message=True, ebgp=True),
]
KNOWN_CODES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 35]
MAX_FAILURES_KEPT = 50
BLOCKS = {}  # (context, afi_safi_disable) -> the AttributeBlocks this worker keeps for it


# ------------------------------------------------------------------ valid messages


def random_prefix(rng, afi, ctx, safi=1):
    bits = 32 if afi == 1 else 128
    length = rng.randint(0, bits) if rng.random() < 0.3 else rng.choice((8, 16, 22, 24, 32, 48, 64, 128))
    length = min(length, bits)
    packed = rng.randbytes((length + 7) // 8)
    path_id = rng.getrandbits(32) if (afi, safi) in ctx.add_path_receive else None
    return Prefix(afi, safi, length, packed, path_id)


def random_as_path(rng, ctx, four_octet=False):
    top = 2**32 - 1 if (four_octet or ctx.four_octet_as) else 65535
    kinds = (1, 2) if four_octet else (1, 2, 2, 2, 3, 4)
    count = rng.randint(1 if four_octet else 0, 4)
    return AsPath(
        tuple(
            AsPathSegment(rng.choice(kinds), tuple(rng.randint(0, top) for dummy in range(rng.randint(1, 12))))
            for dummy in range(count)
        )
    )


def random_address(rng):
    return ipaddress.IPv4Address(rng.getrandbits(32))


def valid_update(rng, ctx):
    nlri = [random_prefix(rng, 1, ctx) for dummy in range(rng.choice((0, 0, 1, 5, 30, 100)))]
    withdrawn = [random_prefix(rng, 1, ctx) for dummy in range(rng.choice((0, 0, 0, 1, 10)))]
    mp_family = rng.choice((None, None, (1, 1), (2, 1)))
    attributes = []
    if nlri or mp_family or rng.random() < 0.3:
        attributes.append(make_attribute(c.ORIGIN, rng.randint(0, 2), ctx))
        attributes.append(make_attribute(c.AS_PATH, random_as_path(rng, ctx), ctx))
    if nlri:
        attributes.append(make_attribute(c.NEXT_HOP, random_address(rng), ctx))
    top = 2**32 - 1 if ctx.four_octet_as else 65535
    choices = {
        c.MULTI_EXIT_DISC: lambda: rng.getrandbits(32),
        c.ATOMIC_AGGREGATE: lambda: True,
        c.AGGREGATOR: lambda: (rng.randint(0, top), random_address(rng)),
        c.COMMUNITIES: lambda: tuple(rng.getrandbits(32) for dummy in range(rng.randint(1, 80))),
        c.EXTENDED_COMMUNITIES: lambda: tuple(rng.randbytes(8) for dummy in range(rng.randint(1, 6))),
        c.LARGE_COMMUNITY: lambda: tuple(
            (rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32)) for dummy in range(rng.randint(1, 6))
        ),
        c.ONLY_TO_CUSTOMER: lambda: rng.getrandbits(32),
    }
    if not ctx.ebgp:
        choices[c.LOCAL_PREF] = lambda: rng.getrandbits(32)
        choices[c.ORIGINATOR_ID] = lambda: random_address(rng)
        choices[c.CLUSTER_LIST] = lambda: tuple(random_address(rng) for dummy in range(rng.randint(1, 4)))
    if not ctx.four_octet_as:
        choices[c.AS4_PATH] = lambda: random_as_path(rng, ctx, four_octet=True)
        choices[c.AS4_AGGREGATOR] = lambda: (rng.getrandbits(32), random_address(rng))
    for code in rng.sample(sorted(choices), rng.randint(0, len(choices))):
        attributes.append(make_attribute(code, choices[code](), ctx))
    if mp_family:
        afi = mp_family[0]
        hops = rng.randbytes(rng.choice((4, 16, 32) if afi == 1 else (16, 32)))
        prefixes = [random_prefix(rng, afi, ctx) for dummy in range(rng.randint(0, 40))]
        attributes.append(mp_reach_attribute(afi, 1, hops, prefixes, ctx))
    if rng.random() < 0.3:
        afi = rng.choice((1, 2))
        attributes.append(
            mp_unreach_attribute(afi, 1, [random_prefix(rng, afi, ctx) for dummy in range(rng.randint(0, 30))], ctx)
        )
    if rng.random() < 0.1:
        attributes.append(mp_reach_attribute(1, 128, rng.randbytes(12), (), ctx, opaque_nlri=rng.randbytes(30)))
        attributes = [a for a in attributes if not (a.code == c.MP_REACH_NLRI and a.value.safi != 128)]
    if rng.random() < 0.2:
        code = rng.choice((99, 100, 129, 200, 255))
        flags = 0x80 | rng.choice((0, 0x40, 0x60))
        attributes.append(unknown_attribute(flags, code, rng.randbytes(rng.randint(0, 60))))
    for attribute in attributes:
        if rng.random() < 0.05:
            attribute.flags |= c.FLAG_EXTENDED_LENGTH
    rng.shuffle(attributes)
    return encode_update(withdrawn, attributes, nlri, ctx, check_size=False)


def valid_open(rng):
    capabilities = []
    for dummy in range(rng.randint(0, 12)):
        pick = rng.random()
        if pick < 0.3:
            capabilities.append(Capability.multiprotocol(rng.choice((1, 2, 25)), rng.choice((1, 2, 4, 70, 128, 133))))
        elif pick < 0.4:
            capabilities.append(Capability.route_refresh())
        elif pick < 0.5:
            capabilities.append(Capability.add_path({(1, 1): rng.randint(1, 3), (2, 1): rng.randint(1, 3)}))
        elif pick < 0.6:
            capabilities.append(Capability.graceful_restart(rng.randbytes(rng.choice((2, 6, 10)))))
        elif pick < 0.7:
            capabilities.append(Capability.extended_message())
        else:
            capabilities.append(Capability(rng.randint(0, 255), rng.randbytes(rng.randint(0, 40))))
    return encode_open(
        rng.randint(1, 2**32 - 1),
        rng.choice((0, 3, 90, 180, 65535)),
        random_address(rng),
        capabilities,
        add_four_octet_as=rng.random() < 0.8,
    )


def valid_message(rng, ctx):
    pick = rng.random()
    if pick < 0.7:
        return valid_update(rng, ctx)
    if pick < 0.8:
        return valid_open(rng)
    if pick < 0.88:
        if rng.random() < 0.5:
            return shutdown_notification(
                "".join(chr(rng.randint(32, 0x2FFF)) for dummy in range(rng.randint(0, 90))), reset=rng.random() < 0.3
            )
        return encode_notification(rng.randint(0, 8), rng.randint(0, 12), rng.randbytes(rng.randint(0, 30)))
    if pick < 0.93:
        return encode_keepalive()
    return encode_route_refresh(
        rng.choice((1, 2)),
        rng.choice((1, 2, 128)),
        rng.choice((0, 0, 1, 2, 7)),
        rng.randbytes(rng.choice((0, 0, 0, 9))),
    )


# ------------------------------------------------------------------ malformed messages


def mutate(rng, raw):
    data = bytearray(raw)
    for dummy in range(rng.randint(1, 4)):
        if not data:
            break
        how = rng.randrange(8)
        position = rng.randrange(len(data))
        if how == 0:
            data[position] ^= 1 << rng.randrange(8)
        elif how == 1:
            data[position] = rng.randrange(256)
        elif how == 2:
            del data[position:]
        elif how == 3:
            data[position:position] = rng.randbytes(rng.randint(1, 16))
        elif how == 4:
            del data[position : position + rng.randint(1, 16)]
        elif how == 5 and len(data) > 23:
            # a length field that lies: header, withdrawn routes, total path attributes, or any octet pair
            field = rng.choice((16, 19, 21, rng.randrange(19, len(data) - 1)))
            value = rng.choice((0, 1, 2, 3, 255, 256, 4096, 65535, rng.randrange(65536)))
            data[field : field + 2] = value.to_bytes(2, "big")
        elif how == 6:
            start = rng.randrange(len(data))
            chunk = data[start : start + rng.randint(1, 24)]
            data[position:position] = chunk
        else:
            data[position] = rng.choice((0x00, 0x10, 0x40, 0x50, 0x80, 0x90, 0xC0, 0xD0, 0xE0, 0xF0, 0xFF))
    if len(data) >= 19 and rng.random() < 0.6:
        data[16:18] = (len(data) % 65536).to_bytes(2, "big")  # consistent framing, lies inside
    return bytes(data)


def attribute_soup(rng, ctx):
    """An UPDATE of random attribute TLVs around plausible ones, with random NLRI octets."""
    parts = []
    for dummy in range(rng.randint(0, 12)):
        code = rng.choice(KNOWN_CODES) if rng.random() < 0.8 else rng.randrange(256)
        flags = rng.choice((0x40, 0x80, 0xC0, 0xE0, 0x50, 0x90, 0xD0, 0x00, rng.randrange(256)))
        value = rng.randbytes(rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, rng.randint(0, 300))))
        length = len(value) if rng.random() < 0.85 else rng.randrange(65536 if flags & 0x10 else 256)
        if flags & 0x10:
            parts.append(bytes((flags, code)) + length.to_bytes(2, "big") + value)
        else:
            parts.append(bytes((flags, code, length % 256)) + value)
    attributes = b"".join(parts)
    nlri = random_nlri_octets(rng)
    withdrawn = random_nlri_octets(rng) if rng.random() < 0.3 else b""
    body = len(withdrawn).to_bytes(2, "big") + withdrawn + len(attributes).to_bytes(2, "big") + attributes + nlri
    return c.MARKER + ((19 + len(body)) % 65536).to_bytes(2, "big") + b"\x02" + body


def random_nlri_octets(rng):
    octets = bytearray()
    for dummy in range(rng.randint(0, 10)):
        length = rng.randint(0, 40)
        octets.append(length)
        octets += rng.randbytes((length + 7) // 8 if rng.random() < 0.9 else rng.randint(0, 6))
    return bytes(octets)


def random_octets(rng):
    if rng.random() < 0.2:
        return rng.randbytes(rng.randint(0, 80))
    kind = rng.choice((1, 2, 3, 4, 5, rng.randrange(256)))
    body = rng.randbytes(rng.randint(0, 120))
    return c.MARKER + (19 + len(body)).to_bytes(2, "big") + bytes((kind,)) + body


# ------------------------------------------------------------------ checks


class Failure(Exception):
    """A check that did not hold (as opposed to the codec raising)."""


def check(raw, ctx, stats):
    """Run one message through the codec; raise on anything undocumented."""
    try:
        length, kind = parse_header(raw[:19], ctx.extended_message)
    except FramingError:
        stats["framing_errors"] += 1
        length = kind = None
    # must never raise, whatever the octets; AFI/SAFI disable is the caller's choice (RFC 7606 §5.3)
    disable = len(raw) % 2 == 0
    update = decode_update(raw, ctx, afi_safi_disable=disable)
    update.routes()
    update.withdrawals()
    update.origin_as()
    facts = decoded_facts(update)
    blocks = BLOCKS.setdefault((ctx, disable), AttributeBlocks())
    for dummy in range(2):  # decoded and kept, then taken from the cache
        if decoded_facts(decode_update(raw, ctx, afi_safi_disable=disable, blocks=blocks)) != facts:
            raise Failure("decoding with an AttributeBlocks cache differs from decoding without")
    if kind == c.UPDATE:
        stats["update_" + update.error_action.name.lower()] += 1
    if length is not None and length == len(raw):
        try:
            decode_message(raw, ctx)
        except CodecError as error:
            if kind == c.UPDATE:
                raise Failure("decode_message raised %r for an UPDATE" % error) from None
            stats["message_errors"] += 1
    record = to_json(raw, ctx)
    if record.get("lossy"):
        stats["lossy"] += 1
        if from_json(record, ctx) != raw:
            raise Failure("lossy record not rebuilt from raw")
        return
    stats["round_trips"] += 1
    del record["raw"]  # a lossless record is rebuilt from its fields; prove they suffice
    if from_json(record, ctx) != raw:
        raise Failure("from_json(to_json(m)) != m")
    if kind == c.UPDATE and update.error_action == ErrorAction.NONE and update.encode() != raw:
        raise Failure("Update.encode() != raw")


def run_chunk(arguments):
    """One worker's share: (seed, count) -> (stats, failures)."""
    seed, count = arguments
    rng = random.Random(seed)
    stats = {
        key: 0
        for key in (
            "messages",
            "valid",
            "mutated",
            "soup",
            "random",
            "framing_errors",
            "message_errors",
            "lossy",
            "round_trips",
            "update_none",
            "update_attribute_discard",
            "update_treat_as_withdraw",
            "update_afi_safi_disable",
            "update_session_reset",
        )
    }
    failures = []
    pool = []
    for dummy in range(count):
        ctx = rng.choice(CONTEXTS)
        pick = rng.random()
        if pick < 0.25 or len(pool) < 50:
            source = "valid"
            raw = valid_message(rng, ctx)
            if len(pool) < 2000:
                pool.append((raw, ctx))
            else:
                pool[rng.randrange(len(pool))] = (raw, ctx)
        elif pick < 0.75:
            source = "mutated"
            raw, ctx = rng.choice(pool)
            raw = mutate(rng, raw)
        elif pick < 0.92:
            source = "soup"
            raw = attribute_soup(rng, ctx)
        else:
            source = "random"
            raw = random_octets(rng)
        stats[source] += 1
        stats["messages"] += 1
        try:
            check(raw, ctx, stats)
        except Exception as error:  # noqa: BLE001 - the point is to catch anything undocumented
            if len(failures) < MAX_FAILURES_KEPT:
                failures.append(
                    {
                        "source": source,
                        "error": repr(error),
                        "raw": raw.hex(),
                        "ctx": repr(ctx),
                        "where": traceback.format_exc().strip().splitlines()[-3:],
                    }
                )
    return stats, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=25_000)
    parser.add_argument("--save-failures", help="write failing messages (JSON lines) to this file")
    options = parser.parse_args()

    chunks = []
    left = options.count
    index = 0
    while left > 0:
        size = min(options.chunk, left)
        chunks.append((options.seed * 1_000_003 + index, size))
        left -= size
        index += 1
    totals = {}
    failures = []
    started = time.perf_counter()
    done = 0
    with multiprocessing.Pool(options.workers) as pool:
        for stats, chunk_failures in pool.imap_unordered(run_chunk, chunks):
            for key, value in stats.items():
                totals[key] = totals.get(key, 0) + value
            failures.extend(chunk_failures)
            done += stats["messages"]
            elapsed = time.perf_counter() - started
            print("  %9d messages  %7.0f/s  failures %d" % (done, done / elapsed, len(failures)), file=sys.stderr)
    elapsed = time.perf_counter() - started

    print(
        "messages:   %d in %.1f s (%.0f messages/s, %d workers)"
        % (totals["messages"], elapsed, totals["messages"] / elapsed, options.workers)
    )
    print("sources:    valid %(valid)d, mutated %(mutated)d, attribute soup %(soup)d, random %(random)d" % totals)
    print(
        "outcomes:   FramingError %(framing_errors)d, MessageError %(message_errors)d, "
        "lossless round trips %(round_trips)d, lossy (raw kept) %(lossy)d" % totals
    )
    print(
        "UPDATEs:    none %(update_none)d, attribute-discard %(update_attribute_discard)d, "
        "treat-as-withdraw %(update_treat_as_withdraw)d, afi/safi-disable %(update_afi_safi_disable)d, "
        "session-reset %(update_session_reset)d" % totals
    )
    print("failures:   %d" % len(failures))
    for failure in failures[:10]:
        print(
            "  [%s] %s ctx=%s\n    %s\n    raw=%s"
            % (failure["source"], failure["error"], failure["ctx"], " | ".join(failure["where"]), failure["raw"][:400])
        )
    if options.save_failures and failures:
        import json

        with open(options.save_failures, "w") as handle:
            for failure in failures:
                handle.write(json.dumps(failure) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
