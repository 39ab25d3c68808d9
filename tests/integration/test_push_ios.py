"""Config push to Cisco IOS through the IOS SSH double (tests/lab/ios_config.py), through the one
apply sequence the modules use (config/apply.apply_change): the loaded config, idempotence, check
mode, the four faults and a connection killed at every command of the sequence."""

from __future__ import annotations

import time

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.config import intents
from ansible_collections.peerwarden.bgp.plugins.module_utils.config.apply import ApplyFailed, apply_change
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import ConfigRefused, LockHeld
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import IosDriver
from lab.clients import lab_device, wait_until
from lab.push_configs import ios_base

pytestmark = pytest.mark.lab

BASE = ios_base()

INTENTS = {"rpki": intents.rpki_intent, "limits": intents.limits_intent, "guard": intents.guard_intent}
RPKI = {
    "caches": [{"address": "192.0.2.10", "port": 3323}],
    "valid": {"local_preference": 200},
    "not_found": {"local_preference": 100},
}
LIMITS = {
    "neighbors": [
        {"address": "192.0.2.1", "max_prefixes": {"ipv4": 1000}, "threshold": 80, "restart_minutes": 30},
        {"address": "192.0.2.2", "max_prefixes": {"ipv4": 50}, "on_exceed": "warning"},
    ]
}
GUARD = {"interfaces": ["GigabitEthernet0/0"], "peering_lans": ["192.0.2.0/24"]}
RPKI_AFTER = (
    BASE.replace(
        " neighbor 192.0.2.2 remote-as 65002\n",
        " neighbor 192.0.2.2 remote-as 65002\n bgp rpki server tcp 192.0.2.10 port 3323 refresh 600\n",
    )
    .replace(
        "  neighbor 192.0.2.2 activate\n",
        "  neighbor 192.0.2.2 activate\n  neighbor 192.0.2.2 route-map PEERWARDEN-RPKI in\n",
    )
    .replace(
        "end\n",
        """\
route-map PEERWARDEN-RPKI deny 10
 description peerwarden-rpki
 match rpki invalid
!
route-map PEERWARDEN-RPKI permit 20
 match rpki not-found
 set local-preference 100
!
route-map PEERWARDEN-RPKI permit 30
 match rpki valid
 set local-preference 200
!
route-map PEERWARDEN-RPKI permit 40
!
route-map PEER-IN deny 7
 description peerwarden-rpki
 match rpki invalid
!
route-map PEER-IN permit 8
 description peerwarden-rpki
 match rpki not-found
 set local-preference 100
 continue
!
route-map PEER-IN permit 9
 description peerwarden-rpki
 match rpki valid
 set local-preference 200
 continue
!
end
""",
    )
)
LIMITS_AFTER = BASE.replace(
    "  neighbor 192.0.2.2 activate\n",
    """\
  neighbor 192.0.2.2 activate
  neighbor 192.0.2.1 maximum-prefix 1000 80 restart 30
  neighbor 192.0.2.2 maximum-prefix 50 90 warning-only
  neighbor 192.0.2.1 prefix-list PEERWARDEN-LIMITS-V4 in
  neighbor 192.0.2.2 prefix-list PEERWARDEN-LIMITS-V4 in
""",
).replace(
    "end\n",
    """\
ip prefix-list PEERWARDEN-LIMITS-V4 seq 5 deny 0.0.0.0/0 ge 25
ip prefix-list PEERWARDEN-LIMITS-V4 seq 1000 permit 0.0.0.0/0 le 32
!
end
""",
)
GUARD_AFTER = BASE.replace(
    " ip address 192.0.2.254 255.255.255.0\n",
    " ip address 192.0.2.254 255.255.255.0\n ip access-group PEERWARDEN-BGP-GUARD in\n",
).replace(
    "end\n",
    """\
ip access-list extended PEERWARDEN-BGP-GUARD
 permit tcp host 192.0.2.1 any eq bgp
 permit tcp host 192.0.2.1 eq bgp any
 permit tcp host 192.0.2.2 any eq bgp
 permit tcp host 192.0.2.2 eq bgp any
 deny   tcp 192.0.2.0 0.0.0.255 any eq bgp log
 deny   tcp 192.0.2.0 0.0.0.255 eq bgp any log
 permit ip any any
!
end
""",
)
CASES = [("rpki", RPKI, RPKI_AFTER), ("limits", LIMITS, LIMITS_AFTER), ("guard", GUARD, GUARD_AFTER)]
#: a revert "minute" long enough for a whole apply, short enough to wait for in the revert tests
MINUTE = 3.0
APPLY = {"confirm_timeout": 1, "lock_timeout": 0.5, "post_check_wait": 0}
DRIVER = IosDriver()


