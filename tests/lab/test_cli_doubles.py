"""Drive the JunOS and IOS SSH doubles with netmiko, as the scanner will, and check that they
answer like the real routers: login, prompts, netmiko's setup commands, byte-exact log output,
error wording, and the failure modes tests can switch on."""

from __future__ import annotations

import time

import asyncssh
import pytest
from netmiko import ConnectHandler, NetmikoAuthenticationException, ReadTimeout
from ntc_templates.parse import parse_output

from lab.cli_doubles import DEFAULT_IOS_BUFFER, DEFAULT_JUNOS_MESSAGES, CliDouble
from lab.clients import DEVICE_TYPES, raw_shell
from lab.clients import netmiko_connect as connect

pytestmark = pytest.mark.lab

MESSAGES = (
    "Nov 20 16:58:04  re0-gw2.fin1 rpd[3167]: bgp_listen_accept:4984: NOTIFICATION sent to "
    "2001:e8:124::f1:12:1+51528 (proto): code 6 (Cease) subcode 5 (Connection Rejected), "
    "Reason: Connection attempt from unconfigured neighbor: 2001:e8:124::f1:12:1+51528\n"
    "Mar  9 18:48:53  vrr2 kernel: tcp_auth_ok: Packet from 212.23.38.1:60042 unexpectedly has MD5 digest\n"
)

FW_BGP = "Jul 14 08:00:02  juniper-vc0 last message repeated 3 times\n"

FIREWALL_LOG = [
    {
        "time": "10:28:22",
        "date": "2024-05-02",
        "filter": "pfe",
        "action": "D",
        "interface": "ge-0/0/0.0",
        "protocol": "TCP",
        "src": "10.70.0.2",
        "dst": "10.70.0.1",
        "sport": 51528,
        "dport": 179,
        "length": 60,
    },
    {
        "time": "10:28:25",
        "date": "2024-05-02",
        "filter": "bgp-guard",
        "action": "R",
        "interface": "ae0.0",
        "protocol": "TCP",
        "src": "2001:db8::5",
        "dst": "2001:db8::1",
        "sport": 51528,
        "dport": 179,
        "length": 80,
    },
]

IOS_BUFFER = (
    "022701: Jun 19 03:02:31: %LINEPROTO-5-UPDOWN: Line protocol on Interface "
    "GigabitEthernet2/0/3, changed state to down\n"
    "*Oct 19 15:12:54.764: %TCP-6-BADAUTH: Invalid MD5 digest from 172.16.13.3(15096) "
    "to 172.16.13.1(179) tableid - 0\n"
    "*Oct 28 06:48:06.389: %TCP-6-BADAUTH: No MD5 digest from 10.5.0.1(646) to 10.8.0.1(16178) "
    "tableid - 0\n"
)


def raw_transcript(double: CliDouble, keystrokes: str, prompt: str) -> bytes:
    """Everything the device sends, unprocessed: the greeting, then the answer to keystrokes,
    read until the prompt appears a second time (netmiko would hide the echo and the CRs)."""
    with raw_shell(double) as channel:
        received = b""
        sent = False
        deadline = time.monotonic() + 5
        while received.count(prompt.encode()) < 2 and time.monotonic() < deadline:
            received += channel.recv(65536)
            if not sent and received.endswith(prompt.encode()):
                channel.send(keystrokes)
                sent = True
        return received


def transcript_until(double: CliDouble, keystrokes: str, first_prompt: str, end: str) -> bytes:
    """Like raw_transcript, but types once the greeting ends with first_prompt and reads
    until everything received ends with end."""
    with raw_shell(double) as channel:
        received = b""
        sent = False
        while not (sent and received.endswith(end.encode())):
            received += channel.recv(65536)
            if not sent and received.endswith(first_prompt.encode()):
                channel.send(keystrokes)
                sent = True
        return received


# --- JunOS -------------------------------------------------------------------------------------


