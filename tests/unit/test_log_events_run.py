"""log_events' options: file selection and its errors, and the shape of the result."""

import os
import random
from datetime import datetime

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.common.timestamps import UTC
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs import run as log_events_run
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.run import run_log_events

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LINE = (
    "Nov 21 01:00:00 edge9 rpd[1]: bgp_listen_accept: Connection attempt from unconfigured neighbor: 192.0.2.5+4000\n"
)


def test_file_source_result(tmp_path):
    (tmp_path / "a.log").write_text(LINE * 3)
    os.utime(tmp_path / "a.log", (NOW.timestamp(), NOW.timestamp()))
    result = run_log_events(
        {"source": "file", "path": [str(tmp_path / "*.log")], "inventory_hostname": "loghost"}, now=NOW
    )
    assert [(e["router"], e["count"]) for e in result["events"]] == [("edge9", 3)]
    assert result["sources"] == [
        {
            "name": str(tmp_path / "a.log"),
            "last_modified": "2026-11-22T12:00:00Z",
            "lines_read": 3,
            "not_understood": 0,
            "not_understood_samples": [],
        }
    ]
    assert result["warnings"] == []


def test_platform_option_for_files_restricts_the_search(tmp_path):
    (tmp_path / "a.log").write_text(LINE)
    result = run_log_events({"source": "file", "path": [str(tmp_path / "a.log")], "platform": "bird"}, now=NOW)
    assert result["events"] == []
    with pytest.raises(ValueError, match="unknown platform 'vyos'"):
        run_log_events({"source": "file", "path": [str(tmp_path / "a.log")], "platform": "vyos"}, now=NOW)


@pytest.mark.parametrize(
    "paths,message",
    [
        ([], "source=file needs path"),
        (["{tmp}/nothing-*.log"], "no file matches"),
        (["{tmp}/missing.log"], "does not exist"),
        (["{tmp}"], "is a directory"),
    ],
)
def test_file_errors(tmp_path, paths, message):
    with pytest.raises(ValueError, match=message):
        run_log_events({"source": "file", "path": [p.format(tmp=tmp_path) for p in paths]}, now=NOW)


def test_unreadable_file(tmp_path, monkeypatch):
    (tmp_path / "a.log").write_text(LINE)
    monkeypatch.setattr(log_events_run.os, "access", lambda path, mode: False)  # root reads everything
    with pytest.raises(ValueError, match="not readable by this user: use become"):
        run_log_events({"source": "file", "path": [str(tmp_path / "a.log")]}, now=NOW)


def test_bad_options_are_clear():
    with pytest.raises(ValueError, match="since='soon' is not understood"):
        run_log_events({"source": "file", "path": ["/dev/null"], "since": "soon"}, now=NOW)
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        run_log_events({"source": "file", "path": ["/dev/null"], "timezone": "Mars/Base"}, now=NOW)
    with pytest.raises(ValueError, match="unknown platform None"):
        run_log_events({"source": "device", "host": "127.0.0.1", "username": "u"}, now=NOW)


def test_device_needs_an_address_and_a_user():
    with pytest.raises(DeviceError, match="set ansible_host"):
        Device({"host": None, "username": "u"})
    with pytest.raises(DeviceError, match="set ansible_user"):
        Device({"host": "127.0.0.1"})


# --- compressed and binary files -------------------------------------------------------------------

BIRD = "2026-11-21 0{h}:00:00.000 <WARN> BGP: Unexpected connect from unknown address 192.0.2.{a} (port 4{h}000)\n"


