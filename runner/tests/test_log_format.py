"""--log-format json: one JSON object per line with time, level, logger and message."""

import json
import logging

from peerwarden_runner.log_format import JsonFormatter


def test_json_lines():
    record = logging.LogRecord(
        "peerwarden_runner.limit", logging.WARNING, __file__, 1, "limit: %s over %d", ("origin AS64503", 10), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "warning" and entry["logger"] == "peerwarden_runner.limit"
    assert entry["message"] == "limit: origin AS64503 over 10"
    assert entry["time"].endswith("Z") and "T" in entry["time"]


def test_exception_and_newlines_stay_on_one_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed:\n%s", ("two lines",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError" in json.loads(line)["exception"]


def test_log_level_option(tmp_path, capsys):
    import logging

    from peerwarden_runner import cli

    path = tmp_path / "runner.yml"
    path.write_text("sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\n")
    assert cli.main(["--log-level", "warning", "check", "-c", str(path)]) == 0
    assert logging.getLogger().level == logging.WARNING
    cli.main(["--log-level", "info", "check", "-c", str(path)])
    assert logging.getLogger().level == logging.INFO
