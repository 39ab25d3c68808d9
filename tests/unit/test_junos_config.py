"""JunOS plan/render/gather with no device: the lines per VENDOR.md §1 (fixtures/junos/vendor_config.md),
idempotence, import chains kept, values JunOS refuses caught before any router is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import parse_junos_firewall_syslog
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.junos import config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

DRIVER = driver_for("junos", "config")
VENDOR = (Path(__file__).parent / "fixtures" / "junos" / "vendor_config.md").read_text()

RUNNING = "\n".join(
    [
        "set interfaces et-0/0/0 unit 100 family inet address 192.0.2.254/24",
        "set protocols bgp group IXP-V4 import [ BOGONS PEER-IN ]",
        "set protocols bgp group IXP-V4 family inet unicast",
        "set protocols bgp group IXP-V4 family inet6 unicast",
        "set protocols bgp group IXP-V4 neighbor 192.0.2.1 peer-as 65001",
        "set protocols bgp group IXP-V4 neighbor 192.0.2.2 peer-as 65002",
        "set protocols bgp group IXP-V4 neighbor 192.0.2.2 import STRICT",
        "set protocols bgp group TRANSIT neighbor 198.51.100.1 peer-as 64999",
        "",
    ]
)


def apply(running, lines):
    """What the router would hold after the lines (set/delete on the set-line model)."""
    config_lines = [line for line in running.splitlines() if line.startswith("set ")]
    for line in lines:
        if line.startswith("delete "):
            prefix = "set " + line[len("delete ") :]
            config_lines = [c for c in config_lines if not (c == prefix or c.startswith(prefix + " "))]
        elif line.startswith("set ") and line not in config_lines:
            config_lines.append(line)
    return "\n".join(config_lines) + "\n"


def rpki(**extra):
    options = {"caches": [{"address": "192.0.2.10", "port": 3323, "refresh": 120}], "groups": ["IXP-V4"]}
    options.update(extra)
    return intents.rpki_intent(options)


def test_rpki_policy_follows_vendor_and_never_accepts():
    lines = DRIVER.render("rpki", rpki())
    policy = [line.replace("PEERWARDEN-RPKI", "RPKI-IN") for line in lines if "policy-statement" in line]
    for line in policy:
        assert line in VENDOR, line
    assert not [line for line in lines if line.endswith(" accept")]
    assert "set routing-options validation group PEERWARDEN session 192.0.2.10 hold-time 600" in lines


@pytest.mark.parametrize(("refresh", "hold"), [(120, 600), (300, 600), (900, 1800), (1800, 3600)])
def test_hold_time_is_at_least_twice_the_refresh(refresh, hold):
    lines = DRIVER.render("rpki", rpki(caches=[{"address": "192.0.2.10", "refresh": refresh}]))
    assert f"set routing-options validation group PEERWARDEN session 192.0.2.10 hold-time {hold}" in lines


def test_a_refresh_junos_refuses_is_caught_before_the_router():
    with pytest.raises(IntentError, match=r"caches\[0\].refresh: 3600 .*1-1800"):
        DRIVER.render("rpki", rpki(caches=[{"address": "192.0.2.10", "refresh": 3600}]))


def test_rpki_goes_in_front_of_the_chain_and_a_second_plan_is_empty():
    intent = rpki(neighbors=["192.0.2.2", "198.51.100.1"])
    lines, expect = DRIVER.plan("rpki", intent, RUNNING, "present")
    assert "set protocols bgp group IXP-V4 import [ PEERWARDEN-RPKI BOGONS PEER-IN ]" in lines
    # a neighbour's own import replaces the group's: its own chain is kept behind ours
    assert "set protocols bgp group IXP-V4 neighbor 192.0.2.2 import [ PEERWARDEN-RPKI STRICT ]" in lines
    # a neighbour without an import of its own (and a group with none): ours alone, then the default
    assert "set protocols bgp group TRANSIT neighbor 198.51.100.1 import PEERWARDEN-RPKI" in lines
    assert expect["rtr_caches"] == ["192.0.2.10"]
    after = apply(RUNNING, lines)
    assert DRIVER.plan("rpki", intent, after, "present") == ([], expect)
    gathered = DRIVER.gather("rpki", after)
    assert gathered["groups"] == ["IXP-V4"] and gathered["neighbors"] == ["192.0.2.2", "198.51.100.1"]
    removed, dummy = DRIVER.plan("rpki", intent, after, "absent")
    back = apply(after, removed)
    assert "PEERWARDEN" not in back
    assert "set protocols bgp group IXP-V4 import [ BOGONS PEER-IN ]" in back
    assert DRIVER.plan("rpki", intent, back, "absent")[0] == []


def test_changing_a_mark_replaces_the_policy_and_drops_the_unused_community():
    first = rpki(valid={"community": "64500:1"})
    after = apply(RUNNING, DRIVER.plan("rpki", first, RUNNING, "present")[0])
    assert "set policy-options community PEERWARDEN-RPKI-VALID members 64500:1" in after
    lines, dummy = DRIVER.plan("rpki", rpki(valid={"local_preference": 120}), after, "present")
    assert "delete policy-options community PEERWARDEN-RPKI-VALID" in lines
    assert "delete policy-options policy-statement PEERWARDEN-RPKI" in lines
    assert not [line for line in lines if "import" in line]  # the chain already has it in front


def test_unknown_group_or_neighbour_names_the_option():
    with pytest.raises(
        IntentError, match=r"groups: 'NOPE' is not a BGP group on this router \(it has: IXP-V4, TRANSIT\)"
    ):
        DRIVER.plan("rpki", rpki(groups=["NOPE"]), RUNNING, "present")
    with pytest.raises(IntentError, match="neighbors: '203.0.113.9' is not a BGP neighbour"):
        DRIVER.plan("rpki", rpki(neighbors=["203.0.113.9"]), RUNNING, "present")


def limits(**extra):
    options = {
        "neighbors": [
            {
                "address": "192.0.2.1",
                "max_prefixes": {"ipv4": 1000, "ipv6": 200},
                "threshold": 80,
                "restart_minutes": 30,
            }
        ]
    }
    options.update(extra)
    return intents.limits_intent(options)


def test_prefix_limit_lines_follow_vendor():
    lines = DRIVER.render("limits", limits())
    assert (
        "set protocols bgp group <its group> neighbor 192.0.2.1 family inet unicast prefix-limit teardown 80 idle-timeout 30"
        in lines
    )
    documented = "family inet unicast prefix-limit teardown 80 idle-timeout 30"
    assert documented in VENDOR


def test_first_family_at_the_neighbour_keeps_the_groups_families():
    lines, dummy = DRIVER.plan("limits", limits(), RUNNING, "present")
    base = "set protocols bgp group IXP-V4 neighbor 192.0.2.1 family"
    assert lines == [
        f"{base} inet unicast",
        f"{base} inet6 unicast",
        f"{base} inet unicast prefix-limit maximum 1000",
        f"{base} inet unicast prefix-limit teardown 80 idle-timeout 30",
        f"{base} inet6 unicast prefix-limit maximum 200",
        f"{base} inet6 unicast prefix-limit teardown 80 idle-timeout 30",
    ]
    after = apply(RUNNING, lines)
    assert DRIVER.plan("limits", limits(), after, "present")[0] == []
    gathered = DRIVER.gather("limits", after)
    assert gathered["neighbors"] == [
        {
            "address": "192.0.2.1",
            "max_prefixes": {"ipv4": 1000, "ipv6": 200},
            "threshold": 80,
            "on_exceed": "teardown",
            "restart_minutes": 30,
        }
    ]


def test_warning_only_is_maximum_alone_and_a_family_not_carried_is_left_out():
    intent = intents.limits_intent(
        {"neighbors": [{"address": "198.51.100.1", "max_prefixes": {"ipv4": 10, "ipv6": 5}, "on_exceed": "warning"}]}
    )
    lines, dummy = DRIVER.plan("limits", intent, RUNNING, "present")
    assert lines == [
        "set protocols bgp group TRANSIT neighbor 198.51.100.1 family inet unicast prefix-limit maximum 10"
    ]


def test_idle_timeout_beyond_junos_range_is_refused():
    with pytest.raises(IntentError, match=r"neighbors\[0\].restart_minutes: 3000 .*1-2400"):
        DRIVER.plan(
            "limits",
            limits(neighbors=[{"address": "192.0.2.1", "max_prefixes": {"ipv4": 5}, "restart_minutes": 3000}]),
            RUNNING,
            "present",
        )


def test_length_policy_follows_vendor_and_both_features_share_the_front():
    intent = limits(groups=["IXP-V4"], min_length={"ipv4": 8})
    dummy, policy = config.length_policy(intent)
    for line in policy:
        if "too-specific" in line:
            assert line.replace("PEERWARDEN-LIMITS", "TOO-SPECIFIC").replace("too-specific-", "") in VENDOR
    assert (
        "policy-options policy-statement PEERWARDEN-LIMITS term too-short-v4 from route-filter 0.0.0.0/0 upto /7"
        in policy
    )
    after = apply(RUNNING, DRIVER.plan("rpki", rpki(), RUNNING, "present")[0])
    after = apply(after, DRIVER.plan("limits", intent, after, "present")[0])
    assert "set protocols bgp group IXP-V4 import [ PEERWARDEN-LIMITS PEERWARDEN-RPKI BOGONS PEER-IN ]" in after
    assert DRIVER.plan("rpki", rpki(), after, "present")[0] == []
    assert DRIVER.plan("limits", intent, after, "present")[0] == []


def guard(**extra):
    options = {"interfaces": ["et-0/0/0.100"], "peering_lans": ["192.0.2.0/24"]}
    options.update(extra)
    return intents.guard_intent(options)


def test_guard_permits_only_configured_neighbours_in_the_lan():
    lines, dummy = DRIVER.plan("guard", guard(), RUNNING, "present")
    peers = [line.split()[-1] for line in lines if "bgp-peers from source-address" in line]
    assert peers == ["192.0.2.1/32", "192.0.2.2/32"]  # 198.51.100.1 is not on the LAN
    for line in lines:
        if line.startswith("set firewall"):
            generic = line.replace("PEERWARDEN-BGP-GUARD-strangers", "bgp-unknown").replace(
                "PEERWARDEN-BGP-GUARD", "IXP-LAN-IN"
            )
            generic = generic.replace("bgp-peers", "bgp-known").replace("bgp-strangers", "bgp-unknown")
            generic = generic.replace("source-address 192.0.2.0/24", "source-prefix-list IXP-LAN-V4")
            if "bgp-known from source-address" not in generic:
                assert generic in VENDOR, generic
    after = apply(RUNNING, lines)
    assert DRIVER.plan("guard", guard(), after, "present")[0] == []
    assert DRIVER.gather("guard", after)["interfaces"] == ["et-0/0/0.100"]


def test_guard_refuses_to_replace_an_input_filter_or_invent_an_interface():
    running = RUNNING + "set interfaces et-0/0/0 unit 100 family inet filter input EDGE-IN\n"
    with pytest.raises(IntentError, match="already has an input filter"):
        DRIVER.plan("guard", guard(), running, "present")
    with pytest.raises(IntentError, match="not configured on this router"):
        DRIVER.plan("guard", guard(interfaces=["xe-9/9/9.7"]), RUNNING, "present")


def test_the_guards_drops_are_what_log_events_reads():
    # the syslog action's line for a stranger's SYN on the guarded unit (VENDOR.md §1c / §3a shape)
    line = "fpc0 PFE_FW_SYSLOG_IP: FW: et-0/0/0.100  D  tcp 192.0.2.99 192.0.2.254  51234 179 (1 packets)"
    finding = parse_junos_firewall_syslog(line)
    assert finding.address == "192.0.2.99"
    assert finding.interface == "et-0/0/0.100"
    assert "then log" in " ".join(DRIVER.render("guard", guard()))
