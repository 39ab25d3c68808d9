"""The frr_host config session's safe apply with real nft: a post-check failure puts our table back exactly (or
removes the one the change created), a table changed by someone else since the open is not touched, and nft -c
refusing the script loads nothing.

The host is a real bash as root in a network namespace of its own (`unshare --net`, gone with the shell),
reached through the session's shell() as netmiko would (one command at a time, the output back). FRR is a
stand-in here: a `vtysh` script early in that shell's PATH prints a running config and a BGP summary, and says
the neighbour is down while our table holds the text of the file `cut` (the new table's, not the old one's),
which is what a guard that cut a session would cause (the real FRR and BIRD are in
tests/integration/test_push_frr_host_guard.py, where the guard cannot cut a configured one).
"""

import shutil
import subprocess

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import ApplyFailed, apply_change
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import guard_intent
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host import config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host.driver import FrrHostDriver

pytestmark = pytest.mark.skipif(shutil.which("nft") is None or shutil.which("unshare") is None, reason="nft, unshare")

END = "__peerwarden_test_end__"
RUNNING = "router bgp 65000\n neighbor 192.0.2.1 remote-as 65001\nexit\n"
UP = '{"ipv4Unicast": {"peers": {"192.0.2.1": {"state": "Established"}}}}'
DOWN = '{"ipv4Unicast": {"peers": {"192.0.2.1": {"state": "Active"}}}}'
VTYSH = f"""#!/bin/sh
case "$2" in
  "show running-config") printf '%s' '{RUNNING}' ;;
  "show bgp summary json")
    cut="$(dirname "$0")/cut"
    if [ -e "$cut" ] && nft list table inet peerwarden_bgp_guard 2>/dev/null | grep -qF "$(cat "$cut")"; then
      echo '{DOWN}'
    else
      echo '{UP}'
    fi ;;
esac
"""
NEW_NEIGHBOURS = "elements = { 192.0.2.1 }"
THEIRS = "table inet theirs {\n\tchain c {\n\t\ttype filter hook input priority 10; policy accept;\n\t}\n}"


class NamespaceShell:
    """bash as root in a fresh network namespace; run() returns what a command printed."""

    def __init__(self, bin_dir):
        self.process = subprocess.Popen(
            ["unshare", "--net", "bash", "--norc", "--noprofile"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd="/",
        )
        self.run(f"export PATH={bin_dir}:$PATH")

    def run(self, command):
        self.process.stdin.write(f"{command}\necho {END}\n")
        self.process.stdin.flush()
        lines = []
        for line in self.process.stdout:
            if line.rstrip("\n") == END:
                return "".join(lines)
            lines.append(line)
        raise EOFError("the shell went away")

    def __exit__(self, *exc_info):
        pass

    def close(self):
        self.process.stdin.close()
        self.process.wait(10)


class Host:
    def where(self):
        return "root@namespace"


@pytest.fixture
def host(tmp_path, monkeypatch):
    (tmp_path / "vtysh").write_text(VTYSH)
    (tmp_path / "vtysh").chmod(0o755)
    shell = NamespaceShell(tmp_path)
    monkeypatch.setattr(config.HostSession, "open_cli", lambda session: setattr(session, "cli", shell))
    yield shell, tmp_path
    shell.close()


def apply(intent_options=None, post_check_wait=0):
    driver = FrrHostDriver()
    intent = guard_intent(dict(interfaces=["eth1"], peering_lans=["192.0.2.0/24"], **(intent_options or {})))
    return apply_change(
        driver,
        Host(),
        lambda running: driver.plan("guard", intent, running, "present"),
        {"confirm_timeout": 1, "post_check_wait": post_check_wait},
        check_mode=False,
    )


def test_a_clean_apply_is_confirmed_and_a_second_changes_nothing(host):
    shell, dummy = host
    outcome = apply()
    assert outcome["changed"] and outcome["steps"][-1] == "confirm"
    assert "+\t\telements = { 192.0.2.1 }" in outcome["diff"]
    assert apply()["changed"] is False


def test_a_failed_post_check_removes_the_table_the_change_created(host):
    shell, bin_dir = host
    (bin_dir / "cut").write_text(NEW_NEIGHBOURS)
    shell.run(f"nft -f - <<'EOF'\n{THEIRS}\nEOF")
    before = shell.run("nft list ruleset")
    with pytest.raises(ApplyFailed) as caught:
        apply()
    assert caught.value.step == "post_check"
    assert "192.0.2.1 (ipv4Unicast)" in str(caught.value)
    assert (
        caught.value.restored == "removed nft table inet peerwarden_bgp_guard, which the change had created (verified)"
    )
    assert shell.run("nft list ruleset") == before


def test_a_failed_post_check_puts_the_previous_table_back_byte_for_byte(host):
    shell, bin_dir = host
    apply(dict(neighbors=["192.0.2.50"]))
    before = shell.run("nft list ruleset")
    (bin_dir / "cut").write_text(NEW_NEIGHBOURS)
    with pytest.raises(ApplyFailed) as caught:
        apply()
    assert caught.value.restored.startswith("restored nft table inet peerwarden_bgp_guard as it was")
    assert shell.run("nft list ruleset") == before


def test_a_table_changed_since_the_open_is_not_touched(host, monkeypatch):
    shell, dummy = host
    apply()
    original = config.HostSession.baseline

    def someone_else_changes_it(session):
        shell.run("nft add element inet peerwarden_bgp_guard neighbors4 '{ 192.0.2.99 }'")
        return original(session)

    monkeypatch.setattr(config.HostSession, "baseline", someone_else_changes_it)
    changed = shell.run("nft list ruleset")
    with pytest.raises(ApplyFailed) as caught:
        apply(dict(neighbors=["192.0.2.50"]))
    assert caught.value.step == "load" and "someone else is changing it" in str(caught.value)
    assert "192.0.2.99" in shell.run("nft list ruleset") and "192.0.2.50" not in shell.run("nft list ruleset")
    assert changed != shell.run("nft list ruleset")


def test_nft_refusing_the_script_loads_nothing_and_quotes_nft(host, monkeypatch):
    shell, dummy = host
    before = shell.run("nft list ruleset")
    monkeypatch.setattr(config.nft, "rules", lambda guard: ["tcp dport 179 no-such-statement"])
    with pytest.raises(ApplyFailed) as caught:
        apply()
    assert caught.value.step == "load"
    assert "nft -c refused the guard; nothing was loaded" in str(caught.value)
    assert "syntax error" in str(caught.value)
    assert shell.run("nft list ruleset") == before
