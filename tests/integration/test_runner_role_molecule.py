"""The runner role's Molecule scenario (roles/runner/molecule/default): `molecule test` with the `default`
driver against this machine, run from roles/runner as a role developer runs it. Its steps: prepare (an
empty root under the scenario's ephemeral directory and an offline wheelhouse), converge (the role with
every path under that root, service manager none), idempotence (a second converge changes nothing),
verify (the installed runner answers --version, `check -c` accepts the deployed configuration, and the
deployed runner relays a session from BIRD on 127.0.0.163 to FRR bgpd -Z on 127.0.0.161 until FRR holds
BIRD's route), destroy (before and after: the root and the runner's account go).

pip sees no configuration of this machine: the scenario installs from its wheelhouse only. Molecule keeps
its ephemeral directory (the root, the generated inventory) under ~/.ansible/tmp; destroy empties it.
"""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.lab

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "runner")
BIN = os.path.dirname(sys.executable)
DROPPED = ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PYTHONPATH")
STEPS = ("destroy", "syntax", "prepare", "converge", "idempotence", "verify")


def test_molecule_converges_is_idempotent_and_the_deployed_runner_relays_a_session(tmp_path):
    molecule = os.path.join(BIN, "molecule")
    if not os.path.exists(molecule):
        pytest.skip("molecule is not installed in this Python's environment (test-requirements.txt)")
    if os.geteuid() != 0:
        pytest.skip("the scenario makes a system user and starts bgpd: run as root")
    for daemon, package in (("/usr/lib/frr/bgpd", "frr"), ("/usr/sbin/bird", "bird2")):
        if not os.path.exists(daemon):
            pytest.skip("%s is not installed (Debian package %s)" % (daemon, package))
    env = {name: value for name, value in os.environ.items() if name not in DROPPED and not name.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
        ANSIBLE_NOCOLOR="1",
        NO_COLOR="1",
        PIP_CONFIG_FILE=os.devnull,
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
    )
    process = subprocess.run(
        [molecule, "test"], cwd=ROLE, env=env, capture_output=True, text=True, timeout=170, check=False
    )
    output = process.stdout + process.stderr
    with open(os.path.join(str(tmp_path), "molecule.log"), "w", encoding="utf-8") as handle:
        handle.write(output)
    assert process.returncode == 0, output
    for step in STEPS:
        assert "default > %s: Executed: Successful" % step in output, output  # NO_COLOR: > for ➜
    assert "actions=7  successful=7  disabled=0  skipped=0  missing=0  failed=0" in output, output
    assert "TASK [FRR's session to the runner is Established]" in output  # verify ran the session check
