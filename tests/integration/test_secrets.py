"""Secrets never show: every module (log_events, the three config modules, ixp_data, notify_peers) run
with -vvv through ansible-runner (as AWX runs jobs), a secret in every secret-bearing option, and none
of them in the output, the job events or the artifacts — on the way that works and on the ways that fail."""

import json

import pytest

pytest.importorskip("ansible_runner")

from awx import artifacts_text, awx_job, task_results  # noqa: E402
from lab.smtp_server import closed_port  # noqa: E402

pytestmark = pytest.mark.lab

SECRETS = {
    "router": "S3cr3t-router-pw-1",
    "enable": "S3cr3t-enable-pw-2",
    "peeringdb": "S3cr3t-peeringdb-key-3",
    "smtp": "S3cr3t-smtp-pw-4",
    "dsn": "S3cr3t-dsn-pw-5",
}
BUFFER = (
    "022704: Nov 20 10:07:00.200 UTC: %SEC-6-IPACCESSLOGP: list IXP-IN denied tcp 203.0.113.6(51000) -> "
    "203.0.113.1(179), 1 packet\n"
)
PEER = {
    "asn": 64500, "name": "Example Net", "known": True, "count": 3, "first_seen": "2026-11-20T08:00:00Z",
    "last_seen": "2026-11-21T06:00:00Z", "exchanges": ["Example-IX"], "lans": ["Example-IX LAN"],
    "routers": ["ios1"], "kinds": ["unconfigured_neighbor"], "contacts": ["peering@as64500.example"],
    "contact_role": "Policy", "contacts_by_role": {"Policy": ["peering@as64500.example"]},
    "policy_general": "Open", "policy_url": "",
    "addresses": [{"address": "192.0.2.66", "exchange": "Example-IX", "lan": "Example-IX LAN", "count": 3,
                   "kinds": {"unconfigured_neighbor": 3}, "first_seen": "2026-11-20T08:00:00Z",
                   "last_seen": "2026-11-21T06:00:00Z", "routers": ["ios1"]}],
}  # fmt: skip


def playbook(double, pdb_url, smtp, dsn, cache_dir, enable_password):
    login = {
        "username": double.username, "password": SECRETS["router"], "enable": True,
        "enable_password": enable_password, "host_key_checking": False,
        "timeout": 5,  # a wrong enable secret is noticed when the prompt does not come: keep that short
    }  # fmt: skip
    router_tasks = [
        {"name": "Read the router", "peerwarden.bgp.log_events": login},
        {"name": "What limits it has", "peerwarden.bgp.prefix_limits": dict(login, state="gathered")},
        {"name": "What guard it has", "peerwarden.bgp.bgp_filter": dict(login, state="gathered")},
        {
            "name": "The RPKI config for review",
            "peerwarden.bgp.rpki_config": dict(login, state="rendered", caches=[{"address": "192.0.2.10"}]),
        },
    ]
    local_tasks = [
        {
            "name": "Load PeeringDB with a key",
            "peerwarden.bgp.ixp_data": {
                "ixf": [], "cache_dir": cache_dir,
                "peeringdb": {"url": pdb_url, "ix_ids": [1], "api_key": SECRETS["peeringdb"]},
            },
            "ignore_errors": True,
        },
        {
            "name": "Tell the network",
            "peerwarden.bgp.notify_peers": {
                "peers": [PEER], "store": dsn,
                "our": {"asn": 64511, "name": "Small ISP", "contact": "peering@small-isp.example"},
                "smtp": {"host": smtp.host, "port": smtp.port, "security": "starttls", "ca_file": smtp.ca_file,
                         "username": "peerwarden", "password": SECRETS["smtp"], "timeout": 5},
            },
            "ignore_errors": True,
        },
    ]  # fmt: skip
    return json.dumps([
        {"name": "Routers", "hosts": "routers", "gather_facts": False, "tasks": router_tasks, "ignore_errors": True},
        {"name": "Data and mail", "hosts": "localhost", "connection": "local", "gather_facts": False,
         "tasks": local_tasks},
    ])  # fmt: skip


