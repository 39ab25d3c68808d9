"""log_events' options: file selection and its errors, and the shape of the result."""

import os
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
        {"name": str(tmp_path / "a.log"), "last_modified": "2026-11-22T12:00:00Z", "lines_read": 3}
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
