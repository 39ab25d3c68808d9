"""push_rpki and push_limits end to end with real software: FRR (bgpd -M rpki, reached over SSH into vtysh,
as an IOS-like router), BIRD announcing chosen prefixes, StayRTR serving a VRP file. The playbooks run with
ansible-playbook, as CI runs them.

VRPs and what BIRD (AS 65001) announces, and what FRR must do with it after push_rpki:

    203.0.113.0/24     ROA AS65001 max /24           valid      kept, local-preference 110
    203.0.113.128/25   covered by that ROA, too long invalid    rejected
    198.51.100.0/24    ROA AS64999 (another origin)  invalid    rejected
    100.64.1.0/24      no ROA                         not found  kept, community 65000:65 (ours) + 65000:100 (old map)
    172.16.0.0/24      no ROA                         not found  denied by the neighbour's old route-map IXP-IN

The last one shows the chain is kept: the new route-map continues into IXP-IN (`call`), which still decides.
FRR facts (LAB.md "RPKI with StayRTR", VENDOR.md 2b): `rpki` / `rpki cache ADDR PORT preference N`, `match rpki
invalid|notfound|valid`; %MAXPFXEXCEED then `Idle (PfxCt)` for teardown; warning-only stays Established.
"""

import json
import re
import subprocess
import time

import pytest
import yaml

from lab.daemons import free_port, wait_for, wait_for_log
from playbook_runner import ROOT, play_recap, run_playbook

pytestmark = pytest.mark.lab

FRR_ADDRESS, BIRD_ADDRESS = "127.0.0.42", "127.0.0.43"
VRPS = {
    "roas": [
        {"prefix": "203.0.113.0/24", "maxLength": 24, "asn": "AS65001"},
        {"prefix": "198.51.100.0/24", "maxLength": 24, "asn": "AS64999"},
    ]
}
ANNOUNCED = ["203.0.113.0/24", "203.0.113.128/25", "198.51.100.0/24", "100.64.1.0/24", "172.16.0.0/24"]
MORE = ["100.64.%d.0/24" % index for index in range(2, 8)]  # not found, accepted: push the count over the limit
OLD_POLICY = f"""\
ip prefix-list OLD-DENY seq 5 permit 172.16.0.0/24
!
route-map IXP-IN deny 5
 match ip address prefix-list OLD-DENY
exit
!
route-map IXP-IN permit 10
 set community 65000:100 additive
exit
!
router bgp 65000
 address-family ipv4 unicast
  neighbor {BIRD_ADDRESS} route-map IXP-IN in
 exit-address-family
exit
"""
PLAYBOOKS = ROOT + "/playbooks"


def bird_static(prefixes):
    routes = "".join(f"  route {prefix} blackhole;\n" for prefix in prefixes)
    return "protocol static announced {\n  ipv4;\n" + routes + "}\n"