def device(double, **params) -> Device:
    return lab_device(double, timeout=5, **params)


def push(double, feature, options, state="present", check_mode=False, **apply_options):
    intent = INTENTS[feature](dict(options, state=state))
    return apply_change(
        DRIVER,
        device(double),
        lambda running: DRIVER.plan(feature, intent, running, state),
        dict(APPLY, **apply_options),
        check_mode,
    )


@pytest.mark.parametrize("feature, options, after", CASES, ids=[case[0] for case in CASES])
def test_push_loads_exactly_the_config_and_a_second_run_changes_nothing(ios_double, feature, options, after):
    double = ios_double(running_config=BASE, minute_seconds=MINUTE)
    result = push(double, feature, options, comment="push_%s run 42" % feature)
    assert double.running_config == after
    assert double.startup_config == after  # write memory after the confirm
    assert result["changed"] is True
    assert result["steps"] == ["open", "running", "baseline", "load", "diff", "commit", "post_check", "confirm"]
    assert result["diff"].startswith("!Contextual Config Diffs:\n")
    events = double.device.events
    assert events[:3] == ["archive flash:archive/cfg-1", "archive flash:archive/cfg-2", "revert timer 1"]
    assert events[3:] == ["confirmed", "archive flash:archive/cfg-3", "write memory"]
    assert "configure terminal revert timer 1" in double.commands
    time.sleep(MINUTE * 1.2)  # the confirmed change outlives its revert timer
    assert double.running_config == after

    sent = len(double.commands)
    again = push(double, feature, options)
    assert again == {"changed": False, "diff": "", "commands": [], "steps": ["open", "running"]}
    assert double.running_config == after
    assert not any(c.startswith("configure terminal revert") for c in double.commands[sent:])


@pytest.mark.parametrize("feature, options, after", CASES, ids=[case[0] for case in CASES])
def test_state_absent_removes_what_was_added_and_only_that(ios_double, feature, options, after):
    double = ios_double(running_config=after, minute_seconds=MINUTE)
    result = push(double, feature, options, state="absent")
    assert result["changed"] is True
    assert double.running_config == BASE
    assert push(double, feature, options, state="absent")["changed"] is False


@pytest.mark.parametrize("feature, options, after", CASES, ids=[case[0] for case in CASES])
def test_check_mode_changes_nothing_and_shows_the_routers_own_diff(ios_double, feature, options, after):
    double = ios_double(running_config=BASE, minute_seconds=MINUTE)
    result = push(double, feature, options, check_mode=True)
    assert double.running_config == BASE and double.startup_config == BASE
    assert double.device.events == []  # no checkpoint, no timer, no archive
    assert not any(c.startswith(("configure", "archive", "write")) for c in double.commands)
    assert result["changed"] is True and result["steps"][-1] == "diff"
    # the same diff the router prints for the change once it is made
    real = ios_double(running_config=BASE, minute_seconds=MINUTE)
    push(real, feature, options)
    assert real.running_config == after
    assert result["diff"] == push_diff_of(real)


def push_diff_of(double):
    from netmiko import ConnectHandler

    with ConnectHandler(
        device_type="cisco_ios", host=double.host, port=double.port, username=double.username, password=double.password
    ) as conn:
        return conn.send_command("show archive config differences flash:archive/cfg-1 system:running-config") + "\n"


def test_lock_held_by_someone_else_leaves_the_router_untouched(ios_double):
    double = ios_double(running_config=BASE, minute_seconds=MINUTE)
    double.lock_config(user="alice", process=301, terminal=2)
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", RPKI)
    assert failed.value.step == "open"
    assert isinstance(failed.value.error, LockHeld)
    assert "Configuration mode locked exclusively by user 'alice' process '301' from terminal '2'" in str(failed.value)
    assert double.running_config == BASE
    assert double.device.events == []  # not even a checkpoint
    assert not any(c.startswith(("archive", "configure terminal revert")) for c in double.commands)