def test_junos_login_takes_netmikos_setup_commands_and_serves_default_messages(junos_double):
    double = junos_double()
    with connect(double) as conn:
        assert conn.find_prompt() == "netops@r1>"
        assert conn.send_command("show log messages") == DEFAULT_JUNOS_MESSAGES
    assert double.commands[:3] == [
        "set cli screen-width 511",
        "set cli complete-on-space off",
        "set cli screen-length 0",
    ]


def test_default_junos_messages_keep_the_real_lines_byte_exact():
    real_lines = [
        "Jul 14 08:00:00 juniper-vc0 newsyslog[36050]: logfile turned over due to size>128K",
        "Jul 14 08:00:01  juniper-vc0 chassism[1165]: IFCM: no handler for command subtype 179",
        "Jul 14 08:00:02  juniper-vc0 last message repeated 3 times",
        MESSAGES.splitlines()[0],
        "Jul 20 21:23:00 vmx01 /kernel: tcp_auth_ok: Packet from 192.168.140.254:61664 wrong MD5 digest",
        MESSAGES.splitlines()[1],
        "Feb 11 15:33:41 10.0.4.10 rpd[1402]: bgp_listen_accept: accept(0.0.0.0+179): Too many open files in system",
    ]
    lines = DEFAULT_JUNOS_MESSAGES.splitlines()
    assert all(line in lines for line in real_lines)
    assert len(lines) > len(real_lines)  # unrelated lines are mixed in


def test_junos_show_log_prints_stored_files_byte_exact(junos_double):
    double = junos_double(logs={"messages": MESSAGES, "fw-bgp": FW_BGP})
    with connect(double) as conn:
        assert conn.send_command("show log messages") == MESSAGES
        assert conn.send_command("show log fw-bgp") == FW_BGP
        assert conn.send_command("show log no-such-file") == ("error: could not resolve file: no-such-file\n")


def test_junos_show_firewall_log_brief_and_detail(junos_double):
    double = junos_double(firewall_log=FIREWALL_LOG)
    with connect(double) as conn:
        brief = conn.send_command("show firewall log")
        detail = conn.send_command("show firewall log detail")
    assert brief == (
        "Log :\n"
        "Time      Filter    Action Interface     Protocol        Src Addr                         Dest Addr\n"
        "10:28:22  pfe       D      ge-0/0/0.0    TCP             10.70.0.2                         10.70.0.1\n"
        "10:28:25  bgp-guard R      ae0.0         TCP             2001:db8::5                       2001:db8::1\n"
    )
    assert detail == (
        "Time of Log: 2024-05-02 10:28:22 UTC, Filter: pfe, Filter action: discard, "
        "Name of interface: ge-0/0/0.0\n"
        "Name of protocol: TCP, Packet Length: 60, Source address: 10.70.0.2:51528, "
        "Destination address: 10.70.0.1:179\n"
        "Time of Log: 2024-05-02 10:28:25 UTC, Filter: bgp-guard, Filter action: reject, "
        "Name of interface: ae0.0\n"
        "Name of protocol: TCP, Packet Length: 80, Source address: 2001:db8::5:51528, "
        "Destination address: 2001:db8::1:179\n"
    )


def test_junos_unknown_commands_get_the_caret_and_junos_wording(junos_double):
    with connect(junos_double()) as conn:
        # The caret sits under the offending word, counted from the start of the prompt.
        assert conn.send_command("show bogus") == " " * 16 + "^\nsyntax error, expecting <command>.\n"
        assert conn.send_command("bogus") == " " * 11 + "^\nunknown command.\n"


def test_junos_show_version_and_configuration_mode(junos_double):
    with connect(junos_double()) as conn:
        version = conn.send_command("show version")
        conn.config_mode()
        assert conn.check_config_mode()
        assert conn.find_prompt() == "netops@r1#"
        conn.exit_config_mode()
        assert not conn.check_config_mode()
    assert version.splitlines()[:3] == ["Hostname: r1", "Model: mx204", "Junos: 22.4R3.25"]


def test_junos_root_lands_in_the_shell_and_netmiko_starts_the_cli(junos_double):
    double = junos_double(username="root")
    with connect(double) as conn:
        assert conn.find_prompt() == "root@r1>"
    assert double.commands[0] == "cli"


