"""The configuration's schema: every defect a security test found in `check` is refused, with
FILE:LINE, the key and what was expected; sizes and durations are parsed; `peerwarden-runner schema`
prints the schema; and no document makes the loader raise anything but ConfigError."""

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerwarden_runner import cli, config, schema

SESSION = "sessions:\n  - name: rs1\n    listen: 127.0.0.5:179\n    connect: 127.0.0.2:179\n"


def refused(tmp_path, text):
    path = tmp_path / "runner.yml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as raised:
        config.load(str(path))
    return str(raised.value).replace(str(path), "runner.yml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a typo silently disabled every stage
        (
            SESSION + "    to_routers: [rpki, limit]\n",
            "runner.yml:5: sessions[0].to_routers: unknown key (did you mean 'to_router'?",
        ),
        (SESSION + "    colour: blue\n", "runner.yml:5: sessions[0].colour: unknown key (expected one of"),
        # a key renamed since an earlier release points to its new name
        (
            "speakers:\n  - name: s\n    peer: 127.0.0.2\n    asn: 65000\n    peer_asn: 65001\n    print: true\n",
            "runner.yml:6: speakers[0].print: unknown key (did you mean 'stdout'?",
        ),
        (
            SESSION + "rpki:\n  file: /x.json\n  expiry: 10m\n",
            "runner.yml:7: rpki.expiry: unknown key (did you mean 'expire'?",
        ),
        (
            SESSION + "limit:\n  max_prefix: 10\n",
            "runner.yml:6: limit.max_prefix: unknown key (did you mean 'max_prefixes'?",
        ),
        (
            SESSION + "archive:\n  dir: /tmp\n  rotate_byte: 1G\n",
            "runner.yml:7: archive.rotate_byte: unknown key (did you mean 'rotate_bytes'?",
        ),
        (SESSION + "metrics:\n  listen: 127.0.0.1:9179\n  port: 1\n", "runner.yml:7: metrics.port: unknown key"),
        # values that crashed check with a traceback, or were silently wrong
        (SESSION + "rpki:\n  file: /x.json\n  expire: soon\n", "runner.yml:7: rpki.expire: expected a duration"),
        (
            SESSION + "archive:\n  dir: /tmp\n  rotate_bytes: lots\n",
            "runner.yml:7: archive.rotate_bytes: expected a size",
        ),
        (
            SESSION + 'archive:\n  dir: /tmp\n  compress: "no"\n',
            "runner.yml:7: archive.compress: expected true or false",
        ),
        (SESSION + 'archive:\n  dir: /tmp\n  compress: "false"\n', "archive.compress: expected true or false"),
        (SESSION + "archive:\n  dir: /tmp\n  compress: no\n", "got 'no' (a string)"),  # YAML 1.1's no is no boolean
        (SESSION + "limit:\n  cease: yes\n", "runner.yml:6: limit.cease: expected true or false"),
        (
            SESSION + "limit:\n  max_prefixes: true\n",
            "runner.yml:6: limit.max_prefixes: expected a whole number >= 1, got true",
        ),
        (
            SESSION + "rpki:\n  caches: [{host: 127.0.0.1, port: 70000}]\n",
            "runner.yml:6: rpki.caches[0].port: expected a whole number from 1 to 65535",
        ),
        (SESSION + "    open_timeout: 0\n", "runner.yml:5: sessions[0].open_timeout: expected a duration"),
        # duplicates
        (
            SESSION + "  - name: rs1\n    listen: 127.0.0.6:179\n    connect: 127.0.0.2:179\n",
            "runner.yml:5: sessions[1].name: 'rs1' is already the name of sessions[0]",
        ),
        (
            SESSION + "  - name: rs2\n    listen: 127.0.0.5\n    connect: 127.0.0.2\n",
            "runner.yml:6: sessions[1].listen: 127.0.0.5:179 is already where sessions[0] listens",
        ),
        (SESSION + "    name: again\n", "runner.yml:5: column 5: not YAML: the key 'name' is given twice"),
        # stranger-proofing needs the peer off loopback
        (
            SESSION.replace("127.0.0.5:179", "192.0.2.5:179"),
            "runner.yml:2: sessions[0].peer: required when listening on 192.0.2.5",
        ),
        (
            SESSION + "    to_router: [rpki, limt]\n",
            "sessions[0].to_router[1]: expected one of rpki, aspa, limit, filter, alert, exec, got 'limt' (a string) "
            "(did you mean 'limit'?)",
        ),
    ],
)
def test_every_defect_is_refused_with_file_line_and_key(tmp_path, text, expected):
    assert expected in refused(tmp_path, text)


def test_check_exits_non_zero_with_file_line(tmp_path, capsys):
    path = tmp_path / "runner.yml"
    path.write_text(SESSION + "    to_routers: [rpki]\n")
    assert cli.main(["check", "-c", str(path)]) == 2
    assert "%s:5: sessions[0].to_routers: unknown key (did you mean 'to_router'?" % path in capsys.readouterr().err


def test_sizes_and_durations_are_parsed(tmp_path):
    path = tmp_path / "runner.yml"
    path.write_text(
        SESSION + "    open_timeout: 10s\narchive:\n  dir: /tmp\n  rotate_bytes: 64MiB\n  rotate_seconds: 1h\n"
        "rpki:\n  file: /x.json\n  expire: 2h\n"
    )
    settings_ = config.load(str(path))
    assert settings_["archive"]["rotate_bytes"] == 64 * 2**20 and settings_["archive"]["rotate_seconds"] == 3600
    assert settings_["rpki"]["expire"] == 7200 and settings_["sessions"][0]["open_timeout"] == 10
    assert schema.size("1G") == 10**9 and schema.size("1GiB") == 2**30 and schema.duration("500ms") == 0.5
    with pytest.raises(ValueError, match="not a size"):
        schema.size("1 gallon")


def test_schema_command_prints_the_schema(capsys):
    assert cli.main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$schema"].endswith("2020-12/schema") and printed["additionalProperties"] is False
    for section in ("sessions", "speakers", "rpki", "limit", "filter", "alert", "exec", "archive", "metrics"):
        assert section in printed["properties"]
    # each stage contributes its own part
    assert printed["properties"]["limit"]["properties"]["cease"]["type"] == "boolean"


# ---- fuzz: whatever the document, ConfigError or a configuration, never a traceback ----

KEYS = sorted(config.schema()["properties"]) + ["listen", "connect", "peer", "name", "to_router", "file", "dir"]
KEYS += ["role", "rtr", "caches", "host", "version"]  # aspa over RTR: the check between two sections
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.sampled_from(["127.0.0.1", "127.0.0.1:179", "::1", "[::1]:70000", "no", "1G", "10m", "rpki", "", "x" * 300]),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_fuzz_check_never_raises_anything_but_config_error(document):
    try:
        config.check(document, "fuzz.yml")
    except config.ConfigError as error:
        assert "internal error" not in str(error)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200) | documents.map(lambda d: yaml.safe_dump(d, default_flow_style=True)))
def test_fuzz_load_never_raises_anything_but_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "runner.yml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        config.load(str(path))
    except config.ConfigError as error:
        assert "internal error" not in str(error)


def test_listeners_reachable_from_other_hosts_are_warned(tmp_path, capsys):
    path = tmp_path / "runner.yml"
    path.write_text(SESSION + "metrics:\n  listen: 0.0.0.0:9179\n")
    assert cli.main(["check", "-c", str(path)]) == 0
    assert "warning: metrics.listen: 0.0.0.0:9179 is reachable from other hosts" in capsys.readouterr().err
