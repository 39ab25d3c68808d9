"""SSH CLI test doubles of a Juniper JunOS and a Cisco IOS router, driven by netmiko in lab tests.

No real JunOS or IOS can run in the lab, yet the log scanner has to be tested against what
netmiko really meets on a router: the SSH login, the prompts, the commands netmiko sends on
connect, the echo of every typed command, the CRLF line endings of a PTY and the exact output
of the log commands.  ``CliDouble`` reproduces that over real SSH (asyncssh), listening on
127.0.0.1 only.

The pytest fixtures ``junos_double`` and ``ios_double`` are factories: each call starts one
double with the given contents and returns it; every double is stopped at teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncssh
import pytest

from lab.ssh_server import LOOPBACK, SshServerInThread, drop_due

_FIXTURES = Path(__file__).with_name("fixtures")


def _fixture_text(name: str) -> str:
    # Decoded from bytes rather than read as text so that no newline translation touches it.
    return (_FIXTURES / name).read_bytes().decode("utf-8")


#: Demo ``show log messages`` of a JunOS router: real log lines (a BGP connection attempt from
#: an unconfigured neighbor, TCP-MD5 failures, a full file table on the BGP listener) among
#: unrelated ones.  Tests that assert exact results pass their own ``logs``.
DEFAULT_JUNOS_MESSAGES = _fixture_text("junos_messages.log")

#: Demo IOS logging buffer (what ``show logging`` prints after its header), real lines
#: including TCP-6-BADAUTH.  Tests that assert exact results pass their own ``show_logging``.
DEFAULT_IOS_BUFFER = _fixture_text("ios_logging_buffer.log")

_IOS_SHOW_LOGGING_HEADER = _fixture_text("ios_show_logging_header.txt")

#: Demo IOS running config (hostname r1, an archive, BGP with RPKI servers, an ACL and a
#: route-map), parsed by the IOS double's config model; tests pass their own running_config.
DEFAULT_IOS_RUNNING_CONFIG = _fixture_text("ios_running_config.txt")


def _with_final_newline(text: str) -> str:
    """Log files and buffers end their last line; keep that true for text passed in without it."""
    return text if not text or text.endswith("\n") else text + "\n"


# --- JunOS firewall log ----------------------------------------------------------------------

_FIREWALL_ACTIONS = {"A": "accept", "D": "discard", "R": "reject"}

_FIREWALL_LOG_HEADER = (
    "Log :\nTime      Filter    Action Interface     Protocol        Src Addr                         Dest Addr\n"
)


@dataclass(frozen=True)
class FirewallLogEntry:
    """One packet logged by a JunOS firewall filter term with the ``log`` action.

    The fields are the keys of the dicts tests pass as ``firewall_log``.
    """

    time: str  # HH:MM:SS
    date: str  # YYYY-MM-DD; only ``show firewall log detail`` shows it
    filter: str
    action: str  # A (accept), D (discard) or R (reject)
    interface: str
    protocol: str
    src: str
    dst: str
    sport: int
    dport: int
    length: int

    def __post_init__(self) -> None:
        if self.action not in _FIREWALL_ACTIONS:
            raise ValueError(f"firewall log action must be A, D or R, not {self.action!r}")

    def brief(self) -> str:
        """The entry's row in ``show firewall log`` (which shows no ports)."""
        # The widths reproduce the real table (whose rows sit one column right of the
        # "Dest Addr" heading); the explicit spaces keep an overlong value from merging
        # into the next column.
        return (
            f"{self.time:<9} {self.filter:<9} {self.action:<6} {self.interface:<13} "
            f"{self.protocol:<15} {self.src:<33} {self.dst}\n"
        )

    def detail(self) -> str:
        """The entry's two lines in ``show firewall log detail``."""
        # JunOS joins address and port with ':' even for IPv6, without brackets.
        return (
            f"Time of Log: {self.date} {self.time} UTC, Filter: {self.filter}, "
            f"Filter action: {_FIREWALL_ACTIONS[self.action]}, Name of interface: {self.interface}\n"
            f"Name of protocol: {self.protocol}, Packet Length: {self.length}, "
            f"Source address: {self.src}:{self.sport}, "
            f"Destination address: {self.dst}:{self.dport}\n"
        )


# --- Command lines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    """A word of a typed command line and the column it starts at, for the error caret."""

    text: str
    column: int