def test_junos_session_echoes_commands_and_ends_lines_with_crlf(junos_double):
    transcript = raw_transcript(junos_double(), "show version\n", prompt="netops@r1> ")
    assert transcript.endswith(
        b"netops@r1> show version \r\n"
        b"Hostname: r1\r\nModel: mx204\r\nJunos: 22.4R3.25\r\n"
        b"JUNOS OS Kernel 64-bit  [20231031.0f0e5a6_builder_stable_12_224]\r\n"
        b"\r\nnetops@r1> "
    )


# --- IOS ---------------------------------------------------------------------------------------


def test_ios_login_takes_netmikos_setup_commands_and_stays_privileged(ios_double):
    double = ios_double()
    with connect(double) as conn:
        assert conn.find_prompt() == "r1#"
        assert conn.send_command("enable") == ""
        assert conn.find_prompt() == "r1#"
        default_entries = parse_output(
            platform="cisco_ios", command="show logging", data=conn.send_command("show logging")
        )
    assert double.commands[:2] == ["terminal width 511", "terminal length 0"]
    assert len(default_entries) == len(DEFAULT_IOS_BUFFER.splitlines())


def test_ios_show_logging_has_the_real_header_and_parses_with_ntc_templates(ios_double):
    with connect(ios_double(show_logging=IOS_BUFFER)) as conn:
        output = conn.send_command("show logging")
    assert output.startswith("Syslog logging: enabled (0 messages dropped, 34 messages rate-limited")
    # netmiko strips the prompt, and with it the buffer's last line end.
    assert output.endswith("Log Buffer (16384 bytes):\n\n" + IOS_BUFFER.rstrip("\n"))
    entries = parse_output(platform="cisco_ios", command="show logging", data=output)
    assert [(entry["facility"], entry["mnemonic"]) for entry in entries] == [
        ("LINEPROTO", "UPDOWN"),
        ("TCP", "BADAUTH"),
        ("TCP", "BADAUTH"),
    ]
    assert entries[1]["message"] == ["Invalid MD5 digest from 172.16.13.3(15096) to 172.16.13.1(179) tableid - 0"]


def test_ios_unknown_and_incomplete_commands_get_ios_wording(ios_double):
    with connect(ios_double()) as conn:
        assert conn.send_command("show bogus") == (" " * 8 + "^\n% Invalid input detected at '^' marker.\n")
        assert conn.send_command("show") == "% Incomplete command.\n"
        assert "r1 uptime is" in conn.send_command("show version")


def test_ios_session_echoes_commands_and_ends_lines_with_crlf(ios_double):
    transcript = raw_transcript(ios_double(), "show bogus\n", prompt="r1#")
    assert transcript == (b"\r\nr1#show bogus\r\n        ^\r\n% Invalid input detected at '^' marker.\r\n\r\nr1#")


# --- Both platforms ----------------------------------------------------------------------------


@pytest.fixture(params=["junos", "ios"])
def platform(request):
    return request.param


def test_wrong_password_is_an_authentication_failure(platform):
    with CliDouble(platform) as double:
        with pytest.raises(NetmikoAuthenticationException):
            ConnectHandler(
                device_type=DEVICE_TYPES[platform],
                host=double.host,
                port=double.port,
                username=double.username,
                password="wrong",
            )
        assert double.commands == []


