"""The collection's jobs the way AWX runs them (tests/integration/awx.py: ansible-runner, a private data
directory laid out as AWX lays it out, a fresh one per job as in a new job container):

- notify_unsolicited, the nightly job: two jobs in fresh directories share only the PostgreSQL store (the
  second sends nothing and says why); a check-mode job (job type Check, with survey answers as extra vars)
  sends and records nothing; events and artifacts (status, rc, command, stdout, job_events) as AWX reads them;
  the store's DSN shows nowhere in them.
- deploy_runner onto localhost (service manager none): the runner shipped in the collection is packed,
  hash-checked and installed (pip offline from a wheelhouse), seen in the job's events; the installed runner
  answers --version; a second job changes nothing.

- push_limits in check mode, as a CI or AWX "Check" job on a merge request runs it: a Machine credential
  answered at the password prompt, --check --diff; the IOS router is not changed, the router's diff is in the
  job's events.
"""

import os
import subprocess

import pytest

pytest.importorskip("ansible_runner")

from integration.test_push_ios import BASE as IOS_BASE  # noqa: E402

from awx import SSH_PASSWORD_PROMPT, artifacts_text, awx_job, events_of, job_artifacts, task_results  # noqa: E402
from playbook_runner import ROOT, system_account  # noqa: E402
from runner_wheelhouse import dependency_wheelhouse  # noqa: E402

pytestmark = pytest.mark.lab

NIGHTLY = "- name: The nightly job\n  ansible.builtin.import_playbook: peerwarden.bgp.notify_unsolicited\n"
DEPLOY = "- name: Deploy the runner\n  ansible.builtin.import_playbook: peerwarden.bgp.deploy_runner\n"
DEMO = {name: os.path.join(ROOT, "demo", name) for name in ("logs", "ixp", "peeringdb")}
NOTIFIED = [64500, 64501, 64503, 64504]  # the demo's networks with a contact


def demo_inventory(project):
    """demo/inventory.yml as an AWX inventory: the paths point into the job's project checkout."""
    routers = {
        name: {"peerwarden_log_paths": [os.path.join(project, "logs", log)]}
        for name, log in (("edge1", "edge1-junos.log"), ("edge2", "edge2-ios.log"), ("rs1", "rs1-bird.log"))
    }
    return {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "peerwarden_log_source": "file",
                "peerwarden_peering_lans": [
                    "192.0.2.0/24",
                    "198.51.100.0/24",
                    "2001:db8:ffff::/64",
                    "2001:db8:eeee::/64",
                ],
                "peerwarden_ixf": [os.path.join(project, "ixp", "example-ix.ixf.json")],
                "peerwarden_peeringdb": {"dump_dir": os.path.join(project, "peeringdb")},
                "peerwarden_our": {
                    "asn": 64511,
                    "name": "Small Demo ISP",
                    "contact": "peering@small-isp.example",
                    "policy_url": "https://small-isp.example/peering",
                },
            },
            "hosts": {"localhost": {}},
            "children": {"routers": {"hosts": routers}},
        }
    }


def nightly(base, name, dsn, cmdline=None, survey=None):
    """One run of the nightly job template in a fresh private data directory; (runner, its directory)."""
    directory = base / name
    extravars = {
        "peerwarden_store": dsn,
        "peerwarden_outbox": str(directory / "outbox"),
        "peerwarden_report_dir": str(directory / "report"),
    }
    extravars.update(survey or {})
    runner = awx_job(
        directory,
        NIGHTLY,
        demo_inventory(str(directory / "project")),
        extravars=extravars,
        cmdline=cmdline,
        project_files=DEMO,
    )
    return runner, directory


def notify_result(runner):
    (result,) = task_results(runner, "peerwarden.bgp.notify_peers")
    assert not result["failed"], result
    return result


def assert_successful(runner):
    artifacts = job_artifacts(runner)
    assert (runner.status, runner.rc) == ("successful", 0), artifacts["stdout"][-3000:]
    assert (artifacts["status"], artifacts["rc"]) == ("successful", 0)
    assert os.path.basename(artifacts["command"][0]) == "ansible-playbook" and "main.yml" in artifacts["command"]
    assert "PLAY RECAP" in artifacts["stdout"]
    # every event the job streamed is kept as a file, as AWX stores job events
    assert len(artifacts["event_files"]) == len(list(runner.events)) > 0
    (stats,) = events_of(runner, "playbook_on_stats")
    assert not stats["event_data"]["failures"] and not stats["event_data"]["dark"]
    return artifacts


@pytest.mark.timeout(900)  # several playbook runs, each tens of seconds on a loaded 2-core machine
def test_nightly_jobs_in_fresh_containers_share_only_postgresql(tmp_path, postgresql_dsn):
    first, directory = nightly(tmp_path, "job-1", postgresql_dsn)
    assert_successful(first)
    assert sorted(e["asn"] for e in notify_result(first)["sent"]) == NOTIFIED
    assert len(os.listdir(directory / "outbox")) == 4
    assert postgresql_dsn not in artifacts_text(directory)  # the store option is no_log

    second, directory = nightly(tmp_path, "job-2", postgresql_dsn)
    artifacts = assert_successful(second)
    result = notify_result(second)
    assert result["sent"] == []
    assert {e["asn"] for e in result["skipped_peers"] if e["reason"].startswith("inside the renotify window")} == set(
        NOTIFIED
    )
    assert not (directory / "outbox").exists()
    assert result["changed"] is False
    assert "Email each network once" in artifacts["stdout"]


