"""Real BGP daemons (FRR, BIRD) and an SSH front end to FRR's vtysh, on loopback, as pytest fixtures.

The collection scans router logs for unsolicited BGP connection attempts. These fixtures make the
real daemons write the real lines, instead of trusting copied samples:

- ``frr_router`` / ``make_frr_router``: FRR bgpd.               Debian package: ``frr``
- ``bird_router`` / ``make_bird_router``: BIRD 2.                Debian package: ``bird2``
- ``vtysh_sshd`` / ``make_vtysh_sshd``: OpenSSH sshd whose user lands in FRR's vtysh, so netmiko
  (``cisco_ios``) and SFTP reach a real router CLI and its log file.
                                                Debian packages: ``openssh-server`` and ``frr``
- ``knock()`` opens TCP connections from a chosen loopback source; ``wait_for_log()`` polls a log
  file so tests need no sleeps.

Install: ``apt-get install -y frr bird2 openssh-server``. Run as root: the daemons listen on port 179,
bgpd drops privileges to user ``frr``, and ``make_vtysh_sshd`` creates a system user.

Safety: everything binds 127.0.0.0/8 (or ::1). bgpd always runs with ``-Z`` (no zebra) and BIRD
never gets a ``protocol kernel``, so no daemon can install kernel routes. Teardown stops only the
processes these fixtures started, by PID, and removes their temporary directories.

Run directories come from ``tempfile.mkdtemp`` in /tmp, not pytest's ``tmp_path``: pytest's base
directory is mode 0700, which the SSH user could not traverse to reach the vtysh wrapper and the
FRR log.
"""

from __future__ import annotations

import contextlib
import glob
import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BGPD = "/usr/lib/frr/bgpd"
VTYSH = "/usr/bin/vtysh"
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"
SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"

STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 15


class LabStartError(RuntimeError):
    """A lab daemon could not start; the message says why and what to do about it."""


# --------------------------------------------------------------------------- helpers for tests


def knock(
    source: str,
    target: str,
    port: int = 179,
    times: int = 1,
    family: int = socket.AF_INET,
    wait: float = 2.0,
) -> None:
    """Open ``times`` TCP connections from ``source`` to ``target:port``, like a stray BGP speaker.

    Nothing is sent: both FRR and BIRD decide on accept() that the source is not a configured
    neighbour, log it, and close. Each connection waits up to ``wait`` seconds for that close, so
    successive knocks stay distinct and in order. A refused connection raises, because a test that
    knocks at nothing should fail rather than wait for a log line that will never come.
    """
    for _dummy in range(times):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((source, 0))
            sock.settimeout(wait)
            sock.connect((target, port))
            with contextlib.suppress(socket.timeout, ConnectionResetError):
                while sock.recv(4096):
                    pass


