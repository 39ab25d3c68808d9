"""The archive's writer process: what is sent is in the files after flush() and close(), with the
context of its direction, and a writer that died is replaced without losing what comes next."""

import os
import signal

from peerwarden_runner.archive import read_archive
from peerwarden_runner.archive_process import ArchiveProcess
from peerwarden_runner.codec import KEEPALIVE_MESSAGE, NegotiatedContext, Prefix, encode_update, from_json
from peerwarden_runner.codec import constants as c
from peerwarden_runner.codec.attributes import make_attribute
from peerwarden_runner.pipeline import TO_PEER, TO_ROUTER

ADD_PATH = NegotiatedContext(add_path_receive=frozenset({c.IPV4_UNICAST}))
PLAIN = NegotiatedContext()


def update(ctx, path_id=None):
    nlri = [Prefix.parse("203.0.113.0/24", path_id=path_id), Prefix.parse("198.51.100.0/24", path_id=path_id)]
    attributes = [
        make_attribute(c.ORIGIN, 0),
        make_attribute(c.AS_PATH, [["sequence", [64500]]]),
        make_attribute(c.NEXT_HOP, "192.0.2.1"),
    ]
    return encode_update(attributes=attributes, nlri=nlri, ctx=ctx)


def writer(tmp_path, compress=False):
    return ArchiveProcess(str(tmp_path), "edge", 1 << 20, 3600, compress, "edge")


def test_flush_makes_every_message_readable_with_its_direction_context(tmp_path):
    archive = writer(tmp_path)
    archive.send(update(ADD_PATH, path_id=3), ADD_PATH, TO_ROUTER, 1700000000.5)
    archive.send(update(PLAIN), PLAIN, TO_PEER, 1700000001.0)
    archive.send(KEEPALIVE_MESSAGE, None, TO_PEER, 1700000002.0)
    archive.flush()
    records = list(read_archive(str(tmp_path)))
    assert [r["direction"] for r in records] == [TO_ROUTER, TO_PEER, TO_PEER]
    assert records[0]["nlri"] == [
        {"prefix": "203.0.113.0/24", "path_id": 3},
        {"prefix": "198.51.100.0/24", "path_id": 3},
    ]
    assert records[1]["nlri"] == ["203.0.113.0/24", "198.51.100.0/24"] and records[1]["time"] == 1700000001.0
    assert from_json(records[0], ADD_PATH) == update(ADD_PATH, path_id=3)
    assert records[2] == {
        "type": "keepalive",
        "time": 1700000002.0,
        "direction": TO_PEER,
        "peer": "edge",
        "raw": KEEPALIVE_MESSAGE.hex(),
    }
    archive.close()


def test_close_compresses_the_last_file(tmp_path):
    archive = writer(tmp_path, compress=True)
    for number in range(500):
        archive.send(update(PLAIN), PLAIN, TO_ROUTER, float(number))
    archive.close()
    assert all(name.endswith(".jsonl.gz") for name in os.listdir(tmp_path))
    assert [r["time"] for r in read_archive(str(tmp_path))] == [float(n) for n in range(500)]


def test_a_writer_that_died_is_started_again(tmp_path):
    archive = writer(tmp_path)
    archive.send(update(ADD_PATH, path_id=1), ADD_PATH, TO_ROUTER, 1.0)
    archive.flush()
    os.kill(archive.child.pid, signal.SIGKILL)
    archive.child.wait()
    archive.send(update(ADD_PATH, path_id=2), ADD_PATH, TO_ROUTER, 2.0)
    archive.close()
    records = sorted(read_archive(str(tmp_path)), key=lambda record: record["time"])
    assert [r["time"] for r in records] == [1.0, 2.0]
    assert records[1]["nlri"][0] == {"prefix": "203.0.113.0/24", "path_id": 2}  # the new writer got the context


def test_nothing_sent_starts_no_process(tmp_path):
    archive = writer(tmp_path)
    archive.flush()
    archive.close()
    assert archive.child is None and os.listdir(tmp_path) == []


def test_the_speakers_directions_keep_their_names(tmp_path):
    archive = writer(tmp_path)
    archive.send(update(PLAIN), PLAIN, "received", 1700000000.0)
    archive.send(KEEPALIVE_MESSAGE, None, "sent", 1700000001.0)
    archive.close()
    assert [r["direction"] for r in read_archive(str(tmp_path))] == ["received", "sent"]
