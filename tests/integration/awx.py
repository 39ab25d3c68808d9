"""Jobs run the way AWX runs them: ansible-runner with a private data directory laid out as AWX lays it
out (project/, inventory/, env/extravars, env/passwords, env/cmdline, env/ssh_key, env/envvars), the
credentials injected as AWX injects them: a Machine credential as -u/--ask-pass/--become... answered at
ansible-playbook's prompts, its key through ssh-agent; a Network credential as ANSIBLE_NET_* variables.

One harness for every test of AWX behaviour: awx_job runs a job; task_results, events_of, job_artifacts and
artifacts_text read what the job left, as AWX reads it (events, stdout, status, rc, the command line).
"""

import json
import os
import shutil
import sys
from pathlib import Path

import yaml

from playbook_runner import ROOT

#: the prompts AWX answers for a Machine credential (awx/main/models/credential injectors)
SSH_PASSWORD_PROMPT = r"^SSH [pP]assword:\s*?$"
BECOME_PASSWORD_PROMPT = r"^BECOME [pP]assword.*:\s*?$"


def awx_job(
    directory,
    playbook_text,
    inventory,
    extravars=None,
    passwords=None,
    cmdline=None,
    ssh_key=None,
    envvars=None,
    verbosity=0,
    project_files=None,
    timeout=300,
):
    """Run one job in a fresh private data directory and return the ansible-runner Runner.

    project_files: {path in project/: a file or directory to copy there}, as a project update checks out
    the project's files beside the playbook. envvars override the defaults below (the checkout's
    collections, no colour, the job's own HOME, host key checking on); a value of None leaves the variable
    out of env/envvars.
    """
    import ansible_runner

    directory = Path(directory)
    (directory / "project").mkdir(parents=True)
    (directory / "inventory").mkdir()
    (directory / "env").mkdir()
    (directory / "project" / "main.yml").write_text(playbook_text)
    for name, source in (project_files or {}).items():
        if os.path.isdir(source):
            shutil.copytree(source, directory / "project" / name)
        else:
            shutil.copy(source, directory / "project" / name)
    (directory / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (directory / "env" / "extravars").write_text(json.dumps(extravars or {}))
    if passwords:
        (directory / "env" / "passwords").write_text(json.dumps(passwords))
    if cmdline:
        (directory / "env" / "cmdline").write_text(cmdline)
    if ssh_key:
        (directory / "env" / "ssh_key").write_text(ssh_key)
    environment = {
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        # a home of the job's own: its ~/.ssh/known_hosts is empty unless the test writes one
        "HOME": str(directory / "home"),
        # ansible-runner turns host key checking off unless told; a site that wants it sets it, as here
        "ANSIBLE_HOST_KEY_CHECKING": "True",
    }
    (directory / "home").mkdir(exist_ok=True)
    environment.update(envvars or {})
    environment = {name: value for name, value in environment.items() if value is not None}
    (directory / "env" / "envvars").write_text(json.dumps(environment))
    return ansible_runner.run(
        private_data_dir=str(directory), playbook="main.yml", quiet=True, verbosity=verbosity, timeout=timeout
    )


def task_results(runner, action):
    """The results of every task of this action (FQCN) from the job's events; `failed` says which event."""
    found = []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task_action") == action:
            found.append(dict(data["res"], failed=event["event"] == "runner_on_failed"))
    return found


def events_of(runner, kind, task=None):
    """The job's events of this kind (runner_on_ok, playbook_on_stats, ...), of one task name if given."""
    return [
        event
        for event in runner.events
        if event.get("event") == kind and (task is None or event.get("event_data", {}).get("task") == task)
    ]


def job_artifacts(runner):
    """What AWX keeps of a job, read from the artifacts directory: status, rc, command, stdout and the event
    files (job_events/*.json, as many as the events the job streamed)."""
    folder = Path(runner.config.artifact_dir)
    return {
        "status": (folder / "status").read_text(),
        "rc": int((folder / "rc").read_text()),
        "command": json.loads((folder / "command").read_text())["command"],
        "stdout": (folder / "stdout").read_text(),
        "event_files": sorted((folder / "job_events").glob("*.json")),
    }


def artifacts_text(directory):
    """Everything the job left behind: stdout, events, command, status — as one string."""
    texts = []
    for path in sorted(Path(directory, "artifacts").rglob("*")):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)