def wait_for_log(path: str | Path, pattern: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    """Poll ``path`` until at least ``count`` complete lines match the regex ``pattern``.

    Returns every matching line (without newline) at that moment, so a caller can also assert
    that there are not more than expected. Only newline-terminated lines count: a daemon may be
    half-way through writing the last one. On timeout, raises AssertionError showing the matches
    found and the end of the file.
    """
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        lines = _complete_lines(Path(path))
        matches = [line for line in lines if regex.search(line)]
        if len(matches) >= count:
            return matches
        if time.monotonic() >= deadline:
            tail = "\n".join(lines[-LOG_TAIL_LINES:])
            raise AssertionError(
                f"{path}: {len(matches)} of {count} lines matching {pattern!r} after {timeout} s.\n"
                f"Matches: {matches}\nEnd of file:\n{tail}"
            )
        time.sleep(0.05)


def _complete_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return text[: text.rfind("\n") + 1].splitlines()


# ------------------------------------------------------------------ process and port plumbing


def _require_binary(path: str, package: str) -> None:
    if not os.access(path, os.X_OK):
        raise LabStartError(f"{path} not found: install it with `apt-get install -y {package}`")


def _require_root(why: str) -> None:
    if os.geteuid() != 0:
        raise LabStartError(f"must run as root: {why}")


def _check_port_free(address: str, port: int) -> None:
    """Fail early, naming address:port, if something already listens there.

    SO_REUSEADDR mirrors what the daemons do, so TIME_WAIT leftovers of earlier knocks (the
    daemons close first) do not count as "in use" but a listening socket does.
    """
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            raise LabStartError(f"cannot use {_hostport(address, port)}: {error.strerror}") from error


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at `address` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def wait_for(
    predicate: Callable[[], object],
    what: str = "condition",
    timeout: float = 30.0,
    show: Callable[[], object] | None = None,
) -> object:
    """predicate()'s first true value, polled; OSError counts as not yet (a daemon or an API not listening
    yet). On timeout an AssertionError saying what was awaited (and show()'s value if given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s%s" % (what, "" if show is None else ": %s" % (show(),)))


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _is_listening(address: str, port: int) -> bool:
    """True if some socket LISTENs on exactly address:port, read from /proc/net/tcp{,6}."""
    if ":" in address:
        table = "/proc/net/tcp6"
        words = struct.unpack("=4I", socket.inet_pton(socket.AF_INET6, address))
        local = "".join(f"{word:08X}" for word in words) + f":{port:04X}"
    else:
        table = "/proc/net/tcp"
        (word,) = struct.unpack("=I", socket.inet_aton(address))
        local = f"{word:08X}:{port:04X}"
    listen_state = "0A"
    with open(table, encoding="ascii") as rows:
        next(rows)
        return any(fields[1] == local and fields[3] == listen_state for fields in (row.split() for row in rows))


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def _start_daemon(
    name: str,
    argv: list[str],
    run_dir: Path,
    logs: list[Path],
    ready: Callable[[], bool],
    waiting_for: str,
    cleanup: contextlib.ExitStack,
) -> subprocess.Popen:
    """Start ``argv`` in the foreground (so its PID is ours) and wait until ``ready()``.

    stdout/stderr go to ``run_dir/<name>.out``, where daemons put errors from before their own
    log is open (BIRD config syntax errors, sshd option errors). If the process exits or is not
    ready in time, raises LabStartError with the tail of that file and of ``logs``.
    """
    console = run_dir / f"{name}.out"
    with open(console, "wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    cleanup.callback(_stop, process)

    def failure(reason: str) -> LabStartError:
        tails = "\n".join(f"--- {path}:\n{_tail(path)}" for path in [console, *logs])
        return LabStartError(f"{name} {reason}\ncommand: {' '.join(argv)}\n{tails}")

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if process.poll() is not None:
            raise failure(f"exited with code {process.returncode} before {waiting_for}")
        if time.monotonic() >= deadline:
            raise failure(f"still not {waiting_for} after {STARTUP_TIMEOUT} s")
        time.sleep(0.05)
    return process


def _start_bgp_daemon(
    name: str,
    argv: list[str],
    run_dir: Path,
    log_path: Path,
    address: str,
    port: int,
    control: Path,
    cleanup: contextlib.ExitStack,
) -> subprocess.Popen:
    """``_start_daemon`` for bgpd and BIRD: ready when it listens on address:port and its control socket
    (bgpd.vty, BIRD's ctl) exists."""
    return _start_daemon(
        name,
        argv,
        run_dir,
        [log_path],
        ready=lambda: _is_listening(address, port) and control.exists(),
        waiting_for=f"listening on {_hostport(address, port)} with control socket {control}",
        cleanup=cleanup,
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM our daemon by PID; SIGKILL it if it has not exited after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _make_run_dir(cleanup: contextlib.ExitStack, prefix: str) -> Path:
    run_dir = Path(tempfile.mkdtemp(prefix=f"peerwarden-{prefix}-"))
    cleanup.callback(shutil.rmtree, run_dir, ignore_errors=True)
    return run_dir


def _chown_frr(*paths: Path) -> None:
    uid, gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    for path in paths:
        os.chown(path, uid, gid)


# ------------------------------------------------------------------------------------ FRR


@dataclass
class BgpDaemon:
    """A running BGP daemon of the lab: where it listens, its AS, its log and its PID."""

    address: str
    port: int
    asn: int
    log_path: Path
    pid: int


@dataclass
class FrrRouter(BgpDaemon):
    """A running FRR bgpd. ``log_path`` is 0640 frr:frr; ``vty_dir`` holds bgpd.vty and vtysh.conf."""

    vty_dir: Path

    def vtysh(self, *commands: str) -> str:
        """Run vtysh with one ``-c`` per command (e.g. "configure terminal", "router bgp 65000")."""
        argv = [VTYSH, "--vty_socket", str(self.vty_dir), "--config_dir", str(self.vty_dir)]
        for command in commands:
            argv += ["-c", command]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"vtysh {commands} exited {result.returncode}: {result.stdout}{result.stderr}")
        return result.stdout


@pytest.fixture
def make_frr_router() -> Iterator[Callable[..., FrrRouter]]:
    """Factory: ``make_frr_router(address="127.0.0.2", port=179, asn=65000, neighbor="127.0.0.3",
    neighbor_asn=65001, hostname="r1", extra_config="", modules=())`` starts one bgpd per call.

    bgpd runs ``-Z`` (no zebra: it cannot touch kernel routes; it logs harmless
    ``zclient_send_message() failed``) as user frr, bound only to ``address``. The neighbour need
    not exist. ``bgp allow-martian-nexthop`` and ``update-source`` let it peer with another
    loopback daemon if one runs there. The rejected-connection line is a zlog_debug, hence
    ``debug bgp neighbor-events`` and a log file at level debugging; millisecond timestamps
    match the samples. ``vtysh.conf`` disables the integrated config, so ``write memory`` saves
    to this bgpd's own ``bgpd.conf`` rather than /etc/frr. ``extra_config`` is appended verbatim.
    ``modules`` are loaded with ``-M`` (e.g. ``("rpki",)``: Debian package ``frr-rpki-rtrlib``).
    """
    with contextlib.ExitStack() as cleanup:

        def make(
            address: str = "127.0.0.2",
            port: int = 179,
            asn: int = 65000,
            neighbor: str = "127.0.0.3",
            neighbor_asn: int = 65001,
            hostname: str = "r1",
            extra_config: str = "",
            modules: tuple[str, ...] = (),
        ) -> FrrRouter:
            _require_binary(BGPD, "frr")
            if "rpki" in modules and not glob.glob("/usr/lib/*/frr/modules/bgpd_rpki.so"):
                raise LabStartError("bgpd_rpki.so not found: install it with `apt-get install -y frr-rpki-rtrlib`")
            _require_binary(VTYSH, "frr")
            _require_root("bgpd binds a BGP port and switches to user frr")
            _check_port_free(address, port)
            run_dir = _make_run_dir(cleanup, "frr")
            log_path = run_dir / "bgpd.log"
            (run_dir / "bgpd.conf").write_text(
                f"hostname {hostname}\n"
                f"log file {log_path} debugging\n"
                "log timestamp precision 3\n"
                "debug bgp neighbor-events\n"
                "!\n"
                f"router bgp {asn}\n"
                f" bgp router-id {address}\n"
                " bgp allow-martian-nexthop\n"
                " no bgp ebgp-requires-policy\n"
                f" neighbor {neighbor} remote-as {neighbor_asn}\n"
                f" neighbor {neighbor} update-source {address}\n"
                "exit\n"
                f"{extra_config}\n"
            )
            (run_dir / "vtysh.conf").write_text(f"hostname {hostname}\nno service integrated-vtysh-config\n")
            for path in (run_dir, run_dir / "bgpd.conf", run_dir / "vtysh.conf"):
                path.chmod(0o750 if path.is_dir() else 0o640)
            _chown_frr(run_dir, run_dir / "bgpd.conf", run_dir / "vtysh.conf")
            argv = [
                BGPD, "-Z", "-u", "frr", "-g", "frr",
                "-f", str(run_dir / "bgpd.conf"), "-i", str(run_dir / "bgpd.pid"),
                "-z", str(run_dir / "zserv.api"), "--vty_socket", str(run_dir),
                "-l", address, "-p", str(port), "-P", "0",
            ]  # fmt: skip
            for module in modules:
                argv += ["-M", module]
            process = _start_bgp_daemon("bgpd", argv, run_dir, log_path, address, port, run_dir / "bgpd.vty", cleanup)
            return FrrRouter(address=address, port=port, asn=asn, log_path=log_path, vty_dir=run_dir, pid=process.pid)

        yield make


@pytest.fixture
def frr_router(make_frr_router) -> FrrRouter:
    """bgpd on 127.0.0.2:179, AS 65000, one configured neighbour 127.0.0.3 AS 65001 (need not be up)."""
    return make_frr_router()


# ----------------------------------------------------------------------------------- BIRD


@dataclass
class BirdRouter(BgpDaemon):
    """A running BIRD 2. ``ctl`` is its control socket (for ``birdc -s``)."""

    ctl: Path

    def birdc(self, command: str) -> str:
        """Run one birdc command (e.g. "show protocols all") and return its output."""
        result = subprocess.run(
            [BIRDC, "-s", str(self.ctl), command], capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"birdc {command!r} exited {result.returncode}: {result.stdout}{result.stderr}")
        return result.stdout


@pytest.fixture
def make_bird_router() -> Iterator[Callable[..., BirdRouter]]:
    """Factory: ``make_bird_router(address="127.0.0.3", port=179, asn=65001, neighbor="127.0.0.2",
    neighbor_asn=65000, extra_config="", bgp_options="")`` starts one BIRD per call.

    BIRD logs unexpected connects at WARN whatever the debug settings, to ``bird.log`` here.
    ``local`` + ``strict bind`` keep its listener on ``address`` only; ``multihop 2`` is needed
    for a loopback neighbour ("Invalid remote address" otherwise). There is deliberately no
    ``protocol kernel``; ``protocol device`` only reads interfaces. ``extra_config`` is appended;
    ``bgp_options`` goes inside the bgp protocol (an ipv6 channel, ``ttl security yes;``).

    BIRD does not exit when it cannot bind (it logs "Cannot open listening socket" and keeps
    running), so readiness is "listening on address:port", checked after a port pre-check.
    """
    with contextlib.ExitStack() as cleanup:

        def make(
            address: str = "127.0.0.3",
            port: int = 179,
            asn: int = 65001,
            neighbor: str = "127.0.0.2",
            neighbor_asn: int = 65000,
            extra_config: str = "",
            bgp_options: str = "",
        ) -> BirdRouter:
            _require_binary(BIRD, "bird2")
            _require_binary(BIRDC, "bird2")
            _check_port_free(address, port)
            run_dir = _make_run_dir(cleanup, "bird")
            log_path, ctl, config = run_dir / "bird.log", run_dir / "bird.ctl", run_dir / "bird.conf"
            config.write_text(
                f'log "{log_path}" all;\n'
                f"router id {address};\n"
                "protocol device {}\n"
                "protocol bgp unsolicited_test_peer {\n"
                f"  local {address} port {port} as {asn};\n"
                f"  neighbor {neighbor} as {neighbor_asn};\n"
                "  strict bind yes;\n"
                "  multihop 2;\n"
                "  ipv4 { import all; export all; next hop self; };\n"
                f"{bgp_options}"
                "}\n"
                f"{extra_config}\n"
            )
            argv = [BIRD, "-f", "-c", str(config), "-s", str(ctl), "-P", str(run_dir / "bird.pid")]
            process = _start_bgp_daemon("bird", argv, run_dir, log_path, address, port, ctl, cleanup)
            return BirdRouter(address=address, port=port, asn=asn, log_path=log_path, ctl=ctl, pid=process.pid)

        yield make


@pytest.fixture
def bird_router(make_bird_router) -> BirdRouter:
    """BIRD on 127.0.0.3:179, AS 65001, one protocol bgp towards 127.0.0.2 AS 65000 (need not be up)."""
    return make_bird_router()


# ------------------------------------------------------------------------ sshd in front of vtysh


@dataclass
class VtyshSsh:
    """An sshd on ``host:port`` where ``username``/``password`` log in straight into ``frr``'s vtysh."""

    host: str
    port: int
    username: str
    password: str
    frr: FrrRouter
    log_path: Path
    pid: int
    host_key: str = ""  # the sshd's public host key, as ``ssh-ed25519 AAAA... comment``


def _add_vtysh_user(run_dir: Path, router: FrrRouter, cleanup: contextlib.ExitStack) -> tuple[str, str]:
    """Create a throw-away user whose login shell is vtysh on ``router``; removed at teardown.

    A fresh random name per fixture (``pwvty`` + 6 hex) keeps parallel runs apart and never
    reuses an account. Groups: frrvty to open bgpd.vty, frr to read the 0640 log over SFTP.
    The shell passes ``"$@"`` through, so ``ssh user@host 'show bgp summary'`` runs vtysh -c.
    """
    shell = run_dir / "vtysh-shell"
    vty_dir = router.vty_dir
    shell.write_text(f'#!/bin/sh\nexec {VTYSH} --vty_socket "{vty_dir}" --config_dir "{vty_dir}" "$@"\n')
    shell.chmod(0o755)
    home = run_dir / "home"
    home.mkdir()
    username = f"pwvty{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16)
    subprocess.run(
        ["useradd", "--no-create-home", "--no-user-group", "--home-dir", str(home),
         "--shell", str(shell), "--groups", "frrvty,frr", username],
        check=True, capture_output=True,
    )  # fmt: skip
    cleanup.callback(_remove_user, username)
    subprocess.run(["chpasswd"], input=f"{username}:{password}\n", text=True, check=True, capture_output=True)
    os.chown(home, pwd.getpwnam(username).pw_uid, -1)
    home.chmod(0o700)
    return username, password


def _remove_user(username: str) -> None:
    """Delete the lab user, first killing (by PID) any session of it a test left open.

    Those sessions are children of our sshd, running as this user only; userdel refuses while
    they live. Their zombies, if the sshd parent is already gone, are reaped by PID 1.
    """
    uid = pwd.getpwnam(username).pw_uid
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            if proc.name.isdigit() and proc.stat().st_uid == uid:
                os.kill(int(proc.name), signal.SIGKILL)
    # the killed processes take a moment to be reaped; userdel exits 8 ("in use") until then
    for _attempt in range(20):
        done = subprocess.run(["userdel", username], check=False, capture_output=True)
        if done.returncode != 8:
            break
        time.sleep(0.25)
    if done.returncode == 8:  # still listed (a zombie whose parent has not reaped it): remove it anyway
        done = subprocess.run(["userdel", "--force", username], check=False, capture_output=True)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)


@pytest.fixture
def make_vtysh_sshd() -> Iterator[Callable[..., VtyshSsh]]:
    """Factory: ``make_vtysh_sshd(router, authorized_key=None)`` starts an sshd on 127.0.0.1:<free port>
    into ``router``; with ``authorized_key`` (an OpenSSH public key line) that key logs in too.

    The sshd has its own host key, config, pid file and log (``-E``) in a temp dir and runs with
    ``-D`` so its PID is ours. ``UsePAM no`` + password auth make the /etc/shadow password from
    chpasswd work without PAM. SFTP must be ``internal-sftp``: an external sftp-server would be
    started through the login shell, which is vtysh. /run/sshd (privilege separation) is created
    if missing and left in place, as the openssh-server package would.
    """
    with contextlib.ExitStack() as cleanup:

        def make(router: FrrRouter, authorized_key: str | None = None) -> VtyshSsh:
            _require_binary(SSHD, "openssh-server")
            _require_binary(SSH_KEYGEN, "openssh-client")
            _require_binary(VTYSH, "frr")
            _require_root("sshd and useradd need root")
            host = "127.0.0.1"
            port = free_port(host)
            run_dir = _make_run_dir(cleanup, "sshd")
            run_dir.chmod(0o755)  # the lab user must reach its login shell in here
            host_key = run_dir / "ssh_host_ed25519_key"
            subprocess.run(
                [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
                check=True, capture_output=True,
            )  # fmt: skip
            username, password = _add_vtysh_user(run_dir, router, cleanup)
            keys = "none"
            if authorized_key:
                # root-owned and read-only for the user; StrictModes off because the temp dir sits in /tmp
                (run_dir / "authorized_keys").write_text(authorized_key.strip() + "\n")
                keys = f"{run_dir / 'authorized_keys'}\nStrictModes no"
            config = run_dir / "sshd_config"
            config.write_text(
                f"ListenAddress {host}\n"
                f"Port {port}\n"
                f"HostKey {host_key}\n"
                f"PidFile {run_dir / 'sshd.pid'}\n"
                "UsePAM no\n"
                "PasswordAuthentication yes\n"
                "KbdInteractiveAuthentication no\n"
                "PermitRootLogin no\n"
                f"AllowUsers {username}\n"
                f"AuthorizedKeysFile {keys}\n"
                "LogLevel VERBOSE\n"
                "Subsystem sftp internal-sftp\n"
            )
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
            log_path = run_dir / "sshd.log"
            process = _start_daemon(
                "sshd",
                [SSHD, "-D", "-f", str(config), "-E", str(log_path)],
                run_dir,
                [log_path],
                ready=lambda: _is_listening(host, port),
                waiting_for=f"listening on {_hostport(host, port)}",
                cleanup=cleanup,
            )
            return VtyshSsh(
                host=host, port=port, username=username, password=password, frr=router,
                log_path=log_path, pid=process.pid, host_key=(run_dir / "ssh_host_ed25519_key.pub").read_text(),
            )  # fmt: skip

        yield make


@pytest.fixture
def vtysh_sshd(frr_router, make_vtysh_sshd) -> VtyshSsh:
    """sshd on 127.0.0.1 whose user lands in ``frr_router``'s vtysh (prompt ``r1#``).

    ``frr_router`` is requested first so that pytest tears sshd down before bgpd.
    """
    return make_vtysh_sshd(frr_router)
