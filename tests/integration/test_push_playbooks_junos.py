"""The push playbooks drive any platform that declares CONFIG, never branching on the OS: push_limits and
push_rpki run with ansible-playbook (as a CI pipeline runs them) against the Junos NETCONF double, with an
inventory as a JunOS user writes it (ansible_connection netconf). --check --diff shows the router's own
compare and changes nothing; the real run commits what VENDOR.md documents; the second run changes nothing."""

import json

import pytest
from integration.test_push_junos import BASE, RPKI_COMMITTED

from playbook_runner import ROOT, run_playbook

pytestmark = pytest.mark.lab

LIMITS_NEIGHBORS = [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 150}}]
LIMIT_LINE = "set protocols bgp group IXP-V4 neighbor 192.0.2.1 family inet unicast prefix-limit maximum 150"


def inventory(double):
    router = {
        "ansible_host": double.host, "ansible_port": double.port, "ansible_user": double.username,
        "ansible_password": double.password, "ansible_network_os": "junipernetworks.junos.junos",
        "ansible_connection": "ansible.netcommon.netconf",
    }  # fmt: skip
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    return {"all": {"hosts": {"localhost": local}, "children": {"routers": {"hosts": {"mx1": router}}}}}


def push(playbook, double, tmp_path, variables, *options):
    code, output, dummy = run_playbook(
        "%s/playbooks/%s.yml" % (ROOT, playbook), inventory(double), str(tmp_path), variables, options=options
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
