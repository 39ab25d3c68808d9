"""The TCP/179 guard on an FRR host (platforms/frr_host): the nftables table rendered from FRR's own
neighbours, read back from real `nft list table` output, planned idempotently, and refused with clear
words. Real nft (nftables 1.0.6) checks and lists the tables, each in a fresh network namespace of its own
(`unshare --net`): the machine's own ruleset is never touched.

The FRR running config is shaped as FRR 8.4.4 prints it (the lab bgpd, tests/lab/daemons.py), with an
IPv6 neighbour, a peer-group and an unnumbered (interface) neighbour added.
"""

import json
import shutil
import subprocess

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import guard_intent
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.run import run_config
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import CommandRefused
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host import config, guard
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.frr_host.driver import FrrHostDriver

RUNNING = """\
Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname guard1
log file /var/log/frr/bgpd.log
!
router bgp 65000
 bgp router-id 192.0.2.253
 neighbor IXP peer-group
 neighbor IXP remote-as external
 neighbor 192.0.2.1 remote-as 65001
 neighbor 192.0.2.2 peer-group IXP
 neighbor 2001:db8:ffff::1 remote-as 65001
 neighbor swp1 interface remote-as external
 !
 address-family ipv6 unicast
  neighbor 2001:db8:ffff::1 activate
 exit-address-family
exit
!
end
"""

OPTIONS = dict(
    name="PEERWARDEN-BGP-GUARD",
    interfaces=["eth1", "eth2"],
    peering_lans=["192.0.2.0/24", "2001:db8:ffff::/64"],
    neighbors=["192.0.2.77"],
    log=True,
)

needs_nft = pytest.mark.skipif(
    shutil.which("nft") is None or shutil.which("unshare") is None,
    reason="nft (Debian nftables) and unshare (util-linux) are needed",
)


def nft_in_fresh_netns(script):
    """Run an nft script in a network namespace of its own (gone when the command ends): (rc, output)."""
    done = subprocess.run(
        ["unshare", "--net", "sh", "-ec", script], capture_output=True, text=True, timeout=30, check=False
    )
    return done.returncode, done.stdout + done.stderr


def running(listing=None, table="peerwarden_bgp_guard"):
    return json.dumps({"frr": RUNNING, "nft_tables": {table: listing} if listing else {}})


def plan(options=None, listing=None, state="present"):
    return config.plan("guard", guard_intent(options or OPTIONS), running(listing), state)[0]


def load_and_list(lines, prefix=""):
    """Load lines with nft -f in a fresh namespace and return `nft list table`'s output."""
    nft_input = "\n".join(prefix.splitlines() + list(lines)) + "\n"
    code, output = nft_in_fresh_netns("nft -f - <<'EOF'\n%sEOF\nnft list table inet peerwarden_bgp_guard" % nft_input)
    assert code == 0, output
    return output


def test_the_neighbours_come_from_frrs_own_config_plus_the_option():
    lines = plan()
    assert lines.table == "peerwarden_bgp_guard"
    assert lines.guard["neighbors"] == ["192.0.2.1", "192.0.2.2", "192.0.2.77", "2001:db8:ffff::1"]
    assert lines[:2] == ["table inet peerwarden_bgp_guard", "delete table inet peerwarden_bgp_guard"]
    assert '\t\telements = { "eth1", "eth2" }' in lines
    assert any(
        line.strip().startswith(
            "iifname @interfaces ip6 saddr @lans6 ip6 saddr != @neighbors6 tcp dport 179 "
            'log prefix "peerwarden-bgp-guard: " drop'
        )
        for line in lines
    )


@needs_nft
def test_nft_takes_the_table_and_lists_it_back_as_planned_so_a_second_run_changes_nothing():
    lines = plan()
    listing = load_and_list(lines)
    assert guard.gather(listing) == lines.guard
    assert plan(listing=listing) == []


@needs_nft
def test_nflog_group_and_no_log_round_trip_too():
    for extra in (dict(log_group=7), dict(log=False)):
        lines = plan(dict(OPTIONS, **extra))
        listing = load_and_list(lines)
        assert ("group 7" in listing) == ("log_group" in extra)
        assert ("log prefix" in listing) == ("log" not in extra)
        assert plan(dict(OPTIONS, **extra), listing=listing) == []