def _split_words(line: str) -> list[_Word]:
    return [_Word(match.group(), match.start()) for match in re.finditer(r"\S+", line)]


#: A command the CLI knows: its words, where ``<name>`` stands for any one word that is passed
#: to the handler, and the handler, which returns the text the command prints.
_Route = tuple[tuple[str, ...], Callable[..., str]]


@dataclass(frozen=True)
class _Resolution:
    """The command typed words spell, or how far the CLI understood them."""

    handler: Callable[..., str] | None
    arguments: list[str]
    understood: int  # words accepted before the first unknown one; == len(words): more expected


def _resolve(routes: Sequence[_Route], words: Sequence[_Word]) -> _Resolution:
    """Match the words against the routes; failing that, tell how far the best route got,
    which is where a router puts its error caret."""
    understood = 0
    for pattern, handler in routes:
        depth = 0
        for expected, word in zip(pattern, words, strict=False):
            if not (expected.startswith("<") or expected == word.text):
                break
            depth += 1
        if depth == len(pattern) == len(words):
            arguments = [word.text for expected, word in zip(pattern, words, strict=False) if expected.startswith("<")]
            return _Resolution(handler, arguments, depth)
        understood = max(understood, depth)
    return _Resolution(None, [], understood)


@dataclass(frozen=True)
class Reply:
    """What the device prints after the echo of a command line."""

    text: str  # output with "\n" line ends, up to and including the next prompt
    is_show: bool = False  # delayed by ``slow_command_seconds``
    ends_session: bool = False


class _Cli(Protocol):
    """The CLI of one login session: turns each typed line into what the device prints back."""

    def greeting(self) -> str:
        """What the device prints on login, ending with the first prompt."""

    def enter_echo(self, line: str) -> str:
        """What the device echoes when Enter ends ``line``."""

    def echoes_input(self) -> bool:
        """False while the device reads a password, which it does not echo."""

    def execute(self, line: str) -> Reply:
        """Run one command line."""


# --- JunOS -----------------------------------------------------------------------------------

_JUNOS_RELEASE = "22.4R3.25"
_JUNOS_MODEL = "mx204"
_JUNOS_BUILD = "20231031.0f0e5a6_builder_stable_12_224"
# Shaped like a real login banner, down to the build name cut short mid-word.
_JUNOS_BANNER = "--- JUNOS 22.4R3.25 Kernel 64-bit  JNPR-12.1-20231031.0f0e5a6_buil\n"


