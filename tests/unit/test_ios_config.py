"""IOS config planning without a router: render, gather, plan edge cases, the local contextual diff,
and the guard's drops as the lines log_events reads."""

from __future__ import annotations

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.intents import IntentError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import ConfigRefused
from ansible_collections.peerwarden.bgp.plugins.module_utils.logs.patterns import FIREWALL_DROP, classify
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.ios import config
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for

RUNNING = """\
Building configuration...

Current configuration : 400 bytes
!
hostname r1
!
interface GigabitEthernet0/0
 ip address 192.0.2.254 255.255.255.0
!
interface GigabitEthernet0/1
 ip access-group OTHER in
!
router bgp 64500
 neighbor 192.0.2.1 remote-as 65001
 neighbor 2001:DB8::1 remote-as 65001
 !
 address-family ipv4
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map PEER-IN in
  neighbor 192.0.2.1 prefix-list PEER-V4 in
 exit-address-family
 !
 address-family ipv6
  neighbor 2001:DB8::1 activate
 exit-address-family
!
ip prefix-list PEER-V4 seq 10 permit 198.51.100.0/24
route-map PEER-IN permit 2
!
end
"""


def test_the_driver_declares_config():
    driver = driver_for("cisco.ios.ios", "config")
    assert driver.name == "ios"


def test_render_needs_no_router():
    lines = config.render("rpki", intents.rpki_intent({"caches": [{"address": "192.0.2.10", "refresh": 300}]}))
    assert lines[:3] == ["router bgp <local-as>", "bgp rpki server tcp 192.0.2.10 port 3323 refresh 300", "exit"]
    assert "match rpki invalid" in lines
    guard = config.render("guard", intents.guard_intent({"interfaces": ["Gi0/0"], "peering_lans": ["2001:db8::/64"]}))
    assert guard == [
        "ipv6 access-list PEERWARDEN-BGP-GUARD",
        "deny tcp 2001:DB8::/64 any eq bgp log",
        "deny tcp 2001:DB8::/64 eq bgp any log",
        "permit ipv6 any any",
        "exit",
        "interface Gi0/0",
        "ipv6 traffic-filter PEERWARDEN-BGP-GUARD in",
        "exit",
    ]


def test_ios_has_no_rtr_retry_or_expire_timer():
    intent = intents.rpki_intent({"caches": [{"address": "192.0.2.10", "retry": 60}]})
    with pytest.raises(IntentError, match=r"caches\[0\].retry: 60 IOS has no RTR retry timer"):
        config.plan("rpki", intent, RUNNING, "present")


def test_no_room_in_front_of_a_route_map_is_an_error_not_a_broken_chain():
    intent = intents.rpki_intent(
        {"caches": [{"address": "192.0.2.10"}], "neighbors": ["192.0.2.1"], "valid": {"community": "64500:1"}}
    )
    with pytest.raises(ConfigRefused, match=r"route-map PEER-IN \(inbound for 192.0.2.1\) starts at sequence 2"):
        config.plan("rpki", intent, RUNNING, "present")
    # with only the deny entry to insert there is room: sequence 1, in front of the chain
    lines, dummy = config.plan(
        "rpki", dict(intent, valid={"community": None, "local_preference": None}), RUNNING, "present"
    )
    assert lines[-4:] == ["route-map PEER-IN deny 1", "description peerwarden-rpki", "match rpki invalid", "exit"]


def test_length_limits_go_in_front_of_an_existing_prefix_list_and_v6_in_its_family():
    intent = intents.limits_intent(
        {
            "neighbors": [
                {"address": "192.0.2.1", "max_prefixes": {"ipv4": 10}, "threshold": 75},
                {"address": "2001:db8::1", "max_prefixes": {"ipv6": 5}, "restart_minutes": 5},
            ],
            "min_length": {"ipv4": 8},
        }
    )
    lines, dummy = config.plan("limits", intent, RUNNING, "present")
    assert "neighbor 192.0.2.1 maximum-prefix 10" in lines  # IOS hides the default threshold 75
    assert "neighbor 2001:DB8::1 maximum-prefix 5 90 restart 5" in lines
    assert "ip prefix-list PEER-V4 seq 8 deny 0.0.0.0/0 ge 25" in lines
    assert "ip prefix-list PEER-V4 seq 9 deny 0.0.0.0/0 le 7" in lines
    assert "neighbor 192.0.2.1 prefix-list PEERWARDEN-LIMITS-V4 in" not in lines  # one prefix-list per neighbour
    assert "ipv6 prefix-list PEERWARDEN-LIMITS-V6 seq 5 deny ::/0 ge 49" in lines
    v6 = lines.index("neighbor 2001:DB8::1 prefix-list PEERWARDEN-LIMITS-V6 in")
    assert lines[v6 - 1] == "address-family ipv6"
    candidate = config.apply_lines(config.parse(RUNNING), lines)
    again, dummy = config.plan("limits", intent, "\n".join(_render(candidate)), "present")
    assert again == []


def _render(root, depth=0):
    for node in root.children:
        yield " " * depth + node.text
        yield from _render(node, depth + 1)


def test_guard_refuses_to_replace_another_inbound_filter():
    intent = intents.guard_intent({"interfaces": ["GigabitEthernet0/1"], "peering_lans": ["192.0.2.0/24"]})
    with pytest.raises(
        ConfigRefused, match=r"interface GigabitEthernet0/1 already filters inbound with `ip access-group OTHER in`"
    ):
        config.plan("guard", intent, RUNNING, "present")