def run(tmp_path, name, double, peeringdb, smtp, dsn, enable_password):
    inventory = {"all": {
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "children": {"routers": {"hosts": {"ios1": {
            "ansible_host": double.host, "ansible_port": double.port, "ansible_network_os": "cisco.ios.ios",
            "ansible_connection": "ansible.netcommon.network_cli"}}}}}}  # fmt: skip
    text = playbook(double, peeringdb.url + "/api", smtp, dsn, str(tmp_path / name / "cache"), enable_password)
    runner = awx_job(tmp_path / name, text, inventory, verbosity=3)
    everything = runner.stdout.read() + json.dumps(list(runner.events)) + artifacts_text(tmp_path / name)
    return runner, everything


@pytest.fixture
def parts(ios_double, peeringdb_server, smtp_server, postgresql_server, postgresql_dsn):
    double = ios_double(show_logging=BUFFER, password=SECRETS["router"], privilege=1, enable_secret=SECRETS["enable"])
    peeringdb = peeringdb_server(api_key=SECRETS["peeringdb"])
    smtp = smtp_server(tls="starttls", users={"peerwarden": SECRETS["smtp"]})
    # trust authentication: the server takes any password, so the DSN can carry one
    user = postgresql_server.user
    dsn = postgresql_dsn.replace("//%s@" % user, "//%s:%s@" % (user, SECRETS["dsn"]), 1)
    assert SECRETS["dsn"] in dsn
    return double, peeringdb, smtp, dsn, postgresql_server


def test_no_secret_in_output_events_or_artifacts_when_all_works(parts, tmp_path):
    double, peeringdb, smtp, dsn, dummy = parts
    runner, everything = run(tmp_path, "ok", double, peeringdb, smtp, dsn, SECRETS["enable"])
    # the job really used every secret: the router was read in enable mode, PeeringDB answered the key,
    # the relay accepted the login, the store was written
    (scan,) = task_results(runner, "peerwarden.bgp.log_events")
    assert not scan["failed"] and scan["events"], everything[-3000:]
    assert "enable" in double.commands
    for module in ("prefix_limits", "bgp_filter", "rpki_config"):  # the config modules, with the same login
        (result,) = task_results(runner, "peerwarden.bgp." + module)
        assert not result["failed"], result
    (data,) = task_results(runner, "peerwarden.bgp.ixp_data")
    assert not data["failed"], data
    assert peeringdb.requests[-1].headers.get("Authorization") == "Api-Key " + SECRETS["peeringdb"]
    (notified,) = task_results(runner, "peerwarden.bgp.notify_peers")
    assert not notified["failed"] and [s["asn"] for s in notified["sent"]] == [64500], notified
    assert len(smtp.messages) == 1
    for name, secret in SECRETS.items():
        assert secret not in everything, name


def test_no_secret_shows_when_things_fail(parts, tmp_path):
    double, peeringdb, smtp, dsn, server = parts
    broken_dsn = dsn.replace(":%d/" % server.port, ":%d/" % closed_port(), 1)  # the database is down
    smtp.users["peerwarden"] = "another"  # the relay refuses our login now
    runner, everything = run(tmp_path, "failing", double, peeringdb, smtp, broken_dsn, "not-the-enable-secret")
    (scan,) = task_results(runner, "peerwarden.bgp.log_events")
    assert scan["failed"] and "refused enable mode" in scan["msg"]
    (limits,) = task_results(runner, "peerwarden.bgp.prefix_limits")
    assert limits["failed"] and "enable" in limits["msg"]
    (notified,) = task_results(runner, "peerwarden.bgp.notify_peers")
    assert notified["failed"]
    for name, secret in SECRETS.items():
        assert secret not in everything, name