class JunosCli:
    """The JunOS CLI as netmiko's ``juniper_junos`` driver meets it.

    Operational mode prompts ``user@host> ``; configuration mode prints ``[edit]`` above
    ``user@host# ``; root lands in the FreeBSD shell (``root@host:RE:0% ``), where netmiko
    types ``cli``.  Every command's output is followed by a blank line, then the prompt.
    Only the commands the scanner and netmiko use are known; anything else gets JunOS's caret
    and error message.  Configuration statements are not modelled.
    """

    def __init__(
        self,
        hostname: str,
        username: str,
        logs: Mapping[str, str],
        firewall_log: Sequence[FirewallLogEntry],
        denied_commands: Sequence[str] = (),
        denied_message: str = "error: permission denied",
    ) -> None:
        self._hostname = hostname
        self._denied = [re.compile(pattern) for pattern in denied_commands]
        self._denied_message = denied_message
        self._username = username
        self._logs = logs
        self._firewall_log = firewall_log
        self._started_from_shell = username == "root"
        self._mode = "shell" if self._started_from_shell else "operational"
        self._session_over = False
        self._operational_routes: list[_Route] = [
            (("set", "cli", "screen-width", "<columns>"), "Screen width set to {}\n".format),
            (("set", "cli", "screen-length", "<lines>"), "Screen length set to {}\n".format),
            (("set", "cli", "complete-on-space", "off"), lambda: "Disabling complete-on-space\n"),
            (("show", "log", "<file>"), self._show_log),
            (("show", "firewall", "log"), self._show_firewall_log),
            (("show", "firewall", "log", "detail"), self._show_firewall_log_detail),
            (("show", "version"), self._show_version),
            (("configure",), self._configure),
            (("exit",), self._exit_cli),
            (("quit",), self._exit_cli),
        ]
        self._configuration_routes: list[_Route] = [
            (("exit",), self._exit_configuration),
            (("quit",), self._exit_configuration),
            (("exit", "configuration-mode"), self._exit_configuration),
        ]

    def greeting(self) -> str:
        return _JUNOS_BANNER + self._prompt()

    def echoes_input(self) -> bool:
        return True

    def enter_echo(self, line: str) -> str:
        # On Enter the CLI completes the last word and redraws the line with a trailing
        # space (netmiko strips it; JunOS even logs commands that way).
        if self._mode != "shell" and line.strip():
            return " \n"
        return "\n"

    def execute(self, line: str) -> Reply:
        words = _split_words(line)
        if self._mode == "shell":
            return self._shell(words)
        if not words:
            # Configuration mode answers even an empty line with a blank line and [edit].
            return Reply(("\n" if self._mode == "configuration" else "") + self._prompt())
        end_column = len(line.rstrip()) + 1  # past the space the CLI appended on Enter
        command = " ".join(word.text for word in words)
        if any(pattern.search(command) for pattern in self._denied):
            # A login class without the permission the command needs (e.g. no ``view``
            # for ``show log``).  The wording is configurable: see CliDouble.denied_message.
            return Reply(self._denied_message + "\n\n" + self._prompt())
        if self._mode == "configuration":
            if words[0].text == "run":
                output = self._run(self._operational_routes, words[1:], end_column)
            else:
                output = self._run(self._configuration_routes, words, end_column)
        else:
            output = self._run(self._operational_routes, words, end_column)
        if self._session_over:
            return Reply("", ends_session=True)
        texts = [word.text for word in words]
        is_show = texts[:1] == ["show"] or texts[:2] == ["run", "show"]
        return Reply(output + "\n" + self._prompt(), is_show=is_show)

    def _prompt(self) -> str:
        if self._mode == "shell":
            return f"{self._username}@{self._hostname}:RE:0% "
        if self._mode == "configuration":
            return f"[edit]\n{self._username}@{self._hostname}# "
        return f"{self._username}@{self._hostname}> "

    def _run(self, routes: Sequence[_Route], words: Sequence[_Word], end_column: int) -> str:
        resolution = _resolve(routes, words)
        if resolution.handler is not None:
            return resolution.handler(*resolution.arguments)
        if resolution.understood < len(words):
            column = words[resolution.understood].column
        else:
            column = end_column
        if resolution.understood == 0 and words:
            message = "unknown command."
        else:
            message = "syntax error, expecting <command>."
        prompt_line = self._prompt().rsplit("\n", 1)[-1]
        return " " * (len(prompt_line) + column) + "^\n" + message + "\n"

    def _shell(self, words: Sequence[_Word]) -> Reply:
        texts = [word.text for word in words]
        if texts == ["cli"]:
            self._mode = "operational"
        elif texts[:1] == ["exit"]:
            return Reply("", ends_session=True)
        elif texts:
            return Reply(f"{texts[0]}: Command not found.\n" + self._prompt())
        return Reply(self._prompt())

    def _show_log(self, name: str) -> str:
        if name not in self._logs:
            return f"error: could not resolve file: {name}\n"
        return _with_final_newline(self._logs[name])

    def _show_firewall_log(self) -> str:
        return _FIREWALL_LOG_HEADER + "".join(entry.brief() for entry in self._firewall_log)

    def _show_firewall_log_detail(self) -> str:
        return "".join(entry.detail() for entry in self._firewall_log)

    def _show_version(self) -> str:
        return (
            f"Hostname: {self._hostname}\n"
            f"Model: {_JUNOS_MODEL}\n"
            f"Junos: {_JUNOS_RELEASE}\n"
            f"JUNOS OS Kernel 64-bit  [{_JUNOS_BUILD}]\n"
        )

    def _configure(self) -> str:
        self._mode = "configuration"
        return "Entering configuration mode\n"

    def _exit_configuration(self) -> str:
        self._mode = "operational"
        return "Exiting configuration mode\n"

    def _exit_cli(self) -> str:
        # A CLI started from root's shell returns to it; a CLI login ends the session.
        if self._started_from_shell:
            self._mode = "shell"
        else:
            self._session_over = True
        return ""


# --- IOS -------------------------------------------------------------------------------------

_IOS_BUFFER_SIZE = 16384

_IOS_SHOW_VERSION = """\
Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.9(3)M6, RELEASE SOFTWARE (fc1)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2022 by Cisco Systems, Inc.
Compiled Wed 03-Aug-22 11:29 by prod_rel_team


ROM: Bootstrap program is IOSv

{hostname} uptime is 2 days, 3 hours, 4 minutes
System returned to ROM by reload
System image file is "flash0:/vios-adventerprisek9-m"
Last reload reason: Unknown reason

Configuration register is 0x0

"""