def test_a_refused_command_stops_the_load_and_puts_the_checkpoint_back_at_once(ios_double):
    double = ios_double(
        running_config=BASE,
        minute_seconds=MINUTE,
        reject_config={r"^match rpki valid": "% RPKI validation is not supported on this platform"},
    )
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", RPKI)
    assert failed.value.step == "load"
    assert isinstance(failed.value.error, ConfigRefused)
    assert "refused 'match rpki valid': % RPKI validation is not supported on this platform" in str(failed.value)
    assert "configure replace flash:archive/cfg-1 force" in failed.value.restored
    assert double.running_config == BASE
    assert double.device.events[-1] == "replace flash:archive/cfg-1"
    # nothing after the refused line was sent
    assert double.commands[double.commands.index("match rpki valid") + 1] == "end"


def test_invalid_input_with_the_caret_is_a_refusal_too(ios_double):
    double = ios_double(running_config=BASE, minute_seconds=MINUTE)
    driver_plan = DRIVER.plan("rpki", INTENTS["rpki"](RPKI), BASE, "present")

    def plan(running):
        lines, expect = driver_plan
        return lines[:2] + ["neighbour 192.0.2.3 remote-as 65003"] + lines[2:], expect

    with pytest.raises(ApplyFailed) as failed:
        apply_change(DRIVER, device(double), plan, APPLY, False)
    assert failed.value.step == "load"
    assert "% Invalid input detected at '^' marker." in str(failed.value)
    assert double.running_config == BASE


def test_a_failed_post_check_is_not_confirmed_and_is_undone(ios_double):
    double = ios_double(running_config=BASE, minute_seconds=MINUTE, rpki_server_states={"192.0.2.10": "down"})
    with pytest.raises(ApplyFailed) as failed:
        push(double, "rpki", RPKI)
    assert failed.value.step == "post_check"
    assert "RTR session to 192.0.2.10 is not up: BGP SOVC neighbor is 192.0.2.10/3323" in str(failed.value)
    assert "Session ID is 0" in str(failed.value)
    assert double.running_config == BASE and double.startup_config == BASE
    assert "confirmed" not in double.device.events
    assert double.device.events[-1] == "replace flash:archive/cfg-1"


# BASE with an IPv6 session whose address is longer than IOS's Neighbor column (its summary row wraps)
BASE_V6 = BASE.replace(
    " neighbor 192.0.2.2 remote-as 65002\n",
    " neighbor 192.0.2.2 remote-as 65002\n neighbor 2001:DB8:FFFF::AB:CD remote-as 65008\n",
).replace(
    " exit-address-family\n!\nroute-map",
    " exit-address-family\n !\n address-family ipv6\n  neighbor 2001:DB8:FFFF::AB:CD activate\n"
    " exit-address-family\n!\nroute-map",
)


@pytest.mark.parametrize(
    ("base", "lost", "shown_by"),
    [(BASE, "192.0.2.2", "show ip bgp summary"), (BASE_V6, "2001:DB8:FFFF::AB:CD", "show bgp ipv6 unicast summary")],
    ids=["ipv4", "ipv6"],
)
def test_a_neighbour_lost_after_the_change_fails_the_post_check(ios_double, base, lost, shown_by):
    states = {"192.0.2.1": 12, "192.0.2.2": 7, "2001:DB8:FFFF::AB:CD": 4}
    double = ios_double(running_config=base, minute_seconds=MINUTE, bgp_neighbor_states=states)

    class TearsDown(IosDriver):
        """The change makes one neighbour go down (the double's state is set once the lines are in)."""

        def config(self, device, options):
            session = IosDriver.config(self, device, options)
            load = session.load

            def load_and_lose(lines):
                load(lines)
                double.device.bgp_neighbor_states[lost] = "Idle (PfxCt)"

            session.load = load_and_lose
            return session

    intent = INTENTS["limits"](LIMITS)
    with pytest.raises(ApplyFailed) as failed:
        apply_change(
            TearsDown(), device(double), lambda running: DRIVER.plan("limits", intent, running, "present"), APPLY, False
        )
    assert failed.value.step == "post_check"
    assert f"BGP neighbour {lost.lower()} was Established before and is not now (`{shown_by}`" in str(failed.value)
    assert "Idle (PfxCt)" in str(failed.value)
    assert double.running_config == base and double.startup_config == base