@needs_nft
def test_a_change_in_frr_or_the_options_replaces_the_table_and_a_hand_edit_is_undone():
    listing = load_and_list(plan())
    changed = plan(dict(OPTIONS, neighbors=[]), listing=listing)
    assert changed and "192.0.2.77" not in "\n".join(changed)
    edited = load_and_list([], prefix=listing + "\nadd rule inet peerwarden_bgp_guard input tcp dport 22 accept\n")
    gathered = guard.gather(edited)
    assert gathered["rules_as_rendered"] is False and "tcp dport 22 accept" in gathered["rules"]
    assert plan(listing=edited), "a table edited by hand is put back as planned"
    assert guard.gather(load_and_list(plan(listing=edited))) == plan().guard


@needs_nft
def test_absent_removes_only_our_table_and_is_idempotent():
    listing = load_and_list(plan())
    lines = plan(listing=listing, state="absent")
    assert lines == ["table inet peerwarden_bgp_guard", "delete table inet peerwarden_bgp_guard"]
    other = "table inet theirs {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n"
    code, output = nft_in_fresh_netns(
        "nft -f - <<'EOF'\n%s%s%s\nEOF\nnft list tables" % (other, listing, "\n".join(lines))
    )
    assert code == 0, output
    assert output.split() == ["table", "inet", "theirs"]
    assert plan(state="absent") == []


@needs_nft
def test_the_rendered_state_is_nft_input_nft_checks_clean():
    result = run_config("guard", dict(OPTIONS, platform="frr_host", state="rendered"))
    code, output = nft_in_fresh_netns("nft -c -f - <<'EOF'\n%sEOF" % result["rendered"])
    assert code == 0, output
    assert result["platform"] == "frr_host"


def test_gathered_names_the_tables_and_frrs_neighbours():
    gathered = config.gather("guard", running(guard.table_text(plan().guard)))
    assert gathered["tables"]["peerwarden_bgp_guard"]["interfaces"] == ["eth1", "eth2"]
    assert gathered["bgp_neighbors"] == ["192.0.2.1", "192.0.2.2", "2001:db8:ffff::1", "swp1"]


@pytest.mark.parametrize(
    "options,words",
    [
        (dict(interfaces=["eth*"]), "interfaces: 'eth*' is not a Linux interface name"),
        (dict(interfaces=["a-name-longer-than-15"]), "is not a Linux interface name"),
        (dict(peering_lans=["192.0.2.0/24", "192.0.2.128/25"]), "192.0.2.0/24 and 192.0.2.128/25 overlap"),
        (dict(log_group=70000), "log_group: 70000 must be an NFLOG group from 0 to 65535"),
        (dict(peering_lans=["192.0.2.0/24", "fe80::/10"]), "neighbours ['swp1'] are configured by interface"),
    ],
)
def test_values_nft_would_refuse_fail_before_the_host_is_touched(options, words):
    with pytest.raises(ValueError, match=None) as caught:
        plan(dict(OPTIONS, **options))
    assert words in str(caught.value)


def test_log_group_on_a_platform_without_nflog_and_rpki_on_frr_host_are_refused():
    with pytest.raises(ValueError, match="platform ios logs its drops its own way"):
        run_config("guard", dict(OPTIONS, platform="ios", state="rendered", log_group=3))
    with pytest.raises(ValueError, match="platform frr_host configures the TCP/179 guard only"):
        run_config("rpki", dict(platform="frr_host", state="rendered", caches=[{"address": "127.0.0.1"}]))


class LocalShell:
    """The host's shell for HostSession.shell(): a real sh running the command as user nobody, so nft's and
    the shell's own refusals are the host's words (what netmiko would return: stdout and stderr, no status)."""

    def run(self, command):
        done = subprocess.run(
            ["runuser", "-u", "nobody", "--", "sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd="/",
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        return done.stdout + done.stderr


class Host:
    def where(self):
        return "nobody@localhost:22"


@pytest.mark.skipif(shutil.which("runuser") is None or shutil.which("nft") is None, reason="runuser and nft")
@pytest.mark.parametrize(
    "command,words",
    [
        ("nft list tables", "Operation not permitted"),
        ("no-such-command-here", "not found"),
    ],
)
def test_a_refusal_on_the_host_fails_with_the_hosts_words_and_what_to_do(command, words):
    session = config.HostSession(FrrHostDriver(), Host(), {})
    session.cli = LocalShell()
    with pytest.raises(CommandRefused) as caught:
        session.shell(command)
    message = str(caught.value)
    assert words in message and "exit " in message
    assert "ansible_become_method: sudo" in message
    assert session.shell("echo fine") == "fine"
