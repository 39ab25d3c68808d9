"""Write docs/docsite/rst/ from the Markdown guides of docs/ with pandoc (a developer tool, not shipped).

    python docs/docsite/build_rst.py

antsibull-docs takes extra docs only as self-contained RST pages (it checks each page on its own), so each
guide is converted; the Markdown in docs/ stays the one to edit. Each page records the SHA-256 of the
Markdown it came from: tests/unit/test_collection_docs.py fails when a guide changed and its page was not
written again.
"""

import hashlib
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.dirname(HERE)
# page name (as extra-docs.yml lists it) -> the Markdown guide under docs/
GUIDES = {
    "guide_awx": "awx.md",
    "guide_fleet": "fleet.md",
    "guide_performance": "performance.md",
    "guide_connecting": "connecting.md",
    "guide_push": "push.md",
    "guide_ee": "ee/README.md",
    "guide_scan_unsolicited": "scan_unsolicited.md",
    "guide_notify_unsolicited": "notify_unsolicited.md",
    "guide_ixp_data": "ixp_data.md",
    "guide_log_events": "log_events.md",
    "guide_runner_role": "runner_role.md",
    "guide_rtr_cache_role": "rtr_cache_role.md",
}


def source_line(source, data):
    return ".. source: docs/%s sha256=%s\n" % (source, hashlib.sha256(data).hexdigest())


def main():
    for page, source in GUIDES.items():
        with open(os.path.join(DOCS, source), "rb") as handle:
            data = handle.read()
        rst = subprocess.run(
            ["pandoc", "--from", "gfm-gfm_auto_identifiers", "--to", "rst", "--wrap", "none"],
            input=data,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        with open(os.path.join(HERE, "rst", page + ".rst"), "w", encoding="utf-8") as handle:
            handle.write(".. _ansible_collections.peerwarden.bgp.docsite.%s:\n\n" % page)
            handle.write(source_line(source, data))
            handle.write(".. Written by docs/docsite/build_rst.py from the Markdown guide: edit that, then run it.\n\n")
            handle.write(rst)


if __name__ == "__main__":
    main()
