"""`peerwarden-runner check` on configurations with the new stages: every problem on its own line,
naming the file and the key; exit status 2. And --archive-format on the command line."""

import sys

from peerwarden_runner import cli

BROKEN = """
sessions:
  - {name: edge1, listen: "127.0.0.1:1179", connect: "127.0.0.2:179", to_router: [filter, exec, nosuch]}
filter:
  rules:
    - {name: bad-regex, match: {as_path: "_(64500_"}, action: drop}
    - {name: bad-action, match: {prefix: 10.0.0.0/8}, action: reject}
    - {name: bad-prefix, match: {prefix: 10.0.0.0/33}, action: drop}
exec:
  program: [/nonexistent/tagger]
  mode: filter
archive: {dir: /tmp/unused, format: pcap}
"""


def test_check_lists_every_problem(tmp_path, capsys):
    path = tmp_path / "runner.yml"
    path.write_text(BROKEN)
    assert cli.main(["check", "-c", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    expected = [
        "sessions[0].to_router[2]: expected a stage name (rpki, aspa, limit, filter, alert, exec) or a named",
        "filter.rules[1].action: expected one of drop, tag, accept, got 'reject'",
        "exec.program: '/nonexistent/tagger' is not an executable",
        "archive.format: expected one of jsonl, mrt, both, got 'pcap'",
    ]
    for text in expected:
        assert any(line.startswith(str(path) + ":") and text in line for line in lines), (text, lines)
    assert len(lines) == len(expected)
    # the filter section's meaning is checked once its structure is right (the schema refused 'reject')
    path.write_text(BROKEN.replace("reject", "accept"))
    assert cli.main(["check", "-c", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    for text in ("filter.rules[0].match.as_path: '_(64500_'", "filter.rules[2].match.prefix: '10.0.0.0/33'"):
        assert any(line.startswith(str(path) + ":") and text in line for line in lines), (text, lines)


def test_check_accepts_the_new_stages(tmp_path, capsys):
    path = tmp_path / "runner.yml"
    path.write_text(
        BROKEN.replace(", nosuch", "")
        .replace("_(64500_", "_64500_")
        .replace("reject", "accept")
        .replace("/33", "/8")
        .replace("/nonexistent/tagger", sys.executable)
        .replace("pcap", "both")
    )
    assert cli.main(["check", "-c", str(path)]) == 0
    assert "ok (1 session(s), 0 speaker(s))" in capsys.readouterr().out


def test_archive_format_on_the_command_line(capsys):
    arguments = [
        "proxy",
        "--listen",
        "127.0.0.1:1179",
        "--connect",
        "127.0.0.2",
        "--archive",
        "/tmp/unused",
        "--archive-format",
        "pcap",
    ]
    assert cli.main(arguments) == 2
    assert "command line: archive.format: expected one of jsonl, mrt, both, got 'pcap'" in capsys.readouterr().err
