"""Shared pytest configuration.

The collection is imported as `ansible_collections.peerwarden.bgp`, so the tests make (once) the
link collections/ansible_collections/peerwarden/bgp -> the repository root, the layout
ansible-playbook and ansible-test expect. The lab fixtures live in tests/lab/, one file per kind
of part.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "collections")
_LINK = os.path.join(COLLECTIONS, "ansible_collections", "peerwarden", "bgp")
if not os.path.lexists(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    os.symlink(os.path.relpath(ROOT, os.path.dirname(_LINK)), _LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

pytest_plugins = [
    "lab.cli_doubles",
    "lab.netconf_double",
    "lab.daemons",
    "lab.guard_host",
    "lab.peeringdb_server",
    "lab.postgres",
    "lab.smtp_server",
]
