"""Let `ansible-test sanity --venv` bootstrap pip without the Internet.

ansible-test downloads a get-pip script into ~/.ansible/test/cache/get_pip_<version>.py unless a
copy is there. This writes a stand-in for every version ansible-test may ask for: it installs pip
with ensurepip (in a subprocess: in-process ensurepip would hide the machine's pip configuration),
then installs the requested packages with that pip, from the configured package index.
"""

import os
import re

import ansible_test

STAND_IN = '''"""Offline stand-in for get-pip.py, written by peerwarden's tests/sanity/offline_get_pip.py."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def versions():
    """The pip versions this ansible-test bootstraps (its default_packages table names them)."""
    path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(path, encoding="utf-8") as handle:
        found = set(re.findall(r"pip='(\d+(?:\.\d+)*)'", handle.read()))
    return {version.replace(".", "_") for version in found} or {"24_2"}


def main():
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    for version in versions():
        with open(os.path.join(cache, "get_pip_%s.py" % version), "w", encoding="utf-8") as handle:
            handle.write(STAND_IN)


if __name__ == "__main__":
    main()
