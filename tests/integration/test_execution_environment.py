"""The execution environment users build (docs/ee/, ansible-builder v3): `ansible-builder create` makes
the build context from a copy of docs/ee with a freshly built collection tarball, and the Containerfile
and files in it are what the definition says. `ansible-builder introspect` of the installed collection
finds its Python and system packages (meta/execution-environment.yml -> requirements.txt, bindep.txt),
and bindep selects an SSH client on both dpkg and rpm platforms.

The image build itself needs podman (or docker), which does not run here: docs/ee/README.md says so.
"""

import os
import shutil
import subprocess

import pytest
import yaml

from playbook_runner import BIN, ROOT

pytest.importorskip("ansible_builder")
bindep_depends = pytest.importorskip("bindep.depends")

EE = os.path.join(ROOT, "docs", "ee")
BUILDER = os.path.join(BIN, "ansible-builder")


def run(*command, cwd):
    process = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout


@pytest.fixture(scope="module")
def tarball_dir(tmp_path_factory):
    """docs/ee copied, with the collection tarball built into its collections/ (as docs/ee/README.md says)."""
    base = tmp_path_factory.mktemp("ee")
    shutil.copytree(EE, base / "ee", ignore=shutil.ignore_patterns("collections", "context"))
    run(
        os.path.join(BIN, "ansible-galaxy"),
        "collection",
        "build",
        "--output-path",
        str(base / "ee" / "collections"),
        ROOT,
        cwd=str(base),
    )
    return base


def test_definition_is_builder_v3():
    with open(os.path.join(EE, "execution-environment.yml"), encoding="utf-8") as handle:
        definition = yaml.safe_load(handle)
    assert definition["version"] == 3
    assert definition["dependencies"]["galaxy"] == "requirements.yml"
    assert {"ansible_core", "ansible_runner", "python_interpreter"} <= set(definition["dependencies"])
    with open(os.path.join(ROOT, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        listing = yaml.safe_load(handle)
    # the collection's own file only lists dependencies, for ansible-builder's introspection
    assert listing["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert "images" not in listing


def test_ansible_builder_create(tarball_dir):
    (tarball,) = os.listdir(tarball_dir / "ee" / "collections")
    with open(os.path.join(EE, "requirements.yml"), encoding="utf-8") as handle:
        requirements = yaml.safe_load(handle)
    assert requirements["collections"][0] == {"name": "collections/" + tarball, "type": "file"}

    output = run(
        BUILDER,
        "create",
        "-f",
        "ee/execution-environment.yml",
        "-c",
        "context",
        "--output-filename",
        "Containerfile",
        cwd=str(tarball_dir),
    )
    assert "Complete! The build context can be found at" in output
    context = tarball_dir / "context"
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert 'ARG PKGMGR="/usr/bin/dnf"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16,<2.20 ansible-runner>=2.3"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    # the collections' own requirements are found inside the build, from the installed collections
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "RUN ansible-galaxy collection list && ssh -V" in containerfile
    build = context / "_build"
    assert (build / "collections" / tarball).is_file()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == requirements
    assert "psycopg[binary]>=3.1" in (build / "requirements.txt").read_text()
    assert "git [platform:rpm]" in (build / "bindep.txt").read_text()
    for script in ("assemble", "install-from-bindep", "introspect.py", "entrypoint"):
        assert (build / "scripts" / script).is_file()


def test_introspect_finds_the_collections_packages(tarball_dir):
    (tarball,) = os.listdir(tarball_dir / "ee" / "collections")
    installed = tarball_dir / "installed"
    run(
        os.path.join(BIN, "ansible-galaxy"),
        "collection",
        "install",
        "--offline",
        "--force",  # a copy elsewhere on the default paths (~/.ansible/collections) must not satisfy it
        "-p",
        str(installed),
        str(tarball_dir / "ee" / "collections" / tarball),
        cwd=str(tarball_dir),
    )
    found = yaml.safe_load(run(BUILDER, "introspect", str(installed), cwd=str(tarball_dir)).split("\n", 1)[1])
    python = [line.split("  #")[0] for line in found["python"]]
    assert "netmiko>=4.8" in python and "ncclient>=0.7" in python and "psycopg[binary]>=3.1" in python
    system = [line.split("  #")[0] for line in found["system"]]
    assert "openssh-client [platform:dpkg]" in system
    assert "openssh-clients [platform:rpm]" in system


@pytest.mark.parametrize(
    "profiles, expected",
    [
        (["platform:dpkg", "platform:debian", "default"], {"openssh-client", "ca-certificates"}),
        (["platform:rpm", "platform:redhat", "platform:centos", "default"], {"openssh-clients", "ca-certificates"}),
        (
            ["platform:rpm", "platform:redhat", "compile"],
            {"openssh-clients", "ca-certificates", "gcc", "python3-devel", "libxml2-devel", "libxslt-devel"}
            | {"libffi-devel"},
        ),
    ],
)
def test_bindep_selects_packages_on_dpkg_and_rpm(profiles, expected):
    with open(os.path.join(ROOT, "bindep.txt"), encoding="utf-8") as handle:
        depends = bindep_depends.Depends(handle.read())
    assert {rule[0] for rule in depends.active_rules(profiles)} == expected
