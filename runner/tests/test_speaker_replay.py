"""The speaker's replay (speaker/replay.py) against a scripted router: a route collector's update
file arrives as bgpdump reads it (our AS first, our next hop) with End-of-RIB after it; the
recorded pace is kept or not; the configuration refuses what cannot be replayed."""

import argparse
import asyncio
import os
import time

import pytest

from config_problems import problems
from mrt_oracle import HAVE_BGPDUMP, bgpdump_lines, path_text
from peerwarden_runner import config, mrt
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update, encode_update, make_attribute
from peerwarden_runner.speaker import cli as speaker_cli
from peerwarden_runner.speaker.replay import Replay, check_replay
from polling import until
from speaker_lab import LOCAL, LOCAL_ASN, ScriptedPeer, make_speaker, run

FIXTURES = os.path.join(os.path.dirname(__file__), "mrt_fixtures")
RIS_UPDATES = os.path.join(FIXTURES, "updates.20100722.2015.gz")
BASE = {"name": "edge", "local": LOCAL, "peer": "127.0.0.22:1179", "asn": LOCAL_ASN, "peer_asn": 65022}


def replay_settings(path, **options):
    found = []
    settings = check_replay(dict(file=str(path), **options), "replay", lambda key, text: found.append((key, text)))
    assert not found, found
    return settings


def replay_into_peer(settings, until_state="done"):
    """(the UPDATEs the router got, with arrival times, before End-of-RIB; the speaker's status after)."""

    async def script(connection):
        await connection.establish()
        updates = []
        while True:
            message = await connection.read_until(c.UPDATE, timeout=30)
            update = decode_update(message.raw)
            if update.end_of_rib():
                return updates, await connection.updates_until_end_of_rib(families=1)
            updates.append((time.monotonic(), update))

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            speaker.replay = Replay(settings, "test")
            task = asyncio.create_task(speaker.run())
            (updates, dummy) = await peer.result(timeout=60)
            await until(lambda: (speaker.status()["replay"] or {}).get("state") == until_state)
            status = speaker.status()
            await speaker.stop()
            await task
            return updates, status

    return run(scenario, timeout=90)


@pytest.mark.skipif(not HAVE_BGPDUMP, reason="bgpdump (Debian package) not installed")
def test_a_route_collector_update_file_reaches_the_router_as_bgpdump_reads_it():
    settings = replay_settings(RIS_UPDATES, **{"from": "193.203.0.124"})
    expected = {}
    for line in bgpdump_lines(RIS_UPDATES):
        kind, sender, prefix, path = line[0], line[1], line[3], line[5] if len(line) > 5 else None
        if sender == "193.203.0.124" and kind == "A":
            expected[prefix] = "%d %s" % (LOCAL_ASN, path)
        elif sender == "193.203.0.124" and kind == "W":
            expected.pop(prefix, None)
    updates, status = replay_into_peer(settings)
    table = {}
    for dummy, update in updates:
        for prefix in update.withdrawals():
            table.pop(str(prefix.network), None)
        for route in update.routes():
            table[str(route.prefix.network)] = path_text(update.full_as_path())
            assert str(route.next_hop) == LOCAL or route.next_hop.ipv4_mapped is not None
    assert len(expected) > 50 and table == expected
    replay = status["replay"]
    assert replay["runs"] == 1 and replay["updates_sent"] == len(updates)
    assert replay["routes announced"] > len(expected)


def paced_file(path, gap):
    attributes = [make_attribute(c.ORIGIN, 0), make_attribute(c.AS_PATH, [["sequence", [64500]]])]
    attributes.append(make_attribute(c.NEXT_HOP, "192.0.2.1"))
    with open(path, "wb") as handle:
        for n, prefix in enumerate(("198.51.100.0/24", "203.0.113.0/24")):
            message = encode_update(attributes=attributes, nlri=[prefix])
            handle.write(mrt.message_record(1e9 + n * gap, message, 64500, 65000, "192.0.2.1", "192.0.2.2"))