def _compressors():
    import bz2
    import gzip
    import lzma

    import zstandard

    return {
        "gzip": gzip.compress,
        "xz": lzma.compress,
        "bzip2": bz2.compress,
        "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    }


@pytest.mark.parametrize("kind", ["gzip", "xz", "bzip2", "zstd"])
def test_compressed_rotations_are_told_by_their_magic_bytes_not_their_name(tmp_path, kind):
    data = (BIRD.format(h=1, a=1) * 3 + BIRD.format(h=2, a=2)).encode()
    (tmp_path / "bird.log.1").write_bytes(_compressors()[kind](data))  # no telling suffix
    result = run_log_events({"source": "file", "path": [str(tmp_path / "bird.log.*")]}, now=NOW)
    assert {(e["address"], e["count"]) for e in result["events"]} == {("192.0.2.1", 3), ("192.0.2.2", 1)}
    assert result["sources"][0]["compression"] == kind and result["sources"][0]["lines_read"] == 4
    assert result["warnings"] == []


def test_zstd_in_several_frames_is_read_whole(tmp_path):
    import zstandard

    frames = b"".join(zstandard.ZstdCompressor().compress(BIRD.format(h=h, a=h).encode()) for h in (1, 2, 3))
    (tmp_path / "bird.log.zst").write_bytes(frames)
    result = run_log_events({"source": "file", "path": [str(tmp_path / "bird.log.zst")]}, now=NOW)
    assert len(result["events"]) == 3


@pytest.mark.parametrize("kind", ["gzip", "xz", "bzip2", "zstd"])
def test_a_compressed_rotation_cut_short_keeps_what_came_before(tmp_path, kind):
    # real logs vary (ports, addresses): this compresses about as well as they do
    rnd = random.Random(kind)
    data = "".join(
        BIRD.format(h=h % 10, a=rnd.randint(1, 250)).replace("000)", "%d)" % rnd.randint(1024, 65535))
        for h in range(20000)
    ).encode()
    whole = _compressors()[kind](data)
    path = tmp_path / "bird.log.2"
    path.write_bytes(whole[: len(whole) // 2])
    result = run_log_events({"source": "file", "path": [str(path)]}, now=NOW)
    assert 0 < result["sources"][0]["lines_read"] < 20000
    assert result["events"]
    assert (
        result["warnings"] == ["%s: %s" % (path, result["sources"][0]["error"])]
        and "compressed data (%s) is damaged or cut short" % kind in result["warnings"][0]
    )


def test_zstd_without_the_zstandard_package_is_a_warning_naming_the_file(tmp_path, monkeypatch):
    import zstandard

    path = tmp_path / "bird.log.3.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(BIRD.format(h=1, a=1).encode()))
    (tmp_path / "bird.log").write_text(BIRD.format(h=2, a=2))
    monkeypatch.setattr(log_events_run, "zstandard", None)
    result = run_log_events({"source": "file", "path": [str(tmp_path / "bird.log*")]}, now=NOW)
    assert [e["address"] for e in result["events"]] == ["192.0.2.2"]
    assert len(result["warnings"]) == 1
    assert result["warnings"][0].startswith(str(path) + ": zstd-compressed, and the Python package zstandard")
    assert "pip install zstandard" in result["warnings"][0]


@pytest.mark.parametrize(
    "content,says",
    [
        (b"\x00\x01\x02" + BIRD.format(h=1, a=1).encode(), "NUL bytes"),
        (BIRD.format(h=1, a=1).encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04" + b"\x00" * 40, "a zip archive"),
        (b"\x04\x22\x4d\x18" + b"x" * 40, "lz4-compressed"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "a program"),
    ],
)
def test_an_unknown_binary_file_is_a_warning_naming_the_file_not_text(tmp_path, content, says):
    path = tmp_path / "weird.log"
    path.write_bytes(content)
    result = run_log_events({"source": "file", "path": [str(path)]}, now=NOW)
    assert result["events"] == [] and result["stats"]["lines_read"] == 0
    assert result["stats"]["not_understood"] == 0
    assert len(result["warnings"]) == 1 and result["warnings"][0].startswith(str(path) + ": not ")
    assert says in result["warnings"][0]


def test_not_understood_is_counted_per_source_with_samples(tmp_path):
    good = BIRD.format(h=1, a=1)
    cut = "2026-11-21 01:00:00.000 <WARN> BGP: Unexpected connect from unknown address 300.1.2.3 (port 1)\n"
    (tmp_path / "a.log").write_text(good + cut * 7)
    (tmp_path / "b.log").write_text(good)
    result = run_log_events({"source": "file", "path": [str(tmp_path / "*.log")]}, now=NOW)
    a, b = result["sources"]
    assert (a["not_understood"], len(a["not_understood_samples"])) == (7, 5)
    assert a["not_understood_samples"][0] == cut.strip()
    assert (b["not_understood"], b["not_understood_samples"]) == (0, [])
    assert result["stats"]["not_understood"] == 7
