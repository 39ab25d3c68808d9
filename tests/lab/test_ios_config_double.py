"""Drive the IOS double's configuration mode with netmiko, as the config push will: prompts,
running-config edits, errors, archive, confirmed change with a timer that really rolls back,
configure replace, write memory, post-check outputs and the fault knobs."""

from __future__ import annotations

import time

import pytest
from netmiko import ConfigInvalidException
from ntc_templates.parse import parse_output

from lab.cli_doubles import DEFAULT_IOS_RUNNING_CONFIG
from lab.clients import netmiko_connect as connect
from lab.clients import wait_until

pytestmark = pytest.mark.lab

BASE = """\
hostname r1
!
archive
 path flash:archive/cfg
 maximum 3
!
router bgp 64500
 bgp router-id 192.0.2.254
 neighbor 192.0.2.1 remote-as 65001
 !
 address-family ipv4
  neighbor 192.0.2.1 activate
 exit-address-family
!
end
"""

PUSH = [
    "router bgp 64500",
    "bgp rpki server tcp 192.0.2.10 port 3323 refresh 600",
    "neighbor 192.0.2.2 remote-as 65002",
    "address-family ipv4 unicast",
    "neighbor 192.0.2.2 activate",
    "neighbor 192.0.2.2 route-map RPKI-IN in",
    "neighbor 192.0.2.2 maximum-prefix 1000 80 restart 30",
    "exit-address-family",
    "exit",
    "route-map RPKI-IN deny 10",
    "match rpki invalid",
    "route-map RPKI-IN permit 20",
    "match rpki not-found",
    "ip access-list extended IXP-LAN-IN",
    "permit tcp host 192.0.2.2 any eq bgp",
    "deny tcp 192.0.2.0 0.0.0.255 any eq bgp log",
]

AFTER_PUSH = """\
!
hostname r1
!
archive
 path flash:archive/cfg
 maximum 3
!
router bgp 64500
 bgp router-id 192.0.2.254
 neighbor 192.0.2.1 remote-as 65001
 bgp rpki server tcp 192.0.2.10 port 3323 refresh 600
 neighbor 192.0.2.2 remote-as 65002
 !
 address-family ipv4
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.2 activate
  neighbor 192.0.2.2 route-map RPKI-IN in
  neighbor 192.0.2.2 maximum-prefix 1000 80 restart 30
 exit-address-family
!
route-map RPKI-IN deny 10
 match rpki invalid
!
route-map RPKI-IN permit 20
 match rpki not-found
!
ip access-list extended IXP-LAN-IN
 permit tcp host 192.0.2.2 any eq bgp
 deny   tcp 192.0.2.0 0.0.0.255 any eq bgp log
!
end
"""

BASE_RENDERED = "!\n" + BASE


def test_running_config_round_trips_and_default_parses(ios_double):
    assert ios_double(running_config=BASE).running_config == BASE_RENDERED
    double = ios_double()
    assert double.running_config.startswith("!\nversion 15.9\n")
    assert " deny   tcp 192.0.2.0 0.0.0.255 any eq bgp log\n" in double.running_config
    assert DEFAULT_IOS_RUNNING_CONFIG.rstrip().endswith("end")


