"""Pack the runner's source shipped with the collection into an sdist, on the controller.

    runner_sdist.py SOURCE_DIR OUTPUT_DIR

SOURCE_DIR is the collection's runner/ (pyproject.toml, README.md, src/). The sdist is reproducible:
members sorted, one fixed timestamp, owner root, gzip without a name or a time; the same source gives
the same bytes, so the same SHA-256, on every run and every controller. That hash is what the role
checks on the host before pip installs the file, and what it remembers to install only on a change.

Prints one JSON object: {"path", "file", "sha256", "name", "version"}. Standard library only (the
controller's Python, 3.10 or newer).
"""

import gzip
import hashlib
import io
import json
import os
import re
import sys
import tarfile

MTIME = 946684800  # 2000-01-01: fixed, and after 1980 (a wheel built from these files must date them)
MEMBERS = ("pyproject.toml", "README.md", "src")
LEFT_OUT_DIRS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")


def project_metadata(pyproject):
    """name, version, requires-python and dependencies of [project], without a TOML parser on 3.10."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the few keys read with regular expressions
        tomllib = None
    with open(pyproject, "rb") as handle:
        data = handle.read()
    if tomllib is not None:
        project = tomllib.loads(data.decode("utf-8"))["project"]
        return project["name"], project["version"], project.get("requires-python"), project.get("dependencies", [])
    text = data.decode("utf-8")
    section = re.search(r"^\[project\]\s*$(.*?)(?=^\[)", text + "\n[", re.MULTILINE | re.DOTALL).group(1)

    def value(key):
        found = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), section, re.MULTILINE)
        return found.group(1) if found else None

    dependencies = re.search(r"^dependencies\s*=\s*\[(.*?)\]", section, re.MULTILINE | re.DOTALL)
    return (
        value("name"),
        value("version"),
        value("requires-python"),
        re.findall(r'"([^"]+)"', dependencies.group(1)) if dependencies else [],
    )


def source_files(source):
    """The files of the sdist, relative to source, sorted."""
    found = []
    for member in MEMBERS:
        path = os.path.join(source, member)
        if os.path.isfile(path):
            found.append(member)
            continue
        if not os.path.isdir(path):
            raise SystemExit("runner_sdist: %s is missing from %s" % (member, source))
        for folder, folders, files in os.walk(path):
            folders[:] = [name for name in folders if name not in LEFT_OUT_DIRS and not name.endswith(".egg-info")]
            for name in files:
                if not name.endswith((".pyc", ".pyo")):
                    found.append(os.path.relpath(os.path.join(folder, name), source).replace(os.sep, "/"))
    return sorted(found)


def add(archive, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    archive.addfile(info, io.BytesIO(data))


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: runner_sdist.py SOURCE_DIR OUTPUT_DIR")
    source, output = (os.path.abspath(argument) for argument in argv[1:])
    name, version, requires_python, dependencies = project_metadata(os.path.join(source, "pyproject.toml"))
    if not name or not version:
        raise SystemExit("runner_sdist: no [project] name and version in %s/pyproject.toml" % source)
    base = "%s-%s" % (re.sub(r"[-_.]+", "_", name).lower(), version)
    metadata = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version]
    metadata += ["Requires-Python: " + requires_python] if requires_python else []
    metadata += ["Requires-Dist: " + requirement for requirement in dependencies]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        add(archive, base + "/PKG-INFO", ("\n".join(metadata) + "\n").encode())
        for member in source_files(source):
            with open(os.path.join(source, member), "rb") as handle:
                add(archive, base + "/" + member, handle.read())
    path = os.path.join(output, base + ".tar.gz")
    with open(path, "wb") as handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as compressed:
            compressed.write(raw.getvalue())
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    print(json.dumps({"path": path, "file": os.path.basename(path), "sha256": digest, "name": name, "version": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
