"""The `speakers:` section and the speaker command line: precise errors ("file: key: what was
expected"), defaults, and `check -c` on a file."""

import json
import subprocess
import sys

import pytest

from config_problems import problems
from peerwarden_runner import config
from peerwarden_runner.cli import main

BASE = {"name": "edge", "local": "127.0.0.23", "peer": "127.0.0.22:1179", "asn": 65020, "peer_asn": 65022}


def checked(**changes):
    speaker = dict(BASE, **changes)
    return config.check({"speakers": [speaker]}, "runner.yml")["speakers"][0]


def test_defaults(monkeypatch):
    monkeypatch.setenv("PEERWARDEN_API_TOKEN", "from-env")
    speaker = checked(announce=["192.0.2.0/24"])
    assert (speaker["peer"], speaker["port"], speaker["router_id"], speaker["hold_time"]) == (
        "127.0.0.22",
        1179,
        "127.0.0.23",
        90,
    )
    assert speaker["api"] == {"listen": ("127.0.0.1", 8179), "token": "from-env"}
    assert speaker["announce"][0].next_hop == "127.0.0.23" and speaker["reconnect"] == (1.0, 60.0)
    assert checked(api=False)["api"] is None


def test_secrets_come_from_files(tmp_path):
    (tmp_path / "token").write_text("s3cret-token\n")
    (tmp_path / "md5").write_text("md5-key\n")
    speaker = checked(api={"token_file": str(tmp_path / "token")}, md5_file=str(tmp_path / "md5"))
    assert speaker["api"]["token"] == "s3cret-token" and speaker["md5"] == "md5-key"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"asn": 0}, "runner.yml: speakers[0].asn: expected a whole number from 1 to 4294967295, got 0"),
        (
            {"peer_asn": None},
            "runner.yml: speakers[0].peer_asn: missing (expected a whole number from 1 to 4294967295)",
        ),
        ({"asn": "65020"}, "speakers[0].asn: expected a whole number from 1 to 4294967295, got '65020' (a string)"),
        ({"local": "127.0.0.300"}, "speakers[0].local: '127.0.0.300' is not an IP address"),
        ({"peer": "host:x"}, "speakers[0].peer: expected ADDRESS[:PORT] (an IP address), got 'host:x'"),
        ({"local": "::1"}, "speakers[0].local: ::1 and the peer 127.0.0.22 are of different families"),
        ({"hold_time": 2}, "speakers[0].hold_time: 2 is not allowed (expected 0 or 3-65535"),
        ({"router_id": "::1"}, "speakers[0].router_id: '::1' is not an IPv4 address"),
        (
            {"gtsm": "yes"},
            "speakers[0].gtsm: expected true or false (YAML 1.1 yes/no/on/off are not booleans here), got 'yes'",
        ),
        ({"colour": 1}, "speakers[0].colour: unknown key (expected one of announce, api, asn"),
        ({"md5_file": "/nonexistent/md5"}, "speakers[0].md5_file: cannot read /nonexistent/md5: No such file"),
        ({"api": {"listen": "127.0.0.1:99999"}}, "speakers[0].api.listen: '127.0.0.1:99999' is not ADDRESS:PORT"),
        ({"api": {"token": "inline"}}, "speakers[0].api: expected {listen: ADDRESS:PORT, token_file: PATH} or false"),
        ({"announce": ["10.0.0.1/8"]}, "speakers[0].announce[0].prefix: 10.0.0.1/8 has host bits set"),
        ({"announce": [{"prefix": "10.0.0.0/8", "local_pref": 5}]}, "speakers[0].announce[0].local_pref: LOCAL_PREF"),
        ({"reconnect": {"min": 10, "max": 5}}, "speakers[0].reconnect: max 5 is below min 10"),
        (
            {"healthchecks": [{"name": "web", "command": "curl -f http://x", "announce": ["192.0.2.0/24"]}]},
            "speakers[0].healthchecks[0].command: expected a list of strings, the program first (no shell)",
        ),
        (
            {"healthchecks": [{"command": ["true"], "announce": []}]},
            "speakers[0].healthchecks[0].announce: empty (expected the routes to announce while the check passes)",
        ),
        (
            {"healthchecks": [{"command": ["true"], "announce": ["192.0.2.0/24"], "rise": 0}]},
            "speakers[0].healthchecks[0].rise: expected a whole number from 1 to 1000, got 0",
        ),
        (
            {"healthchecks": [{"command": ["true"], "announce": ["192.0.2.0/24"], "interval": -1}]},
            "speakers[0].healthchecks[0].interval: expected a duration: seconds, or 500ms, 90s, 10m, 2h, 1d, got -1",
        ),
    ],
)
def test_each_problem_names_the_key_and_what_was_expected(changes, expected):
    assert expected in problems({"speakers": [dict(BASE, **changes)]})


