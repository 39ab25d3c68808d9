"""JunOS config push over NETCONF (ncclient junos) against the Junos NETCONF double.

The safe apply sequence (config/apply.apply_change) with the JunOS driver: what is committed is
what VENDOR.md §1a-1c documents (copied with sources in tests/unit/fixtures/junos/vendor_config.md),
a second run changes nothing, check mode changes nothing, and every fault leaves the committed
configuration as it was, with an error that quotes the router and names the step.
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import ApplyFailed, apply_change
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import (
    ConfigRefused,
    HostKeyError,
    LockHeld,
)
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for
from lab.clients import lab_device, wait_until
from lab.push_configs import junos_base

pytestmark = pytest.mark.lab

DRIVER = driver_for("junipernetworks.junos.junos", "config")

BASE = junos_base()

RPKI = {
    "caches": [{"address": "127.0.0.1", "port": 3323, "refresh": 120, "expire": 3600}],
    "groups": ["IXP-V4"],
    "valid": {"local_preference": 110},
    "not_found": {"community": "64500:65001"},
}

# VENDOR.md §1a (Juniper RPKI/ROV docs, RIPE): the session, the policy with next policy (not
# accept) and the import chain with ROV first; hold-time = max(600, 2 x refresh) (JunOS rule).
RPKI_COMMITTED = [
    "set routing-options validation group PEERWARDEN session 127.0.0.1 port 3323",
    "set routing-options validation group PEERWARDEN session 127.0.0.1 refresh-time 120",
    "set routing-options validation group PEERWARDEN session 127.0.0.1 hold-time 600",
    "set routing-options validation group PEERWARDEN session 127.0.0.1 record-lifetime 3600",
    "set routing-options validation group PEERWARDEN session 127.0.0.1 preference 1",
    "set policy-options community PEERWARDEN-RPKI-NOT-FOUND members 64500:65001",
    "set policy-options policy-statement PEERWARDEN-RPKI term invalid from protocol bgp",
    "set policy-options policy-statement PEERWARDEN-RPKI term invalid from validation-database invalid",
    "set policy-options policy-statement PEERWARDEN-RPKI term invalid then validation-state invalid",
    "set policy-options policy-statement PEERWARDEN-RPKI term invalid then reject",
    "set policy-options policy-statement PEERWARDEN-RPKI term valid from protocol bgp",
    "set policy-options policy-statement PEERWARDEN-RPKI term valid from validation-database valid",
    "set policy-options policy-statement PEERWARDEN-RPKI term valid then validation-state valid",
    "set policy-options policy-statement PEERWARDEN-RPKI term valid then local-preference 110",
    "set policy-options policy-statement PEERWARDEN-RPKI term valid then next policy",
    "set policy-options policy-statement PEERWARDEN-RPKI term unknown from protocol bgp",
    "set policy-options policy-statement PEERWARDEN-RPKI term unknown then validation-state unknown",
    "set policy-options policy-statement PEERWARDEN-RPKI term unknown then community add PEERWARDEN-RPKI-NOT-FOUND",
    "set policy-options policy-statement PEERWARDEN-RPKI term unknown then next policy",
    "set protocols bgp group IXP-V4 import [ PEERWARDEN-RPKI BOGONS PEER-IN ]",
]

#: the RPCs of one clean apply, and the step apply_change names when the connection drops at each
CLEAN_RPCS = [
    ("lock", "open"),
    ("get-configuration", "running"),
    ("get-bgp-summary-information", "baseline"),
    ("load-configuration", "load"),
    ("get-configuration", "diff"),
    ("commit-configuration", "commit"),  # commit check
    ("commit-configuration", "commit"),  # commit confirmed
    ("get-validation-session-information", "post_check"),
    ("get-bgp-summary-information", "post_check"),
    ("commit-configuration", "confirm"),
    ("get-configuration", None),  # the confirm is checked (a late confirm commits the rollback)
    ("unlock", None),  # after the confirm: the change is kept
    ("close-session", None),
]


def push(double, feature, intent, state="present", check_mode=False, **options):
    settings = {"confirm_timeout": 1, "comment": "peerwarden test run", "lock_timeout": 1, "post_check_wait": 1}
    settings.update(options)
    return apply_change(
        DRIVER,
        lab_device(double),
        lambda running: DRIVER.plan(feature, intent, running, state),
        settings,
        check_mode,
    )


def without(lines, *removed):
    return [line for line in lines if line not in removed]


def assert_untouched(double):
    """Committed as before, shared candidate clean, no lock left behind."""
    assert double.committed_set == BASE
    assert double.candidate_set == BASE
    assert double.device.lock is None


# --- what is committed ------------------------------------------------------------------------


def test_rpki_commits_the_documented_lines_and_a_second_run_changes_nothing(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=1.5)
    intent = intents.rpki_intent(RPKI)
    result = push(double, "rpki", intent)
    assert result["changed"] is True
    expected = without(BASE, "set protocols bgp group IXP-V4 import [ BOGONS PEER-IN ]") + RPKI_COMMITTED
    assert sorted(double.committed_set) == sorted(expected)
    assert "[edit routing-options]" in result["diff"] and "+       group PEERWARDEN {" in result["diff"]
    assert result["steps"] == ["open", "running", "baseline", "load", "diff", "commit", "post_check", "confirm"]
    assert [name for name, _step in CLEAN_RPCS] == double.rpc_names
    assert "<confirm-timeout>1</confirm-timeout>" in double.rpcs[6]
    assert "<log>peerwarden test run</log>" in double.rpcs[6]
    assert double.events == ["commit peerwarden test run", "confirmed 1", "commit", "confirmed by commit"]
    time.sleep(2)  # the confirm timer was stopped: nothing rolls back
    assert sorted(double.committed_set) == sorted(expected)

    again = push(double, "rpki", intent)
    assert again == {"changed": False, "diff": "", "commands": [], "steps": ["open", "running"]}
    assert sorted(double.committed_set) == sorted(expected)

    gathered = DRIVER.gather("rpki", "".join(line + "\n" for line in double.committed_set))
    assert gathered["groups"] == ["IXP-V4"]
    assert gathered["valid"] == {"community": None, "local_preference": 110}
    assert gathered["caches"][0]["hold"] == 600

    removed = push(double, "rpki", intent, state="absent")
    assert removed["changed"] is True
    assert sorted(double.committed_set) == sorted(BASE)


def test_limits_per_neighbour_and_length_policy_in_front_of_the_chain(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=3)
    intent = intents.limits_intent(
        {
            "neighbors": [
                {
                    "address": "192.0.2.1",
                    "max_prefixes": {"ipv4": 1000, "ipv6": 200},
                    "threshold": 80,
                    "restart_minutes": 30,
                },
                {"address": "192.0.2.2", "max_prefixes": {"ipv4": 50}, "on_exceed": "warning"},
                {"address": "2001:db8:100::1", "max_prefixes": {"ipv6": 200}, "threshold": 90},
            ],
            "groups": ["IXP-V4"],
        }
    )
    push(double, "rpki", intents.rpki_intent(RPKI))
    result = push(double, "limits", intent)
    assert result["changed"] is True
    committed = double.committed_set
    n1 = "set protocols bgp group IXP-V4 neighbor 192.0.2.1 family inet unicast prefix-limit"
    n6 = "set protocols bgp group IXP-V6 neighbor 2001:db8:100::1"
    # VENDOR.md §1b: maximum, then teardown <threshold %> idle-timeout <minutes>; warning-only = maximum alone
    assert f"{n1} maximum 1000" in committed
    assert f"{n1} teardown 80 idle-timeout 30" in committed
    assert (
        "set protocols bgp group IXP-V4 neighbor 192.0.2.1 family inet6 unicast prefix-limit maximum 200"
        not in committed
    )
    assert "set protocols bgp group IXP-V4 neighbor 192.0.2.2 family inet unicast prefix-limit maximum 50" in committed
    assert not [line for line in committed if "192.0.2.2" in line and "teardown" in line]
    # the IPv6 neighbour's first family statement: the group's family is copied so it keeps it
    assert f"{n6} family inet6 unicast prefix-limit maximum 200" in committed
    assert f"{n6} family inet6 unicast prefix-limit teardown 90 idle-timeout forever" in committed
    # VENDOR.md §1b prefix-length filter, /25-/32 and /49-/128 rejected
    policy = "set policy-options policy-statement PEERWARDEN-LIMITS"
    assert [line for line in committed if line.startswith(policy)] == [
        f"{policy} term too-specific-v4 from family inet",
        f"{policy} term too-specific-v4 from route-filter 0.0.0.0/0 prefix-length-range /25-/32",
        f"{policy} term too-specific-v4 then reject",
        f"{policy} term too-specific-v6 from family inet6",
        f"{policy} term too-specific-v6 from route-filter ::/0 prefix-length-range /49-/128",
        f"{policy} term too-specific-v6 then reject",
    ]
    assert "set protocols bgp group IXP-V4 import [ PEERWARDEN-LIMITS PEERWARDEN-RPKI BOGONS PEER-IN ]" in committed
    # neither feature keeps moving itself in front of the other
    assert push(double, "limits", intent)["changed"] is False
    assert push(double, "rpki", intents.rpki_intent(RPKI))["changed"] is False
    assert double.committed_set == committed

    push(double, "limits", intent, state="absent")
    assert not [line for line in double.committed_set if "prefix-limit" in line or "PEERWARDEN-LIMITS" in line]
    assert "set protocols bgp group IXP-V4 import [ PEERWARDEN-RPKI BOGONS PEER-IN ]" in double.committed_set


def test_guard_filter_reads_the_neighbours_from_the_router(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=3)
    intent = intents.guard_intent(
        {"interfaces": ["et-0/0/0.100"], "peering_lans": ["192.0.2.0/24", "2001:db8:100::/64"]}
    )
    result = push(double, "guard", intent)
    assert result["changed"] is True
    v4 = "set firewall family inet filter PEERWARDEN-BGP-GUARD"
    v6 = "set firewall family inet6 filter PEERWARDEN-BGP-GUARD"
    committed = double.committed_set
    # VENDOR.md §1c: known neighbours accepted, the rest of the LAN on port bgp counted, logged
    # (show firewall log), syslogged (PFE_FW_SYSLOG) and discarded, then the final accept term
    assert [line for line in committed if line.startswith(v4)] == [
        f"{v4} term bgp-peers from source-address 192.0.2.1/32",
        f"{v4} term bgp-peers from source-address 192.0.2.2/32",
        f"{v4} term bgp-peers from protocol tcp",
        f"{v4} term bgp-peers from port bgp",
        f"{v4} term bgp-peers then accept",
        f"{v4} term bgp-strangers from source-address 192.0.2.0/24",
        f"{v4} term bgp-strangers from protocol tcp",
        f"{v4} term bgp-strangers from port bgp",
        f"{v4} term bgp-strangers then count PEERWARDEN-BGP-GUARD-strangers",
        f"{v4} term bgp-strangers then log",
        f"{v4} term bgp-strangers then syslog",
        f"{v4} term bgp-strangers then discard",
        f"{v4} term rest then accept",
    ]
    assert f"{v6} term bgp-peers from source-address 2001:db8:100::1/128" in committed
    assert f"{v6} term bgp-peers from next-header tcp" in committed
    assert f"{v6} term rest then accept" in committed
    assert "set interfaces et-0/0/0 unit 100 family inet filter input PEERWARDEN-BGP-GUARD" in committed
    assert "set interfaces et-0/0/0 unit 100 family inet6 filter input PEERWARDEN-BGP-GUARD" in committed
    assert "set system syslog file messages firewall any" in committed
    assert push(double, "guard", intent)["changed"] is False

    push(double, "guard", intent, state="absent")
    assert sorted(without(double.committed_set, "set system syslog file messages firewall any")) == sorted(BASE)


# --- check mode -------------------------------------------------------------------------------


def test_check_mode_returns_the_routers_diff_and_commits_nothing(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=3)
    result = push(double, "rpki", intents.rpki_intent(RPKI), check_mode=True)
    assert result["changed"] is True
    assert result["diff"].startswith("[edit routing-options]")
    assert "+   validation {" in result["diff"]
    assert "[edit protocols bgp group IXP-V4" in result["diff"]
    assert "PEERWARDEN-RPKI BOGONS PEER-IN" in result["diff"]
    assert_untouched(double)
    assert double.events == []
    # a private candidate: the shared candidate and the lock are never touched; commit check only
    assert "lock" not in double.rpc_names
    assert double.rpc_names[0] == "open-configuration"
    assert "<check/>" in double.rpcs[double.rpc_names.index("commit-configuration")]
    assert double.rpc_names.count("commit-configuration") == 1
    assert "close-configuration" in double.rpc_names


def test_check_mode_reports_a_commit_check_error(junos_netconf_double):
    double = junos_netconf_double(BASE, commit_error={"message": "Referenced filter 'X' is not defined"})
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intents.rpki_intent(RPKI), check_mode=True)
    assert "Referenced filter 'X' is not defined" in str(failed.value)
    assert_untouched(double)


# --- the confirm timer ------------------------------------------------------------------------


def test_an_unconfirmed_commit_confirmed_rolls_back_by_itself(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=0.5)
    intent = intents.rpki_intent(RPKI)
    session = DRIVER.config(lab_device(double), {"lock_timeout": 1})
    with session:
        lines, _expect = DRIVER.plan("rpki", intent, session.running(), "present")
        session.load(lines)
        session.commit(1, "never confirmed")
        assert "set routing-options validation group PEERWARDEN session 127.0.0.1 port 3323" in double.committed_set
        wait_until(lambda: "rolled back" in double.events, timeout=5)
        assert double.committed_set == BASE
    # leaving the session saw that the router had already rolled back and did not commit again
    assert double.committed_set == BASE
    assert session.restored and "already" in session.restored
    assert double.events == ["commit never confirmed", "confirmed 1", "commit", "rolled back"]


# --- faults: the router as before, the router quoted ------------------------------------------


def test_commit_error_leaves_the_router_as_before(junos_netconf_double):
    message = "BGP: import policy PEERWARDEN-RPKI: configuration check-out failed"
    double = junos_netconf_double(BASE, commit_error={"message": message, "path": "[edit protocols bgp]"})
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intents.rpki_intent(RPKI))
    assert failed.value.step == "commit"
    assert isinstance(failed.value.error, ConfigRefused)
    assert message in str(failed.value) and "commit check" in str(failed.value)
    assert "discarded" in failed.value.restored
    assert_untouched(double)
    assert double.events == []
    assert "discard-changes" in double.rpc_names and "unlock" in double.rpc_names


def test_a_lock_held_by_someone_else_is_not_touched(junos_netconf_double):
    double = junos_netconf_double(BASE)
    double.hold_lock(user="alice", pid=4711)
    started = time.monotonic()
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intents.rpki_intent(RPKI), lock_timeout=1)
    assert time.monotonic() - started >= 1  # waited lock_timeout for it
    assert failed.value.step == "open"
    assert isinstance(failed.value.error, LockHeld)
    assert "configuration database locked by" in str(failed.value) and "alice" in str(failed.value)
    assert double.committed_set == BASE
    assert set(double.rpc_names) == {"lock", "close-session"}


def test_a_modified_shared_candidate_is_not_touched(junos_netconf_double):
    double = junos_netconf_double(BASE)
    double.modify_shared_candidate(["set system host-name alice-was-here"], user="alice")
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intents.rpki_intent(RPKI))
    assert isinstance(failed.value.error, LockHeld)
    assert "configuration database modified" in str(failed.value)
    assert double.committed_set == BASE
    # alice's uncommitted work is neither discarded nor committed
    assert "set system host-name alice-was-here" in double.candidate_set
    assert "discard-changes" not in double.rpc_names


def test_a_failed_post_check_rolls_back_at_once(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=30, rv_session_states={"127.0.0.1": "Connect"})
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intents.rpki_intent(RPKI), post_check_wait=0.5)
    assert failed.value.step == "post_check"
    assert "RTR session to 127.0.0.1 is Connect" in str(failed.value)
    assert "rolled back at once" in failed.value.restored
    # at once: the 30-second "minute" timer did not do it, rollback 1 + commit did
    assert double.committed_set == BASE
    assert double.events[-2:] == ["commit peerwarden: rolled back, the change was not confirmed", "confirmed by commit"]
    assert double.device.lock is None


def test_a_neighbour_that_goes_down_fails_the_post_check(junos_netconf_double):
    double = junos_netconf_double(BASE, minute_seconds=30)
    intent = intents.rpki_intent(RPKI)
    real_commit = DRIVER.config

    def config_dropping_a_peer(device, options):
        session = real_commit(device, options)
        commit = session.commit

        def commit_then_peer_down(minutes, comment):
            commit(minutes, comment)
            double.device.bgp_peer_states["192.0.2.2"] = "Active"

        session.commit = commit_then_peer_down
        return session

    DRIVER.config = config_dropping_a_peer
    try:
        with pytest.raises(ApplyFailed) as failed:
            push(double, "rpki", intent, post_check_wait=0.5)
    finally:
        del DRIVER.config
    assert "BGP neighbour 192.0.2.2 was Established before the change and is now Active" in str(failed.value)
    assert double.committed_set == BASE


# --- fault injection: the connection drops at every RPC of the sequence -------------------------


@pytest.mark.parametrize("number", range(1, len(CLEAN_RPCS) + 1))
def test_connection_dropped_at_every_rpc(junos_netconf_double, number):
    name, step = CLEAN_RPCS[number - 1]
    # a long "minute": what puts the router back is the session's end (JunOS rolls back a pending confirmed commit
    # and discards the lock holder's candidate when the session ends), not the confirm timer
    double = junos_netconf_double(BASE, minute_seconds=60, drop_at_rpc=number)
    intent = intents.rpki_intent(RPKI)
    if step is None:
        result = push(double, "rpki", intent)  # the change was confirmed before the drop: it stays
        assert result["changed"] is True
        assert double.dropped_at == name
        time.sleep(1)
        assert "set protocols bgp group IXP-V4 import [ PEERWARDEN-RPKI BOGONS PEER-IN ]" in double.committed_set
        return
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", intent)
    assert double.dropped_at == name
    assert failed.value.step == step
    assert f"lost during <{name}>" in str(failed.value)
    wait_until(lambda: double.device.lock is None, timeout=5)
    assert double.committed_set == BASE
    assert double.candidate_set == BASE


# --- the way in -------------------------------------------------------------------------------


def test_unknown_host_key_fails_with_its_sha256_fingerprint(junos_netconf_double, tmp_path):
    double = junos_netconf_double(BASE)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    device = lab_device(double, host_key_checking=True, known_hosts_file=str(known_hosts))
    with pytest.raises(HostKeyError) as failed:
        DRIVER.config(device, {}).__enter__()
    public = double._host_key.export_public_key("openssh").decode().split()
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(base64.b64decode(public[1])).digest()).decode().rstrip("=")
    assert f"SHA256:{digest}" in str(failed.value)
    assert double.rpc_names == []  # nothing was said to it, no password sent

    known_hosts.write_text(f"[{double.host}]:{double.port} {public[0]} {public[1]}\n")
    result = apply_change(
        DRIVER, device, lambda running: DRIVER.plan("rpki", intents.rpki_intent(RPKI), running, "present"), {}, True
    )
    assert result["changed"] is True


def test_netconf_port_is_830_unless_one_is_set():
    from ansible_collections.peerwarden.bgp.plugins.module_utils.device import netconf

    assert netconf.netconf_port(Device({"host": "r1", "username": "u"})) == 830
    assert netconf.netconf_port(Device({"host": "r1", "username": "u", "port": 22})) == 22