class IosCli:
    """The IOS exec CLI as netmiko's ``cisco_ios`` driver meets it.

    The session starts at privilege 15 (``r1#``) or, with ``privilege=1``, at user EXEC
    (``r1>``), from where ``enable`` asks ``Password: `` for the enable secret.  Output is
    followed directly by the prompt.  Only the commands the scanner and netmiko use are known;
    anything else gets IOS's caret and ``% Invalid input`` (or, cut short,
    ``% Incomplete command.``).  A privileged command typed at user EXEC is refused the same
    way, with the caret under the first word user EXEC does not know: IOS hides commands
    above the session's level rather than naming a privilege error.

    Enable, as IOS does it (sources in fixtures/ios_privilege.md):
    * no enable secret configured: ``% No password set`` (a vty session cannot enable);
    * local enable secret: up to three ``Password: `` prompts, then ``% Bad secrets``;
    * ``enable_auth="aaa"`` (``aaa authentication enable``): ``% Access denied`` after each
      wrong try, and ``% Bad secrets`` after the third.
    Commands matching one of ``authorization_denied`` are refused as TACACS+ command
    authorization refuses them (``Command authorization failed.``), at any level.
    """

    def __init__(
        self,
        hostname: str,
        logging_buffer: str,
        *,
        privilege: int = 15,
        enable_secret: str | None = None,
        enable_auth: str = "local",
        authorization_denied: Sequence[str] = (),
        authorization_message: str = "Command authorization failed.",
    ) -> None:
        if privilege not in (1, 15):
            raise ValueError(f"privilege must be 1 or 15, not {privilege!r}")
        if enable_auth not in ("local", "aaa"):
            raise ValueError(f"enable_auth must be 'local' or 'aaa', not {enable_auth!r}")
        self._hostname = hostname
        self._logging_buffer = logging_buffer
        self._privilege = privilege
        self._enable_secret = enable_secret
        self._enable_auth = enable_auth
        self._authorization_denied = [re.compile(pattern) for pattern in authorization_denied]
        self._authorization_message = authorization_message
        self._password_tries: int | None = None  # not None while ``Password:`` waits
        self._session_over = False
        self._user_routes: list[_Route] = [
            (("terminal", "width", "<columns>"), lambda columns: ""),
            (("terminal", "length", "<lines>"), lambda lines: ""),
            (("enable",), self._enable),
            (("show", "version"), self._show_version),
            (("show", "privilege"), self._show_privilege),
            (("exit",), self._exit),
            (("logout",), self._exit),
        ]
        self._privileged_routes: list[_Route] = self._user_routes + [
            (("disable",), self._disable),
            (("show", "logging"), self._show_logging),
        ]

    # Subclasses add privileged commands here.
    def privileged_routes(self) -> list[_Route]:
        return self._privileged_routes

    def greeting(self) -> str:
        return "\n" + self._prompt()

    def echoes_input(self) -> bool:
        return self._password_tries is None

    def enter_echo(self, line: str) -> str:
        return "\n"

    def execute(self, line: str) -> Reply:
        if self._password_tries is not None:
            return Reply(self._check_enable_secret(line))
        words = _split_words(line)
        if not words:
            return Reply(self._prompt())
        command = " ".join(word.text for word in words)
        if any(pattern.search(command) for pattern in self._authorization_denied):
            return Reply(self._authorization_message + "\n" + self._prompt())
        output = self.run_words(words)
        if self._session_over:
            return Reply("", ends_session=True)
        if self._password_tries is not None:
            return Reply(output)  # "Password: " is the prompt now
        return Reply(output + self._prompt(), is_show=words[0].text == "show")

    def run_words(self, words: Sequence[_Word]) -> str:
        routes = self.privileged_routes() if self._privilege == 15 else self._user_routes
        resolution = _resolve(routes, words)
        if resolution.handler is None:
            return self._error(words, resolution.understood)
        return resolution.handler(*resolution.arguments)

    @property
    def privileged(self) -> bool:
        return self._privilege == 15

    def _prompt(self) -> str:
        return f"{self._hostname}{'#' if self._privilege == 15 else '>'}"

    def _error(self, words: Sequence[_Word], understood: int) -> str:
        if understood == len(words):
            return "% Incomplete command.\n\n"
        caret = " " * (len(self._prompt()) + words[understood].column) + "^\n"
        return caret + "% Invalid input detected at '^' marker.\n\n"

    def _enable(self) -> str:
        if self._privilege == 15:
            return ""
        if self._enable_secret is None:
            return "% No password set\n"
        self._password_tries = 0
        return "Password: "

    def _check_enable_secret(self, typed: str) -> str:
        assert self._password_tries is not None
        if typed == self._enable_secret:
            self._password_tries = None
            self._privilege = 15
            return self._prompt()
        self._password_tries += 1
        denied = "% Access denied\n" if self._enable_auth == "aaa" else ""
        if self._password_tries < 3:
            return denied + "Password: "
        self._password_tries = None
        return denied + "% Bad secrets\n\n" + self._prompt()

    def _disable(self) -> str:
        self._privilege = 1
        return ""

    def _show_privilege(self) -> str:
        return f"Current privilege level is {self._privilege}\n"

    def _show_logging(self) -> str:
        return (
            _IOS_SHOW_LOGGING_HEADER
            + f"Log Buffer ({_IOS_BUFFER_SIZE} bytes):\n\n"
            + _with_final_newline(self._logging_buffer)
        )

    def _show_version(self) -> str:
        return _IOS_SHOW_VERSION.format(hostname=self._hostname)

    def _exit(self) -> str:
        self._session_over = True
        return ""


