"""The collector's path (`speaker --stdout`) loses and changes nothing: a table of real shapes (one prefix
per UPDATE, IPv4 and IPv6, withdrawals, prefixes announced again with other attributes) sent by a
scripted router on a 4-octet AS session, where the fast scan and fast_update's JSON writer take most
UPDATEs. Every printed line is the full decoder's JSON of its message, character for character, and the
Adj-RIB-In holds exactly the routes the full decoder's reading of the same UPDATEs leaves."""

import asyncio
import io
import json
import random

from peerwarden_runner.codec import decode_update
from peerwarden_runner.codec.fast_update import scan_update
from peerwarden_runner.codec.json_form import attributes_to_json, to_json
from peerwarden_runner.directions import RECEIVED
from peerwarden_runner.speaker.json_printer import JsonPrinter
from polling import until
from speaker_lab import ScriptedPeer, make_speaker, run
from test_fast_update import real_shapes

COUNT = 3000


def expected_routes(messages, ctx):
    """prefix text -> (next hop, attributes JSON, origin AS), by the full decoder, UPDATE after UPDATE."""
    routes = {}
    for raw in messages:
        update = decode_update(raw, ctx)
        for prefix in update.withdrawals():
            routes.pop(str(prefix), None)
        for next_hop, attributes, prefixes in update.route_runs():
            for prefix in prefixes:
                routes[str(prefix)] = (
                    str(next_hop),
                    attributes_to_json(attributes.values(), ctx)[0],
                    update.origin_as(),
                )
    return routes


def test_every_route_and_every_line_as_the_full_decoder_has_them():
    rng = random.Random(16)
    messages = real_shapes(rng, COUNT)
    messages += messages[: COUNT // 3 : 7]  # the same prefixes again, after other routes
    messages += real_shapes(random.Random(17), COUNT // 3)  # and with other attributes
    printed = io.StringIO()

    async def script(connection):
        await connection.establish(four_octet_as=True)
        for raw in messages:
            connection.send(raw)
        await connection.writer.drain()
        return await connection.notification()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port, watchers=[JsonPrinter("collect", printed)])
            task = asyncio.create_task(speaker.run())
            await until(lambda: speaker.counters["updates_received"] >= len(messages), timeout=15)
            ctx, received = speaker.session.ctx_in, speaker.received.to_json()
            await speaker.stop()
            await peer.result()
            await task
            return ctx, received

    ctx, received = run(scenario, timeout=30)
    assert ctx.four_octet_as
    assert sum(scan_update(raw, ctx) is not None for raw in messages) >= 0.8 * len(messages)  # the fast path
    lines = [line for line in printed.getvalue().splitlines() if '"type":"update","time"' in line]
    lines = [line for line in lines if json.loads(line)["direction"] == RECEIVED]
    assert len(lines) == len(messages)
    for raw, line in zip(messages, lines, strict=True):
        record = to_json(raw, ctx, direction=RECEIVED, peer="collect", time=json.loads(line)["time"])
        assert line == json.dumps(record, separators=(",", ":")), raw.hex()
    held = {route["prefix"]: (route["next_hop"], route["attributes"], route["origin_as"]) for route in received}
    expected = expected_routes(messages, ctx)
    assert len(expected) > COUNT // 2
    assert held == expected
