"""Fault injection on FRR: the SSH session into vtysh is killed at every command of the apply sequence.

Real FRR (bgpd -M rpki), BIRD and StayRTR, set up as in test_push_frr.py (its fixtures and helpers are
imported). The lab user's login shell is replaced by a small relay (KILLER below) between SSH and vtysh:
it logs every command line the controller sends and, at the Nth of a session, kills its vtysh (by its
PID: its own child, running as the lab user) and exits before passing the line on, so the router never
sees the Nth command and the SSH channel closes. Later sessions (the restore reconnects) are served, or
refused with `after: refuse` (the SSH server takes no more sessions).

The test loops N = 1, 2, ... until a run goes through without the relay firing (or the relay fires after the
confirm, when the change is kept), so every command of
every step is hit whatever the number of polls. After each killed run: the running config (read through
FRR's own vty socket, not SSH) is exactly the saved one, the startup config file is untouched, and the
task names the step whose command was killed.
"""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from test_push_frr import lab, peer, running, stayrtr  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import ApplyFailed, apply_change
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr import config as frr_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for
from lab.clients import lab_device
from lab.daemons import VTYSH, wait_for

pytestmark = pytest.mark.lab

DRIVER = driver_for("frr.frr.frr", "config")
OPTIONS = {"confirm_timeout": 2, "comment": "fault injection", "lock_timeout": 5, "post_check_wait": 20}

KILLER = textwrap.dedent(
    '''\
    #!/usr/bin/python3
    """Login shell of the lab user: vtysh behind a relay that kills the session at the Nth command line."""
    import fcntl, json, os, select, signal, sys, termios, tty

    CONTROL, VTYSH = {control!r}, {vtysh!r}
    ARGV = [VTYSH, "--vty_socket", {vty_dir!r}, "--config_dir", {vty_dir!r}]
    if len(sys.argv) > 1:  # ssh user@host 'command': sshd runs `shell -c command`
        os.execv(VTYSH, ARGV + sys.argv[1:])
    with open(os.path.join(CONTROL, "plan.json")) as handle:
        plan = json.load(handle)
    fired = os.path.exists(os.path.join(CONTROL, "fired.json"))
    if fired and plan.get("after") == "refuse":
        sys.exit(1)
    kill_at = None if fired else plan.get("kill_at")
    kill_on = None if fired else plan.get("kill_on")
    size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\\0" * 8)
    child, master = os.forkpty()
    if child == 0:
        os.execv(VTYSH, ARGV)
    fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    saved = termios.tcgetattr(0)
    tty.setraw(0, termios.TCSANOW)  # not TCSAFLUSH (the default): that would drop what the client sent already
    log = open(os.path.join(CONTROL, "commands.log"), "a")
    count, pending = 0, b""
    try:
        while True:
            ready = select.select([0, master], [], [])[0]
            if master in ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if not data:
                    break
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 4096)
                if not data:
                    break
                pending += data
                while True:
                    ends = [at for at in (pending.find(b"\\r"), pending.find(b"\\n")) if at >= 0]
                    if not ends:
                        break
                    line, pending = pending[: min(ends) + 1], pending[min(ends) + 1 :]
                    text = line.decode(errors="replace").strip()
                    if text:
                        count += 1
                        log.write("%d\\t%d\\t%s\\n" % (os.getpid(), count, text))
                        log.flush()
                        if count == kill_at or text == kill_on:
                            # written whole, then renamed: the test may read it while netmiko's goodbye is
                            # still being relayed (push has returned), and must never see it half written
                            with open(os.path.join(CONTROL, "fired.json.part"), "w") as handle:
                                json.dump({{"count": count, "line": text, "session": os.getpid()}}, handle)
                            os.replace(os.path.join(CONTROL, "fired.json.part"), os.path.join(CONTROL, "fired.json"))
                            os.kill(child, signal.SIGKILL)
                            os.waitpid(child, 0)
                            termios.tcsetattr(0, termios.TCSANOW, saved)
                            os._exit(0)
                    os.write(master, line)
    finally:
        termios.tcsetattr(0, termios.TCSANOW, saved)
        try:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        except OSError:
            pass
    '''
)


class Killer:
    """The relay in front of one vtysh_sshd: arm(n) kills the first session at its nth command."""

    def __init__(self, sshd):
        run_dir = Path(sshd.log_path).parent
        self.control = run_dir / "killer"
        self.control.mkdir(mode=0o755)
        shutil.chown(self.control, user=sshd.username)
        script = run_dir / "killer.py"
        script.write_text(KILLER.format(control=str(self.control), vtysh=VTYSH, vty_dir=str(sshd.frr.vty_dir)))
        script.chmod(0o755)
        (run_dir / "vtysh-shell").write_text(f'#!/bin/sh\nexec {script} "$@"\n')  # the lab user's login shell
        self.arm(None)

    def arm(self, kill_at=None, after="serve", kill_on=None):
        """Kill the next session at its command number kill_at, or at the command line kill_on; after that,
        serve new sessions or refuse them."""
        for name in ("fired.json", "commands.log"):
            (self.control / name).unlink(missing_ok=True)
        plan = {"kill_at": kill_at, "kill_on": kill_on, "after": after}
        (self.control / "plan.json").write_text(json.dumps(plan))

    def fired(self):
        path = self.control / "fired.json"
        return json.loads(path.read_text()) if path.exists() else None

    def sessions(self):
        """{session pid: [command lines]}, in the order the sessions began."""
        path = self.control / "commands.log"
        result = {}
        for row in path.read_text().splitlines() if path.exists() else []:
            session, _count, text = row.split("\t", 2)
            result.setdefault(int(session), []).append(text)
        return result