def test_config_push_with_netmiko_edits_the_running_config(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        output = conn.send_config_set(PUSH, error_pattern=r"^%")
        assert conn.find_prompt() == "r1#"
        shown = conn.send_command("show running-config")
    assert "r1(config-router)#" in output
    assert "r1(config-router-af)#" in output
    assert "r1(config-route-map)#" in output
    assert "r1(config-ext-nacl)#" in output
    assert double.running_config == AFTER_PUSH
    assert shown == (
        f"Building configuration...\n\nCurrent configuration : {len(AFTER_PUSH)} bytes\n" + AFTER_PUSH.rstrip("\n")
    )
    assert double.commands[2:4] == ["configure terminal", "router bgp 64500"]


def test_prompts_of_the_submodes_and_leaving_them(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.config_mode()
        assert conn.find_prompt() == "r1(config)#"
        for line, prompt in [
            ("interface GigabitEthernet0/1", "r1(config-if)#"),
            ("ipv6 access-list V6-IN", "r1(config-ipv6-acl)#"),
            ("archive", "r1(config-archive)#"),
            ("log config", "r1(config-archive-log-cfg)#"),
            # a global command in a submode leaves the submode, as on IOS
            ("hostname r1", "r1(config)#"),
            ("router bgp 64500", "r1(config-router)#"),
            ("address-family ipv6", "r1(config-router-af)#"),
            ("exit-address-family", "r1(config-router)#"),
            ("exit", "r1(config)#"),
        ]:
            conn.write_channel(line + "\n")
            conn.read_until_pattern(pattern=r"\)#")
            assert conn.find_prompt() == prompt, line
        conn.exit_config_mode()
        assert conn.find_prompt() == "r1#"


def test_no_removes_lines_and_blocks(ios_double):
    double = ios_double(running_config=AFTER_PUSH)
    with connect(double) as conn:
        conn.send_config_set(
            [
                "router bgp 64500",
                "address-family ipv4",
                "no neighbor 192.0.2.2 maximum-prefix 1000 80 restart 30",
                "exit",
                "no neighbor 192.0.2.2",
                "no bgp rpki server tcp 192.0.2.10 port 3323 refresh 600",
                "exit",
                "no route-map RPKI-IN",
                "no ip access-list extended IXP-LAN-IN",
            ],
            error_pattern=r"^%",
        )
    assert double.running_config == BASE_RENDERED


def test_replacing_single_valued_settings(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.send_config_set(
            [
                "router bgp 64500",
                "neighbor 192.0.2.1 remote-as 65009",
                "archive",
                "maximum 5",
            ]
        )
    assert " neighbor 192.0.2.1 remote-as 65009\n" in double.running_config
    assert "65001" not in double.running_config
    assert " maximum 5\n" in double.running_config


def test_invalid_config_command_gets_the_caret(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        output = conn.send_config_set(["router bgp 64500", "neighbour 192.0.2.3 remote-as 1"])
        assert "                  ^\n% Invalid input detected at '^' marker." in output
        with pytest.raises(ConfigInvalidException):
            conn.send_config_set(["frobnicate"], error_pattern=r"% Invalid input")
    assert "neighbour" not in double.running_config


def test_neighbor_options_before_remote_as_are_refused(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        output = conn.send_config_set(["router bgp 64500", "neighbor 192.0.2.9 route-map X in"])
    assert "% Specify remote-as or peer-group commands first" in output
    assert "192.0.2.9" not in double.running_config


def test_reject_config_knob(ios_double):
    double = ios_double(
        running_config=BASE,
        reject_config={r"maximum-prefix": "% Maximum prefix limit is not supported on this platform"},
    )
    with connect(double) as conn, pytest.raises(ConfigInvalidException):
        conn.send_config_set(["router bgp 64500", "neighbor 192.0.2.1 maximum-prefix 10"], error_pattern=r"^%")
    assert "maximum-prefix" not in double.running_config


def test_show_running_config_section_and_include(ios_double):
    double = ios_double(running_config=AFTER_PUSH)
    with connect(double) as conn:
        section = conn.send_command("show running-config | section ^route-map")
        include = conn.send_command("show running-config | include remote-as")
    assert section == (
        "route-map RPKI-IN deny 10\n match rpki invalid\nroute-map RPKI-IN permit 20\n match rpki not-found"
    )
    assert include == (" neighbor 192.0.2.1 remote-as 65001\n neighbor 192.0.2.2 remote-as 65002")


def test_write_memory_and_archive(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.send_config_set(["hostname r1", "router bgp 64500", "bgp log-neighbor-changes"])
        assert double.startup_config == BASE_RENDERED
        assert "[OK]" in conn.save_config()
        assert double.startup_config == double.running_config
        for dummy in range(4):  # one more than "maximum 3": the oldest goes
            assert conn.send_command("archive config") == ""
        archive = conn.send_command("show archive")
        diff = conn.send_command("show archive config differences flash:archive/cfg-4 system:running-config")
    assert archive.splitlines()[:4] == [
        "The maximum archive configurations allowed is 3.",
        "There are currently 3 archive configurations saved.",
        "The next archive file will be named flash:archive/cfg-5",
        " Archive #  Name",
    ]
    parsed = parse_output(platform="cisco_ios", command="show archive", data=archive)
    assert parsed[0]["current_index"] == "1"
    assert parsed[0]["filenames"] == ["flash:archive/cfg-4", "flash:archive/cfg-2", "flash:archive/cfg-3"]
    assert diff == "!Contextual Config Diffs:\n!No changes were found"


def test_contextual_diff_of_startup_and_running(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.send_config_set(["router bgp 64500", "no neighbor 192.0.2.1", "neighbor 192.0.2.2 remote-as 65002"])
        diff = conn.send_command("show archive config differences")
    assert diff == (
        "!Contextual Config Diffs:\n"
        "router bgp 64500\n"
        " +neighbor 192.0.2.2 remote-as 65002\n"
        "router bgp 64500\n"
        " -neighbor 192.0.2.1 remote-as 65001\n"
        " address-family ipv4\n"
        "  -neighbor 192.0.2.1 activate"
    )


def test_revert_timer_rolls_back_by_itself(ios_double):
    double = ios_double(running_config=BASE, minute_seconds=0.5)
    with connect(double) as conn:
        out = conn.send_config_set(
            ["router bgp 64500", "neighbor 192.0.2.2 remote-as 65002"],
            config_mode_command="configure terminal revert timer 1",
        )
        assert "Rollback:Backing up current running config to flash:archive/cfg-1" in out
        assert "neighbor 192.0.2.2 " in double.running_config
        wait_until(lambda: "rolled back" in double.device.events, timeout=5)
        assert double.running_config == BASE_RENDERED
        assert "neighbor 192.0.2.2 " not in conn.send_command("show running-config")
    assert double.device.events == ["archive flash:archive/cfg-1", "revert timer 1", "rolled back"]


def test_configure_confirm_keeps_the_change(ios_double):
    double = ios_double(running_config=BASE, minute_seconds=0.3)
    with connect(double) as conn:
        conn.send_config_set(
            ["router bgp 64500", "neighbor 192.0.2.2 remote-as 65002"],
            config_mode_command="configure terminal revert timer 1",
        )
        assert conn.send_command("configure confirm") == ""
        time.sleep(0.6)
    assert "neighbor 192.0.2.2 " in double.running_config
    assert "rolled back" not in double.device.events
    assert double.device.events[-1] == "confirmed"


def test_configure_replace_reverts_to_the_checkpoint(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.send_command("archive config")
        conn.send_config_set(["router bgp 64500", "neighbor 192.0.2.2 remote-as 65002"])
        out = conn.send_command("configure replace flash:archive/cfg-1 force")
        missing = conn.send_command("configure replace flash:archive/cfg-9 force")
    assert out == "Total number of passes: 1\nRollback Done"
    assert missing == "%Error opening flash:archive/cfg-9 (File not found)"
    assert double.running_config == BASE_RENDERED


def test_configure_replace_without_force_asks(ios_double):
    double = ios_double(running_config=BASE)
    with connect(double) as conn:
        conn.send_command("archive config")
        conn.send_config_set(["hostname r9"])
        out = conn.send_command_timing("configure replace flash:archive/cfg-1", strip_prompt=False)
        assert out.endswith("Enter Y if you are sure you want to proceed. ? [no]: ")
        out = conn.send_command_timing("Y")
    assert "Rollback Done" in out
    assert double.running_config == BASE_RENDERED


def test_config_lock_held_by_another_session(ios_double):
    double = ios_double(running_config=BASE, config_lock=True)
    with connect(double) as conn:
        assert conn.send_command("configure terminal") == (
            "Configuration mode locked exclusively by user 'unknown' process '88' from terminal '0'. Please try later."
        )
        with pytest.raises(ValueError):
            conn.config_mode()
        double.unlock_config()
        conn.send_config_set(["hostname r1"])
    double.lock_config(user="alice", process=301, terminal=2)
    with connect(double) as conn:
        assert "by user 'alice' process '301' from terminal '2'" in conn.send_command("configure terminal")


def test_configuration_mode_exclusive_locks_out_a_second_session(ios_double):
    double = ios_double(running_config="configuration mode exclusive auto\n" + BASE)
    with connect(double) as first, connect(double) as second:
        first.config_mode()
        assert "locked exclusively" in second.send_command("configure terminal")
        first.exit_config_mode()
        second.config_mode()
        assert second.check_config_mode()
        second.exit_config_mode()


def test_connection_dropped_at_a_chosen_command(ios_double):
    double = ios_double(running_config=BASE, drop_at_command=r"^neighbor 192\.0\.2\.3 ")
    with connect(double, read_timeout_override=2) as conn, pytest.raises(Exception):
        conn.send_config_set(
            [
                "router bgp 64500",
                "neighbor 192.0.2.2 remote-as 65002",
                "neighbor 192.0.2.3 remote-as 65003",
                "neighbor 192.0.2.4 remote-as 65004",
            ]
        )
    assert double.dropped_at == "neighbor 192.0.2.3 remote-as 65003"
    assert "neighbor 192.0.2.2 " in double.running_config
    assert "192.0.2.3" not in double.running_config
    # Only once: a new session works.
    with connect(double) as conn:
        assert conn.find_prompt() == "r1#"


def test_connection_dropped_at_the_nth_command(ios_double):
    double = ios_double(running_config=BASE, drop_at_command=4)
    with connect(double, read_timeout_override=2) as conn, pytest.raises(Exception):
        conn.send_config_set(["router bgp 64500", "bgp log-neighbor-changes"])
    # terminal width, terminal length, configure terminal, router bgp 64500 <- dropped
    assert double.dropped_at == "router bgp 64500"


def test_post_check_outputs(ios_double):
    double = ios_double(
        running_config=AFTER_PUSH,
        bgp_neighbor_states={"192.0.2.1": 120, "192.0.2.2": "Active"},
        rpki_server_states={"192.0.2.10": "connected"},
    )
    with connect(double) as conn:
        summary = conn.send_command("show ip bgp summary")
        rpki = conn.send_command("show ip bgp rpki servers")
        rpki_bgp = conn.send_command("show bgp ipv4 unicast rpki servers")
    rows = parse_output(platform="cisco_ios", command="show ip bgp summary", data=summary)
    assert [(r["bgp_neighbor"], r["neighbor_as"], r["state_or_prefixes_received"]) for r in rows] == [
        ("192.0.2.1", "65001", "120"),
        ("192.0.2.2", "65002", "Active"),
    ]
    assert rows[0]["local_as"] == "64500" and rows[0]["router_id"] == "192.0.2.254"
    assert rpki.startswith("BGP SOVC neighbor is 192.0.2.10/3323 connected to port 3323\n")
    assert rpki == rpki_bgp
    with connect(ios_double(running_config=BASE, show_outputs={"show ip bgp summary": "canned\n"})) as conn:
        assert conn.send_command("show ip bgp summary") == "canned"
