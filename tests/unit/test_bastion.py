"""ProxyCommand / ProxyJump from ansible_ssh_common_args, as network users set them for cisco.ios."""

import pytest

from ansible_collections.peerwarden.bgp.plugins.module_utils.device.bastion import expand, proxy_command_from_ssh_args


@pytest.mark.parametrize(
    "args, expected",
    [
        ('-o ProxyCommand="ssh -W %h:%p -q bastion"', "ssh -W %h:%p -q bastion"),
        ("-o ProxyCommand='ssh -W %h:%p bastion'", "ssh -W %h:%p bastion"),
        ("-oProxyJump=jump", "ssh -W %h:%p jump"),
        ("-o ProxyJump=ops@jump:2200", "ssh -W %h:%p -p 2200 ops@jump"),
        ("-J ops@[2001:db8::1]:2200", "ssh -W %h:%p -p 2200 ops@2001:db8::1"),
        ("-J first,ops@second", "ssh -W %h:%p -J first ops@second"),
        ("-o StrictHostKeyChecking=no -o ProxyJump=jump", "ssh -W %h:%p -o StrictHostKeyChecking=no jump"),
        ("-o ProxyJump=none", None),
        ("-o Compression=yes -C", None),
        ("", None),
    ],
)
def test_proxy_command_from_ssh_args(args, expected):
    assert proxy_command_from_ssh_args(args) == expected


def test_common_and_extra_args_combine():
    assert (
        proxy_command_from_ssh_args("-o StrictHostKeyChecking=no", "-J jump")
        == "ssh -W %h:%p -o StrictHostKeyChecking=no jump"
    )


def test_tokens():
    assert expand("ssh -W %h:%p -l %r x 100%%", "127.0.0.1", 2222, "ops") == "ssh -W 127.0.0.1:2222 -l ops x 100%"
