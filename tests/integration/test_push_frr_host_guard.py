"""The TCP/179 guard on a real data plane (issue 10): an FRR host in network namespaces of its own
(tests/lab/guard_host.py: bgpd peering with BIRD, sshd, ulogd2), push_bgp_filter through ansible-playbook
with platform frr_host, then a stranger in the peering LAN knocks on TCP/179.

Shown: before the guard the stranger's connection is accepted; after it the connection times out (IPv4
and IPv6), BIRD's session stays Established, ulogd2's file has the drop with our prefix, and log_events
over that file (read from the host over SFTP, as from any router) names the stranger and our address under
the router's inventory name. A second run changes nothing; --check changes nothing (the namespace's
ruleset byte-identical); state absent removes our table and leaves another table byte-identical.

Run under the lab lock: flock /tmp/peerwarden-lab.lock .venv/bin/python -m pytest tests/integration/test_push_frr_host_guard.py
"""

import json
import os
import time

import pytest

from lab.daemons import wait_for, wait_for_log
from lab.guard_host import (
    LANS,
    NFLOG_GROUP,
    PEER_V4,
    ROUTER_V4,
    ROUTER_V6,
    SSH_PORT,
    STRANGER_V4,
    STRANGER_V6,
    ns_run,
)
from playbook_runner import ROOT, play_recap, run_playbook

pytestmark = pytest.mark.lab
PLAYBOOKS = os.path.join(ROOT, "playbooks")
OTHER_TABLE = "table inet theirs {\n\tchain c {\n\t\ttype filter hook input priority 10; policy accept;\n\t}\n}\n"


def inventory(host):
    router = {
        "ansible_host": "127.0.0.1",
        "ansible_port": SSH_PORT,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(host.key_file),
        "ansible_network_os": "peerwarden.bgp.frr_host",
        "ansible_connection": "local",
    }
    return {"all": {"children": {"routers": {"hosts": {"guard1": router}}}}}


def guard_vars(**extra):
    variables = {
        "peerwarden_guard_interfaces": ["veth-r"],
        "peerwarden_peering_lans": LANS,
        "peerwarden_guard_log_group": NFLOG_GROUP,
        "peerwarden_confirm_timeout": 2,
    }
    variables.update(extra)
    return variables


def push(host, tmp_path, variables, options=()):
    code, output, _report = run_playbook(
        f"{PLAYBOOKS}/push_bgp_filter.yml",
        inventory(host),
        str(tmp_path),
        extra_vars=variables,
        options=options,
        prefix=("ip", "netns", "exec", host.router_ns),
    )
    return code, output


def bird_established(host):
    summary = json.loads(host.vtysh("show bgp summary json"))
    return summary.get("ipv4Unicast", {}).get("peers", {}).get(PEER_V4, {}).get("state") == "Established"


def scan(host, tmp_path):
    """log_events on the host (SFTP) over ulogd2's file: the events."""
    out = tmp_path / "events.json"
    (tmp_path / "scan.yml").write_text(
        "- hosts: routers\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - peerwarden.bgp.log_events:\n"
        f"        log_files: [{host.guard_log}]\n"
        "        kinds: [firewall_drop_bgp]\n"
        f"        peering_lans: {json.dumps(LANS)}\n"
        "        since: 1d\n"
        "      register: found\n"
        "    - ansible.builtin.copy:\n"
        "        content: '{{ found.events | to_json }}'\n"
        f"        dest: {out}\n"
        "      delegate_to: localhost\n"
    )
    code, output, _report = run_playbook(
        str(tmp_path / "scan.yml"), inventory(host), str(tmp_path), prefix=("ip", "netns", "exec", host.router_ns)
    )
    assert code == 0, output
    return json.loads(out.read_text())


def test_the_guard_drops_and_logs_a_stranger_keeps_bird_and_log_events_names_it(make_guard_host, tmp_path):
    host = make_guard_host()
    wait_for(lambda: bird_established(host), "FRR and BIRD Established", timeout=90)
    assert host.connect_from(STRANGER_V4, ROUTER_V4) == "connected", "before the guard the kernel accepts it"
    ns_run(host.router_ns, "nft", "-f", "-", input=OTHER_TABLE)
    before = host.ruleset()

    # --check with nothing loaded yet: would change, changes nothing
    code, output = push(host, tmp_path, guard_vars(), options=("--check", "--diff"))
    assert code == 0, output
    assert play_recap(output, "guard1")["changed"] == 1 and "+table inet peerwarden_bgp_guard {" in output
    assert host.ruleset() == before

    code, output = push(host, tmp_path, guard_vars())
    assert code == 0, output
    assert play_recap(output, "guard1")["changed"] == 1, output
    ruleset = host.ruleset()
    assert "table inet peerwarden_bgp_guard" in ruleset and OTHER_TABLE.split("\n", maxsplit=1)[0] in ruleset
    assert f"elements = {{ {PEER_V4} }}" in ruleset, "FRR's neighbours are permitted"

    started = time.monotonic()
    assert host.connect_from(STRANGER_V4, ROUTER_V4) == "timed out"
    assert host.connect_from(STRANGER_V6, ROUTER_V6) == "timed out"
    assert time.monotonic() - started >= 5.0
    lines = wait_for_log(host.guard_log, r"peerwarden-bgp-guard: .*SRC=10\.66\.0\.9 DST=10\.66\.0\.2 .*DPT=179")
    wait_for_log(host.guard_log, r"peerwarden-bgp-guard: .*SRC=fd00:66::9 DST=fd00:66::2 .*DPT=179")
    assert "IN=veth-r" in lines[0]
    time.sleep(3)
    assert bird_established(host), "BIRD's session survives the guard"

    events = scan(host, tmp_path)
    found = {(event["address"], event["kind"]) for event in events}
    assert found == {(STRANGER_V4, "firewall_drop_bgp"), (STRANGER_V6, "firewall_drop_bgp")}, events
    for event in events:
        assert event["router"] == "guard1" and event["interface"] == "veth-r"
        assert event["local_addresses"] == [ROUTER_V6 if ":" in event["address"] else ROUTER_V4]

    # a second run changes nothing; --check with another value changes nothing either
    loaded = host.ruleset()
    code, output = push(host, tmp_path, guard_vars())
    assert code == 0 and play_recap(output, "guard1")["changed"] == 0, output
    code, output = push(host, tmp_path, guard_vars(peerwarden_guard_neighbors=["10.66.0.77"]), options=("--check",))
    assert code == 0 and play_recap(output, "guard1")["changed"] == 1, output
    assert host.ruleset() == loaded

    # absent: our table goes, theirs stays byte-identical
    code, output = push(host, tmp_path, guard_vars(peerwarden_guard_state="absent"))
    assert code == 0 and play_recap(output, "guard1")["changed"] == 1, output
    assert host.ruleset() == before
    assert host.connect_from(STRANGER_V4, ROUTER_V4) == "connected"
    code, output = push(host, tmp_path, guard_vars(peerwarden_guard_state="absent"))
    assert code == 0 and play_recap(output, "guard1")["changed"] == 0, output
