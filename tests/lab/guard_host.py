"""An FRR host in network namespaces of its own, for the TCP/179 guard (platform frr_host), as a pytest fixture.

    namespace R (the router's host)                      namespace P (the peering LAN)
      veth-r 10.66.0.2/24 fd00:66::2/64  <--- veth --->    veth-p 10.66.0.3 (BIRD, AS 65001), 10.66.0.9 (stranger)
      bgpd AS 65000 (-Z: no zebra, no kernel routes)               fd00:66::3, fd00:66::9 (stranger)
      sshd on R's own 127.0.0.1 (root logs in with a key)
      ulogd2 (NFLOG group -> LOGEMU file)

The controller (ansible-playbook) runs inside R too and reaches the host at R's 127.0.0.1: nothing is
routed out, and the machine's own interfaces and nftables ruleset are never touched. sshd runs in a
mount namespace of its own where the bgpd run directory is bound onto /run/frr, so a plain
`vtysh -c ...` in the login finds this bgpd as on a real FRR host. Teardown stops the processes by PID and
deletes both namespaces (their interfaces and rulesets go with them).

Debian packages: frr, bird2, openssh-server, nftables, ulogd2, iproute2, util-linux.
"""

from __future__ import annotations

import contextlib
import glob
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.daemons import BGPD, BIRD, SSH_KEYGEN, SSHD, VTYSH, _chown_frr, _make_run_dir, _require_binary, _require_root
from lab.daemons import _start_daemon as start_daemon

NFT = "/usr/sbin/nft"
ULOGD = "/usr/sbin/ulogd"
ROUTER_V4, PEER_V4, STRANGER_V4 = "10.66.0.2", "10.66.0.3", "10.66.0.9"
ROUTER_V6, PEER_V6, STRANGER_V6 = "fd00:66::2", "fd00:66::3", "fd00:66::9"
LANS = ["10.66.0.0/24", "fd00:66::/64"]
NFLOG_GROUP = 5
SSH_PORT = 2222


def ns_run(
    namespace: str, *argv: str, check: bool = True, timeout: float = 30, **kwargs
) -> subprocess.CompletedProcess:
    """A command inside a namespace of ours."""
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        **kwargs,
    )


@dataclass
class GuardHost:
    """The running lab; see the module docstring."""

    router_ns: str
    peer_ns: str
    interface: str
    run_dir: Path
    vty_dir: Path
    key_file: Path
    guard_log: Path
    bird_ctl: Path

    def vtysh(self, command: str) -> str:
        done = subprocess.run(
            [VTYSH, "--vty_socket", str(self.vty_dir), "--config_dir", str(self.vty_dir), "-c", command],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return done.stdout

    def ruleset(self) -> str:
        """`nft list ruleset` of the router's namespace, byte for byte."""
        return ns_run(self.router_ns, NFT, "list", "ruleset").stdout

    def connect_from(self, source: str, target: str, timeout: float = 3.0) -> str:
        """Open TCP to target:179 from source in the peering LAN: 'connected', 'refused' or 'timed out'."""
        script = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
            f"s.settimeout({timeout})\n"
            "s.bind((sys.argv[1], 0))\n"
            "try:\n"
            "    s.connect((sys.argv[2], 179)); print('connected')\n"
            "except socket.timeout:\n"
            "    print('timed out')\n"
            "except ConnectionRefusedError:\n"
            "    print('refused')\n"
        )
        return ns_run(self.peer_ns, "python3", "-c", script, source, target).stdout.strip()


def _namespaces(cleanup: contextlib.ExitStack, tag: str) -> tuple[str, str, str]:
    router_ns, peer_ns = f"pwg-r-{tag}", f"pwg-p-{tag}"
    for namespace in (router_ns, peer_ns):
        subprocess.run(["ip", "netns", "add", namespace], check=True, capture_output=True)
        cleanup.callback(subprocess.run, ["ip", "netns", "delete", namespace], check=False, capture_output=True)
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True, capture_output=True)
    interface = "veth-r"
    subprocess.run(
        ["ip", "-n", router_ns, "link", "add", interface, "type", "veth", "peer", "name", "veth-p", "netns", peer_ns],
        check=True, capture_output=True,
    )  # fmt: skip
    for namespace, device, addresses in (
        (router_ns, interface, [f"{ROUTER_V4}/24", f"{ROUTER_V6}/64"]),
        (peer_ns, "veth-p", [f"{PEER_V4}/24", f"{STRANGER_V4}/24", f"{PEER_V6}/64", f"{STRANGER_V6}/64"]),
    ):
        for address in addresses:
            extra = ["nodad"] if ":" in address else []
            subprocess.run(["ip", "-n", namespace, "addr", "add", address, "dev", device, *extra], check=True,
                           capture_output=True)  # fmt: skip
        subprocess.run(["ip", "-n", namespace, "link", "set", device, "up"], check=True, capture_output=True)
    return router_ns, peer_ns, interface