# --- SSH server ------------------------------------------------------------------------------


async def _typed_lines(stdin: asyncssh.SSHReader[str], echo: Callable[[str], None]) -> AsyncIterator[tuple[str, str]]:
    """Yield each line typed into the session, with the part of its echo not shown yet.

    A router's CLI reads its PTY in raw mode and echoes by itself, so the double does the same
    (asyncssh's line editor is off).  Enter is CR, LF or CR LF.  The echo of a finished line
    is left to the caller, to send in one write with what Enter shows and the command's
    output, as a device answering at once does; only an unfinished line is echoed here.  One
    write per command, not per character, also keeps the writes into a socket the client has
    already closed (netmiko's IOS driver closes right after sending ``exit``) below the count
    at which asyncio logs "socket.send() raised exception.".
    """
    line = ""
    unshown = ""
    previous = ""
    while True:
        try:
            chunk = await stdin.read(4096)
        except asyncssh.TerminalSizeChanged:
            continue
        if not chunk:
            return
        for char in chunk:
            if char == "\n" and previous == "\r":
                pass  # the LF of a CR LF Enter
            elif char in "\r\n":
                yield line, unshown
                line = unshown = ""
            elif char in "\x7f\b":
                if line:
                    line = line[:-1]
                    unshown += "\b \b"
            else:
                line += char
                unshown += char
            previous = char
        echo(unshown)
        unshown = ""


