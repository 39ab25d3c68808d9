"""--stdin (speaker/stdin_feed.py): JSON lines sent to a scripted peer as the very octets they describe,
once Established; OPEN/KEEPALIVE/NOTIFICATION records skipped and counted; every refused line logged
with its number, then skipped or fatal; a line over the limit refused without being held."""

import asyncio
import io
import json

import pytest

import codec_fixtures as fx
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec import decode_update, encode_update, make_attribute, to_json
from peerwarden_runner.speaker.stdin_feed import END, TOO_LONG, StdinFeed, read_lines
from polling import until
from speaker_lab import ScriptedPeer, make_speaker, run

ROUTE = encode_update(
    attributes=[
        make_attribute("origin", "igp"),
        make_attribute("as_path", [["sequence", [65020, 64510]]]),
        make_attribute("next_hop", "127.0.0.23"),
        make_attribute("communities", [(65020 << 16) | 7]),
    ],
    nlri=["198.51.100.0/24", "203.0.113.0/25"],
)
# MP_REACH first, Extended Length on a short value: the JSON keeps what the canonical form would change
IPV6 = fx.UPDATE_IPV6


def line(raw, **changes):
    record = dict(to_json(raw, direction="received", peer="elsewhere", time=1700000000.5), **changes)
    return json.dumps(record, separators=(",", ":"))


def feed_into_peer(text, updates_expected, on_error="skip", limit=1 << 20):
    """Run a speaker whose stdin holds `text` against a scripted peer; (UPDATE octets the peer got, the
    feed, whether on_fatal was called)."""
    fatal = []

    async def script(connection):
        await connection.establish()
        got = []
        while len(got) < updates_expected:
            message = await connection.read_until(c.UPDATE)
            if decode_update(message.raw).end_of_rib() is None:  # the speaker's own End-of-RIBs aside
                got.append(message.raw)
        return got

    async def scenario():
        async with ScriptedPeer(script) as peer:
            speaker = make_speaker(peer.port)
            feed = StdinFeed(speaker, io.BytesIO(text.encode()).read, on_error, lambda: fatal.append(True), limit)
            reading = asyncio.create_task(feed.run())  # started first: lines wait for Established
            task = asyncio.create_task(speaker.run())
            got = await peer.result() if updates_expected else []
            await until(lambda: reading.done())
            await speaker.stop()
            await task
            return got, feed

    got, feed = run(scenario)
    return got, feed, bool(fatal)


def test_lines_are_sent_byte_identical_and_session_records_skipped(caplog):
    text = "\n".join(
        [
            line(fx.OPEN_4OCTET),  # 1: skipped, logged
            line(ROUTE),  # 2
            "",  # 3: blank
            line(fx.KEEPALIVE),  # 4: skipped
            line(IPV6),  # 5
            line(fx.KEEPALIVE),  # 6: skipped, counted only
            json.dumps({k: v for k, v in to_json(ROUTE).items() if k != "raw"}),  # 7: fields alone
            line(fx.ROUTE_REFRESH_IPV6),  # 8: a ROUTE-REFRESH is sent too
        ]
    )
    got, feed, fatal = feed_into_peer(text + "\n", 3)
    assert got == [ROUTE, IPV6, ROUTE]
    assert not fatal and feed.counts["sent"] == 4 and feed.counts["skipped"] == 3 and feed.counts["refused"] == 0
    assert "stdin line 1: OPEN records are not sent (the session makes its own)" in caplog.text
    assert "stdin line 4: KEEPALIVE records are not sent" in caplog.text and "stdin line 6" not in caplog.text
    assert "end of input after 8 line(s): 4 message(s) sent, 3 skipped" in caplog.text


