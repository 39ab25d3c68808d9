"""The session's enable against the IOS SSH double: the secret works, and each way IOS refuses it (a second
"Password:", "% Access denied" under AAA, "% No password set" on a vty) fails the task at once with the
router's words and what to set, instead of waiting out netmiko's prompt timeout."""

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.errors import DeviceError
from ansible_collections.peerwarden.bgp.plugins.module_utils.device.session import CliSession
from ansible_collections.peerwarden.bgp.plugins.module_utils.platforms.registry import driver_for
from lab.clients import lab_device

pytestmark = pytest.mark.lab

IOS = driver_for("cisco.ios.ios")


def session(double, secret):
    return CliSession(lab_device(double, enable=True, enable_password=secret), IOS)


def test_the_right_secret_enters_enable_mode_and_is_never_recorded(ios_double):
    double = ios_double(privilege=1, enable_secret="s3cret")
    with session(double, "s3cret") as cli:
        assert cli.connection.find_prompt() == "r1#"
    assert "enable" in double.commands and "s3cret" not in double.commands


@pytest.mark.parametrize(
    ("options", "secret", "words"),
    [
        ({"enable_secret": "s3cret"}, "wrong", "it asked for the secret again"),
        ({"enable_secret": "s3cret", "enable_auth": "aaa"}, "wrong", "% Access denied"),
        ({}, "anything", "% No password set"),
    ],
    ids=["local", "aaa", "none-set"],
)
def test_a_refused_enable_fails_with_the_routers_words(ios_double, options, secret, words):
    double = ios_double(privilege=1, **options)
    with pytest.raises(DeviceError) as failed:
        with session(double, secret):
            raise AssertionError("enable was refused, the session must not open")
    message = str(failed.value)
    assert "refused enable mode" in message and words in message and "ansible_become_password" in message
    assert secret not in message
    assert "show logging" not in double.commands
