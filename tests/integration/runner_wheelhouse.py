"""An offline wheelhouse for the runner role's test: the runner's wheel and its dependencies.

The tests reach no package index and this Python has no wheel builder (setuptools 65 needs the `wheel`
package for that), so the wheels are written here: the runner's from its source and pyproject.toml,
each dependency's from the distribution installed in this Python (pip cannot turn those back into wheels).
"""

import base64
import csv
import hashlib
import importlib.metadata
import io
import os
import re
import tomllib
import zipfile

from packaging.requirements import Requirement

RUNNER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "runner")
# the environment of a playbook whose pip must see only the wheelhouse: no pip configuration of this
# machine, no index, no constraints (a value None removes the variable, see playbook_runner.run_playbook)
WHEELHOUSE_ONLY = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_FIND_LINKS": None,
    "PIP_INDEX_URL": None,
    "PIP_EXTRA_INDEX_URL": None,
    "PIP_CONSTRAINT": None,
}
LEFT_OUT = ("INSTALLER", "REQUESTED", "RECORD", "direct_url.json")  # written by the installer, not in a wheel


def build_wheelhouse(directory):
    """Fill directory with the runner's wheel and a wheel per dependency; return the runner's wheel path."""
    with open(os.path.join(RUNNER, "pyproject.toml"), "rb") as handle:
        project = tomllib.load(handle)["project"]
    for distribution in dependency_closure(project["dependencies"]):
        repack(distribution, directory)
    return runner_wheel(project, directory)


def runner_wheel(project, directory):
    """The runner's pure-Python wheel: its package under src/ and the metadata pyproject.toml gives."""
    name, version = project["name"].replace("-", "_"), project["version"]
    dist_info = "%s-%s.dist-info" % (name, version)
    members = {}
    source = os.path.join(RUNNER, "src")
    for folder, _dummy, files in os.walk(source):
        for file in files:
            if "__pycache__" not in folder and not file.endswith(".pyc"):
                path = os.path.join(folder, file)
                with open(path, "rb") as handle:
                    members[os.path.relpath(path, source).replace(os.sep, "/")] = handle.read()
    metadata = [
        "Metadata-Version: 2.1",
        "Name: " + project["name"],
        "Version: " + version,
        "Requires-Python: " + project["requires-python"],
    ]
    metadata += ["Requires-Dist: " + requirement for requirement in project["dependencies"]]
    members[dist_info + "/METADATA"] = ("\n".join(metadata) + "\n").encode()
    members[dist_info + "/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: peerwarden-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    scripts = ["%s = %s" % item for item in project["scripts"].items()]
    members[dist_info + "/entry_points.txt"] = ("[console_scripts]\n" + "\n".join(scripts) + "\n").encode()
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (name, version))
    write_wheel(path, dist_info, members)
    return path


def dependency_closure(requirements):
    """The installed distributions that these requirements need, theirs included (markers applied, no extras)."""
    found, pending = {}, [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if key in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        found[key] = importlib.metadata.distribution(requirement.name)
        pending.extend(Requirement(text) for text in found[key].requires or [])
    return list(found.values())


def repack(distribution, directory):
    """Write an installed distribution back as a wheel: the files its RECORD lists inside site-packages."""
    tag = re.search(r"^Tag: (\S+)$", distribution.read_text("WHEEL"), re.MULTILINE).group(1)
    name = re.sub(r"[-_.]+", "_", distribution.metadata["Name"])
    members = {}
    for file in distribution.files:
        member = file.as_posix()
        if not member.startswith("..") and "__pycache__" not in member and os.path.basename(member) not in LEFT_OUT:
            members[member] = file.locate().read_bytes()
    dist_info = next(member.split("/")[0] for member in members if member.split("/")[0].endswith(".dist-info"))
    path = os.path.join(directory, "%s-%s-%s.whl" % (name, distribution.version, tag))
    write_wheel(path, dist_info, members)
    return path


def write_wheel(path, dist_info, members):
    """A wheel file: the members, and a RECORD with each one's hash and size."""
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in members.items():
            wheel.writestr(member, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            writer.writerow([member, "sha256=" + digest, len(data)])
        writer.writerow([dist_info + "/RECORD", "", ""])
        wheel.writestr(dist_info + "/RECORD", record.getvalue())


def dependency_wheelhouse(directory, build_backend=True):
    """Fill directory with a wheel per dependency of the runner and, with build_backend, of the build
    backend pip needs to build the runner's sdist on the host (setuptools>=64, and wheel, which setuptools
    before 70.1 asks for); not the runner's own wheel: the role builds the runner from its source."""
    with open(os.path.join(RUNNER, "pyproject.toml"), "rb") as handle:
        pyproject = tomllib.load(handle)
    requirements = list(pyproject["project"]["dependencies"])
    if build_backend:
        requirements += pyproject["build-system"]["requires"] + ["wheel"]
    return [repack(distribution, directory) for distribution in dependency_closure(requirements)]