def test_refused_lines_are_logged_with_their_number_and_skipped(caplog):
    lossy = fx.update("", "40 01 01 07 40 02 00 40 03 04 c0000201", "18 cb0071")  # ORIGIN 7
    record = json.loads(line(ROUTE))
    edited = dict(record, nlri=[{"prefix": "198.51.100.0/24", "path_id": 4}])  # no ADD-PATH on this session
    text = "\n".join(
        [
            "this is not JSON",  # 1
            json.dumps([1, 2]),  # 2
            line(lossy),  # 3
            json.dumps(edited),  # 4
            json.dumps(dict(record, attributes=dict(record["attributes"], origin="sideways"))),  # 5
            line(ROUTE),  # 6: still sent
        ]
    )
    got, feed, fatal = feed_into_peer(text, 1)
    assert got == [ROUTE] and not fatal and feed.counts["refused"] == 5
    for number, why in [
        (1, "not JSON"),
        (2, 'expected a JSON message object ({"type": "update", ...})'),
        (3, 'a "lossy" record (ORIGIN value 7 undefined)'),
        (4, "cannot encode it: nlri: {'prefix': '198.51.100.0/24', 'path_id': 4} has a path_id, but ADD-PATH is off"),
        (5, "cannot encode it: missing or unknown 'sideways'; the record: {"),
    ]:
        assert "stdin: line refused, skipped (stdin_errors: skip): line %d: %s" % (number, why) in caplog.text


def test_a_refused_line_is_fatal_by_default(caplog):
    text = "\n".join([line(ROUTE), '{"type": "update", "nlri": ["10.0.0.0/33"]}', line(IPV6)])
    got, feed, fatal = feed_into_peer(text, 1, on_error="fatal")
    assert got == [ROUTE] and fatal and feed.counts["sent"] == 1 and feed.counts["lines"] == 2  # line 3 unread
    assert "stdin line 2 refused, stopping (stdin_errors: fatal): cannot encode it: " in caplog.text


def test_a_line_over_the_limit_is_refused_and_the_next_one_read(caplog):
    long_line = json.dumps({"type": "update", "padding": "x" * 5000})
    got, feed, fatal = feed_into_peer(long_line + "\n" + line(ROUTE) + "\n", 1, limit=4096)
    assert got == [ROUTE] and feed.counts["refused"] == 1
    assert "stdin: line refused, skipped (stdin_errors: skip): line 1: longer than 4096 octets" in caplog.text


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 4096])
def test_read_lines_never_holds_a_long_line_whole(chunk):
    text = b"a" * 50 + b"\nshort\n" + b"b" * 16 + b"\n" + b"c" * 17 + b"\n\n" + b"tail"
    items = []
    read_lines(io.BytesIO(text).read, lambda item: items.append(item) or True, 16, chunk)
    assert items == [TOO_LONG, b"short\n", b"b" * 16 + b"\n", TOO_LONG, b"\n", b"tail", END]
    items.clear()
    read_lines(io.BytesIO(b"x" * 40).read, lambda item: items.append(item) or True, 16, chunk)
    assert items == [TOO_LONG, END]  # an over-long last line without its newline


def start_speaker_process(log, *flags):
    """`peerwarden-runner speaker --stdin` towards a closed port on loopback, its stdin an open pipe,
    its stderr in the file `log`."""
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a port nobody listens on: the speaker keeps reconnecting
        probe.bind(("127.0.0.22", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "peerwarden_runner.cli", "speaker", "--local", "127.0.0.23"]
    argv += ["--peer", "127.0.0.22:%d" % port, "--asn", "65020", "--peer-asn", "65022", "--api", "off", "--stdin"]
    with open(log, "wb") as stderr:  # the child has its own copy of the descriptor
        return subprocess.Popen(argv + list(flags), stdin=subprocess.PIPE, stderr=stderr)


def wait_for_text(path, text, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < deadline, "no %r in %s:\n%s" % (text, path, path.read_text())
        time.sleep(0.1)


def test_sigterm_with_stdin_still_open_exits_cleanly(tmp_path):
    import signal

    log = tmp_path / "stderr"
    process = start_speaker_process(log)
    process.stdin.write(line(ROUTE).encode() + b"\n")  # waits for a session that never comes up
    process.stdin.flush()
    wait_for_text(log, "reconnecting in")
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    assert "Fatal Python error" not in log.read_text()
    process.stdin.close()


def test_a_fatal_line_ends_the_runner_with_status_1(tmp_path):
    log = tmp_path / "stderr"
    process = start_speaker_process(log, "--stdin-errors", "fatal")
    process.communicate(b'[]\n{"type": "update"}\n', timeout=30)  # refused before any session is needed
    assert process.returncode == 1
    assert "stdin line 1 refused, stopping (stdin_errors: fatal): expected a JSON message object" in log.read_text()
