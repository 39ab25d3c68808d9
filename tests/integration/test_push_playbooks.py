"""The push playbooks drive any platform that declares CONFIG, never branching on the OS: push_limits and
push_rpki run with ansible-playbook (as a CI pipeline runs them) against the Junos NETCONF double and the IOS
SSH double, with inventories as their users write them (netconf, network_cli). --check --diff shows the
router's own diff and changes nothing; the real run commits what VENDOR.md documents; the second run changes
nothing. (FRR with real software: test_push_frr.py.)"""

import json

import pytest
from integration.test_push_ios import BASE as IOS_BASE
from integration.test_push_junos import BASE, RPKI_COMMITTED

from playbook_runner import ROOT, run_playbook

pytestmark = pytest.mark.lab

LIMITS_NEIGHBORS = [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 150}}]
LIMIT_LINE = "set protocols bgp group IXP-V4 neighbor 192.0.2.1 family inet unicast prefix-limit maximum 150"


def inventory(double, network_os="junipernetworks.junos.junos", connection="ansible.netcommon.netconf"):
    router = {
        "ansible_host": double.host, "ansible_port": double.port, "ansible_user": double.username,
        "ansible_password": double.password, "ansible_network_os": network_os, "ansible_connection": connection,
    }  # fmt: skip
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    return {"all": {"hosts": {"localhost": local}, "children": {"routers": {"hosts": {"mx1": router}}}}}


def push(playbook, double, tmp_path, variables, *options, hosts=None):
    code, output, dummy = run_playbook(
        "%s/playbooks/%s.yml" % (ROOT, playbook), hosts or inventory(double), str(tmp_path), variables, options=options
    )
    return code, output


def recap_changed(output):
    line = next(line for line in output.splitlines() if line.startswith("mx1 "))
    return int(line.split("changed=")[1].split()[0])


@pytest.fixture
def junos(junos_netconf_double):
    return junos_netconf_double(config=BASE, minute_seconds=1.0)


def test_push_limits_check_then_apply_then_nothing_on_junos(junos, tmp_path):
    variables = {"peerwarden_limits_neighbors": LIMITS_NEIGHBORS, "peerwarden_confirm_timeout": 2}
    before = list(junos.committed_set)
    code, output = push("push_limits", junos, tmp_path, variables, "--check", "--diff")
    assert code == 0, output
    assert junos.committed_set == before  # check mode: nothing committed
    assert "prefix-limit" in output and "maximum 150" in output  # the router's own compare, in the diff
    assert recap_changed(output) >= 1
    code, output = push("push_limits", junos, tmp_path, variables)
    assert code == 0, output
    assert LIMIT_LINE in junos.committed_set
    assert any("commit" in event for event in junos.events)
    committed = list(junos.committed_set)
    code, output = push("push_limits", junos, tmp_path, variables)
    assert code == 0, output
    assert junos.committed_set == committed
    assert "mx1: no change" in output


def test_push_rpki_on_junos_commits_the_documented_policy(junos, tmp_path):
    variables = {
        "peerwarden_rpki_caches": [{"address": "127.0.0.1", "port": 3323, "refresh": 120, "expire": 3600}],
        "peerwarden_rpki_groups": ["IXP-V4"],
        "peerwarden_rpki_valid": {"local_preference": 110},
        "peerwarden_rpki_not_found": {"community": "64500:65001"},
        "peerwarden_confirm_timeout": 2,
    }
    code, output = push("push_rpki", junos, tmp_path, variables)
    assert code == 0, output
    assert set(RPKI_COMMITTED) <= set(junos.committed_set), json.dumps(junos.committed_set, indent=1)
    code, output = push("push_rpki", junos, tmp_path, variables)
    assert code == 0 and "mx1: no change" in output, output


IOS_LIMIT_LINE = "  neighbor 192.0.2.1 maximum-prefix 150 90"


def test_push_limits_check_then_apply_then_nothing_on_ios(ios_double, tmp_path):
    double = ios_double(running_config=IOS_BASE, minute_seconds=3.0)
    hosts = inventory(double, "cisco.ios.ios", "ansible.netcommon.network_cli")
    variables = {"peerwarden_limits_neighbors": LIMITS_NEIGHBORS, "peerwarden_confirm_timeout": 1}
    before = double.running_config
    code, output = push("push_limits", double, tmp_path, variables, "--check", "--diff", hosts=hosts)
    assert code == 0, output
    assert double.running_config == before and double.device.events == []
    assert "maximum-prefix 150" in output
    code, output = push("push_limits", double, tmp_path, variables, hosts=hosts)
    assert code == 0, output
    assert "maximum-prefix 150" in double.running_config and double.startup_config == double.running_config
    assert "confirmed" in double.device.events
    after = double.running_config
    code, output = push("push_limits", double, tmp_path, variables, hosts=hosts)
    assert code == 0 and "mx1: no change" in output, output
    assert double.running_config == after
