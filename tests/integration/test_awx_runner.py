"""The main job the way AWX runs it: ansible-runner with a private data directory, a fresh
"container" each time (no state on disk between jobs), and the notification memory in PostgreSQL."""

import json
import os
import shutil
import sys

import pytest
import yaml

ansible_runner = pytest.importorskip("ansible_runner")

from playbook_runner import ROOT  # noqa: E402  (after the skip: without ansible-runner nothing to test)

pytestmark = pytest.mark.lab


def private_data_dir(base, dsn, job):
    """A private data directory as AWX lays it out: project/, inventory/, env/."""
    directory = base / ("job-%d" % job)
    (directory / "project").mkdir(parents=True)
    (directory / "inventory").mkdir()
    (directory / "env").mkdir()
    shutil.copytree(os.path.join(ROOT, "demo", "logs"), directory / "project" / "logs")
    shutil.copytree(os.path.join(ROOT, "demo", "ixp"), directory / "project" / "ixp")
    shutil.copytree(os.path.join(ROOT, "demo", "peeringdb"), directory / "project" / "peeringdb")
    (directory / "project" / "main.yml").write_text(
        "- name: The nightly job\n  ansible.builtin.import_playbook: peerwarden.bgp.notify_unsolicited\n"
    )
    with open(os.path.join(ROOT, "demo", "inventory.yml"), encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    project = str(directory / "project")
    for host in inventory["all"]["children"]["routers"]["hosts"].values():
        host["peerwarden_log_paths"] = [p.replace("{{ inventory_dir }}", project) for p in host["peerwarden_log_paths"]]
    inventory["all"]["vars"]["peerwarden_ixf"] = [project + "/ixp/example-ix.ixf.json"]
    inventory["all"]["vars"]["peerwarden_peeringdb"] = {"dump_dir": project + "/peeringdb"}
    (directory / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (directory / "env" / "extravars").write_text(
        json.dumps(
            {
                "peerwarden_store": dsn,
                "peerwarden_outbox": str(directory / "outbox"),
                "peerwarden_report_dir": str(directory / "report"),
            }
        )
    )
    (directory / "env" / "envvars").write_text(
        json.dumps(
            {
                "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "collections"),
                "ANSIBLE_NOCOLOR": "1",
                "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            }
        )
    )
    return directory


def notify_result(runner):
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task_action") == "peerwarden.bgp.notify_peers":
            return data["res"]
    raise AssertionError("no notify_peers result in the job's events")


def test_two_nightly_jobs_in_fresh_containers_share_only_postgresql(tmp_path, postgresql_dsn):
    first = ansible_runner.run(
        private_data_dir=str(private_data_dir(tmp_path, postgresql_dsn, 1)), playbook="main.yml", quiet=True
    )
    assert (first.status, first.rc) == ("successful", 0), first.stdout.read()
    sent = notify_result(first)["sent"]
    assert sorted(e["asn"] for e in sent) == [64500, 64501, 64503, 64504]
    assert len(os.listdir(tmp_path / "job-1" / "outbox")) == 4
    second = ansible_runner.run(
        private_data_dir=str(private_data_dir(tmp_path, postgresql_dsn, 2)), playbook="main.yml", quiet=True
    )
    assert (second.status, second.rc) == ("successful", 0), second.stdout.read()
    result = notify_result(second)
    assert result["sent"] == []
    assert {e["asn"] for e in result["skipped_peers"] if e["reason"].startswith("inside the renotify window")} == {
        64500,
        64501,
        64503,
        64504,
    }
    assert not (tmp_path / "job-2" / "outbox").exists()
