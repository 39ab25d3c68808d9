"""Run a playbook of this collection the way a user does: ansible-playbook with an inventory file."""

import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run_playbook(playbook, inventory, workdir, extra_vars=None, timeout=300, extra_env=None, options=()):
    """Run ansible-playbook with an inventory (a dict to write, or a path); return (exit code,
    output, the JSON report or None). An extra_env value of None removes that variable."""
    if isinstance(inventory, dict):
        inventory_path = os.path.join(workdir, "inventory.yml")
        with open(inventory_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(inventory, handle)
    else:
        inventory_path = inventory
    report_dir = os.path.join(workdir, "report")
    variables = {"peerwarden_report_dir": report_dir}
    variables.update(extra_vars or {})
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"),
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
    )
    env.update(extra_env or {})
    env = {name: value for name, value in env.items() if value is not None}
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory_path, playbook, "-e", json.dumps(variables)]
    process = subprocess.run(
        command + list(options), cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    report = None
    report_path = os.path.join(report_dir, "knocks.json")
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as handle:
            report = json.load(handle)
    return process.returncode, process.stdout + process.stderr, report