def steps_of(commands):
    """The apply step each command line of the change's session belongs to (None: after the confirm)."""
    steps, step = [], "open"
    for command in commands:
        if command == "show bgp summary json" and step == "open":
            step = "baseline"
        elif command == "show running-config" and step == "baseline":
            step = "load"
        elif command.startswith(("show rpki cache-connection", "clear bgp")) and step == "load":
            step = "post_check"
        elif command == "write memory":
            step = "confirm"
        elif step == "confirm":
            step = None
        steps.append(step)
    return steps


def rpki_intent(port):
    return intents.rpki_intent(
        {
            "caches": [{"address": "127.0.0.1", "port": port, "refresh": 30, "expire": 600}],
            "valid": {"local_preference": 110},
            "not_found": {"community": "65000:65"},
        }
    )


def push(sshd, intent):
    device = lab_device(sshd)
    return apply_change(DRIVER, device, lambda text: DRIVER.plan("rpki", intent, text, "present"), OPTIONS, False)


def startup(frr):
    return (frr.vty_dir / "bgpd.conf").read_text()


def established(frr):
    wait_for(lambda: peer(frr).get("state") == "Established", "FRR and BIRD Established", timeout=60)


def test_the_session_killed_at_every_command_leaves_the_router_as_saved(lab):  # noqa: F811 - the imported fixture
    frr, _bird, sshd, port = lab
    killer = Killer(sshd)
    intent = rpki_intent(port)
    before, saved = running(frr), startup(frr)
    seen = []
    for number in range(1, 200):
        established(frr)
        killer.arm(number)
        failed = None
        try:
            result = push(sshd, intent)
        except ApplyFailed as error:
            failed = error
        fired = killer.fired()
        sessions = killer.sessions()
        if fired is None:  # every command went through: the last run, the change is kept and saved
            assert failed is None
            assert result["changed"] is True and result["steps"][-1] == "confirm"
            assert "PEERWARDEN-RPKI" in running(frr) and "PEERWARDEN-RPKI" in startup(frr)
            break
        commands = sessions[fired["session"]]
        assert commands[fired["count"] - 1] == fired["line"] and len(commands) == fired["count"], (fired, commands)
        step = steps_of(commands)[fired["count"] - 1]
        seen.append((number, step, fired["line"]))
        where = f"killed at command {number} {fired['line']!r} (step {step}); commands: {commands}"
        if step is None:  # after the confirm (netmiko's goodbye, when the relay reads it before the close): kept
            assert failed is None, where
            assert "PEERWARDEN-RPKI" in running(frr) and "PEERWARDEN-RPKI" in startup(frr), where
            break  # the change is in place: a later run would find nothing to change, so the loop ends here
        assert failed is not None, where
        assert failed.step == step, f"{where}: {failed}"
        assert f"failed at step {step}" in str(failed), where
        assert running(frr) == before, f"{where}: {failed}"
        assert startup(frr) == saved, where
        if "configure terminal" not in commands[: fired["count"]]:  # nothing was loaded: nothing to restore
            assert "restored" not in str(failed), where
        else:
            assert "verified identical" in str(failed) or "nothing was left changed" in str(failed), (
                f"{where}: {failed}"
            )
    else:
        raise AssertionError("the relay fired at every one of 199 commands")
    print("killed at %d commands: %s; the last run sent: %s" % (len(seen), seen, sessions))
    assert len(seen) > 20, seen
    assert {step for _number, step, _line in seen} >= {"open", "baseline", "load", "post_check", "confirm"}, seen
    assert any(line.startswith("route-map PEERWARDEN-RPKI") for _n, step, line in seen if step == "load"), seen


def test_a_restore_that_cannot_reconnect_says_the_router_may_be_left_changed(lab):  # noqa: F811 - the imported fixture
    frr, _bird, sshd, port = lab
    killer = Killer(sshd)
    intent = rpki_intent(port)
    before, saved = running(frr), startup(frr)
    # half-way through the configuration lines: the rpki cache is live, the route-maps are not; then the SSH
    # server takes no more sessions, so the restore cannot reconnect
    line = "rpki cache 127.0.0.1 %d preference 1" % port
    killer.arm(kill_on=line, after="refuse")
    with pytest.raises(ApplyFailed) as failed:
        push(sshd, intent)
    assert killer.fired()["line"] == line
    assert failed.value.step == "load", str(failed.value)
    assert "may be left changed" in str(failed.value), str(failed.value)
    assert "`write memory` did not run" in str(failed.value), str(failed.value)
    now = running(frr)
    assert now != before and "rpki polling_period 30" in now  # honestly left changed: the lines before the kill
    assert startup(frr) == saved
    # put it back through FRR's own socket
    ops = frr_config.inverse_ops(frr_config.parse(now), frr_config.parse(before))
    frr.vtysh("configure terminal", *[line.strip() for line in frr_config.script(ops)])
    assert running(frr) == before