def test_guard_permits_every_configured_neighbour_read_from_the_router():
    intent = intents.guard_intent(
        {"interfaces": ["GigabitEthernet0/0"], "peering_lans": ["192.0.2.0/24", "2001:db8::/64"]}
    )
    lines, dummy = config.plan("guard", intent, RUNNING, "present")
    assert "permit tcp host 192.0.2.1 any eq bgp" in lines
    assert "permit tcp host 2001:DB8::1 eq bgp any" in lines
    assert "deny   tcp 192.0.2.0 0.0.0.255 any eq bgp log" in lines
    gathered = config.gather("guard", "\n".join(_render(config.apply_lines(config.parse(RUNNING), lines))))
    assert gathered["filters"][0] == {
        "name": "PEERWARDEN-BGP-GUARD",
        "interfaces": ["GigabitEthernet0/0"],
        "neighbors": ["192.0.2.1", "2001:db8::1"],
        "peering_lans": ["192.0.2.0/24", "2001:db8::/64"],
        "log": True,
    }


@pytest.mark.parametrize(
    "line",
    [
        # what IOS logs for the guard's `deny ... log` entries (VENDOR.md 3b shapes, our ACL's name)
        "Mar  3 20:02:09.464: %SEC-6-IPACCESSLOGP: list PEERWARDEN-BGP-GUARD denied tcp 192.0.2.77(51234) -> "
        "192.0.2.254(179), 1 packet",
        "Mar  3 20:02:09.464: %IPV6_ACL-6-ACCESSLOGP: list PEERWARDEN-BGP-GUARD/50 denied tcp 2001:DB8::77(51234) -> "
        "2001:DB8::FE(179), 1 packet",
    ],
)
def test_the_guards_drops_are_lines_log_events_reads(line):
    found, dummy = classify(line, "ios")
    assert found.kind == FIREWALL_DROP
    assert str(found.address).lower() in ("192.0.2.77", "2001:db8::77")


def test_gather_rpki_and_limits():
    running = RUNNING.replace(
        " neighbor 192.0.2.1 remote-as 65001\n",
        " neighbor 192.0.2.1 remote-as 65001\n bgp rpki server tcp 192.0.2.10 port 3323 refresh 600\n",
    ).replace(
        "  neighbor 192.0.2.1 activate\n",
        "  neighbor 192.0.2.1 activate\n  neighbor 192.0.2.1 maximum-prefix 100 80 warning-only\n",
    )
    assert config.gather("rpki", running)["caches"] == [{"address": "192.0.2.10", "port": 3323, "refresh": 600}]
    assert config.gather("limits", running)["neighbors"] == [
        {
            "address": "192.0.2.1",
            "max_prefixes": {"ipv4": 100, "ipv6": None},
            "threshold": 80,
            "on_exceed": "warning",
            "restart_minutes": None,
        }
    ]


def test_local_contextual_diff_has_the_routers_form():
    old = config.parse(RUNNING)
    new = config.apply_lines(
        old, ["router bgp 64500", "no neighbor 192.0.2.1 remote-as 65001", "neighbor 192.0.2.2 remote-as 65002", "exit"]
    )
    assert config.contextual_diff(old, new) == (
        "!Contextual Config Diffs:\n"
        "router bgp 64500\n"
        " +neighbor 192.0.2.2 remote-as 65002\n"
        "router bgp 64500\n"
        " -neighbor 192.0.2.1 remote-as 65001\n"
    )
    assert config.contextual_diff(old, old) == ""


def test_rtr_session_state():
    down = (
        "BGP SOVC neighbor is 192.0.2.10/3323 connected to port 3323\n"
        "Flags 0, Refresh time is 600, Serial number is 0, Session ID is 0\n  Connection failures: 3\n"
    )
    up = down.replace("Session ID is 0", "Session ID is 4711")
    assert config.rtr_sessions(down)["192.0.2.10"][0] is False
    assert "connection failures: 3" in config.rtr_sessions(down)["192.0.2.10"][1]
    assert config.rtr_sessions(up)["192.0.2.10"][0] is True


# `show ip bgp summary` and `show bgp ipv6 unicast summary` as IOS prints them: an address longer than the
# 15-character Neighbor column alone on its line, the row indented on the next (the form genieparser's
# iosxe show_bgp parser documents with 2001:DB8:20:4:6::6 and a dynamic *2001::100:1:2:1); a short IPv6
# address on one line; states with a reason in parentheses.
SUMMARIES = """\
BGP router identifier 192.0.2.254, local AS number 64500
Neighbor        V           AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd
192.0.2.1       4        65001      12      10        1    0    0 00:05:12       12
192.0.2.2       4        65002       0       0        1    0    0 never    Idle (Admin)

BGP router identifier 192.0.2.254, local AS number 64500
Neighbor        V           AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd
2001:DB8:20:4:6::6
                4          400      67      73       66    0    0 01:03:11        5
*2001::100:1:2:1
                4        65001       7       7      198    0    0 00:00:02        1
2001:DB8::7     4        65007      12      10        1    0    0 00:05:12        3
2001:DB8:FFFF::AB:CD
                4        65008       0       0        1    0    0 never    Active
"""


def test_summaries_of_both_families_with_wrapped_ipv6_rows():
    assert config.established(SUMMARIES) == {
        "192.0.2.1": 12,
        "2001:db8:20:4:6::6": 5,
        "2001::100:1:2:1": 1,
        "2001:db8::7": 3,
    }
    assert config.summary_row(SUMMARIES, "2001:DB8:FFFF::AB:CD").endswith("never Active")
    assert config.summary_row(SUMMARIES, "192.0.2.2").endswith("Idle (Admin)")
    assert config.summary_row(SUMMARIES, "192.0.2.99") is None
