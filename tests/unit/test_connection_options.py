"""Where a router's connection options come from: the task, the inventory, the play context (how AWX
passes a Machine credential) and the ANSIBLE_NET_* environment (an AWX Network credential)."""

import pytest
from ansible.playbook.play_context import PlayContext

from ansible_collections.peerwarden.bgp.plugins.plugin_utils.router_action import connection_options


def play_context(**fields):
    """ansible-core's own PlayContext (its defaults: no user, no password, no become), with these fields set."""
    context = PlayContext()
    for name, value in fields.items():
        setattr(context, name, value)
    return context


def options(args=None, task_vars=None, pc=None, environ=None):
    task_vars = dict({"inventory_hostname": "r1"}, **(task_vars or {}))
    return connection_options(args or {}, task_vars, pc or play_context(), environ or {})


def test_awx_machine_credential_comes_from_the_play_context():
    # ansible-playbook -u netops --ask-pass --private-key KEY: the values live in the play context only
    got = options(pc=play_context(remote_user="netops", password="answered-at-prompt", private_key_file="/k"))
    assert (got["username"], got["password"], got["ssh_key_file"]) == ("netops", "answered-at-prompt", "/k")


def test_connection_user_wins_over_the_local_connections_reset_remote_user():
    # with ansible_connection=local, ansible-core keeps the configured user in connection_user
    got = options(pc=play_context(remote_user="root", connection_user="netops"))
    assert got["username"] == "netops"


def test_inventory_variables_win_over_the_play_context_and_the_environment():
    got = options(
        task_vars={
            "ansible_user": "inv",
            "ansible_ssh_pass": "invpw",
            "ansible_host": "127.0.0.9",
            "ansible_port": 2222,
        },
        pc=play_context(remote_user="cli", password="clipw", remote_addr="10.0.0.1"),
        environ={"ANSIBLE_NET_USERNAME": "env", "ANSIBLE_NET_PASSWORD": "envpw"},
    )
    assert (got["username"], got["password"], got["host"], got["port"]) == ("inv", "invpw", "127.0.0.9", 2222)


def test_awx_network_credential_comes_from_the_environment():
    got = options(
        environ={
            "ANSIBLE_NET_USERNAME": "env",
            "ANSIBLE_NET_PASSWORD": "envpw",
            "ANSIBLE_NET_SSH_KEYFILE": "/net.key",
            "ANSIBLE_NET_AUTHORIZE": "1",
            "ANSIBLE_NET_AUTH_PASS": "enablepw",
        }
    )
    assert (got["username"], got["password"], got["ssh_key_file"]) == ("env", "envpw", "/net.key")
    assert (got["enable"], got["enable_password"]) == (True, "enablepw")


def test_task_options_win_over_everything():
    got = options(
        args={"username": "task", "enable": False, "host_key_checking": True},
        task_vars={"ansible_user": "inv", "ansible_host_key_checking": False},
        environ={"ANSIBLE_NET_AUTHORIZE": "yes"},
    )
    assert (got["username"], got["enable"], got["host_key_checking"]) == ("task", False, True)


@pytest.mark.parametrize(
    "task_vars, pc, expected",
    [
        ({"ansible_become": True, "ansible_become_method": "enable", "ansible_become_password": "s"}, {}, (True, "s")),
        ({"ansible_become": "yes", "ansible_become_method": "enable"}, {"become_pass": "prompted"}, (True, "prompted")),
        ({}, {"become": True, "become_method": "enable", "become_pass": "cli"}, (True, "cli")),
        ({"ansible_become": True, "ansible_become_method": "sudo"}, {}, (False, None)),
        (
            {"ansible_become": False, "ansible_become_method": "enable"},
            {"become": True, "become_method": "enable"},
            (False, None),
        ),
        ({}, {}, (False, None)),
    ],
)
def test_enable_mode_as_cisco_ios_takes_it(task_vars, pc, expected):
    got = options(task_vars=task_vars, pc=play_context(**pc))
    assert (got["enable"], got["enable_password"]) == expected


@pytest.mark.parametrize(
    "platform, method, enable",
    [
        ("peerwarden.bgp.frr_host", "sudo", True),
        ("frr_host", "ansible.builtin.sudo", True),
        ("frr_host", "enable", False),
        ("cisco.ios.ios", "sudo", False),
        ("no-such-platform", "enable", True),
    ],
)
def test_an_frr_host_becomes_root_with_sudo_a_router_enables(platform, method, enable):
    task_vars = {"ansible_network_os": platform, "ansible_become": True, "ansible_become_method": method}
    assert options(task_vars=task_vars)["enable"] is enable


def test_host_key_checking_is_on_unless_turned_off(monkeypatch):
    from ansible import constants

    monkeypatch.setattr(constants, "HOST_KEY_CHECKING", True)
    assert options()["host_key_checking"] is True
    assert options(task_vars={"ansible_host_key_checking": "false"})["host_key_checking"] is False
    assert options(task_vars={"ansible_ssh_host_key_checking": False})["host_key_checking"] is False
    monkeypatch.setattr(constants, "HOST_KEY_CHECKING", False)  # ANSIBLE_HOST_KEY_CHECKING=False
    assert options()["host_key_checking"] is False


def test_bastion_from_ssh_args():
    got = options(task_vars={"ansible_ssh_common_args": "-o ProxyJump=ops@bastion.example:2200"})
    assert got["proxy_command"] == "ssh -W %h:%p -p 2200 ops@bastion.example"
    got = options(task_vars={"ansible_ssh_extra_args": "-o 'ProxyCommand=nc -X connect -x proxy:3128 %h %p'"})
    assert got["proxy_command"] == "nc -X connect -x proxy:3128 %h %p"
    assert options()["proxy_command"] is None


def test_host_defaults_to_the_inventory_name():
    assert options()["host"] == "r1"
    assert options(pc=play_context(remote_addr="192.0.2.7"))["host"] == "192.0.2.7"