@pytest.fixture
def stayrtr(tmp_path):
    """StayRTR on 127.0.0.1 serving VRPS from a local file (never the Internet: -cache and -metrics.addr given)."""
    cache = tmp_path / "vrps.json"
    cache.write_text(json.dumps(VRPS))
    port, metrics = free_port(), free_port()
    log = open(tmp_path / "stayrtr.log", "wb")
    process = subprocess.Popen(
        ["stayrtr", "-bind", f"127.0.0.1:{port}", "-cache", str(cache), "-checktime=false",
         "-metrics.addr", f"127.0.0.1:{metrics}", "-refresh", "10"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: _listening(port), "stayrtr listening", timeout=15)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _listening(port):
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def lab(make_frr_router, make_bird_router, make_vtysh_sshd, stayrtr):
    frr = make_frr_router(
        address=FRR_ADDRESS, neighbor=BIRD_ADDRESS, hostname="pe1", extra_config=OLD_POLICY, modules=("rpki",)
    )
    bird = make_bird_router(address=BIRD_ADDRESS, neighbor=FRR_ADDRESS, extra_config=bird_static(ANNOUNCED))
    sshd = make_vtysh_sshd(frr)
    wait_for(lambda: peer(frr).get("state") == "Established", "FRR and BIRD Established", timeout=60)
    wait_for(lambda: len(routes(frr)) == 4, "4 routes accepted before the push", show=lambda: routes(frr))
    return frr, bird, sshd, stayrtr


def peer(frr):
    summary = json.loads(frr.vtysh("show bgp summary json"))
    return summary.get("ipv4Unicast", {}).get("peers", {}).get(BIRD_ADDRESS, {})


def routes(frr):
    return json.loads(frr.vtysh("show bgp ipv4 unicast json")).get("routes", {})


def running(frr):
    return frr.vtysh("show running-config")


def inventory(sshd):
    host = {
        "ansible_host": sshd.host,
        "ansible_port": sshd.port,
        "ansible_user": sshd.username,
        "ansible_password": sshd.password,
        "ansible_network_os": "frr.frr.frr",
        "ansible_connection": "local",
    }
    return {"all": {"children": {"routers": {"hosts": {"pe1": host}}}}}


def push(name, sshd, tmp_path, variables, options=()):
    code, output, _report = run_playbook(
        f"{PLAYBOOKS}/{name}.yml", inventory(sshd), str(tmp_path), extra_vars=variables, options=options
    )
    return code, output


def rpki_vars(port):
    return {
        "peerwarden_rpki_caches": [{"address": "127.0.0.1", "port": port, "refresh": 30, "expire": 600}],
        "peerwarden_rpki_valid": {"local_preference": 110},
        "peerwarden_rpki_not_found": {"community": "65000:65"},
        "peerwarden_confirm_timeout": 2,
    }


def test_push_rpki_rejects_invalid_keeps_valid_and_not_found(lab, tmp_path):
    frr, _bird, sshd, port = lab
    before = running(frr)

    # --check --diff: the router's diff is shown, nothing is loaded
    code, output = push("push_rpki", sshd, tmp_path, rpki_vars(port), options=("--check", "--diff"))
    assert code == 0, output
    assert play_recap(output, "pe1")["changed"] == 1, output
    assert "+route-map PEERWARDEN-RPKI-IXP-IN deny 10" in output, output
    assert "+ rpki cache 127.0.0.1 %d preference 1" % port in output, output
    assert "pe1: would change" in output, output
    assert running(frr) == before  # byte-identical
    assert sshd.password not in output

    code, output = push("push_rpki", sshd, tmp_path, rpki_vars(port), options=("-v",))
    assert code == 0, output
    assert play_recap(output, "pe1")["changed"] == 1, output
    assert sshd.password not in output  # no_log holds at -v too
    config = running(frr)
    assert "rpki cache 127.0.0.1 %d preference 1" % port in config
    assert f"neighbor {BIRD_ADDRESS} route-map PEERWARDEN-RPKI-IXP-IN in" in config
    assert f"neighbor {BIRD_ADDRESS} soft-reconfiguration inbound" in config
    assert " call IXP-IN" in config and "route-map IXP-IN deny 5" in config  # the old chain is kept
    saved = (frr.vty_dir / "bgpd.conf").read_text()
    assert "PEERWARDEN-RPKI-IXP-IN" in saved  # write memory ran (only on success)

    wait_for(lambda: set(routes(frr)) == {"203.0.113.0/24", "100.64.1.0/24"}, "only valid and not-found kept",
             show=lambda: sorted(routes(frr)))  # fmt: skip
    table = json.loads(frr.vtysh("show bgp ipv4 unicast 203.0.113.0/24 json"))
    assert table["paths"][0]["locPrf"] == 110
    table = json.loads(frr.vtysh("show bgp ipv4 unicast 100.64.1.0/24 json"))
    assert set(table["paths"][0]["community"]["list"]) == {"65000:65", "65000:100"}
    assert peer(frr)["state"] == "Established"

    # a second run changes nothing
    after = running(frr)
    code, output = push("push_rpki", sshd, tmp_path, rpki_vars(port))
    assert code == 0, output
    assert play_recap(output, "pe1")["changed"] == 0, output
    assert "pe1: no change" in output
    assert running(frr) == after

    # gathered: structure, read-only
    code, output = run_playbook(
        str(_gather_playbook(tmp_path)), inventory(sshd), str(tmp_path), extra_vars={}, options=()
    )[:2]
    assert code == 0, output
    gathered = json.loads((tmp_path / "gathered.json").read_text())
    assert gathered["caches"] == [
        {"address": "127.0.0.1", "port": port, "preference": 1, "refresh": 30, "retry": 600, "expire": 600}
    ]
    (neighbor,) = [entry for entry in gathered["neighbors"] if entry["neighbor"] == BIRD_ADDRESS]
    assert neighbor["route_map_in"] == "PEERWARDEN-RPKI-IXP-IN" and neighbor["continues_into"] == "IXP-IN"
    assert neighbor["validates"] is True
    assert running(frr) == after


def _gather_playbook(tmp_path):
    path = tmp_path / "gather.yml"
    path.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "routers",
                    "gather_facts": False,
                    "tasks": [
                        {"peerwarden.bgp.rpki_config": {"state": "gathered"}, "register": "now"},
                        {
                            "ansible.builtin.copy": {
                                "dest": str(tmp_path / "gathered.json"),
                                "content": "{{ now.gathered | to_json }}",
                            },
                            "delegate_to": "localhost",
                        },
                    ],
                }
            ]
        )  # fmt: skip
    )
    return path