class CliDouble(SshServerInThread):
    """An SSH server on 127.0.0.1 that logs in and answers like a JunOS or IOS router.

    asyncssh runs in a background thread with its own event loop, so that synchronous tests
    and netmiko (which blocks) can drive it.  Each login gets a fresh CLI session; the
    device contents are shared by all of them.

    platform: "junos" or "ios".
    logs: JunOS log files by name, printed by ``show log <name>``
        (default: ``{"messages": DEFAULT_JUNOS_MESSAGES}``).
    firewall_log: JunOS ``show firewall log`` entries, as dicts with the fields of
        ``FirewallLogEntry`` (or such entries).
    show_logging: the IOS logging buffer shown after the ``show logging`` header
        (default: ``DEFAULT_IOS_BUFFER``).
    authorized_key: an OpenSSH public key line also accepted for the user.
    fail_after_login: accept the login, then close the session channel at once (a crash).
        netmiko notices only when it next writes: paramiko hides the closed channel from its
        reads, which wait out their timeout, so pass netmiko a short read_timeout_override.
    slow_command_seconds: delay the output of every show command (to test timeouts).

    IOS privilege (sources in fixtures/ios_privilege.md):
    privilege: 15 (default, lands at ``r1#``) or 1 (user EXEC, ``r1>``).
    enable_secret: the enable secret ``enable`` asks for; None: none configured, and
        ``enable`` answers ``% No password set`` as IOS does on a vty.
    enable_auth: "local" (wrong secret: ``Password:`` again, ``% Bad secrets`` after three)
        or "aaa" (``% Access denied`` after each wrong try, then ``% Bad secrets``).
    authorization_denied: regexes; an IOS command line matching one is refused with
        ``authorization_message`` (default ``Command authorization failed.``, TACACS+
        command authorization), at any privilege.

    IOS configuration (tests/lab/ios_config.py; sources in fixtures/ios_config.md):
    running_config: the initial running config text (default: fixtures/ios_running_config.txt);
        the startup config starts equal to it.
    minute_seconds: how long an IOS "minute" lasts (revert timers), 60 by default; tests
        pass e.g. 0.5.
    config_lock: a ``ConfigLock`` (or True for the default one) held by another session:
        ``configure terminal`` is refused with IOS's "Configuration mode locked exclusively"
        message.  ``lock_config()`` / ``unlock_config()`` change it while running.
    reject_config: {regex: message}: a config line matching regex is refused with message
        (not applied), as a router rejects a command it cannot take.
    bgp_neighbor_states: {neighbour as the config spells it: prefix count (Established) or state
        name such as "Idle" or "Active"} for ``show ip bgp summary`` and ``show bgp ipv6 unicast
        summary`` (default: Established, 0 prefixes).
    rpki_server_states: {address: "connected" | "down"} for ``show ip bgp rpki servers``.
    show_outputs: {command: text} overriding the generated output of those show commands.
    drop_at_command: drop the SSH connection when a command line arrives: an int N (the
        Nth line the double receives, the numbering of ``commands``, 1-based) or a regex
        searched in the line.  The line is recorded but not executed.  Only once.

    JunOS permissions:
    denied_commands: regexes; a JunOS command line matching one prints ``denied_message``
        (default ``error: permission denied``; see fixtures/junos_cli_errors.md for how sure
        that wording is) instead of running.
    """

    host = LOOPBACK

    def __init__(
        self,
        platform: str,
        hostname: str = "r1",
        username: str = "netops",
        password: str = "secret",
        *,
        logs: Mapping[str, str] | None = None,
        firewall_log: Iterable[Mapping[str, object] | FirewallLogEntry] = (),
        show_logging: str | None = None,
        authorized_key: str | None = None,
        fail_after_login: bool = False,
        slow_command_seconds: float = 0.0,
        privilege: int = 15,
        enable_secret: str | None = None,
        enable_auth: str = "local",
        authorization_denied: Sequence[str] = (),
        authorization_message: str = "Command authorization failed.",
        denied_commands: Sequence[str] = (),
        denied_message: str = "error: permission denied",
        running_config: str | None = None,
        minute_seconds: float = 60.0,
        config_lock: Any = None,
        reject_config: Mapping[str, str] | None = None,
        bgp_neighbor_states: Mapping[str, str | int] | None = None,
        rpki_server_states: Mapping[str, str] | None = None,
        show_outputs: Mapping[str, str] | None = None,
        drop_at_command: int | str | None = None,
    ) -> None:
        super().__init__()
        if platform not in ("junos", "ios"):
            raise ValueError(f"platform must be 'junos' or 'ios', not {platform!r}")
        self.platform = platform
        self.hostname = hostname
        self.username = username
        self.password = password
        self.logs = dict({"messages": DEFAULT_JUNOS_MESSAGES} if logs is None else logs)
        self.firewall_log = [
            entry if isinstance(entry, FirewallLogEntry) else FirewallLogEntry(**entry) for entry in firewall_log
        ]
        self.show_logging = DEFAULT_IOS_BUFFER if show_logging is None else show_logging
        self.fail_after_login = fail_after_login
        self.slow_command_seconds = slow_command_seconds
        self.ios_options: dict[str, Any] = {
            "privilege": privilege,
            "enable_secret": enable_secret,
            "enable_auth": enable_auth,
            "authorization_denied": tuple(authorization_denied),
            "authorization_message": authorization_message,
        }
        self.junos_options: dict[str, Any] = {
            "denied_commands": tuple(denied_commands),
            "denied_message": denied_message,
        }
        from lab.ios_config import ConfigLock, IosDevice

        if config_lock is True:
            config_lock = ConfigLock()
        #: The IOS router's state shared by all sessions: running/startup config, archive,
        #: revert timer, lock, events.  Read it with the properties below.
        self.device = IosDevice(
            hostname,
            DEFAULT_IOS_RUNNING_CONFIG if running_config is None else running_config,
            minute_seconds=minute_seconds,
            config_lock=config_lock,
            reject_config=reject_config,
            bgp_neighbor_states=bgp_neighbor_states,
            rpki_server_states=rpki_server_states,
            show_outputs=show_outputs,
        )
        self.drop_at_command = drop_at_command
        self.dropped_at: str | None = None  # the line at which the connection was dropped
        self._authorized_key = asyncssh.import_public_key(authorized_key) if authorized_key else None
        self._commands: list[str] = []

    @property
    def running_config(self) -> str:
        """The IOS running config as ``show running-config`` prints it after its header."""
        from lab.ios_config import render_config

        return render_config(self.device.running)

    @property
    def startup_config(self) -> str:
        from lab.ios_config import render_config

        return render_config(self.device.startup)

    def lock_config(self, **lock: Any) -> None:
        """Another session takes IOS's exclusive configuration lock (ConfigLock fields)."""
        from lab.ios_config import ConfigLock

        self._call_in_loop(lambda: setattr(self.device, "lock", ConfigLock(**lock)))

    def unlock_config(self) -> None:
        self._call_in_loop(lambda: setattr(self.device, "lock", None))

    @property
    def commands(self) -> list[str]:
        """Every non-empty command line received so far, from all sessions, in order."""
        return list(self._commands)

    thread_name = "cli-double"

    def listen_options(self) -> dict[str, Any]:
        return {
            "process_factory": self._run_session,
            "line_editor": False,  # the CLI echoes and edits lines itself, like a router's
        }

    def _new_cli(self, username: str) -> _Cli:
        if self.platform == "junos":
            return JunosCli(self.hostname, username, self.logs, self.firewall_log, **self.junos_options)
        from lab.ios_config import IosConfigCli

        return IosConfigCli(self.hostname, self.show_logging, self.device, **self.ios_options)

    async def _run_session(self, process: asyncssh.SSHServerProcess[str]) -> None:
        if self.fail_after_login:
            process.close()
            return

        def show(text: str) -> None:
            # A PTY turns each LF the device writes into CR LF.  Nothing to show, no packet.
            if text:
                process.stdout.write(text.replace("\n", "\r\n"))

        cli = self._new_cli(process.get_extra_info("username"))

        def echo_typing(text: str) -> None:
            if cli.echoes_input():  # a password is read without echo
                show(text)

        show(cli.greeting())
        async for line, unshown_echo in _typed_lines(process.stdin, echo_typing):
            echoing = cli.echoes_input()
            if line.strip() and echoing:  # passwords stay out of the record
                self._commands.append(line.strip())
                if self._drop_now(line.strip()):
                    self.dropped_at = line.strip()
                    process.channel.get_connection().abort()
                    return
            # Asked before execute(), which may switch modes.
            echo = (unshown_echo if echoing else "") + cli.enter_echo(line)
            reply = cli.execute(line)
            if reply.is_show and self.slow_command_seconds:
                show(echo)  # the echo is immediate; only the output is slow
                echo = ""
                await asyncio.sleep(self.slow_command_seconds)
            show(echo + reply.text)
            if reply.ends_session:
                break
        close = getattr(cli, "close", None)
        if close is not None:
            close()
        process.exit(0)

    def _drop_now(self, line: str) -> bool:
        return drop_due(
            self.drop_at_command,
            self.dropped_at,
            len(self._commands),
            lambda trigger: re.search(trigger, line) is not None,
        )


# --- pytest fixtures -------------------------------------------------------------------------


def _double_factory(platform: str) -> Iterator[Callable[..., CliDouble]]:
    with contextlib.ExitStack() as running:

        def start(**settings: Any) -> CliDouble:
            return running.enter_context(CliDouble(platform, **settings))

        yield start


@pytest.fixture
def junos_double() -> Iterator[Callable[..., CliDouble]]:
    """Factory: ``junos_double(logs=..., firewall_log=...)`` starts a JunOS double, returns it.

    Takes ``CliDouble``'s keyword arguments; every double started is stopped at teardown.
    """
    yield from _double_factory("junos")


@pytest.fixture
def ios_double() -> Iterator[Callable[..., CliDouble]]:
    """Factory: ``ios_double(show_logging=...)`` starts an IOS double and returns it.

    Takes ``CliDouble``'s keyword arguments; every double started is stopped at teardown.
    """
    yield from _double_factory("ios")
