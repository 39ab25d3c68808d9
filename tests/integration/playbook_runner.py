"""Run a playbook of this collection the way a user does: ansible-playbook with an inventory file."""

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def playbook_env(workdir, extra_env=None):
    """The environment ansible-playbook runs in: this checkout's collection, no colour, no host key prompts,
    its temporary files in workdir/tmp, this Python's tools first. An extra_env value of None removes that
    variable."""
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"),
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
    )
    env.update(extra_env or {})
    return {name: value for name, value in env.items() if value is not None}


def run_playbook(playbook, inventory, workdir, extra_vars=None, timeout=300, extra_env=None, options=(), prefix=()):
    """Run ansible-playbook with an inventory (a dict to write, or a path); return (exit code,
    output, the JSON report or None). An extra_env value of None removes that variable. prefix runs
    the controller through a command (e.g. `ip netns exec NS`, for a lab in a network namespace)."""
    if isinstance(inventory, dict):
        inventory_path = os.path.join(workdir, "inventory.yml")
        with open(inventory_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(inventory, handle)
    else:
        inventory_path = inventory
    report_dir = os.path.join(workdir, "report")
    variables = {"peerwarden_report_dir": report_dir}
    variables.update(extra_vars or {})
    env = playbook_env(workdir, extra_env)
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory_path, playbook, "-e", json.dumps(variables)]
    process = subprocess.run(
        list(prefix) + command + list(options),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report = None
    report_path = os.path.join(report_dir, "knocks.json")
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as handle:
            report = json.load(handle)
    return process.returncode, process.stdout + process.stderr, report


def play_recap(output, host="localhost"):
    """The host's PLAY RECAP counts ({"ok": 3, "changed": 1, ...}); {} when the output has none."""
    for line in output.splitlines():
        if line.startswith(host) and "changed=" in line:
            return {key: int(value) for key, value in (word.split("=") for word in line.split()[2:])}
    return {}


class LocalDeployment:
    """A role deployed on localhost by its playbook. A subclass sets PLAYBOOK, GROUP (the inventory group)
    and EXTRA_ENV (see run_playbook), its instances self.settings (the host variables) and self.root."""

    PLAYBOOK = GROUP = None
    EXTRA_ENV = None

    def run(self, *options, extra_vars=None, leave_out=()):
        """ansible-playbook with the settings as host variables (less leave_out), connection local and no
        become, in root/work; return (exit code, output, play_recap(output))."""
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "ansible_become": False,
        }
        host.update({name: value for name, value in self.settings.items() if name not in leave_out})
        workdir = os.path.join(self.root, "work")
        os.makedirs(workdir, exist_ok=True)
        code, output, dummy = run_playbook(
            self.PLAYBOOK,
            {self.GROUP: {"hosts": {"localhost": host}}},
            workdir,
            extra_vars=extra_vars,
            extra_env=self.EXTRA_ENV,
            options=options,
            timeout=240,
        )
        return code, output, play_recap(output)

    def run_refused(self, **extra_vars):
        """A run the role must refuse: exit code 2, one task failed, nothing changed; return the output."""
        code, output, recap = self.run(extra_vars=extra_vars)
        assert code == 2, output
        assert recap["failed"] == 1 and recap["changed"] == 0, output
        return output


def system_account(prefix):
    """For a module fixture (yield from): the name of a system user and group a role under test makes,
    both removed afterwards."""
    name = "%s%d" % (prefix, os.getpid())
    yield name
    subprocess.run(["userdel", name], capture_output=True, check=False)
    subprocess.run(["groupdel", name], capture_output=True, check=False)