def _bgpd(cleanup, router_ns: str, run_dir: Path) -> Path:
    vty_dir = run_dir / "frr"
    vty_dir.mkdir()
    (vty_dir / "bgpd.conf").write_text(
        "hostname guard1\n"
        f"log file {vty_dir / 'bgpd.log'} debugging\n"
        "debug bgp neighbor-events\n"
        "!\n"
        "router bgp 65000\n"
        f" bgp router-id {ROUTER_V4}\n"
        " no bgp ebgp-requires-policy\n"
        f" neighbor {PEER_V4} remote-as 65001\n"
        f" neighbor {PEER_V6} remote-as 65001\n"
        "exit\n"
    )
    (vty_dir / "vtysh.conf").write_text("hostname guard1\nno service integrated-vtysh-config\n")
    _chown_frr(vty_dir, vty_dir / "bgpd.conf", vty_dir / "vtysh.conf")
    argv = [
        "ip", "netns", "exec", router_ns, BGPD, "-Z", "-u", "frr", "-g", "frr",
        "-f", str(vty_dir / "bgpd.conf"), "-i", str(vty_dir / "bgpd.pid"), "-z", str(vty_dir / "zserv.api"),
        "--vty_socket", str(vty_dir), "-p", "179", "-P", "0",
    ]  # fmt: skip
    start_daemon("bgpd", argv, run_dir, [vty_dir / "bgpd.log"], ready=(vty_dir / "bgpd.vty").exists,
                 waiting_for=f"{vty_dir}/bgpd.vty", cleanup=cleanup)  # fmt: skip
    return vty_dir


def _bird(cleanup, peer_ns: str, run_dir: Path) -> Path:
    ctl, config = run_dir / "bird.ctl", run_dir / "bird.conf"
    config.write_text(
        f'log "{run_dir / "bird.log"}" all;\n'
        f"router id {PEER_V4};\n"
        "protocol device {}\n"
        "protocol bgp guard_peer {\n"
        f"  local {PEER_V4} as 65001;\n"
        f"  neighbor {ROUTER_V4} as 65000;\n"
        "  ipv4 { import all; export none; };\n"
        "}\n"
    )
    start_daemon("bird", ["ip", "netns", "exec", peer_ns, BIRD, "-f", "-c", str(config), "-s", str(ctl),
                          "-P", str(run_dir / "bird.pid")],
                 run_dir, [run_dir / "bird.log"], ready=ctl.exists, waiting_for=f"control socket {ctl}",
                 cleanup=cleanup)  # fmt: skip
    return ctl


def _sshd(cleanup, router_ns: str, run_dir: Path, vty_dir: Path) -> Path:
    host_key, key = run_dir / "ssh_host_ed25519_key", run_dir / "id_ed25519"
    for path in (host_key, key):
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, capture_output=True)
    (run_dir / "authorized_keys").write_text((run_dir / "id_ed25519.pub").read_text())
    config = run_dir / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {SSH_PORT}\nHostKey {host_key}\nPidFile {run_dir / 'sshd.pid'}\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nAllowUsers root\n"
        f"AuthorizedKeysFile {run_dir / 'authorized_keys'}\nStrictModes no\n"
        "Subsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    Path("/run/frr").mkdir(mode=0o755, exist_ok=True)  # the mount point, as the frr package leaves it
    inner = f"mount --bind {vty_dir} /run/frr && exec {SSHD} -D -f {config} -E {run_dir / 'sshd.log'}"
    argv = ["ip", "netns", "exec", router_ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", inner]
    start_daemon("sshd", argv, run_dir, [run_dir / "sshd.log"],
                 ready=lambda: "Server listening" in _read(run_dir / "sshd.log"), waiting_for="listening",
                 cleanup=cleanup)  # fmt: skip
    return key


def _ulogd(cleanup, router_ns: str, run_dir: Path) -> Path:
    plugins = sorted(glob.glob("/usr/lib/*/ulogd/"))
    if not plugins:
        raise RuntimeError("ulogd2's plugins are missing: apt-get install -y ulogd2")
    guard_log = run_dir / "guard.log"
    names = ["inppkt_NFLOG", "raw2packet_BASE", "filter_IFINDEX", "filter_IP2STR", "filter_PRINTPKT", "output_LOGEMU"]
    config = run_dir / "ulogd.conf"
    config.write_text(
        "[global]\n"
        f'logfile="{run_dir / "ulogd.log"}"\nloglevel=3\n'
        + "".join(f'plugin="{plugins[0]}ulogd_{name}.so"\n' for name in names)
        + "stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU\n"
        f"[log1]\ngroup={NFLOG_GROUP}\n"
        f'[emu1]\nfile="{guard_log}"\nsync=1\n'
    )
    start_daemon("ulogd", ["ip", "netns", "exec", router_ns, ULOGD, "-c", str(config)], run_dir,
                 [run_dir / "ulogd.log"], ready=lambda: "entering main loop" in _read(run_dir / "ulogd.log"),
                 waiting_for="in its main loop", cleanup=cleanup)  # fmt: skip
    return guard_log


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


@pytest.fixture
def make_guard_host() -> Iterator[Callable[[], GuardHost]]:
    with contextlib.ExitStack() as cleanup:

        def make() -> GuardHost:
            for binary, package in ((BGPD, "frr"), (VTYSH, "frr"), (BIRD, "bird2"), (SSHD, "openssh-server"),
                                    (NFT, "nftables"), (ULOGD, "ulogd2")):  # fmt: skip
                _require_binary(binary, package)
            _require_root("network namespaces, nft and sshd need root")
            run_dir = _make_run_dir(cleanup, "guard")
            run_dir.chmod(0o755)
            router_ns, peer_ns, interface = _namespaces(cleanup, secrets.token_hex(3))
            vty_dir = _bgpd(cleanup, router_ns, run_dir)
            bird_ctl = _bird(cleanup, peer_ns, run_dir)
            key = _sshd(cleanup, router_ns, run_dir, vty_dir)
            guard_log = _ulogd(cleanup, router_ns, run_dir)
            return GuardHost(router_ns, peer_ns, interface, run_dir, vty_dir, key, guard_log, bird_ctl)

        yield make