@pytest.mark.parametrize("speed", ["recorded", "max"])
def test_the_recorded_pace_is_kept_or_not(tmp_path, speed):
    paced_file(tmp_path / "paced.mrt", 0.8)
    updates, status = replay_into_peer(replay_settings(tmp_path / "paced.mrt", speed=speed))
    assert [str(u.nlri[0]) for dummy, u in updates] == ["198.51.100.0/24", "203.0.113.0/24"]
    gap = updates[1][0] - updates[0][0]
    assert (0.7 <= gap < 2.0) if speed == "recorded" else gap < 0.4
    assert status["replay"]["state"] == "done" and status["replay"]["seconds"] >= (0.7 if speed == "recorded" else 0)


def test_the_configuration_refuses_what_cannot_be_replayed(tmp_path):
    text = problems({"speakers": [dict(BASE, replay={"file": RIS_UPDATES})]})
    assert "speakers[0].replay.file: " in text and "routes from " in text and "choose one" in text
    text = problems({"speakers": [dict(BASE, replay={"file": RIS_UPDATES, "from": "192.0.2.99"})]})
    assert "speakers[0].replay.from: " in text and "no routes from 192.0.2.99" in text
    text = problems({"speakers": [dict(BASE, replay={"file": str(tmp_path / "missing.mrt")})]})
    assert "speakers[0].replay.file: cannot read" in text and "No such file" in text
    text = problems({"speakers": [dict(BASE, replay={"file": RIS_UPDATES, "speed": "fast", "from": "193.0.0.1"})]})
    assert "speed" in text and "fast" in text
    entry = config.check({"speakers": [dict(BASE, replay={"file": RIS_UPDATES, "from": "193.203.0.124"})]})
    replay = entry["speakers"][0]["replay"]
    assert replay["from"] == "193.203.0.124" and replay["speed"] == "max" and replay["next_hop"] == "self"


def test_the_command_line_makes_the_replay_entry(tmp_path):
    argv = ["speaker", "--local", LOCAL, "--peer", "127.0.0.22", "--asn", "65020", "--peer-asn", "65022"]
    parser = argparse.ArgumentParser()
    speaker_cli.add_parser(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(argv + ["--replay", RIS_UPDATES, "--replay-from", "193.203.0.124"])
    document = speaker_cli.speaker_document(arguments)
    assert document["speakers"][0]["replay"] == {
        "file": RIS_UPDATES,
        "speed": "max",
        "next_hop": "self",
        "from": "193.203.0.124",
    }


def test_a_json_lines_archive_replays_and_each_new_session_replays_it_again(tmp_path):
    from test_replay_read import json_archive

    settings = replay_settings(json_archive(tmp_path))
    assert settings["from"] == "to-router"

    async def script(connection):
        await connection.establish()
        return await connection.updates_until_end_of_rib()

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            speaker.replay = Replay(settings, "test")
            task = asyncio.create_task(speaker.run())
            first = await peer.result()  # the script returns: the connection closes, the speaker reconnects
            second = await peer.result()
            runs = speaker.status()["replay"]["runs"]
            await speaker.stop()
            await task
            return first, second, runs

    first, second, runs = run(scenario)
    for updates in (first, second):
        prefixes = sorted(str(p) for update in updates for p in update.announced())
        assert prefixes == ["10.0.0.0/8", "2001:db8::/32"]
        paths = sorted(update.as_path.asns() for update in updates)
        assert paths == [[LOCAL_ASN, 4200000001, 64500], [LOCAL_ASN, 4200000001, 64501]]
    assert runs == 2


def test_a_file_gone_after_the_check_is_said_and_end_of_rib_still_sent(tmp_path, caplog):
    paced_file(tmp_path / "gone.mrt", 0)
    settings = replay_settings(tmp_path / "gone.mrt")
    (tmp_path / "gone.mrt").unlink()
    updates, status = replay_into_peer(settings, until_state="failed: No such file or directory")
    assert updates == [] and status["replay"]["state"] == "failed: No such file or directory"
    assert "replay stopped: cannot read %s: No such file or directory" % (tmp_path / "gone.mrt") in caplog.text
