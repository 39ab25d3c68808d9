"""Rotated archive files are compressed beside the sessions, not on their loop: rotate() returns while
the file is still being compressed, close() waits for it, and a disk that refuses leaves the file."""

import gzip
import logging
import os
import threading

from peerwarden_runner import archive
from peerwarden_runner.archive import MrtArchive


def test_rotate_returns_while_the_file_is_compressed_and_close_waits(tmp_path, monkeypatch):
    release, started, threads = threading.Event(), threading.Event(), []
    real = archive._compress

    def slow_compress(path):
        threads.append(threading.current_thread())
        started.set()
        assert release.wait(10)
        real(path)

    monkeypatch.setattr(archive, "_compress", slow_compress)
    records = MrtArchive(str(tmp_path), prefix="s", compress=True)
    records.write(b"first file" * 100)
    name = records.rotate()  # would hang here if rotate compressed in place
    assert started.wait(10) and threads[0] is not threading.current_thread()
    assert name.endswith(".mrt.gz") and not os.path.exists(name)
    records.write(b"second file" * 100)
    closer = threading.Thread(target=records.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # close() waits for the first file's compression
    release.set()
    closer.join(10)
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2 and all(n.endswith(".mrt.gz") for n in names)
    contents = sorted(gzip.decompress((tmp_path / n).read_bytes()) for n in names)
    assert contents == [b"first file" * 100, b"second file" * 100]


def test_a_disk_that_refuses_the_compressed_file_leaves_the_data_and_says_so(tmp_path, monkeypatch, caplog):
    def refuse(*arguments, **keywords):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.gzip, "open", refuse)
    records = MrtArchive(str(tmp_path), prefix="s", compress=True)
    records.write(b"kept" * 10)
    with caplog.at_level(logging.ERROR, logger="peerwarden_runner.archive"):
        records.close()
    names = os.listdir(tmp_path)
    assert len(names) == 1 and names[0].endswith(".mrt")
    assert (tmp_path / names[0]).read_bytes() == b"kept" * 10
    assert "cannot compress" in caplog.text and "No space left" in caplog.text


def test_compressed_at_the_fast_level(tmp_path, monkeypatch):
    levels = []
    real_open = gzip.open

    def spy(path, mode, compresslevel=9):
        levels.append(compresslevel)
        return real_open(path, mode, compresslevel=compresslevel)

    monkeypatch.setattr(archive.gzip, "open", spy)
    records = MrtArchive(str(tmp_path), prefix="s", compress=True)
    records.write(b"x" * 1000)
    records.close()
    assert levels == [archive.COMPRESS_LEVEL] == [1]
