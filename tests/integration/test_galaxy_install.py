"""The collection as a Galaxy user gets it: `ansible-galaxy collection build` of a copy of this tree
(with the caches a developer's tree has), `ansible-galaxy collection install -p` into an empty path, and
the playbooks run from there with no checkout on ANSIBLE_COLLECTIONS_PATH and the working directory
outside it:
- the tarball holds the runner's source and no cache, developer file or checkout-only test;
- `peerwarden.bgp.notify_unsolicited` on the demo data shipped in the collection writes its emails;
- `peerwarden.bgp.deploy_runner` onto localhost (service manager none) installs the runner from the
  source shipped in the collection (packed on the controller, hash-checked on the host, pip offline
  from a wheelhouse of the dependencies and the build backend), and the installed runner answers
  --version; the second run changes nothing.
"""

import email
import email.policy
import hashlib
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from playbook_runner import BIN, ROOT, play_recap, run_playbook, system_account
from runner_wheelhouse import WHEELHOUSE_ONLY, dependency_wheelhouse

pytestmark = pytest.mark.lab

NAMESPACE_PATH = os.path.join("ansible_collections", "peerwarden", "bgp")
# what a developer's tree holds that a user must not get
TREE_LITTER = [
    ".pytest_cache/v/cache/nodeids",
    ".ansible/tmp/x",
    ".mypy_cache/3.11/x.json",
    ".ruff_cache/0.6/x",
    "plugins/modules/__pycache__/log_events.cpython-311.pyc",
    "runner/src/peerwarden_runner/__pycache__/cli.cpython-311.pyc",
    "runner/src/peerwarden_runner.egg-info/PKG-INFO",
    "runner/tests/__pycache__/x.pyc",
    "tests/output/junit/x.xml",
    "demo-output/outbox/x.eml",
    "report/knocks.json",
    ".venv/bin/python",
    "peerwarden-bgp-0.0.1.tar.gz",
]
DEVELOPER_FILES = {
    "Makefile",
    "pytest.ini",
    "ruff.toml",
    "test-requirements.txt",
    ".ansible-lint",
    ".gitignore",
    ".ci",
    "bench",
    "tests/conftest.py",
    "docs/docsite/build_rst.py",
}
# playbooks and roles find nothing of the checkout: only the installed collection, no site-packages ones
ISOLATED = {"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False", "PYTHONPATH": None}


def galaxy(*arguments, cwd):
    process = subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1"),
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tarball built from a copy of this tree with a developer's litter in it; (tarball, its names)."""
    base = tmp_path_factory.mktemp("galaxy")
    tree = base / "tree"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(".git", "collections", ".venv"))
    for name in TREE_LITTER:
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("litter\n")
    galaxy("build", "--output-path", str(base / "dist"), str(tree), cwd=str(base))
    (tarball,) = (base / "dist").iterdir()
    with tarfile.open(tarball) as archive:
        names = {member.name.rstrip("/") for member in archive.getmembers()}
    return tarball, names


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """The tarball installed into an empty path; (that path, the collection's directory in it)."""
    path = tmp_path_factory.mktemp("installed")
    galaxy("install", "--offline", "--force", "-p", str(path), str(built[0]), cwd=str(path))
    return str(path), os.path.join(str(path), NAMESPACE_PATH)


def run_installed(playbook, inventory, workdir, installed, **keywords):
    """run_playbook with only the installed collection on the path, from a directory outside the checkout."""
    extra_env = dict(ISOLATED, ANSIBLE_COLLECTIONS_PATH=installed[0])
    extra_env.update(keywords.pop("extra_env", {}))
    return run_playbook(playbook, inventory, workdir, extra_env=extra_env, **keywords)


def test_tarball_ships_the_runner_and_no_litter(built):
    names = built[1]
    for needed in (
        "galaxy.yml",
        "MANIFEST.json",
        "runner/pyproject.toml",
        "runner/README.md",
        "runner/src/peerwarden_runner/cli.py",
        "runner/src/peerwarden_runner/codec/message.py",
        "runner/docs/stages.md",
        "roles/runner/files/runner_sdist.py",
        "roles/runner/tasks/install_collection.yml",
        "demo/inventory.yml",
        "LICENSES/GPL-3.0-or-later.txt",
        "COPYING",
        "bindep.txt",
        "requirements.txt",
        "meta/execution-environment.yml",
        "meta/runtime.yml",
        "tests/config.yml",
        "docs/ee/execution-environment.yml",
        "docs/docsite/extra-docs.yml",
        "docs/docsite/rst/guide_awx.rst",
        "docs/awx.md",
    ):
        if needed == "galaxy.yml":  # replaced by MANIFEST.json in a built collection
            assert needed not in names
        else:
            assert needed in names, needed
    caches = (".pytest_cache", ".ansible", "__pycache__", ".mypy_cache", ".ruff_cache", ".egg-info", ".venv")
    found = sorted(name for name in names if any(part.endswith(caches) for part in name.split("/")))
    assert found == []
    assert not [name for name in names if name.endswith((".pyc", ".tar.gz"))]
    assert not [name for name in names if name.split("/")[0] in ("tests", "runner") and name.endswith("/output")]
    assert sorted(DEVELOPER_FILES & names) == []
    for checkout_only in (
        "runner/tests",
        "runner/fuzz",
        "tests/unit",
        "tests/lab",
        "tests/integration",
        "tests/sanity",
        "tests/output",
        "demo-output",
        "report",
        "collections",
    ):
        assert not [name for name in names if name == checkout_only or name.startswith(checkout_only + "/")]
    # every file of the runner's package ships (the role builds the runner from them)
    package = os.path.join(ROOT, "runner", "src")
    expected = {
        os.path.relpath(os.path.join(folder, file), ROOT)
        for folder, _dummy, files in os.walk(package)
        if "__pycache__" not in folder and ".egg-info" not in folder
        for file in files
        if not file.endswith(".pyc")
    }
    assert expected and expected <= names


