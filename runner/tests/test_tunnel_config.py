"""A session's tunnel section: `check` accepts the two sides and refuses, with FILE:LINE and the key,
what would run without TLS, without authentication, on both or neither leg, or with files it cannot use."""

import pytest

from peerwarden_runner import config
from tunnel_lab import TOKEN, Certificates


@pytest.fixture
def files(tmp_path):
    certs = Certificates(tmp_path)
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    (tmp_path / "empty").write_text("\n")
    return {
        "cert": certs.server[0],
        "key": certs.server[1],
        "ca": str(certs.ca_file),
        "client": certs.client[0],
        "client_key": certs.client[1],
        "token": str(token),
        "empty": str(tmp_path / "empty"),
    }


B = """sessions:
  - name: b
    connect: 127.0.0.2:179
    tunnel:
      listen: 127.0.0.1:8179
      cert_file: {cert}
      key_file: {key}
      token_file: {token}
"""
A = """sessions:
  - name: a
    listen: 127.0.0.5:179
    tunnel:
      connect: wss://127.0.0.1:8179/bgp
      ca_file: {ca}
      token_file: {token}
"""


def load(tmp_path, text, files):
    path = tmp_path / "runner.yml"
    path.write_text(text.format(**files))
    return config.load(str(path))


def refused(tmp_path, text, files):
    with pytest.raises(config.ConfigError) as raised:
        load(tmp_path, text, files)
    return str(raised.value).replace(str(tmp_path / "runner.yml"), "runner.yml")


def test_both_sides_are_accepted_and_normalised(tmp_path, files):
    b = load(tmp_path, B, files)["sessions"][0]
    assert b["listen"] == ("127.0.0.1", 8179) and b["connect"] == ("127.0.0.2", 179)
    assert b["tunnel"]["side"] == "listen" and b["tunnel"]["token"] == TOKEN and b["tunnel"]["ssl"] is not None
    a = load(tmp_path, A, files)["sessions"][0]
    assert a["tunnel"]["connect"] == "wss://127.0.0.1:8179/bgp" and "connect" not in a
    assert a["tunnel"]["backoff_max"] == 30
    client_cert = A.replace("      token_file: {token}\n", "      cert_file: {client}\n      key_file: {client_key}\n")
    assert load(tmp_path, client_cert + "      backoff_max: 1m\n", files)["sessions"][0]["tunnel"]["backoff_max"] == 60
    plain = "sessions:\n  - connect: 127.0.0.2:179\n    tunnel: {{listen: 127.0.0.1:8179, allow_plain: true, "
    plain += "token_file: {token}}}\n"
    assert load(tmp_path, plain, files)["sessions"][0]["tunnel"]["ssl"] is None
    # the listener binds loopback unless told otherwise; the tunnel's default port is not BGP's
    assert load(tmp_path, B.replace("127.0.0.1:8179", "9000"), files)["sessions"][0]["listen"] == ("127.0.0.1", 9000)
    assert load(tmp_path, B.replace("127.0.0.1:8179", "127.0.0.7"), files)["sessions"][0]["listen"] == (
        "127.0.0.7",
        8179,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (B.replace("127.0.0.1:8179", "70000"), "runner.yml:5: sessions[0].tunnel.listen: expected ADDRESS[:PORT], or"),
        (B + "      colour: blue\n", "runner.yml:9: sessions[0].tunnel.colour: unknown key"),
        (B + "      token: x\n", "sessions[0].tunnel.token: unknown key (did you mean 'token_file'?"),
        (B.replace("      cert_file: {cert}\n", ""), "runner.yml:5: sessions[0].tunnel.listen: TLS is required"),
        (
            B.replace("      cert_file: {cert}\n", "") + "      allow_plain: yes\n",
            "sessions[0].tunnel.allow_plain: expected true or false",
        ),
        (
            B.replace("127.0.0.1:8179", "192.0.2.1:8179").replace("      cert_file: {cert}\n", "")
            + "      allow_plain: true\n",
            "sessions[0].tunnel.listen: TLS is required",
        ),
        (
            B.replace("      token_file: {token}\n", ""),
            "runner.yml:4: sessions[0].tunnel: needs token_file and/or ca_file",
        ),
        (A.replace("      token_file: {token}\n", ""), "sessions[0].tunnel: needs token_file and/or cert_file"),
        (A.replace("wss://", "ws://"), "runner.yml:5: sessions[0].tunnel.connect: TLS is required"),
        (
            A.replace("wss://127.0.0.1", "ws://192.0.2.1") + "      allow_plain: true\n",
            "sessions[0].tunnel.connect: TLS is required",
        ),
        (A.replace("wss://", "https://"), "sessions[0].tunnel.connect: expected a wss://HOST:PORT/PATH URL"),
        (A + "      listen: 127.0.0.1:8180\n", "sessions[0].tunnel: needs exactly one of listen"),
        (B + "    listen: 127.0.0.5:179\n", "sessions[0].listen: give either listen or tunnel.listen, not both"),
        (A + "    connect: 127.0.0.2:179\n", "sessions[0].connect: give either connect or tunnel.connect"),
        (A.replace("    listen: 127.0.0.5:179\n", ""), "runner.yml:2: sessions[0].listen: missing"),
        (B + "    gtsm: true\n", "sessions[0].gtsm: GTSM needs a direct TCP leg; the peer leg is the websocket"),
        (A + "    connect_from: 127.0.0.6\n", "sessions[0].connect_from: the router leg is the websocket tunnel"),
        (B.replace("{token}", "/nonexistent/token"), "sessions[0].tunnel.token_file: cannot read the token"),
        (B.replace("{token}", "{empty}"), "the token file is empty"),
        (B.replace("key_file: {key}", "key_file: {ca}"), "sessions[0].tunnel: the certificate, key or CA file cannot"),
        (B.replace("127.0.0.1:8179", "192.0.2.1:8179"), "sessions[0].peer: required when listening on 192.0.2.1"),
        (
            B + "  - name: c\n    listen: 127.0.0.1:8179\n    connect: 127.0.0.2:179\n",
            "sessions[1].listen: 127.0.0.1:8179 is already where sessions[0] listens",
        ),
    ],
)
def test_check_refuses(tmp_path, files, text, expected):
    assert expected in refused(tmp_path, text, files)