@pytest.mark.timeout(900)  # several playbook runs, each tens of seconds on a loaded 2-core machine
def test_check_mode_job_from_a_survey_sends_and_records_nothing(tmp_path, postgresql_dsn):
    # job type Check (AWX adds --check) and the survey's answers as extra vars
    checked, directory = nightly(
        tmp_path, "check", postgresql_dsn, cmdline="--check --diff", survey={"peerwarden_max_per_run": 10}
    )
    assert_successful(checked)
    result = notify_result(checked)
    assert sorted(e["asn"] for e in result["sent"]) == NOTIFIED  # what it would send
    assert not (directory / "outbox").exists()
    assert "--check" in job_artifacts(checked)["command"]
    # nothing was recorded: the next real job sends all four
    real, directory = nightly(tmp_path, "real", postgresql_dsn)
    assert_successful(real)
    assert sorted(e["asn"] for e in notify_result(real)["sent"]) == NOTIFIED
    assert len(os.listdir(directory / "outbox")) == 4


@pytest.fixture(scope="module")
def account():
    yield from system_account("pwawx")


@pytest.mark.timeout(900)  # several playbook runs, each tens of seconds on a loaded 2-core machine
def test_deploy_runner_job_installs_the_shipped_runner(tmp_path, account):
    root = tmp_path / "host"
    for folder in ("etc", "opt", "var/lib"):
        (root / folder).mkdir(parents=True)
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    dependency_wheelhouse(str(wheelhouse))
    venv = root / "opt" / "peerwarden-runner"
    inventory = {
        "peerwarden_runners": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    "ansible_become": False,
                }
            }
        }
    }
    # the job template's extra vars
    extravars = {
        "runner_pip_extra_args": ["--no-index", "--find-links", str(wheelhouse)],
        "runner_user": account,
        "runner_group": account,
        "runner_venv": str(venv),
        "runner_config_dir": str(root / "etc" / "peerwarden"),
        "runner_state_dir": str(root / "var" / "lib" / "peerwarden"),
        "runner_unit_dir": str(root / "etc" / "systemd" / "system"),
        "runner_service_manager": "none",
        "runner_sessions": [{"name": "edge1", "listen": "127.0.0.97:179", "connect": "127.0.0.98:179"}],
        "runner_metrics": {"listen": "127.0.0.97:9179"},
    }
    # pip on the "host" sees only the wheelhouse: none of this machine's pip configuration
    pip_env = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_INDEX_URL": None, "PIP_CONSTRAINT": ""}

    def deploy(name):
        runner = awx_job(tmp_path / name, DEPLOY, inventory, extravars=extravars, envvars=pip_env, timeout=400)
        assert_successful(runner)
        return runner

    first = deploy("job-1")
    (installed,) = [
        event
        for event in events_of(first, "runner_on_ok", "Install the runner from the sdist into the virtualenv")
        if event["event_data"]["host"] == "localhost"
    ]
    assert installed["event_data"]["res"]["changed"] is True
    (checked,) = events_of(first, "runner_on_ok", "Check the sdist on the host against the controller's")
    assert not checked["event_data"]["res"].get("failed")
    version = subprocess.run(
        [str(venv / "bin" / "peerwarden-runner"), "--version"], capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout.strip()) == (0, "peerwarden-runner 0.1.0")

    second = deploy("job-2")
    (stats,) = events_of(second, "playbook_on_stats")
    assert not stats["event_data"]["changed"], job_artifacts(second)["stdout"][-3000:]
    assert events_of(second, "runner_on_skipped", "Install the runner from the sdist into the virtualenv")


PUSH = "- name: Limits on every router\n  ansible.builtin.import_playbook: peerwarden.bgp.push_limits\n"


def test_push_limits_check_job_changes_nothing_and_shows_the_diff(ios_double, tmp_path):
    double = ios_double(running_config=IOS_BASE)
    before = double.running_config
    router = {
        "ansible_host": double.host, "ansible_port": double.port, "ansible_network_os": "cisco.ios.ios",
        "ansible_connection": "ansible.netcommon.network_cli", "ansible_host_key_checking": False,
    }  # fmt: skip
    inventory = {"all": {"children": {"routers": {"hosts": {"asr1": router}}}}}
    runner = awx_job(
        tmp_path / "job",
        PUSH,
        inventory,
        extravars={"peerwarden_limits_neighbors": [{"address": "192.0.2.1", "max_prefixes": {"ipv4": 150}}]},
        cmdline="-u %s --ask-pass --check --diff" % double.username,
        passwords={SSH_PASSWORD_PROMPT: double.password},
    )
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()
    (result,) = task_results(runner, "peerwarden.bgp.prefix_limits")
    assert result["changed"] and "maximum-prefix 150" in result["diff"]["prepared"]
    assert double.running_config == before and double.device.events == []  # nothing configured, no timer
    assert not any(command.startswith(("configure", "archive", "write")) for command in double.commands)
    assert double.password not in artifacts_text(tmp_path / "job")