def test_authorized_key_logs_in_without_password(platform, tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(key_file)
    with CliDouble(platform, authorized_key=key.export_public_key().decode()) as double:
        # As the collection logs in with ansible_ssh_private_key_file.
        with ConnectHandler(
            device_type=DEVICE_TYPES[platform],
            host=double.host,
            port=double.port,
            username=double.username,
            use_keys=True,
            key_file=str(key_file),
        ) as conn:
            assert conn.find_prompt() in ("netops@r1>", "r1#")


def test_fail_after_login_accepts_auth_then_drops_the_session(platform):
    with CliDouble(platform, fail_after_login=True) as double:
        # paramiko never reports the closed channel to netmiko's reads, so netmiko either
        # waits out its read timeout (kept short here) or fails on its next write.
        with pytest.raises((ReadTimeout, OSError)):
            ConnectHandler(
                device_type=DEVICE_TYPES[platform],
                host=double.host,
                port=double.port,
                username=double.username,
                password=double.password,
                read_timeout_override=1,
            )
        assert double.commands == []


def test_slow_show_commands_time_out_while_setup_commands_do_not(platform):
    with CliDouble(platform, slow_command_seconds=1) as double, connect(double) as conn, pytest.raises(ReadTimeout):
        conn.send_command("show version", read_timeout=0.3)


# --- IOS privilege levels and JunOS permissions ------------------------------------------------


def test_ios_user_exec_refuses_show_logging_like_ios(ios_double):
    double = ios_double(privilege=1, enable_secret="s3cret")
    with connect(double) as conn:
        assert conn.find_prompt() == "r1>"
        assert not conn.check_enable_mode()
        # The caret sits under "logging", the first word user EXEC does not know.
        assert conn.send_command("show logging") == (" " * 8 + "^\n% Invalid input detected at '^' marker.\n")
        assert conn.send_command("show privilege") == "Current privilege level is 1"
    assert double.commands[:2] == ["terminal width 511", "terminal length 0"]


def test_ios_enable_with_the_secret_then_show_logging_works(ios_double):
    double = ios_double(privilege=1, enable_secret="s3cret", show_logging=IOS_BUFFER)
    with connect(double, secret="s3cret") as conn:
        conn.enable()
        assert conn.find_prompt() == "r1#"
        output = conn.send_command("show logging")
        assert output.endswith(IOS_BUFFER.rstrip("\n"))
        conn.exit_enable_mode()
        assert conn.find_prompt() == "r1>"
    # The secret was typed but never recorded nor echoed.
    assert "s3cret" not in double.commands
    assert "enable" in double.commands


def test_ios_wrong_enable_secret_fails_and_stays_at_user_exec(ios_double):
    double = ios_double(privilege=1, enable_secret="s3cret")
    with connect(double, secret="wrong", read_timeout_override=1) as conn:
        # IOS asks "Password:" again instead of a prompt, so netmiko waits for the prompt
        # until its read timeout (netmiko 4.8 raises ReadTimeout; older ones ValueError).
        with pytest.raises((ValueError, ReadTimeout)):
            conn.enable()
    transcript = transcript_until(double, "enable\nwrong\nwrong\nwrong\n", "r1>", "% Bad secrets\r\n\r\nr1>")
    assert transcript.endswith(b"r1>enable\r\nPassword: \r\nPassword: \r\nPassword: \r\n% Bad secrets\r\n\r\nr1>")


def test_ios_aaa_enable_prints_access_denied(ios_double):
    double = ios_double(privilege=1, enable_secret="s3cret", enable_auth="aaa")
    transcript = transcript_until(double, "enable\nwrong\ns3cret\n", "r1>", "r1#")
    assert transcript.endswith(b"r1>enable\r\nPassword: \r\n% Access denied\r\nPassword: \r\nr1#")


def test_ios_enable_without_a_configured_secret(ios_double):
    with connect(ios_double(privilege=1)) as conn:
        assert conn.send_command("enable") == "% No password set"
        assert conn.find_prompt() == "r1>"


def test_ios_command_authorization_refusal(ios_double):
    double = ios_double(authorization_denied=[r"^show logging"])
    with connect(double) as conn:
        assert conn.send_command("show logging") == "Command authorization failed."
        assert "uptime is" in conn.send_command("show version")
    other = ios_double(authorization_denied=[r"^show logging"], authorization_message="% Authorization failed.")
    with connect(other) as conn:
        assert conn.send_command("show logging") == "% Authorization failed."


def test_junos_permission_denied_and_unknown_command(junos_double):
    double = junos_double(denied_commands=[r"^show log "])
    with connect(double) as conn:
        assert conn.send_command("show log messages") == "error: permission denied\n"
        assert conn.send_command("frobnicate") == " " * 11 + "^\nunknown command.\n"
        assert conn.send_command("show version").startswith("Hostname: r1")
