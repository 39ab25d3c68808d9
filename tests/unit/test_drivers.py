"""The platform drivers: what selects them, what they can do, how their CLIs refuse."""

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import Device
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.base import LOGS
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import DRIVERS, driver_for

IOS_USER_LEVEL = "show logging\n        ^\n% Invalid input detected at '^' marker.\n"


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_every_driver_reads_logs(name):
    assert LOGS in DRIVERS[name].capabilities


def test_capability_missing_is_refused():
    with pytest.raises(ValueError, match="platform bird cannot config"):
        driver_for("bird", "config")


@pytest.mark.parametrize(
    "network_os, output, refusal",
    [
        (
            "cisco.ios.ios",
            "        ^\n% Invalid input detected at '^' marker.\n",
            "% Invalid input detected at '^' marker.",
        ),
        ("cisco.ios.ios", "% Authorization failed.\n", "% Authorization failed."),
        ("cisco.ios.ios", "Command authorization failed.\n", "Command authorization failed."),
        ("cisco.ios.ios", "% Incomplete command.\n", "% Incomplete command."),
        ("frr", "% Unknown command: show logging\n", "% Unknown command: show logging"),
        ("junos", "error: permission denied\n", "error: permission denied"),
        ("junos", "error: could not resolve file: nosuch\n", "error: could not resolve file: nosuch"),
        ("junos", "                  ^\nunknown command.\n", "unknown command."),
        ("junos", "\nsyntax error, expecting <command>.\n", "syntax error, expecting <command>."),
    ],
)
def test_refusals_are_recognised(network_os, output, refusal):
    assert driver_for(network_os).refusal(output) == refusal


@pytest.mark.parametrize(
    "network_os, output",
    [
        ("cisco.ios.ios", "Syslog logging: enabled\n\nLog Buffer (8192 bytes):\n"),
        ("cisco.ios.ios", ""),
        # a buffer that quotes a refusal deep inside is an answer, not a refusal
        ("cisco.ios.ios", "Syslog logging: enabled\nA\nB\nC\n*Mar 1 00:00:01: % Invalid input detected\n"),
        ("junos", "Nov 22 18:51:38  r1 rpd[1]: bgp_listen_accept: Connection attempt from unconfigured neighbor\n"),
    ],
)
def test_answers_are_not_refusals(network_os, output):
    assert driver_for(network_os).refusal(output) is None


def test_the_hint_says_what_to_set():
    ios = driver_for("ios")
    user_level = Device({"host": "127.0.0.1", "username": "u"})
    assert "ansible_become_method: enable" in ios.refusal_hint(user_level)
    assert "ANSIBLE_NET_AUTHORIZE" in ios.refusal_hint(user_level)
    enabled = Device({"host": "127.0.0.1", "username": "u", "enable": True})
    assert "authorization" in ios.refusal_hint(enabled)
    assert "log_files" in driver_for("junos").refusal_hint(user_level)