def test_the_revert_timer_really_reverts_when_the_confirm_never_comes(ios_double):
    """The controller dies after the commit: nobody confirms and nobody replaces; IOS's own timer
    puts the checkpoint back."""
    double = ios_double(running_config=BASE, minute_seconds=1.0)
    intent = INTENTS["rpki"](RPKI)
    session = DRIVER.config(device(double), dict(APPLY, check_mode=False))
    session.__enter__()
    lines, expect = DRIVER.plan("rpki", intent, session.running(), "present")
    session.load(lines)
    assert "!Contextual Config Diffs:" in session.diff()
    session.commit(1, "killed run")
    assert double.running_config == RPKI_AFTER
    session.cli.connection.remote_conn.get_transport().close()  # killed, no __exit__
    time.sleep(0.3)
    assert double.running_config == RPKI_AFTER  # still changed: the timer has not run out
    wait_until(lambda: "rolled back" in double.device.events, timeout=5)
    assert double.running_config == BASE
    assert double.startup_config == BASE
    assert "confirmed" not in double.device.events


def test_when_the_router_cannot_be_reached_again_the_error_says_the_timer_will_revert(ios_double, monkeypatch):
    double = ios_double(running_config=BASE, minute_seconds=1.0, drop_at_command=r"^do show ip bgp rpki servers$")
    dev = device(double)
    opened = []
    original_cli = Device.cli

    def cli_once(self, driver):
        if opened:
            from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError

            raise DeviceError("cannot reach %s: Connection refused" % self.where())
        opened.append(1)
        return original_cli(self, driver)

    monkeypatch.setattr(Device, "cli", cli_once)
    intent = INTENTS["rpki"](RPKI)
    with pytest.raises(Exception) as failed:
        apply_change(DRIVER, dev, lambda running: DRIVER.plan("rpki", intent, running, "present"), APPLY, False)
    assert "may be left changed until its revert timer runs out (1 minutes)" in str(failed.value)
    assert double.running_config == RPKI_AFTER
    wait_until(lambda: "rolled back" in double.device.events, timeout=5)
    assert double.running_config == BASE


def _steps_of(commands):
    """The apply step each command of a successful run belongs to."""
    steps, step = [], "open"
    for command in commands:
        if command == "show running-config":
            step = "running"
        elif command == "show ip bgp summary" and step == "running":
            step = "baseline"
        elif command.startswith("configure terminal revert"):
            step = "load"
        elif command.startswith("do show archive config differences"):
            step = "diff"
        elif command.startswith("do show ip bgp rpki"):
            step = "post_check"
        elif command == "end" and step == "post_check":
            step = "confirm"
        steps.append(step)
    return steps


def test_a_connection_killed_at_any_command_leaves_the_router_as_before(ios_double):
    clean = ios_double(running_config=BASE, minute_seconds=MINUTE)
    push(clean, "rpki", RPKI)
    commands = clean.commands
    steps = _steps_of(commands)
    assert len(commands) > 40 and steps[-1] == "confirm"
    seen = []
    for number, (command, step) in enumerate(zip(commands, steps, strict=True), start=1):
        double = ios_double(running_config=BASE, minute_seconds=MINUTE, drop_at_command=number)
        try:
            push(double, "rpki", RPKI)
        except Exception as error:  # noqa: BLE001 - any failure: the router must be as before
            failed = error
        else:  # this run sent fewer lines than the clean one (netmiko's set-up varies): nothing dropped
            assert double.dropped_at is None, (number, command, double.commands)
            assert double.running_config == RPKI_AFTER
            continue
        assert double.dropped_at == command, (number, double.commands)
        if "revert timer" in " ".join(double.device.events) and not any(
            e.startswith(("replace", "rolled back")) for e in double.device.events
        ):
            wait_until(lambda d=double: "rolled back" in d.device.events, timeout=MINUTE * 2)
        assert double.running_config == BASE, (number, command)
        assert double.startup_config == BASE, (number, command)
        if isinstance(failed, ApplyFailed):
            assert failed.step == step, (number, command, str(failed))
            if number > 2:  # after netmiko's own set-up (terminal width/length): our words name the command
                assert "closed the connection" in str(failed) and repr(command) in str(failed), str(failed)
        else:  # the connection went before the session was open
            assert step == "open" and "r1" not in double.running_config.split("hostname ")[0], number
        seen.append((number, step))
    assert {step for dummy, step in seen} == {"open", "running", "baseline", "load", "diff", "post_check", "confirm"}
