"""`peerwarden-runner check`: a good configuration is normalised; every problem in a bad one is
reported with the file, the key and what was expected, all at once."""

import pytest

from peerwarden_runner import cli, config

GOOD = """
sessions:
  - name: rs1
    listen: 127.0.0.5:179
    connect: "[2001:db8::2]:1179"
    connect_from: 127.0.0.6
    md5: secret
    peer: 127.0.0.3
    gtsm: peer
    to_router: [rpki, limit]
rpki:
  file: /var/lib/rpki/local-vrps.json
  caches:
    - {host: 127.0.0.1, port: 3323, preference: 2}
    - {host: 127.0.0.2, preference: 1}
limit:
  max_per_origin: 1000
  max_per_block: 64/16
  max_per_block_ipv6: 64/32
archive:
  dir: /var/lib/peerwarden/archive
"""


def write(tmp_path, text):
    path = tmp_path / "runner.yml"
    path.write_text(text)
    return str(path)


def test_good_config_is_normalised(tmp_path):
    settings = config.load(write(tmp_path, GOOD))
    session = settings["sessions"][0]
    assert session["listen"] == ("127.0.0.5", 179) and session["connect"] == ("2001:db8::2", 1179)
    assert session["gtsm"] == ("peer",) and session["to_router"] == ["rpki", "limit"]
    assert [cache["host"] for cache in settings["rpki"]["caches"]] == ["127.0.0.2", "127.0.0.1"]
    assert settings["rpki"]["caches"][0]["port"] == 3323 and settings["rpki"]["file"].endswith("local-vrps.json")
    assert settings["limit"]["max_per_block"] == (64, 16) and settings["limit"]["max_length"] == (24, 48)
    assert settings["limit"]["max_per_block_ipv6"] == (64, 32)
    assert settings["archive"]["compress"] is True
    assert settings["metrics"] == {"listen": ("127.0.0.1", 9179)}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("sessions: []", "sessions: expected a non-empty list"),
        ("sessions: [{listen: 127.0.0.5}]", "sessions[0].connect: missing (expected ADDRESS[:PORT]"),
        (
            "sessions: [{listen: 'not-an-ip', connect: 127.0.0.2}]",
            "sessions[0].listen: expected ADDRESS[:PORT] (an IP address), got 'not-an-ip'",
        ),
        ("sessions: [{listen: 127.0.0.5:70000, connect: 127.0.0.2}]", "port 70000 out of range"),
        ("sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, md5: x}]", "sessions[0].peer: TCP-MD5 (md5) needs"),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, gtsm: sometimes}]",
            "sessions[0].gtsm: expected one of true, false, peer, router, both, got 'sometimes'",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, gtsm: 1}]",
            "sessions[0].gtsm: expected one of true, false",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, to_router: [rpki]}]",
            "uses the stage 'rpki', which has no top-level 'rpki:' section",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, to_router: [magic]}]",
            "sessions[0].to_router[0]: expected a stage name (rpki, aspa, limit",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_length: 24}",
            "limit.max_length: expected IPv4/IPv6 prefix lengths, like 24/48, got 24",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_length: 33/48}",
            "limit.max_length: 33/48 is not a prefix length (IPv4 0-32 / IPv6 0-128)",
        ),
        ("sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_length: 24/129}", "is not a prefix length"),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {min_length: 25/16}",
            "limit.min_length: min_length 25/16 is longer than max_length 24/48: no prefix would pass",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_block: 64/40}",
            "limit.max_per_block: expected COUNT/LENGTH with COUNT >= 1 and an IPv4 LENGTH 1-32, got '64/40'",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_block_ipv6: 64/129}",
            "limit.max_per_block_ipv6: expected COUNT/LENGTH with COUNT >= 1 and an IPv6 LENGTH 1-128, got '64/129'",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_block_ipv6: 0/32}",
            "limit.max_per_block_ipv6: expected COUNT/LENGTH with COUNT >= 1",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_block_ipv6: 64}",
            "limit.max_per_block_ipv6: expected COUNT/LENGTH (IPv6), like 64/32, got 64",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_block_v6: 64/32}",
            "did you mean 'max_per_block_ipv6'?",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nlimit: {max_per_origin: -3}",
            "limit.max_per_origin: expected a whole number >= 1, got -3",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nrpki: {}",
            "rpki: expected 'file: PATH' (a VRP JSON file) or 'caches: [{host, port, preference}]'",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nrpki: {caches: [{port: 3323}]}",
            "rpki.caches[0].host: missing (expected an IP address)",
        ),
        ("sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nmetrics: {listen: 'localhost:9179'}", "metrics.listen:"),
        ("sessions: [{listen: 127.0.0.5, connect: 127.0.0.2}]\nsesions: []", "sesions: unknown key"),
        (
            "sessions: [{listen: 192.0.2.5, connect: 127.0.0.2}]",
            "sessions[0].peer: required when listening on 192.0.2.5 (not loopback)",
        ),
        (
            "sessions: [{listen: 127.0.0.5, connect: 127.0.0.2, peer: bird}]",
            "sessions[0].peer: expected an IP address, got 'bird'",
        ),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("sessions: [\n  {listen: 127.0.0.5\n", "not YAML"),
    ],
)
def test_problems_name_file_key_and_expectation(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    assert expected in str(raised.value)
    assert str(raised.value).startswith(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "sessions: [{listen: 127.0.0.5}, {connect: 127.0.0.2}]\nlimit: {max_length: x}\n")
    with pytest.raises(config.ConfigError) as raised:
        config.load(path)
    lines = str(raised.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(path + ":") for line in lines)


def test_yaml_error_says_where(tmp_path):
    path = write(tmp_path, "sessions:\n  - listen: 127.0.0.5\n    connect: [\n")
    with pytest.raises(config.ConfigError, match=r"runner.yml:4: column \d+: not YAML"):
        config.load(path)


def test_check_command_exit_codes(tmp_path, capsys):
    assert cli.main(["check", "-c", write(tmp_path, GOOD)]) == 0
    assert "ok (1 session(s), 0 speaker(s))" in capsys.readouterr().out
    assert cli.main(["check", "-c", write(tmp_path, "sessions: [{listen: 127.0.0.5}]")]) == 2
    assert "sessions[0].connect: missing" in capsys.readouterr().err
    assert cli.main(["check", "-c", str(tmp_path / "absent.yml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_proxy_command_line_takes_block_limits_of_both_families(monkeypatch, capsys):
    served = []

    async def serve(settings):
        served.append(settings)
        return 0

    monkeypatch.setattr(cli, "serve", serve)
    quick = ["proxy", "--listen", "127.0.0.5:1179", "--connect", "127.0.0.2", "--max-per-block", "64/16"]
    assert cli.main(quick + ["--max-per-block-ipv6", "32/32"]) == 0
    assert served[0]["limit"]["max_per_block"] == (64, 16) and served[0]["limit"]["max_per_block_ipv6"] == (32, 32)
    assert served[0]["sessions"][0]["to_router"] == ["limit"]
    assert cli.main(quick + ["--max-per-block-ipv6", "32/130"]) == 2
    assert "limit.max_per_block_ipv6: expected COUNT/LENGTH with COUNT >= 1 and an IPv6 LENGTH 1-128" in (
        capsys.readouterr().err
    )