def test_notify_unsolicited_from_the_installed_collection(installed, tmp_path):
    inventory = os.path.join(installed[1], "demo", "inventory.yml")
    outbox = tmp_path / "outbox"
    code, output, report = run_installed(
        "peerwarden.bgp.notify_unsolicited",
        inventory,
        str(tmp_path),
        installed,
        extra_vars={"peerwarden_outbox": str(outbox), "peerwarden_store": str(tmp_path / "notify.sqlite")},
    )
    assert code == 0, output
    assert ROOT not in output
    assert {(k["address"], k["kind"]) for k in report["knocks"]} >= {("192.0.2.66", "unconfigured_neighbor")}
    recipients = set()
    for name in os.listdir(outbox):
        with open(outbox / name, "rb") as handle:
            recipients.add(email.message_from_binary_file(handle, policy=email.policy.default)["To"])
    assert recipients == {
        "peering@example.net",
        "peering@firewall.example",
        "noc@password.example",
        "tech@renumbered.example",
    }


@pytest.fixture(scope="module")
def account():
    yield from system_account("pwgal")


@pytest.mark.timeout(900)  # several playbook runs, each tens of seconds on a loaded 2-core machine
def test_deploy_runner_installs_the_shipped_runner(installed, tmp_path, account):
    root = tmp_path / "host"
    for folder in ("etc", "opt", "var/lib"):
        (root / folder).mkdir(parents=True)
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    wheels = dependency_wheelhouse(str(wheelhouse))
    assert not [wheel for wheel in wheels if os.path.basename(wheel).startswith("peerwarden")]
    venv = root / "opt" / "peerwarden-runner"
    state = root / "var" / "lib" / "peerwarden"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_become": False,
        "runner_pip_extra_args": ["--no-index", "--find-links", str(wheelhouse)],
        "runner_user": account,
        "runner_group": account,
        "runner_venv": str(venv),
        "runner_config_dir": str(root / "etc" / "peerwarden"),
        "runner_state_dir": str(state),
        "runner_unit_dir": str(root / "etc" / "systemd" / "system"),
        "runner_service_manager": "none",
        "runner_sessions": [{"name": "edge1", "listen": "127.0.0.95:179", "connect": "127.0.0.96:179"}],
        "runner_metrics": {"listen": "127.0.0.95:9179"},
    }
    inventory = {"peerwarden_runners": {"hosts": {"localhost": host}}}
    workdir = tmp_path / "work"
    workdir.mkdir()

    def deploy(*options):
        code, output, dummy = run_installed(
            "peerwarden.bgp.deploy_runner",
            inventory,
            str(workdir),
            installed,
            extra_env=WHEELHOUSE_ONLY,
            timeout=400,
            options=options,
        )
        assert code == 0, output
        assert ROOT not in output
        return output, play_recap(output)

    # check mode on a host with nothing yet: says what would change, installs nothing
    output, recap = deploy("--check")
    assert recap["changed"] > 0 and recap["failed"] == 0
    assert not venv.exists()

    output, recap = deploy()
    assert recap["changed"] > 0 and recap["failed"] == 0
    assert "TASK [peerwarden.bgp.runner : Install the runner from the sdist into the virtualenv]" in output
    version = subprocess.run(
        [str(venv / "bin" / "peerwarden-runner"), "--version"], capture_output=True, text=True, check=False
    )
    assert (version.returncode, version.stdout.strip()) == (0, "peerwarden-runner 0.1.0")

    # pip installed the sdist copied to the host, whose hash is that of the installed collection's source
    sdist = state / "dist" / "peerwarden_runner-0.1.0.tar.gz"
    packed = subprocess.run(
        [
            os.path.join(BIN, "python"),
            os.path.join(installed[1], "roles", "runner", "files", "runner_sdist.py"),
            os.path.join(installed[1], "runner"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert digest == json.loads(packed.stdout)["sha256"]
    assert (venv / ".peerwarden-runner-sdist.sha256").read_text().strip() == digest
    (direct_url,) = venv.glob("lib/python3*/site-packages/peerwarden_runner-0.1.0.dist-info/direct_url.json")
    assert json.loads(direct_url.read_text())["url"] == "file://" + str(sdist)

    # the same collection again: nothing to do (the sdist is the same bytes, pip does not run)
    output, recap = deploy()
    assert recap["changed"] == 0, output
    output, recap = deploy("--check")
    assert recap["changed"] == 0, output

    # a changed sdist on the host is replaced by the controller's and installed again
    sdist.write_bytes(b"not the runner")
    output, recap = deploy()
    assert recap["changed"] > 0, output
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() == digest