def test_section_level_problems():
    assert "runner.yml: speakers: expected a list of speakers" in problems({"speakers": {"name": "x"}})
    assert "expected a non-empty list of sessions (or of speakers)" in problems({"speakers": []})
    two = [dict(BASE), dict(BASE, name="edge")]
    assert "runner.yml: speakers[1].name: edge is already used by speakers[0]" in problems({"speakers": two})
    assert "speakers[1].api.listen: ('127.0.0.1', 8179) is already used by speakers[0]" in problems(
        {"speakers": [dict(BASE), dict(BASE, name="other")]}
    )
    two_stdin = [dict(BASE, stdin=True), dict(BASE, name="other", stdin=True, api=False)]
    assert "speakers[1].stdin: the runner's one standard input is already used by speakers[0]" in problems(
        {"speakers": two_stdin}
    )


def test_stdin_and_stdout_options():
    speaker = checked(stdin=True, stdout=True)
    assert (speaker["stdin"], speaker["stdout"], speaker["stdin_errors"]) == (True, True, "fatal")
    assert checked(stdin=True, stdin_errors="skip")["stdin_errors"] == "skip"
    assert "speakers[0].stdin_errors: expected one of fatal, skip" in problems(
        {"speakers": [dict(BASE, stdin=True, stdin_errors="ignore")]}
    )


def test_check_command_on_a_file(tmp_path, capsys):
    good = tmp_path / "good.yml"
    good.write_text(
        json.dumps(
            {
                "speakers": [
                    dict(
                        BASE,
                        healthchecks=[{"name": "web", "command": ["true"], "announce": [{"prefix": "192.0.2.0/24"}]}],
                    )
                ]
            }
        )
    )
    assert main(["check", "-c", str(good)]) == 0
    assert "ok (0 session(s), 1 speaker(s))" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text(json.dumps({"speakers": [dict(BASE, asn=-1)]}))
    assert main(["check", "-c", str(bad)]) == 2
    assert (
        "%s:1: speakers[0].asn: expected a whole number from 1 to 4294967295, got -1" % bad in capsys.readouterr().err
    )


def test_speaker_command_line_errors_name_the_problem():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "peerwarden_runner.cli",
            "speaker",
            "--local",
            "127.0.0.23",
            "--peer",
            "127.0.0.22",
            "--asn",
            "65020",
            "--peer-asn",
            "65022",
            "--hold-time",
            "1",
            "--announce",
            "10.0.0.1/8",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "command line: speakers[0].hold_time: 1 is not allowed" in result.stderr
    assert "command line: speakers[0].announce[0].prefix: 10.0.0.1/8 has host bits set" in result.stderr


@pytest.mark.parametrize(
    "flags, expected",
    [
        ([], {"stdout": False, "stdin": False, "stdin_errors": "fatal"}),
        (["--stdout"], {"stdout": True, "stdin": False, "stdin_errors": "fatal"}),
        (["--print"], {"stdout": True, "stdin": False, "stdin_errors": "fatal"}),  # the old name, an alias
        (["--stdin", "--stdin-errors", "skip"], {"stdout": False, "stdin": True, "stdin_errors": "skip"}),
    ],
)
def test_speaker_command_line_stdio_flags(flags, expected):
    import argparse

    from peerwarden_runner.speaker import cli as speaker_cli

    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    speaker_cli.add_parser(commands)
    arguments = commands.choices["speaker"].parse_args(
        ["--local", "127.0.0.23", "--peer", "127.0.0.22", "--asn", "65020", "--peer-asn", "65022", *flags]
    )
    entry = config.check(speaker_cli.speaker_document(arguments), "command line")["speakers"][0]
    assert {key: entry[key] for key in expected} == expected