def limits_vars(maximum, on_exceed):
    return {
        "peerwarden_limits_neighbors": [{"address": BIRD_ADDRESS, "max_prefixes": {"ipv4": maximum}}],
        "peerwarden_limits_on_exceed": on_exceed,
        "peerwarden_limits_threshold": 80,
        "peerwarden_confirm_timeout": 2,
    }


def announce(bird, prefixes):
    config = bird.ctl.parent / "bird.conf"
    text = config.read_text()
    text = text[: text.index("protocol static announced")] + bird_static(prefixes)
    config.write_text(text)
    bird.birdc("configure")


def lab_ix_export(tmp_path):
    """The lab's LAN as an exchange: the fields and shapes of fixtures/ixp/ixpmanager_ixf_1.0_auth.json."""
    document = {
        "version": "1.0",
        "timestamp": "2026-11-22T00:00:00Z",
        "ixp_list": [
            {
                "ixp_id": 1,
                "ixf_id": 9200,
                "shortname": "Lab-IX",
                "vlan": [{"id": 1, "name": "Lab-IX LAN", "ipv4": {"prefix": "127.0.0.0", "mask_length": 24}}],
            }
        ],
        "member_list": [
            {
                "asnum": 65001,
                "name": "Lab BIRD",
                "peering_policy": "open",
                "contact_email": ["noc@bird.example"],
                "connection_list": [
                    {
                        "ixp_id": 1,
                        "state": "active",
                        "vlan_list": [
                            {
                                "vlan_id": 1,
                                "ipv4": {"address": BIRD_ADDRESS, "as_macro": "AS-LABBIRD", "max_prefix": 7},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "lab-ix.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_push_limits_takes_the_exchanges_max_prefix(lab, tmp_path):
    """Source step 2 (docs/push.md): the IX-F export's max_prefix for the session, through ixp_data's
    dataset, with no explicit value and no PeeringDB; check mode leaves the router as it was."""
    frr, bird, sshd, dummy = lab
    before = running(frr)
    variables = {
        "peerwarden_ixf": [lab_ix_export(tmp_path)],
        "peerwarden_ixp_cache_dir": str(tmp_path / "cache"),
        "peerwarden_limits_neighbors": [{"address": BIRD_ADDRESS}],
        "peerwarden_limits_threshold": 80,
    }
    code, output = push("push_limits", sshd, tmp_path, variables, options=("--check", "--diff"))
    assert code == 0, output
    assert f"+  neighbor {BIRD_ADDRESS} maximum-prefix 7 80" in output, output
    assert running(frr) == before


def test_push_limits_teardown_then_warning(lab, tmp_path):
    frr, bird, sshd, _port = lab
    before = running(frr)
    code, output = push("push_limits", sshd, tmp_path, limits_vars(6, "teardown"), options=("--check", "--diff"))
    assert code == 0, output
    assert f"+  neighbor {BIRD_ADDRESS} maximum-prefix 6 80" in output, output
    assert running(frr) == before

    code, output = push("push_limits", sshd, tmp_path, limits_vars(6, "teardown"))
    assert code == 0, output
    assert play_recap(output, "pe1")["changed"] == 1
    config = running(frr)
    assert f"neighbor {BIRD_ADDRESS} maximum-prefix 6 80\n" in config
    assert f"neighbor {BIRD_ADDRESS} prefix-list PEERWARDEN-LIMITS-V4 in" in config
    # the length limit works: the /25 is gone, the /24s stay
    wait_for(lambda: set(routes(frr)) == {"203.0.113.0/24", "198.51.100.0/24", "100.64.1.0/24"},
             "the too-specific /25 rejected", show=lambda: sorted(routes(frr)))  # fmt: skip

    code, output = push("push_limits", sshd, tmp_path, limits_vars(6, "teardown"))
    assert code == 0, output
    assert play_recap(output, "pe1")["changed"] == 0, output
    assert running(frr) == config

    # more than the limit: FRR tears the session down and keeps it down
    announce(bird, ANNOUNCED + MORE)
    wait_for_log(frr.log_path, r"MAXPFXEXCEED.*%s" % re.escape(BIRD_ADDRESS), timeout=30)
    wait_for(lambda: peer(frr).get("peerState") == "PfxCt" or "PfxCt" in peer(frr).get("state", ""),
             "Idle (PfxCt)", show=lambda: peer(frr))  # fmt: skip
    assert peer(frr)["state"] != "Established"

    # warning-only: the same count keeps the session up, and FRR says so in its log
    code, output = push("push_limits", sshd, tmp_path, limits_vars(6, "warning"))
    assert code == 0, output
    assert f"neighbor {BIRD_ADDRESS} maximum-prefix 6 80 warning-only" in running(frr)
    exceeded = len(wait_for_log(frr.log_path, "MAXPFXEXCEED"))
    frr.vtysh(f"clear bgp {BIRD_ADDRESS}")  # the operator brings the torn-down session back
    wait_for(lambda: peer(frr).get("state") == "Established", "Established again", timeout=60, show=lambda: peer(frr))
    wait_for_log(frr.log_path, "MAXPFXEXCEED", count=exceeded + 1, timeout=30)
    time.sleep(3)
    assert peer(frr)["state"] == "Established"
    assert peer(frr)["pfxRcd"] > 6


def test_a_failed_post_check_restores_the_router_exactly(lab, tmp_path):
    """A limit below what the neighbour sends now tears the session down: the post-check sees a neighbour that
    was Established go down, the change is not kept, the running config is put back and compared."""
    frr, _bird, sshd, _port = lab
    before = running(frr)
    saved = (frr.vty_dir / "bgpd.conf").read_text()
    code, output = push("push_limits", sshd, tmp_path, limits_vars(1, "teardown"))
    assert code != 0, output
    assert "failed at step post_check" in output, output
    assert "Established before the change are not now: %s" % BIRD_ADDRESS in output, output
    assert "verified identical" in output, output
    assert running(frr) == before
    assert (frr.vty_dir / "bgpd.conf").read_text() == saved  # no write memory
    # back up: FRR restarts it when the limit goes, or the restore clears it
    wait_for(lambda: peer(frr).get("state") == "Established", "the session back", timeout=60, show=lambda: peer(frr))


def test_bad_values_fail_before_any_router_is_touched(tmp_path):
    """No router exists at this address: the error must come from the value check, naming option and value."""
    host = {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody", "ansible_network_os": "frr"}
    hosts = {"all": {"children": {"routers": {"hosts": {"pe1": host}}}}}
    cases = [
        ("push_rpki", {"peerwarden_rpki_caches": [{"address": "300.1.1.1"}]}, "caches[0].address: '300.1.1.1'"),
        ("push_rpki", {"peerwarden_rpki_caches": [{"address": "127.0.0.1", "refresh": 0}]}, "caches[0].refresh: 0"),
        ("push_rpki", {"peerwarden_rpki_caches": [{"address": "127.0.0.1"}], "peerwarden_rpki_valid": {"community": "70000:1"}},
         "valid.community: '70000:1'"),
        ("push_limits", {"peerwarden_limits_neighbors": [{"address": "127.0.0.43", "max_prefixes": {"ipv4": 0}}]},
         "neighbors[0].max_prefixes.ipv4: 0"),
        ("push_limits", {"peerwarden_limits_neighbors": [{"address": "127.0.0.43", "asn": 4294967296}]},
         "neighbors[0].asn: 4294967296"),
        ("push_limits", {"peerwarden_limits_neighbors": [{"address": "10.0.0.0/8", "max_prefixes": {"ipv4": 5}}]},
         "neighbors[0].address: '10.0.0.0/8'"),
        ("push_limits", {"peerwarden_limits_neighbors": [{"address": "127.0.0.43", "max_prefixes": {"ipv4": 5}}],
                         "peerwarden_limits_max_length": {"ipv4": 33}}, "max_length.ipv4: 33"),
    ]  # fmt: skip
    for playbook, variables, message in cases:
        code, output = run_playbook(f"{PLAYBOOKS}/{playbook}.yml", hosts, str(tmp_path), extra_vars=variables)[:2]
        assert code != 0, output
        assert message in output, (message, output)
        assert "cannot reach" not in output and "step" not in output.split(message)[0][-200:]


def test_rendered_needs_no_router(tmp_path):
    host = {"ansible_host": "192.0.2.254", "ansible_network_os": "frr.frr.frr", "ansible_connection": "local"}
    hosts = {"all": {"children": {"routers": {"hosts": {"pe1": host}}}}}
    code, output = run_playbook(
        f"{PLAYBOOKS}/push_rpki.yml", hosts, str(tmp_path),
        extra_vars={"peerwarden_rpki_caches": [{"address": "192.0.2.10"}], "peerwarden_rpki_state": "rendered"},
    )[:2]  # fmt: skip
    assert code == 0, output
    assert "rpki cache 192.0.2.10 3323 preference 1" in output
    assert "route-map PEERWARDEN-RPKI deny 10" in output
