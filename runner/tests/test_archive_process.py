"""The archive's writer process: what is sent is in the files after flush() and close(), with the
context of its direction, and a writer that died is replaced without losing what comes next."""

import asyncio
import os
import pickle
import signal

import pytest

from peerwarden_runner.archive import JsonLinesArchive, read_archive
from peerwarden_runner.archive_process import _LENGTH, _MESSAGE, BLOCK, ArchiveProcess, _line, serve
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


class Pieces:
    """A pipe that gives what was written in pieces of the sizes given (cycled), as a pipe under load may."""

    def __init__(self, data, sizes):
        self.data, self.sizes, self.position, self.turn = data, sizes, 0, 0

    def read1(self, size):
        step = min(size, self.sizes[self.turn % len(self.sizes)])
        self.turn += 1
        piece = self.data[self.position : self.position + step]
        self.position += len(piece)
        return piece


class Answers:
    def __init__(self):
        self.written = b""

    def write(self, data):
        self.written += data

    def flush(self):
        pass


def _records():
    """The pipe's records for: a context, three UPDATEs and a KEEPALIVE, an answered flush, an UPDATE, an
    unanswered flush; and the lines the writer must make of them."""
    context = pickle.dumps((0, ADD_PATH))
    stream = b"C" + _LENGTH.pack(len(context)) + context
    messages = [update(ADD_PATH, path_id=7), update(ADD_PATH, path_id=8), KEEPALIVE_MESSAGE, update(ADD_PATH, 9)]
    lines = []
    for number, raw in enumerate(messages):
        stream += b"M" + _MESSAGE.pack(1700000000.25 + number, 0, len(raw)) + raw
        lines.append(_line(raw, ADD_PATH, TO_ROUTER, "edge", 1700000000.25 + number))
        if number == 2:
            stream += b"F"
    return stream + b"f", lines


def test_records_cut_anywhere_between_reads_make_the_same_lines(tmp_path):
    stream, lines = _records()
    for sizes in ([1], [2, 3], [7, 1, 13], [19, 64], [len(stream)]):
        directory = tmp_path / ("cut-%s" % "-".join(map(str, sizes)))
        archive, answers = JsonLinesArchive(str(directory), prefix="edge", compress=False), Answers()
        serve(Pieces(stream, sizes), answers, archive, "edge")
        archive.close()
        written = [
            line for name in sorted(os.listdir(directory)) for line in (directory / name).read_text().splitlines()
        ]
        assert written == lines and answers.written == b"F" and archive.count == 4


def test_a_record_cut_short_by_the_end_of_the_pipe_is_said(tmp_path):
    stream, dummy = _records()
    archive = JsonLinesArchive(str(tmp_path), prefix="edge", compress=False)
    with pytest.raises(EOFError):
        serve(Pieces(stream[:-40], [5]), Answers(), archive, "edge")
    with pytest.raises(ValueError, match="unknown record"):
        serve(Pieces(b"Z", [1]), Answers(), archive, "edge")
    archive.close()


def test_the_messages_of_one_turn_of_the_loop_go_down_the_pipe_in_blocks(tmp_path):
    """2,000 one-prefix UPDATEs relayed in one turn of the loop (one read of the proxy) cost a few
    writes to the pipe, not one each; all of them are archived, in order, after the turn."""
    archive = writer(tmp_path)
    message = update(PLAIN)

    async def scenario():
        archive.send(message, PLAIN, TO_ROUTER, 0.0)  # starts the child
        await asyncio.sleep(0)
        writes, write = [], archive.child.stdin.write
        archive.child.stdin.write = lambda data: (writes.append(len(data)), write(data))[1]
        for number in range(1, 2001):
            archive.send(message, PLAIN, TO_ROUTER, float(number))
        handed_over_during_the_turn = sum(writes)
        await asyncio.sleep(0)  # the end of the turn: the rest goes
        return writes, handed_over_during_the_turn

    writes, during = asyncio.run(scenario())
    record = 1 + _MESSAGE.size + len(message)
    assert sum(writes) == 2000 * record and during < 2000 * record  # the tail waited for the end of the turn
    assert len(writes) <= 2000 * record // BLOCK + 2
    archive.close()
    assert [r["time"] for r in read_archive(str(tmp_path))] == [float(n) for n in range(2001)]
