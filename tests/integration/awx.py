"""Jobs run the way AWX runs them: ansible-runner with a private data directory laid out as AWX lays it
out (project/, inventory/, env/extravars, env/passwords, env/cmdline, env/ssh_key, env/envvars), the
credentials injected as AWX injects them: a Machine credential as -u/--ask-pass/--become... answered at
ansible-playbook's prompts, its key through ssh-agent; a Network credential as ANSIBLE_NET_* variables.

One harness for every test of AWX behaviour.
"""

import json
import os
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
):
    """Run one job in a fresh private data directory and return the ansible-runner Runner."""
    import ansible_runner

    directory = Path(directory)
    (directory / "project").mkdir(parents=True)
    (directory / "inventory").mkdir()
    (directory / "env").mkdir()
    (directory / "project" / "main.yml").write_text(playbook_text)
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
    (directory / "env" / "envvars").write_text(json.dumps(environment))
    return ansible_runner.run(
        private_data_dir=str(directory), playbook="main.yml", quiet=True, verbosity=verbosity, timeout=300
    )


def task_results(runner, action):
    """The results of every task of this action (FQCN) from the job's events; `failed` says which event."""
    found = []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task_action") == action:
            found.append(dict(data["res"], failed=event["event"] == "runner_on_failed"))
    return found


def artifacts_text(directory):
    """Everything the job left behind: stdout, events, command, status — as one string."""
    texts = []
    for path in sorted(Path(directory, "artifacts").rglob("*")):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)
